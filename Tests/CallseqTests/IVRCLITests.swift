import Foundation
import TestSupport
import Testing

@Suite("callseq ivr and --send-sms", .serialized)
struct IVRCLITests {
    let account = testAudioPath("../Examples/account.json")
    let secret = "cli-S3cret-pw"

    @Test func pressingOneOpensTheDoorAndTheTimelineSaysSo() throws {
        let dir = try temporaryDirectory()
        let out = dir.appendingPathComponent("call.wav").path
        let result = try CommandRunner.callseq("ivr", account, "--did", "(514) 555-0100", "--press", "1", "-o", out)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("0.000 s: IVR \"Lobby\" plays its menu (play 1 of 3)"))
        #expect(result.stdout.contains("caller pressed 1"))
        #expect(result.stdout.contains("running sequence \"Front door\""))
        #expect(result.stdout.contains("would send SMS from 5145550100 to 5145550199: \"Front door opened\" (dry run)"))
        #expect(result.stdout.contains("call ended (the sequence finished)"))
        #expect(try CommandRunner.callseq("detect", out).stdout.hasPrefix("9876#\n"))
    }

    @Test func callerAudioChoosesTheGate() throws {
        let dir = try temporaryDirectory()
        let caller = dir.appendingPathComponent("caller.wav").path
        _ = try CommandRunner.callseq("dtmf", "w2", "-o", caller)
        let result = try CommandRunner.callseq(
            "ivr", account, "--did", "5145550100", "--caller-audio", caller,
            "-o", dir.appendingPathComponent("out.wav").path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stdout.contains("0.500 s: caller pressed 2") || result.stdout.contains("0.520 s: caller pressed 2")
                || result.stdout.contains("0.540 s: caller pressed 2"), "\(result.stdout)")
        #expect(result.stdout.contains("running sequence \"Parking gate\""))
    }

    @Test func aBadAccountListsItsProblems() throws {
        let result = try CommandRunner.callseq(
            "ivr", testAudioPath("accounts/did-routed-to-sequence.json"),
            "--did", "5145550100", "--press", "1", "-o", "/tmp/never.wav")
        #expect(result.status == 1)
        #expect(result.stderr.contains("dids[0].route: a sequence can only be used as an IVR option"))
        let validate = try CommandRunner.callseq("validate", testAudioPath("accounts/reseller-sms.json"))
        #expect(validate.status == 1 && validate.stderr.contains("this account cannot send SMS"))
        #expect(
            try CommandRunner.callseq("validate", account).stdout.contains(
                "valid account, 4 numbers, 1 IVRs, 2 sequences"))
    }

    @Test func usageErrors() throws {
        #expect(try CommandRunner.callseq("ivr", account, "--did", "5145550100", "-o", "x.wav").status == 64)
        #expect(
            try CommandRunner.callseq("ivr", account, "--did", "5145550100", "--press", "x", "-o", "x.wav").status == 64
        )
        #expect(try CommandRunner.callseq("ivr", account, "--did", "123", "--press", "1", "-o", "x.wav").status == 64)
        let noCredentials = try CommandRunner.run(
            CommandRunner.callseqPath,
            ["render", testAudioPath("../Examples/front-door.json"), "-o", "x.wav", "--send-sms"], environment: [:])
        #expect(noCredentials.status == 64 && noCredentials.stderr.contains("CALLSEQ_SMS_USER"))
    }

    @Test func sendSMSReachesTheProviderAndNeverShowsThePassword() throws {
        let server = try ProviderServer(script: [.success(id: 8128)])
        defer { server.shutdown() }
        let dir = try temporaryDirectory()
        let result = try CommandRunner.run(
            CommandRunner.callseqPath,
            [
                "ivr", account, "--did", "5145550100", "--press", "1", "-o", dir.appendingPathComponent("o.wav").path,
                "--send-sms", "--sms-endpoint", server.endpoint, "--state-dir",
                dir.appendingPathComponent("state").path,
            ],
            environment: ["CALLSEQ_SMS_USER": "acme", "CALLSEQ_SMS_PASSWORD": secret])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("SMS to 5145550199: sent, provider id 8128 (1 attempt)"))
        #expect(server.requests.count == 1)
        #expect(
            server.requests.first?.form["api_password"] == secret && server.requests.first?.form["dst"] == "5145550199")
        #expect(!result.stdout.contains(secret) && !result.stderr.contains(secret))
    }

    @Test func aFailedTextIsReportedAndTheExitCodeSaysSo() throws {
        let server = try ProviderServer(script: [.status("invalid_dst")])
        defer { server.shutdown() }
        let dir = try temporaryDirectory()
        let result = try CommandRunner.run(
            CommandRunner.callseqPath,
            [
                "render", testAudioPath("../Examples/front-door.json"), "-o", dir.appendingPathComponent("o.wav").path,
                "--send-sms", "--sms-endpoint", server.endpoint, "--state-dir",
                dir.appendingPathComponent("state").path,
            ],
            environment: ["CALLSEQ_SMS_USER": "acme", "CALLSEQ_SMS_PASSWORD": secret])
        #expect(result.status == 1)
        #expect(
            result.stdout.contains("SMS to 5145550199: failed: the provider refused the text: invalid_dst (1 attempt)"))
        #expect(result.stderr == "callseq: error: 1 of 1 text not sent\n")
        #expect(!result.stdout.contains(secret) && !result.stderr.contains(secret))
    }
}

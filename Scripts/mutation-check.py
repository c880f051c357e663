#!/usr/bin/env python3
# The mutation check (issue 13): each line below is one single-line mutation of the DSP, validation, player,
# IVR, SMS, SIP or RTP code, and the tests that must catch it (a file, a pattern found exactly once in it, its
# replacement, and a `swift test --filter` of the tests that must fail). For each, the script applies it, builds the tests, runs
# the filter, reports KILLED (with the failing tests) or SURVIVED, and restores the file with git checkout.
# Run from a clean tree: Scripts/mutation-check.py [M1 M4 ...]. Takes about a minute per mutation.
# Scripts/mutation-check.py --check only checks that every mutation's file and pattern exist (make test runs it).
# Last run (2026-12-04, debug build, 2 shared cores): all 22 killed, M1-M19 in 12 minutes.
import subprocess, sys, json
import os
W=os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
M=[
 ("M1 synth: twist term dropped","Sources/TelephonyDSP/ToneSynthesizer.swift","highLevelDbm0: levelDbm0 + twistDb)","highLevelDbm0: levelDbm0)","ToneSynthesizerTests"),
 ("M2 detector: reverse twist gate loses its +4 dB","Sources/TelephonyDSP/DTMFDetector.swift","(configuration.maximumReverseTwistDb + 4) / 10","(configuration.maximumReverseTwistDb) / 10","DTMFDetectorConformance"),
 ("M2b detector: reverse twist limit widened by 4 dB","Sources/TelephonyDSP/DTMFDetector.swift","twist <= configuration.maximumReverseTwistDb","twist <= configuration.maximumReverseTwistDb + 4","DTMFDetectorConformance"),
 ("M3 detector: confirm one window later (>= to >)","Sources/TelephonyDSP/DTMFDetector.swift","candidate.windows >= configuration.confirmWindows","candidate.windows > configuration.confirmWindows","DTMFDetectorConformance"),
 ("M4 G.711 mu-law: clip at 32767, not 32635","Sources/TelephonyDSP/G711.swift","min(sample.magnitude, 32635)","min(sample.magnitude, 32767)","G711Tests|PlayerTests|FormatFixture"),
 ("M5 G.711 A-law: zero encoded as negative (>= to >)","Sources/TelephonyDSP/G711.swift","code ^ (sample >= 0 ? 0xD5 : 0x55)","code ^ (sample > 0 ? 0xD5 : 0x55)","G711Tests|IVRSessionFormat"),
 ("M6 validation: IVR timeout range starts at 0","Sources/CallSequenceModel/ProductLimits.swift","ivrTimeoutSeconds: ClosedRange<Int> = 1...60","ivrTimeoutSeconds: ClosedRange<Int> = 0...60","AccountValidationTests"),
 ("M7 validation: an empty steps array accepted","Sources/CallSequenceModel/SequenceDefinition+Reading.swift","            if items.isEmpty {","            if items.isEmpty && items.count > 0 {","ValidationTests"),
 ("M8 player: segment ends one sample early","Sources/CallSequenceEngine/Player.swift","if into + n == segment.length { segmentIndex += 1 }","if into + n >= segment.length - 1 { segmentIndex += 1 }","PlayerTests"),
 ("M9 player: event offset off by one","Sources/CallSequenceEngine/Player.swift","offset: event.sample - frameStart))","offset: event.sample - frameStart + 1))","PlayerTests"),
 ("M10 SMS: the euro sign skips its escape (1 septet)","Sources/SMSText/SMSEncoding.swift","case 0x20AC: return 2","case 0x20AC: return 1","SMSTextTests|SMSLength"),
 ("M11 SMS ledger: daily limit > instead of >=","Sources/SMSGateway/SMSLedger.swift","let full = count >= account.dailyLimit","let full = count > account.dailyLimit","SMSGatewayTests"),
 ("M12 IVR: every IVR waits with the first IVR's timeout","Sources/CallSequenceEngine/IVRSession.swift","frameStart + audio + timeoutSamples[ivr])","frameStart + audio + timeoutSamples[0])","IVRSession"),
 ("M13 plot: spectrogram upside down","Sources/callseq/Plot.swift","let frequency = (1 - (Double(row) + 0.5) / Double(Plot.spectrogramHeight)) * maximumFrequency","let frequency = ((Double(row) + 0.5) / Double(Plot.spectrogramHeight)) * maximumFrequency","PlotCLITests"),
 ("M14 near miss: a twist refusal reported as a frequency one","Sources/TelephonyDSP/DTMFDetector.swift","            return .twist(twist)","            return .frequency(twist)","DTMFNearMiss|PlotCLITests"),
 ("M15 SIP: timer G and the 2xx retransmission stop doubling (RFC 3261 17.2.1)","Sources/SIP/InviteServerTransaction.swift","retransmitInterval = min(retransmitInterval * 2, timers.t2)","retransmitInterval = min(retransmitInterval, timers.t2)","UserAgentServerTests"),
 ("M16 SIP: an in-dialog INVITE with a lower CSeq accepted (RFC 3261 12.2.2)","Sources/SIP/UserAgentServer+Requests.swift","guard request.cseq.number > dialog.remoteCSeq else {\n            // §12.2.2","guard request.cseq.number > 0 else {\n            // §12.2.2","SIPTests"),
 ("M17 SIP rate limit: one request past the burst let through","Sources/SIP/SourceRateLimiter.swift","if bucket.tokens >= 1 {","if bucket.tokens >= 0 {","SIPTests"),
 ("M18 RTP: a latched source accepted from any port of its host","Sources/RTP/RTPSourceFilter.swift","if isLatched { return source.sameEndpoint(as: remote) }","if isLatched { return source.sameHost(as: remote) }","RTPSourceFilterTests|CallServerTests.MediaSecurityTests"),
 ("M19 RTP: an event's end packet sent twice, not three times (RFC 4733 2.5.1.4)","Sources/RTP/RTPSender.swift","let final = Final(timestamp: timestamp, payload: payload, remaining: 2)","let final = Final(timestamp: timestamp, payload: payload, remaining: 1)","RTPSenderTests"),
 ("M20 API: an IVR body checked as a sequence (the one handler path's IVR kind)","Sources/ManagementAPI/Routes+Sequences.swift","candidate: { .ivr($0, replacing: $1) }","candidate: { .sequence($0, replacing: $1) }","ManagementAPITests"),
 ("M21 live calls: a silent caller's call ends with an IVR's text","Sources/CallServer/MediaEvent.swift","case .rtpTimeout: return \"no RTP from the caller\"","case .rtpTimeout: return \"the caller hung up\"","MediaEngineTests"),
]
only = [a for a in sys.argv[1:] if a != "--check"]
# Every mutation must name a file that exists and a pattern found exactly once in it; a stale one (a file renamed,
# a line rewritten) is an error before anything runs. `--check` stops there (make test runs it: instant).
stale = []
for name,f,a,b,flt in M:
    p=W+'/'+f
    n = open(p).read().count(a) if os.path.isfile(p) else -1
    if n != 1: stale.append("%s: %s %s" % (name, f, "does not exist" if n < 0 else "has the pattern %d times" % n))
if stale: sys.exit("stale mutations (update Scripts/mutation-check.py):\n  " + "\n  ".join(stale))
if "--check" in sys.argv[1:]:
    print("mutation-check: %d mutations, each pattern found once" % len(M)); sys.exit(0)
# git checkout restores each mutated file: refuse to run over uncommitted changes to any of them.
files = sorted(set(m[1] for m in M))
if subprocess.run(["git", "-C", W, "diff", "--quiet", "HEAD", "--"] + files).returncode != 0:
    sys.exit("uncommitted changes in " + " ".join(files) + ": commit or stash them first")
for name,f,a,b,flt in M:
    if only and name.split()[0] not in only: continue
    p=W+'/'+f
    s=open(p).read()
    if s.count(a)!=1:
        print(name, "PATTERN COUNT", s.count(a), flush=True); continue
    open(p,'w').write(s.replace(a,b))
    try:
        r=subprocess.run("cd %s && swift build --build-tests 2>&1 | grep -E 'error:' | head -3"%W,shell=True,capture_output=True,text=True)
        if r.stdout.strip():
            print(name,"BUILD ERROR",r.stdout[:300],flush=True); continue
        r=subprocess.run("cd %s && timeout 500 swift test --skip-build --filter '%s' 2>&1"%(W,flt),shell=True,capture_output=True,text=True)
        fails=sorted(set(l.split("Test ")[1].split(" recorded")[0].split("(")[0] for l in r.stdout.splitlines() if l.startswith("✘ Test ") and "recorded an issue" in l))
        crash = "error: Exited with unexpected signal" in r.stdout or "Fatal error" in r.stdout
        print(name, "KILLED" if fails or crash else "SURVIVED", fails[:4], "crash" if crash else "", flush=True)
    finally:
        subprocess.run("cd %s && git checkout -- %s"%(W,f),shell=True)

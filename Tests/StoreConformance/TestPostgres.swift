// A throw-away PostgreSQL server for tests, from Debian's `postgresql` package: `initdb` into a temporary folder
// with trust authentication, `pg_ctl start` listening only on a unix socket in that folder (no TCP) on a free
// port number; as root, the server runs as the `postgres` user (it refuses to run as root) through `runuser`.
// Without the binaries, `start()` throws a message saying what to install: the tests fail, never skip.

import Foundation

/// A PostgreSQL server in a temporary folder.
package final class TestPostgres: @unchecked Sendable {
    /// The folder (data in `data/`, the socket and the log beside it).
    package let folder: String
    /// The port number (names the socket `.s.PGSQL.PORT`).
    package let port: Int
    let bin: String
    let asPostgres: Bool
    private let lock = NSLock()
    private var databases = 0
    private var stopped = false

    /// Why the server could not start.
    package struct Failure: Error, CustomStringConvertible {
        package let description: String
    }

    /// Where Debian installs the server binaries (`/usr/lib/postgresql/15/bin`), newest version first.
    package static func binaries() -> String? {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
        for version in versions {
            let bin = "\(root)/\(version)/bin"
            if FileManager.default.isExecutableFile(atPath: bin + "/initdb"),
                FileManager.default.isExecutableFile(atPath: bin + "/pg_ctl")
            {
                return bin
            }
        }
        return nil
    }

    /// Starts a server; waits until it accepts connections (up to 120 s).
    package static func start() throws -> TestPostgres {
        guard let bin = binaries() else {
            throw Failure(
                description: "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin: install "
                    + "Debian's postgresql package (listed in Scripts/debian-packages.txt; `make deps` installs it)")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("callseq-pg-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let asPostgres = getuid() == 0
        if asPostgres {
            try FileManager.default.setAttributes(
                [.ownerAccountName: "postgres", .groupOwnerAccountName: "postgres"],
                ofItemAtPath: folder)
        }
        let server = TestPostgres(folder: folder, port: try freePort(), bin: bin, asPostgres: asPostgres)
        do {
            try server.command(
                "initdb",
                [
                    "-D", folder + "/data", "-U", "postgres", "--auth=trust", "--encoding=UTF8",
                    "--locale=C.UTF-8", "--no-sync",
                ])
            try server.command(
                "pg_ctl",
                [
                    "-D", folder + "/data", "-l", folder + "/server.log", "-w", "-t", "120",
                    "-o", "-k \(folder) -h '' -p \(server.port) -c fsync=off -c max_connections=200",
                    "start",
                ])
        } catch {
            server.stop()
            throw error
        }
        return server
    }

    init(folder: String, port: Int, bin: String, asPostgres: Bool) {
        self.folder = folder
        self.port = port
        self.bin = bin
        self.asPostgres = asPostgres
    }

    /// The URL of `database` on this server (over the unix socket).
    package func url(_ database: String = "postgres") -> String {
        "postgres://postgres@/\(database)?host=\(folder)&port=\(port)"
    }

    /// Creates a new, empty database and answers its URL.
    package func createDatabase() throws -> String {
        let name: String = lock.withLock {
            databases += 1
            return "test\(databases)"
        }
        try command(
            "psql",
            [
                "-X", "-q", "-h", folder, "-p", String(port), "-U", "postgres", "-d", "postgres",
                "-v", "ON_ERROR_STOP=1", "-c", "CREATE DATABASE \(name)",
            ])
        return url(name)
    }

    /// Stops the server (immediately) and removes the folder.
    package func stop() {
        let first: Bool = lock.withLock {
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        if FileManager.default.fileExists(atPath: folder + "/data/postmaster.pid") {
            try? command("pg_ctl", ["-D", folder + "/data", "-m", "immediate", "-w", "stop"])
        }
        try? FileManager.default.removeItem(atPath: folder)
    }

    deinit { stop() }

    /// The server's log (for failure messages).
    package var log: String { (try? String(contentsOfFile: folder + "/server.log", encoding: .utf8)) ?? "" }

    /// Runs a server binary (as `postgres` when we are root); throws with its output when it fails.
    /// posix_spawn and waitpid on that one child (Foundation's Process can miss the exit of a child whose own
    /// child, the server, lives on).
    func command(_ name: String, _ arguments: [String]) throws {
        let path =
            name == "psql" && !FileManager.default.isExecutableFile(atPath: "\(bin)/psql")
            ? "/usr/bin/psql"
            : "\(bin)/\(name)"
        // From `/` (the postgres user may not enter the current folder).
        let argv =
            ["/bin/sh", "-c", "cd / && exec \"$@\"", "sh"]
            + (asPostgres ? ["/usr/sbin/runuser", "-u", "postgres", "--", path] : [path]) + arguments
        // Output to a file, not a pipe: the server pg_ctl starts would hold a pipe open (no end of file).
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent(
            "callseq-pg-\(UUID().uuidString).out"
        ).path
        let fd = open(outputPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure(description: "cannot create \(outputPath)") }
        defer {
            close(fd)
            unlink(outputPath)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fd, 1)
        posix_spawn_file_actions_adddup2(&actions, fd, 2)
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { for p in cArguments { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, nil, &cArguments, environ)
        guard rc == 0 else { throw Failure(description: "cannot run \(argv[0]): error \(rc)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = status & 0x7f == 0
        let code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            throw Failure(description: "\(name) failed (status \(status)): \(text.suffix(2000))\n\(log.suffix(2000))")
        }
    }

    /// A TCP port number nobody listens on now (its number names the socket; the server opens no TCP port).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw Failure(description: "bind: \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

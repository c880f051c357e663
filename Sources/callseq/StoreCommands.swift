import ArgumentParser
import CallSequenceModel
import CallSequenceStore
import CallSequenceStorePostgres
import Foundation

/// Opens `--store S`: a postgres:// (or postgresql://) URL, or else the path of a SQLite file (created if
/// missing). Errors are one-line runtime failures.
func openStore(_ location: String) async throws -> any Store {
    do {
        if location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") {
            return try await PostgresStore.connect(url: location)
        }
        return try await SQLiteStore.open(path: location)
    } catch {
        throw RuntimeError("--store: \(error.description)")
    }
}

/// Closes a store's connections (PostgreSQL's pool).
func closeStore(_ store: any Store) async {
    if let postgres = store as? PostgresStore { await postgres.database.shutdown() }
}

struct StoreOption: ParsableArguments {
    @Option(help: "The store: a SQLite file (created if missing) or a postgres://USER@HOST/DB URL.")
    var store: String
}

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Check an account file (as `validate` does) and add it to the store as a new account; prints its id.")

    @Argument(help: "The account file (JSON).")
    var file: String

    @OptionGroup var storeOption: StoreOption

    @Option(help: "The new account's name (default: the file's name without .json).")
    var name: String?

    func run() async throws {
        let snapshot: AccountSnapshot
        do {
            snapshot = try AccountExchange.snapshot(fromFile: file)
        } catch let failure as InvalidDocumentError {
            throw ProblemListError(lines: failure.problems.map { "\(file): \($0)" })
        } catch {
            throw RuntimeError("\(file): \(error)")
        }
        let base = (file as NSString).lastPathComponent
        let accountName = name ?? (base.hasSuffix(".json") ? String(base.dropLast(5)) : base)
        let store = try await openStore(storeOption.store)
        do {
            let account = try await store.importAccount(
                snapshot, as: NewAccount(name: accountName), origin: .commandLine)
            print(account.id)
            await closeStore(store)
        } catch {
            await closeStore(store)
            throw RuntimeError("\(file): \(error.description)")
        }
    }
}

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract:
            "Print an account of the store as an account file (canonical JSON: export, import, export gives the same bytes)."
    )

    @Argument(help: "The account's id (acc_...).")
    var account: String

    @OptionGroup var storeOption: StoreOption

    func run() async throws {
        let store = try await openStore(storeOption.store)
        do {
            let snapshot = try await store.snapshot(of: account, withAudio: false)
            await closeStore(store)
            FileHandle.standardOutput.write(Data(AccountExchange.accountFile(snapshot).utf8))
        } catch {
            await closeStore(store)
            throw RuntimeError("\(error.description)")
        }
    }
}

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Manage API keys in the store.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make an API key and print it (shown this once; the store keeps only its SHA-256).")

        @OptionGroup var storeOption: StoreOption

        @Flag(name: .customLong("operator"), help: "An operator key: sees and changes every account.")
        var isOperator = false

        @Option(help: "The account the key acts for (required without --operator).")
        var account: String?

        @Option(help: "A label for people.")
        var label: String = ""

        func validate() throws {
            if !isOperator && account == nil { throw ValidationError("give --account ID, or --operator") }
        }

        func run() async throws {
            let store = try await openStore(storeOption.store)
            do {
                let key = try await store.createKey(
                    account: account, isOperator: isOperator,
                    label: label.isEmpty && isOperator ? "operator" : label,
                    origin: .commandLine)
                await closeStore(store)
                print(key.secret)
            } catch {
                await closeStore(store)
                throw RuntimeError(error.description)
            }
        }
    }
}

import ArgumentParser
import Foundation
import MufakatCore
import MufakatStore

struct HubCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mufakat-hub",
        abstract: "The coalition's hub: holds the shared copy and syncs with every replica.",
        discussion: "Exit codes: 0 ok, 64 usage error, 65 invalid input, 66 not found (also: no hub in --data), 69 cannot listen (the port is in use or the address is not this machine's), the hub does not answer, or an older hub serves the folder and must be stopped before this version upgrades it, 70 internal error.",
        version: MufakatVersion.current,
        subcommands: [ServeCommand.self, TokenCommand.self, DigestCommand.self, AuditCommand.self, DashboardCommand.self, StatusCommand.self, HealthCommand.self, BackupCommand.self, TLSCommand.self])
}

/// Options every hub command takes.
struct HubOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The hub's data folder (default: $MUFAKAT_HUB_DATA, else ./mufakat-hub-data).", valueName: "dir"))
    var data = ProcessInfo.processInfo.environment["MUFAKAT_HUB_DATA"].flatMap { $0.isEmpty ? nil : $0 } ?? "./mufakat-hub-data"

    @Flag(help: "Print the result as JSON for scripts.")
    var json = false

    /// `--data` with `~` expanded.
    var folder: String { (data as NSString).expandingTildeInPath }

    /// The hub in `--data`. Only `serve` and `token create` make one where there is none:
    /// every other command refuses a folder without a hub rather than leave an empty one
    /// behind (a mistyped path, a folder not yet restored).
    ///
    /// A file an older version wrote is upgraded on opening; not while a hub process serves
    /// the folder (`holdingLock` is `serve`'s own): that hub would go on writing the old
    /// form into the upgraded file.
    func openStore(creating: Bool = false, holdingLock: Bool = false) throws -> HubStore {
        let directory = folder
        let path = (directory as NSString).appendingPathComponent(HubStore.fileName)
        if creating, !FileManager.default.fileExists(atPath: directory) {
            // The hub holds every token's hash and the coalition's data: its owner's only.
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        guard creating || FileManager.default.fileExists(atPath: path) else {
            throw MufakatError(
                .notFound,
                "there is no hub in '\(data)' (no \(HubStore.fileName)); name the hub's folder with --data, or start a new hub there with 'mufakat-hub serve --data \(data)'")
        }
        if !holdingLock, try HubStore.needsUpgrade(directory: directory), let other = HubLock.holder(folder: directory) {
            throw MufakatError(
                .busy,
                "the hub in '\(data)' was written by an older mufakat-hub, which is serving it\(other.isEmpty ? "" : " (process \(other))"); this version upgrades the file when it opens it. Stop that hub and start this version's 'mufakat-hub serve --data \(data)': it upgrades the file, then this command works")
        }
        return try HubStore.open(directory: directory)
    }
}

/// Runs a command body, printing failures without Swift type names.
func runHubCommand(_ options: HubOptions, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch let error as MufakatError {
        FileHandle.standardError.write(Data("mufakat-hub: \(error.message)\n".utf8))
        let exitCode: Int32 = error.code == .notFound ? 66 : error.code == .invalid ? 65 : error.code == .busy ? 69 : 70
        if options.json {
            printJSON(["error": ["code": error.code.rawValue, "message": error.message, "exitCode": exitCode] as [String: Any]])
        }
        throw ExitCode(exitCode)
    } catch {
        FileHandle.standardError.write(Data("mufakat-hub: unexpected failure: \(error)\n".utf8))
        throw ExitCode(70)
    }
}

func printJSON(_ object: Any) {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    print(String(decoding: data, as: UTF8.self))
}

func formatTime(_ milliseconds: Int64) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
    return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1_000))
}

import ArgumentParser
import Foundation
import MufakatCore
import MufakatStore

struct HubCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mufakat-hub",
        abstract: "The coalition's hub: holds the shared copy and syncs with every replica.",
        discussion: "Exit codes: 0 ok, 64 usage error, 65 invalid input, 66 not found, 70 internal error.",
        subcommands: [ServeCommand.self, TokenCommand.self, DigestCommand.self, StatusCommand.self])
}

/// Options every hub command takes.
struct HubOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The hub's data folder.", valueName: "dir"))
    var data = "./mufakat-hub-data"

    @Flag(help: "Print the result as JSON for scripts.")
    var json = false

    func openStore() throws -> HubStore {
        try HubStore.open(directory: (data as NSString).expandingTildeInPath)
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
        if options.json { print(#"{"error":{"code":"\#(error.code)","message":\#(CanonicalJSON.quoted(error.message))}}"#) }
        throw ExitCode(error.code == .notFound ? 66 : error.code == .invalid ? 65 : 70)
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

import ArgumentParser
import Foundation
import MufakatStore

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The replica's folder (default: $MUFAKAT_HOME or ~/.mufakat).", valueName: "dir"))
    var home: String?

    @Flag(name: .long, help: "Print the result as JSON for scripts.")
    var json = false

    var homeDirectory: String {
        if let home { return (home as NSString).expandingTildeInPath }
        if let environment = ProcessInfo.processInfo.environment["MUFAKAT_HOME"], !environment.isEmpty {
            return (environment as NSString).expandingTildeInPath
        }
        return (NSHomeDirectory() as NSString).appendingPathComponent(".mufakat")
    }

    var databasePath: String {
        (homeDirectory as NSString).appendingPathComponent(ReplicaStore.fileName)
    }

    /// Opens the existing replica, or explains how to create one.
    func openStore() throws -> ReplicaStore {
        guard FileManager.default.fileExists(atPath: databasePath) else {
            throw CLIError.notFound("no replica in \(homeDirectory); create one with the 'mufakat init --hub HOST:PORT --hub-key SHA256:… --token TOKEN' line from the hub's operator (or pass --home)")
        }
        return try ReplicaStore.open(at: databasePath)
    }
}

/// Parses `field=value` words.
func parseAssignments(_ words: [String], command: String) throws -> [(field: String, value: String)] {
    try words.map { word in
        guard let equals = word.firstIndex(of: "="), equals != word.startIndex else {
            throw ValidationError("\(command): expected field=value, got '\(word)' (use field= to clear a field)")
        }
        return (String(word[..<equals]), String(word[word.index(after: equals)...]))
    }
}

import Foundation
import ArgumentParser
import MufakatStore

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create this laptop's replica (works offline; nothing is sent until 'sync').")

    @OptionGroup var options: GlobalOptions

    @Option(help: ArgumentHelp("The hub to sync with.", valueName: "host:port"))
    var hub: String

    @Option(help: "The token the hub operator gave you.")
    var token: String

    @Option(help: "Your name as others will see it on your changes, e.g. \"Andi (IOM)\".")
    var name: String = "unnamed"

    func validate() throws {
        guard let colon = hub.lastIndex(of: ":"), !hub[..<colon].isEmpty, let port = Int(hub[hub.index(after: colon)...]),
            (1...65_535).contains(port)
        else {
            throw ValidationError("init: --hub must be HOST:PORT, e.g. hub.example.org:7420 (got '\(hub)')")
        }
        guard !token.isEmpty else { throw ValidationError("init: --token cannot be empty") }
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.utf8.count <= 200, !trimmed.contains(where: \.isNewline) else {
            throw ValidationError("init: --name must be one line of 1 to 200 bytes, e.g. \"Andi (IOM)\" (the hub refuses longer authors)")
        }
    }

    func run() throws {
        try runCommand(options) {
            let store = try ReplicaStore.create(
                at: options.databasePath, hub: hub, token: token, name: name.trimmingCharacters(in: .whitespacesAndNewlines))
            let metadata = try store.metadata()
            if options.json {
                print(JSON.object([
                    "replica": .string(metadata.replica.rawValue), "hub": .string(metadata.hub),
                    "name": .string(metadata.name), "home": .string(options.homeDirectory),
                ]).rendered)
            } else {
                print("created replica \(metadata.replica) in \(options.homeDirectory)")
                print("hub \(metadata.hub), writing as \(metadata.name); run 'mufakat sync' when you are online")
            }
        }
    }
}

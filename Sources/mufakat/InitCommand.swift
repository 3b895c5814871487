import Foundation
import ArgumentParser
import MufakatCore
import MufakatStore
import MufakatWire

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create this laptop's replica (works offline; nothing is sent until 'sync').")

    @OptionGroup var options: GlobalOptions

    @Option(help: ArgumentHelp("The hub to sync with.", valueName: "host:port"))
    var hub: String

    @Option(help: "The token the hub operator gave you.")
    var token: String

    @OptionGroup var trust: HubTrustOptions

    @Option(help: "Your name as others will see it on your changes, e.g. \"Andi (IOM)\".")
    var name: String = "unnamed"

    func validate() throws {
        try validateHubAddress(hub, "init: --hub")
        try trust.validate(command: "init", required: true)
        guard !token.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw ValidationError("init: --token cannot be empty") }
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.utf8.count <= 200, !trimmed.contains(where: \.isNewline) else {
            throw ValidationError("init: --name must be one line of 1 to 200 bytes, e.g. \"Andi (IOM)\" (the hub refuses longer authors)")
        }
    }

    func run() throws {
        try runCommand(options) {
            let store = try ReplicaStore.create(
                at: options.databasePath, hub: hub, token: token.trimmingCharacters(in: .whitespacesAndNewlines),
                name: name.trimmingCharacters(in: .whitespacesAndNewlines), hubKey: trust.key?.description ?? "",
                insecure: trust.insecure, naming: try SyncCommand.protocolVersion() >= WireProtocol.namingVersion)
            let metadata = try store.metadata()
            if options.json {
                print(JSON.object([
                    "replica": .string(metadata.replica.rawValue), "hub": .string(metadata.hub),
                    "name": .string(metadata.name), "home": .string(options.homeDirectory),
                    "hubKey": metadata.insecure ? .null : .string(metadata.hubKey),
                ]).rendered)
            } else {
                print("created replica \(metadata.replica) in \(options.homeDirectory)")
                print("hub \(metadata.hub) (\(trustDescription(metadata))), writing as \(metadata.name); run 'mufakat sync' when you are online")
            }
        }
    }
}

/// Checks a hub address as typed: `HOST:PORT`, port 1–65535.
func validateHubAddress(_ hub: String, _ what: String) throws {
    guard HubAddress.parse(hub) != nil else {
        throw ValidationError("\(what) must be HOST:PORT, e.g. hub.example.org:7420 (got '\(hub)')")
    }
}

/// `mufakat hub set HOST:PORT`: the hub moved.
struct HubGroupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hub", abstract: "Change the hub this replica syncs with, keeping its data.", subcommands: [HubSetCommand.self])
}

struct HubSetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Sync with the hub at HOST:PORT from now on. Local changes are kept and go there at the next sync.",
        discussion: "With --hub-key, trust the hub's new key (after the operator changed it); without it, the key pinned before stays.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: ArgumentHelp("The hub's address.", valueName: "host:port"))
    var address: String

    @OptionGroup var trust: HubTrustOptions

    func validate() throws {
        try validateHubAddress(address, "hub set: the address")
        try trust.validate(command: "hub set", required: false)
    }

    func run() throws {
        try runCommand(options) {
            let store = try options.openStore()
            let before = try store.metadata()
            let metadata = try store.reconfigure(hub: address, hubKey: trust.key?.description, insecure: trust.insecure ? true : nil)
            if trust.insecure, !before.insecure, !before.hubKey.isEmpty {
                FileHandle.standardError.write(Data("""
                    mufakat: warning: TLS is off for this replica: it no longer checks the hub's key (\(before.hubKey)) and sends \
                    its token and data readable by anyone on the network. Only for a hub its operator runs with --insecure; \
                    undo with 'mufakat hub set \(address) --hub-key \(before.hubKey)'

                    """.utf8))
            }
            if options.json {
                print(JSON.object([
                    "replica": .string(metadata.replica.rawValue), "hub": .string(metadata.hub),
                    "hubKey": metadata.insecure ? .null : .string(metadata.hubKey),
                ]).rendered)
            } else {
                print("replica \(metadata.replica) now syncs with \(metadata.hub) (\(trustDescription(metadata))); run 'mufakat sync'")
            }
        }
    }
}

/// `mufakat token set TOKEN`: a new token from the hub operator.
struct TokenGroupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Change the token this replica syncs with, keeping its data.", subcommands: [TokenSetCommand.self])
}

struct TokenSetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Use TOKEN (from the hub operator) from the next sync on.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The new token.")
    var token: String

    func validate() throws {
        guard !token.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw ValidationError("token set: the token cannot be empty") }
    }

    func run() throws {
        try runCommand(options) {
            let metadata = try options.openStore().reconfigure(token: token.trimmingCharacters(in: .whitespacesAndNewlines))
            if options.json {
                print(JSON.object(["replica": .string(metadata.replica.rawValue), "hub": .string(metadata.hub)]).rendered)
            } else {
                print("replica \(metadata.replica) will use the new token from the next sync with \(metadata.hub)")
            }
        }
    }
}

/// How a replica trusts its hub, as `init` and `hub set` take it.
struct HubTrustOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The hub's key, as the operator's 'mufakat init' line gives it: every sync checks the hub presents it.",
        valueName: "SHA256:…"))
    var hubKey: String?

    @Flag(help: "Sync over plain TCP, without TLS, with a hub run with --insecure (a loopback test, a hub behind a TLS proxy).")
    var insecure = false

    var key: HubKey? { hubKey.flatMap { try? HubKey(parsing: $0) } }

    func validate(command: String, required: Bool) throws {
        if let hubKey {
            guard !insecure else { throw ValidationError("\(command): give --hub-key or --insecure, not both") }
            do {
                _ = try HubKey(parsing: hubKey)
            } catch let error as MufakatError {
                throw ValidationError("\(command): --hub-key: \(error.message)")
            }
        } else if required, !insecure {
            throw ValidationError("\(command): --hub-key SHA256:… is needed (the 'mufakat init' line from the hub's operator has it), or --insecure for a hub that runs without TLS")
        }
    }
}

/// "TLS, key SHA256:…" or "plain TCP, --insecure".
func trustDescription(_ metadata: ReplicaMetadata) -> String {
    if metadata.insecure { return "plain TCP, --insecure" }
    return metadata.hubKey.isEmpty ? "no hub key yet" : "TLS, key \(metadata.hubKey)"
}

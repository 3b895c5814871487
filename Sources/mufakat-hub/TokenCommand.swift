import ArgumentParser
import MufakatCore
import MufakatStore

struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Issue, list and revoke the tokens people sync with.",
        subcommands: [Create.self, List.self, SetRole.self, Revoke.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a token for a person; the secret is printed once and only its SHA-256 is kept.")

        @OptionGroup var options: HubOptions

        @Option(help: "The person's organization: its id in organizations, e.g. iom.")
        var org: String

        @Option(help: ArgumentHelp(
            "coordinator (the lead agency: writes and receives everything), member (writes what the catalogue gives its organization, receives published records and its organization's drafts) or observer (reads what a member receives, writes nothing).",
            valueName: "role"))
        var role: Role = .member

        @Option(help: "The person's name.")
        var name: String

        @Option(help: ArgumentHelp(
            "The address replicas reach this hub at; remembered for later tokens (see also 'serve --public-address').",
            valueName: "host:port"))
        var hub: String?

        /// The name the person writes as: `Andi (IOM)`, unless it names an organisation already.
        var author: String {
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            return trimmed.contains("(") ? trimmed : "\(trimmed) (\(org.trimmingCharacters(in: .whitespaces).uppercased()))"
        }

        func validate() throws {
            guard !org.trimmingCharacters(in: .whitespaces).isEmpty, !name.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ValidationError("token create: --org and --name cannot be empty")
            }
            // The printed init line must work: one line, at most 200 bytes as the hub accepts.
            guard !name.contains(where: \.isNewline), !org.contains(where: \.isNewline), author.utf8.count <= 200 else {
                throw ValidationError("token create: --name and --org must each be one line, and the name shown on the person's changes ('NAME (ORG)') at most 200 bytes")
            }
            if let hub { try validatePublicAddress(hub, "token create: --hub") }
            // Write rights compare the token's organisation with organizations ids: a slug.
            let slug = RecordIDs.slug(org)
            guard org.lowercased() == slug else {
                throw ValidationError("token create: --org is the organization's id in organizations, a slug of a-z, 0-9 and '-' (got '\(org)'\(slug.isEmpty ? "" : "; did you mean '\(slug)'?"))")
            }
        }

        func run() throws {
            try runHubCommand(options) {
                let store = try options.openStore(creating: true)
                if let hub { try store.setPublicAddress(hub) }
                let address = try store.publicAddress()
                let trust = try ServedTransport.initOption(store: store, folder: options.folder)
                let (id, secret) = try store.createToken(org: org, name: name, role: role)
                let line = "mufakat init --hub \(address ?? "HOST:PORT") \(trust) --token \(secret) --name=\(shellQuoted(author))"
                if options.json {
                    printJSON([
                        "id": id, "token": secret, "org": org.lowercased(), "name": name, "role": role.rawValue,
                        "init": address == nil ? NSNull() as Any : line as Any,
                    ])
                } else {
                    print("token \(id) for \(name) (\(org.lowercased()), \(role.rawValue)):")
                    print("  \(secret)")
                    print("give it to them now: it is not shown again. They run:")
                    print("  \(line)")
                    if address == nil {
                        print("(HOST:PORT is this hub's address as laptops reach it; give it once with --hub or 'serve --public-address' and later lines are complete)")
                    }
                }
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")

        @OptionGroup var options: HubOptions

        func run() throws {
            try runHubCommand(options) {
                let tokens = try options.openStore().tokens()
                if options.json {
                    printJSON(tokens.map { token -> [String: Any] in
                        var object: [String: Any] = [
                            "id": token.id, "org": token.org, "name": token.name, "role": token.role.rawValue, "created": token.created,
                        ]
                        object["revoked"] = token.revoked ?? NSNull()
                        object["lastUsed"] = token.lastUsed ?? NSNull()
                        return object
                    })
                    return
                }
                if tokens.isEmpty { print("no tokens; create one with 'mufakat-hub token create --org ORG --name NAME'") }
                for token in tokens {
                    let state = token.revoked.map { "revoked \(formatTime($0))" } ?? "active"
                    let used = token.lastUsed.map { "last used \(formatTime($0))" } ?? "never used"
                    print("\(token.id)  \(token.org)  \(token.role.rawValue)  \(token.name)  created \(formatTime(token.created))  \(used)  \(state)")
                }
            }
        }
    }

    struct SetRole: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "role",
            abstract: "Give a token another role, without issuing a new one: it counts from the token's next push or pull.")

        @OptionGroup var options: HubOptions

        @Argument(help: "The token's id (see 'token list').")
        var id: String

        @Argument(help: ArgumentHelp("coordinator, member or observer.", valueName: "role"))
        var role: Role

        func run() throws {
            try runHubCommand(options) {
                let before = try options.openStore().setRole(tokenID: id, role)
                if options.json {
                    printJSON(["id": id, "role": role.rawValue, "previous": before.role.rawValue])
                } else if before.role == role {
                    print("\(id) (\(before.name), \(before.org)) is \(role.rawValue) already")
                } else {
                    print("\(id) (\(before.name), \(before.org)): \(before.role.rawValue) → \(role.rawValue)")
                }
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a token; sessions using it are refused from their next message.")

        @OptionGroup var options: HubOptions

        @Argument(help: "The token's id (see 'token list').")
        var id: String

        func run() throws {
            try runHubCommand(options) {
                try options.openStore().revokeToken(id: id)
                if options.json { printJSON(["id": id, "revoked": true]) } else { print("revoked \(id)") }
            }
        }
    }
}

import Foundation

/// Checks an address as replicas would type it: `HOST:PORT`, port 1–65535.
func validatePublicAddress(_ address: String, _ what: String) throws {
    guard HubAddress.parse(address) != nil, !address.contains(" ") else {
        throw ValidationError("\(what) must be HOST:PORT as laptops reach the hub, e.g. hub.example.org:7420 (got '\(address)')")
    }
}

/// `text` as one shell word: bare when it is safe, else in single quotes.
func shellQuoted(_ text: String) -> String {
    let safe = text.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || "0123456789-_.:/@+,".unicodeScalars.contains($0) }
    return safe && !text.isEmpty ? text : "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
}

extension Role: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(rawValue: argument.lowercased())
    }

    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

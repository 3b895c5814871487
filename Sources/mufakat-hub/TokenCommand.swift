import ArgumentParser
import MufakatStore

struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Issue, list and revoke the tokens people sync with.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a token for a person; the secret is printed once and only its SHA-256 is kept.")

        @OptionGroup var options: HubOptions

        @Option(help: "The person's organization, e.g. iom.")
        var org: String

        @Option(help: "The person's name.")
        var name: String

        func validate() throws {
            guard !org.trimmingCharacters(in: .whitespaces).isEmpty, !name.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ValidationError("token create: --org and --name cannot be empty")
            }
        }

        func run() throws {
            try runHubCommand(options) {
                let (id, secret) = try options.openStore(creating: true).createToken(org: org, name: name)
                if options.json {
                    printJSON(["id": id, "token": secret, "org": org, "name": name])
                } else {
                    print("token \(id) for \(name) (\(org)):")
                    print("  \(secret)")
                    print("give it to them now: it is not shown again. They run:")
                    print("  mufakat init --hub HOST:PORT --token \(secret) --name \"\(name) (\(org.uppercased()))\"")
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
                        var object: [String: Any] = ["id": token.id, "org": token.org, "name": token.name, "created": token.created]
                        object["revoked"] = token.revoked ?? NSNull()
                        return object
                    })
                    return
                }
                if tokens.isEmpty { print("no tokens; create one with 'mufakat-hub token create --org ORG --name NAME'") }
                for token in tokens {
                    let state = token.revoked.map { "revoked \(formatTime($0))" } ?? "active"
                    print("\(token.id)  \(token.org)  \(token.name)  created \(formatTime(token.created))  \(state)")
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

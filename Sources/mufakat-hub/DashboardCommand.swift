import ArgumentParser
import Foundation
import MufakatCore
import MufakatStore

struct DashboardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard", abstract: "The coordination dashboard ('serve --http-port'): sign-in links.",
        subcommands: [Link.self])

    struct Link: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a one-time sign-in link for a token: the first visit spends it and signs that browser in (for the meeting-room screen).")

        @OptionGroup var options: HubOptions

        @Option(name: .customLong("token-id"), help: ArgumentHelp("The token to sign in as (see 'token list').", valueName: "id"))
        var tokenID: String

        @Option(help: "Minutes the link works if unused.")
        var minutes = 30

        @Option(help: ArgumentHelp("The dashboard's address as the browser reaches it (default: this machine and the port the running hub wrote to DIR/http.port).", valueName: "url"))
        var base: String?

        func validate() throws {
            guard (1...10_080).contains(minutes) else { throw ValidationError("dashboard link: --minutes must be 1 to 10080 (a week)") }
            if let base, !(base.hasPrefix("http://") || base.hasPrefix("https://")) {
                throw ValidationError("dashboard link: --base is a URL such as https://hub.example.org:7421 (got '\(base)')")
            }
        }

        func run() throws {
            try runHubCommand(options) {
                let store = try options.openStore()
                let code = try store.createDashboardLink(tokenID: tokenID, lifetime: Int64(minutes) * 60_000)
                var address = base
                if address == nil {
                    let portFile = (options.folder as NSString).appendingPathComponent("http.port")
                    if let port = (try? String(contentsOfFile: portFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines), !port.isEmpty {
                        address = "\(try store.setting("dashboard.scheme") ?? "https")://127.0.0.1:\(port)"
                    }
                }
                let link = "\((address ?? "https://HOST:PORT").trimmingCharacters(in: CharacterSet(charactersIn: "/")))/signin/\(code)"
                if options.json {
                    printJSON(["link": link, "tokenID": tokenID, "minutes": minutes])
                } else {
                    print(link)
                    if address == nil {
                        print("(no dashboard is serving this folder now: replace HOST:PORT with its address, or give --base)")
                    }
                }
            }
        }
    }
}

import ArgumentParser
import Foundation

@main
enum Entry {
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            var command = try HubCommand.parseAsRoot(arguments)
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            // Under --json a usage error answers in JSON too, as every other failure does.
            if arguments.contains("--json"), HubCommand.exitCode(for: error).rawValue == 64 {
                printJSON(["error": ["code": "usage", "message": HubCommand.message(for: error), "exitCode": 64] as [String: Any]])
            }
            HubCommand.exit(withError: error)
        }
    }
}

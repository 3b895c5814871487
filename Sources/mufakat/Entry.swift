import ArgumentParser
import Foundation
import MufakatCore

@main
enum Entry {
    static func main() async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        // `mufakat help reports` shows a collection's fields, as `mufakat collections reports`
        // does; `mufakat help put` stays the argument parser's help for the `put` command.
        if arguments.count >= 2, arguments[0] == "help", Catalogue.collectionNames.contains(arguments[1].lowercased()) {
            arguments[0] = "collections"
        }
        // Name the commands when the first word is not one, rather than a generic parse error.
        let json = arguments.contains("--json")
        let commands = MufakatCommand.configuration.subcommands.map { $0._commandName }
        if let first = arguments.first, !first.hasPrefix("-"), first != "help", !commands.contains(first) {
            let message = "unknown command '\(first)'; the commands are \(commands.joined(separator: ", ")) (see 'mufakat --help')"
            FileHandle.standardError.write(Data("mufakat: \(message)\n".utf8))
            if json { printUsageError(message) }
            exit(ExitCodes.usage)
        }
        do {
            var command = try MufakatCommand.parseAsRoot(arguments)
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            // A usage error (unknown option, missing argument, bad value) under --json also
            // answers in JSON, as every other failure does.
            if json, MufakatCommand.exitCode(for: error).rawValue == ExitCodes.usage {
                printUsageError(MufakatCommand.message(for: error))
            }
            MufakatCommand.exit(withError: error)
        }
    }

    static func printUsageError(_ message: String) {
        print(JSON.object(["error": .object([
            "code": .string("usage"), "message": .string(message), "exitCode": .integer(Int64(ExitCodes.usage)),
        ])]).rendered)
    }
}

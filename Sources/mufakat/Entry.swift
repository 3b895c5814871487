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
        let commands = MufakatCommand.configuration.subcommands.map { $0._commandName }
        if let first = arguments.first, !first.hasPrefix("-"), first != "help", !commands.contains(first) {
            FileHandle.standardError.write(Data("mufakat: unknown command '\(first)'; the commands are \(commands.joined(separator: ", ")) (see 'mufakat --help')\n".utf8))
            exit(ExitCodes.usage)
        }
        await MufakatCommand.main(arguments)
    }
}

import ArgumentParser
import MufakatCore
import MufakatStore

struct DiscardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "discard",
        abstract: "Remove a record the hub refused and never stored, when nothing here can settle the refusal (its key fields name another organization's record).",
        discussion: "Only a refused record no one else has: it is shown by 'mufakat status' under refused, and none of its writes was ever accepted. Prints the values it held.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The collection.")
    var collection: String

    @Argument(help: "The record's id.")
    var id: String

    @Flag(help: "Confirm: the record's values are removed from this replica.")
    var yes = false

    func run() throws {
        try runCommand(options) {
            guard yes else {
                throw CLIError.invalid("discard \(collection) \(id): this removes the record and its values from this replica; run again with --yes to confirm (nothing was removed)")
            }
            let values = try options.openStore().discardRefused(collection, id: id)
            if options.json {
                print(JSON.object(["discarded": .string(id), "values": .object(values.mapValues(JSON.init))]).rendered)
            } else {
                print("discarded \(collection.lowercased()) \(id); it held: " + values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.text)" }.joined(separator: " "))
            }
        }
    }
}

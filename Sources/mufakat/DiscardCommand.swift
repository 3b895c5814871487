import ArgumentParser
import MufakatCore
import MufakatStore

struct DiscardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "discard",
        abstract: "Remove this replica's writes to a record that the hub refused, when nothing here can settle the refusal.",
        discussion: "The refused writes are shown by 'mufakat status' under refused; later writes to the record wait behind them. Discarding removes the refused writes only: the record then shows what the hub holds, and the waiting writes go at the next sync. Prints the values the discarded writes held. (A replica made by 0.7 removes a refused record no one else has, none of whose writes was ever accepted.)")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The collection.")
    var collection: String

    @Argument(help: "The record's id.")
    var id: String

    @Flag(help: "Confirm: the refused writes' values are removed from this replica.")
    var yes = false

    func run() throws {
        try runCommand(options) {
            guard yes else {
                throw CLIError.invalid("discard \(collection) \(id): this removes this replica's refused writes to the record, and their values; run again with --yes to confirm (nothing was removed)")
            }
            let values = try options.openStore().discardRefused(collection, id: id)
            if options.json {
                print(JSON.object(["discarded": .string(id), "values": .object(values.mapValues(JSON.init))]).rendered)
            } else {
                print("discarded the refused writes to \(collection.lowercased()) \(id); they wrote: " + values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.text)" }.joined(separator: " "))
            }
        }
    }
}

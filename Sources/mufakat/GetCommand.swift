import ArgumentParser
import MufakatStore

struct GetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Show one record, with its conflicts if it has any.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The collection.")
    var collection: String

    @Argument(help: "The record's id.")
    var id: String

    func run() throws {
        try runCommand(options) {
            let record = try options.openStore().get(collection, id: id)
            print(options.json ? record.json.rendered : record.text)
        }
    }
}

struct DeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete a record. It keeps its values ('restore' brings it back); an edit someone makes meanwhile shows up as a conflict, not lost.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The collection.")
    var collection: String

    @Argument(help: "The record's id.")
    var id: String

    func run() throws {
        try runCommand(options) {
            try options.openStore().delete(collection, id: id).report(options)
        }
    }
}

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Bring a deleted record back, with the values it held when it was deleted.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The collection.")
    var collection: String

    @Argument(help: "The record's id.")
    var id: String

    func run() throws {
        try runCommand(options) {
            try options.openStore().restore(collection, id: id).report(options)
        }
    }
}

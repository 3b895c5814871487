import ArgumentParser
import MufakatStore

struct PutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put",
        abstract: "Write fields of a record, creating it if needed.",
        discussion: "Only the named fields are written; 'field=' clears one. Example:\n  mufakat put positions kemnaker:ask-budget stance=ActiveSupport influence=High")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The collection (see 'mufakat collections').")
    var collection: String

    @Argument(help: "The record's id.")
    var id: String

    @Argument(help: ArgumentHelp("Fields to write.", valueName: "field=value"))
    var assignments: [String] = []

    func run() throws {
        let parsed = try parseAssignments(assignments, command: "put")
        guard !parsed.isEmpty else { throw ValidationError("put: give at least one field=value") }
        try runCommand(options) {
            try options.openStore().put(collection, id: id, parsed).report(options)
        }
    }
}

struct NewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Create a record and print its id (derived from its fields, or generated); over an existing figure, say so and what it replaced.",
        discussion: "Example:\n  mufakat new reports org=iom period=2025-Q3 country=ID area=\"East Java\" indicator=VictimsIdentified value=12")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The collection.")
    var collection: String

    @Argument(help: ArgumentHelp("Fields to write.", valueName: "field=value"))
    var assignments: [String] = []

    func run() throws {
        let parsed = try parseAssignments(assignments, command: "new")
        try runCommand(options) {
            try options.openStore().new(collection, parsed).report(options)
        }
    }
}

import ArgumentParser
import MufakatCore
import MufakatStore

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the records of a collection.",
        discussion: "Example:\n  mufakat list positions --where ask=ask-budget --where stance=activesupport")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The collection.")
    var collection: String

    @Option(name: .customLong("where"), help: ArgumentHelp("Only records whose field has this value (repeatable).", valueName: "field=value"))
    var filters: [String] = []

    @Flag(help: "Only conflicted records.")
    var conflicts = false

    func run() throws {
        let parsed = try parseAssignments(filters, command: "list --where")
        try runCommand(options) {
            let schema = try Catalogue.collection(named: collection)
            let records = try options.openStore().list(collection, where: parsed, conflictsOnly: conflicts)
            if options.json {
                print(JSON.array(records.map { record in
                    var members = record.document.mapValues(JSON.init)
                    members["id"] = .string(record.id)
                    members["_conflicted"] = .bool(!record.conflicts.isEmpty)
                    return .object(members)
                }).rendered)
                return
            }
            guard !records.isEmpty else {
                print("no \(schema.name)\(parsed.isEmpty && !conflicts ? "" : " match")")
                return
            }
            let used = schema.fieldNames.filter { name in records.contains { $0.document[name] != nil } }
            let rows = records.map { record in
                [record.id] + used.map { record.document[$0]?.text ?? "" } + [record.conflicts.isEmpty ? "" : "conflict"]
            }
            print(table(["id"] + used + [""], rows, maxWidth: 32, whole: [0]))
            print("\(records.count) \(schema.name)")
        }
    }
}

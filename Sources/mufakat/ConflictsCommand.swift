import ArgumentParser
import MufakatStore

struct ConflictsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflicts",
        abstract: "Show every conflicted record: each candidate value, who wrote it, where and when.")

    @OptionGroup var options: GlobalOptions

    @Flag(help: "Exit with code 3 when there are conflicts (for scripts).")
    var check = false

    func run() throws {
        try runCommand(options) {
            let records = try options.openStore().conflicts()
            if options.json {
                print(JSON.array(records.map(\.json)).rendered)
            } else if records.isEmpty {
                print("no conflicts")
            } else {
                for record in records {
                    print("\(record.collection) \(record.id)\(record.deleted ? "  (deleted)" : "")")
                    print(record.conflictsText)
                }
                print("\(records.count) conflicted record\(records.count == 1 ? "" : "s")")
            }
            if check && !records.isEmpty { throw ExitCode(ExitCodes.conflicts) }
        }
    }
}

struct ResolveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve",
        abstract: "Settle a conflicted field: keep candidate N (as 'conflicts' numbers them) or write a new value.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The collection.")
    var collection: String

    @Argument(help: "The record's id.")
    var id: String

    @Argument(help: "The conflicted field.")
    var field: String

    @Option(help: "Keep this candidate (1, 2, …).")
    var pick: Int?

    @Option(help: "Write this value instead.")
    var value: String?

    func validate() throws {
        guard (pick == nil) != (value == nil) else {
            throw ValidationError("resolve: give exactly one of --pick N or --value V")
        }
    }

    func run() throws {
        try runCommand(options) {
            let resolution: ReplicaStore.Resolution = pick.map { .pick($0) } ?? .value(value!)
            try options.openStore().resolve(collection, id: id, field: field, resolution)
                .report(options, suffix: " \(field); sync to share it")
        }
    }
}

import ArgumentParser
import Foundation
import MufakatClient
import MufakatCore
import MufakatStore

struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Who changed a record, when, and what each field showed before and after: from the hub's audit trail.",
        discussion: "Asks the hub (nothing is sent or received besides). Offline, it says so and shows the writes this replica holds: the last one to each field, by whom and when.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The collection.")
    var collection: String

    @Argument(help: "The record's id.")
    var id: String

    @Option(help: "Most entries to show: the latest ones.")
    var limit = 200

    @Option(help: "Seconds to wait for an answer from the hub.")
    var timeout = 20

    func validate() throws {
        guard (1...1_000).contains(limit) else { throw ValidationError("history: --limit must be 1 to 1000") }
        guard timeout >= 1 else { throw ValidationError("history: --timeout must be at least 1 second") }
    }

    func run() async throws {
        let store: ReplicaStore
        let schema: CollectionSchema
        do {
            store = try options.openStore()
            schema = try Catalogue.collection(named: collection)
        } catch {
            try runCommand(options) { throw error }
            return
        }
        do {
            let history = try await SyncClient(store: store, timeout: .seconds(Int64(timeout)))
                .history(collection: schema.name, id: id, limit: limit)
            try runCommand(options) {
                guard history.found else {
                    throw MufakatError(
                        .notFound,
                        "history \(schema.name) \(id): the hub holds no such record that this replica's token may see (a draft of another organization stays with it)",
                        value: id)
                }
                print(history, schema: schema, org: try store.metadata().org)
            }
        } catch let error as SyncError where error.kind == .unreachable || error.kind == .connectionLost {
            try runCommand(options) { try printOffline(store: store, schema: schema, reason: error.message) }
        } catch let error as SyncError {
            try runCommand(options) { throw CLIError(message: "history: \(error.message)", code: error.code ?? "refused", exitCode: ExitCodes.refused) }
        }
    }

    private func print(_ history: HubHistory, schema: CollectionSchema, org: String) {
        if options.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let entries = history.entries.compactMap { try? encoder.encode($0) }.map { String(decoding: $0, as: UTF8.self) }
            Swift.print("{\"collection\":\(JSON.string(schema.name).rendered),\"entries\":[\(entries.joined(separator: ","))],\"id\":\(JSON.string(id).rendered),\"offline\":false,\"omitted\":\(history.omitted)}")
            return
        }
        Swift.print("\(schema.name) \(id): \(history.entries.count) change(s) in the hub's audit trail")
        for entry in history.entries {
            Swift.print("\(formatTime(entry.time))  \(entry.name) (\(entry.org), \(entry.role))  hub seq \(entry.seq)")
            // A change that published another organization's draft comes without the draft's values.
            let withheld = entry.inHouseBefore.map { $0 != org } ?? false
            for (field, change) in entry.changes.sorted(by: { $0.key < $1.key }) {
                // A change that published a draft lists the fields it left as they were too.
                if change.old != nil, change.old == change.new {
                    Swift.print("    \(field): '\(change.new!)' (as published)")
                    continue
                }
                let old = change.old.map { "'\($0)'" } ?? (withheld ? "(a draft of \(entry.inHouseBefore!), not shown)" : "(empty)")
                let new = change.new.map { "'\($0)'" } ?? "(empty)"
                let note = change.conflict == true ? "  (in conflict)" : change.resolved == true ? "  (conflict resolved)" : ""
                Swift.print("    \(field): \(old) → \(new)\(note)")
            }
        }
        if history.omitted > 0 {
            Swift.print("(\(history.omitted) earlier or in-house change(s) not shown)")
        }
    }

    /// What this replica holds of the record's writes, when the hub cannot be asked.
    private func printOffline(store: ReplicaStore, schema: CollectionSchema, reason: String) throws {
        guard let state = try store.state(schema.name, id: id) else {
            throw MufakatError(.notFound, "history \(schema.name) \(id): the hub cannot be reached (\(reason)), and this replica does not hold the record", value: id)
        }
        let writes = state.fields.flatMap { name, entries in entries.map { (field: name, entry: $0) } }
            .sorted { ($0.entry.time, $0.field) < ($1.entry.time, $1.field) }
        let note = "offline: the hub's history could not be fetched (\(reason)); below are only the writes this replica holds, the last one to each field"
        if options.json {
            Swift.print(JSON.object([
                "collection": .string(schema.name), "id": .string(id), "offline": .bool(true), "note": .string(note),
                "writes": .array(writes.map { write in
                    .object([
                        "field": .string(write.field), "value": JSON(write.entry.value), "author": .string(write.entry.author),
                        "time": .integer(write.entry.time), "dot": .string(write.entry.dot.description),
                    ])
                }),
            ]).rendered)
            return
        }
        FileHandle.standardError.write(Data("mufakat: note: \(note)\n".utf8))
        Swift.print("\(schema.name) \(id): the writes this replica holds")
        for write in writes {
            Swift.print("\(formatTime(write.entry.time))  \(write.entry.author)  \(write.field) = \(write.entry.value.description)")
        }
    }
}

import ArgumentParser
import Foundation
import MufakatCore
import MufakatStore

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "The audit trail: every change the hub accepted, who made it, and what each field showed before and after.",
        discussion: "Each entry carries the hash of the one before it: 'audit verify' detects an entry edited, inserted or deleted. Entries older than 'serve --audit-retention-days' are removed; the chain stays checkable from the first one kept.",
        subcommands: [List.self, Verify.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List audit entries, oldest first.")

        @OptionGroup var options: HubOptions

        @Option(help: ArgumentHelp("Only changes made with tokens of this organization.", valueName: "org"))
        var org: String?

        @Option(help: ArgumentHelp("Only changes from this day (UTC) on.", valueName: "YYYY-MM-DD"))
        var since: String?

        @Option(help: ArgumentHelp("Only changes to this collection.", valueName: "collection"))
        var collection: String?

        @Option(help: ArgumentHelp("Only changes to this record (with --collection).", valueName: "id"))
        var id: String?

        @Option(help: "Only the last N entries (after the other filters).")
        var limit: Int?

        @Flag(help: "Print CSV, one row per changed field.")
        var csv = false

        func validate() throws {
            if let since, Self.day(since) == nil {
                throw ValidationError("audit: --since takes a day as YYYY-MM-DD, e.g. 2026-11-01 (got '\(since)')")
            }
            if let collection, (try? Catalogue.collection(named: collection)) == nil {
                throw ValidationError("audit: --collection: no collection '\(collection)'; the collections are \(Catalogue.collectionNames.joined(separator: ", "))")
            }
            if id != nil, collection == nil { throw ValidationError("audit: --id needs --collection") }
            if let limit, limit < 1 { throw ValidationError("audit: --limit must be at least 1") }
            if csv, options.json { throw ValidationError("audit: give --csv or --json, not both") }
        }

        /// A real calendar day (`2026-02-30` is not one), as milliseconds since 1970.
        static func day(_ text: String) -> Int64? {
            let formatter = ISO8601DateFormatter()
            guard text.count == 10, let date = formatter.date(from: text + "T00:00:00Z"),
                formatter.string(from: date).hasPrefix(text)
            else { return nil }
            return Int64(date.timeIntervalSince1970 * 1000)
        }

        func run() throws {
            try runHubCommand(options) {
                let entries = try options.openStore().auditEntries(AuditFilter(
                    org: org, since: since.flatMap(Self.day), collection: collection.map { $0.lowercased() }, id: id, limit: limit))
                if csv {
                    print(try AuditEntry.csv(entries), terminator: "")
                } else if options.json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                    for entry in entries { print(String(decoding: try encoder.encode(entry), as: UTF8.self)) }
                } else {
                    if entries.isEmpty { print("no audit entries\(org == nil && since == nil && collection == nil ? "" : " match")") }
                    for entry in entries { print(entry.summaryLine) }
                }
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the audit log's hash chain; exit 0 when it holds, 65 when an entry was edited, inserted or removed.",
            discussion: "Each run prints the log's head (ENTRY:HASH). Keep it outside the hub (the hub's log also records it hourly); given to a later run with --expect, that run also finds a log cut or rewritten after it, which the chain alone cannot show.")

        @OptionGroup var options: HubOptions

        @Option(help: ArgumentHelp("A head an earlier verify printed: that entry must still hold that hash.", valueName: "entry:hash"))
        var expect: String?

        var expected: (entry: Int64, hash: String)? {
            guard let expect else { return nil }
            let parts = expect.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let entry = Int64(parts[0]), entry >= 1, parts[1].count == 64,
                parts[1].allSatisfy({ $0.isHexDigit && !$0.isUppercase })
            else { return nil }
            return (entry, String(parts[1]))
        }

        func validate() throws {
            if expect != nil, expected == nil {
                throw ValidationError("audit verify: --expect takes ENTRY:HASH as verify printed it, e.g. 57:3f0c… (64 lowercase hex digits)")
            }
        }

        func run() throws {
            try runHubCommand(options) {
                let result = try options.openStore().verifyAudit(expect: expected)
                if options.json {
                    printJSON([
                        "ok": result.problems.isEmpty, "entries": result.entries, "first": result.first, "head": result.head,
                        "problems": result.problems, "prunedBefore": result.prunedBefore.map { $0 as Any } ?? NSNull(),
                    ])
                } else {
                    if let pruned = result.prunedBefore {
                        print("entries before \(formatTime(pruned)) were removed by the retention setting; the chain starts at entry \(result.first)")
                    }
                    for problem in result.problems { print("broken: \(problem)") }
                    print(result.problems.isEmpty
                        ? "audit log holds: \(result.entries) entries; head \(result.head) (note it, and check later with --expect)"
                        : "audit log is broken: \(result.problems.count) problem(s) in \(result.entries) entries")
                }
                if !result.problems.isEmpty { throw ExitCode(65) }
            }
        }
    }
}

extension AuditEntry {
    /// One line for people: when, who, what, and each field's change.
    var summaryLine: String {
        switch kind {
        case "start": return "#\(entry) \(formatTime(time))  the audit log starts: every change from hub sequence \(seq) on"
        case "pruned":
            return "#\(entry) \(formatTime(time))  entries through #\(through ?? 0) removed by the retention setting; every change from hub sequence \(seq) on is kept"
        default: break
        }
        let fields = changes.sorted { $0.key < $1.key }.map { field, change in
            "\(field): \(change.old.map { "'\($0)'" } ?? "(empty)") → \(change.new.map { "'\($0)'" } ?? "(empty)")\(change.conflict == true ? " (conflict)" : change.resolved == true ? " (resolved)" : "")"
        }
        return "#\(entry) \(formatTime(time))  \(name) (\(org), \(role), token \(token))  \(collection) \(id)\(inHouse.map { " [in-house: \($0)]" } ?? "")  "
            + fields.joined(separator: "; ")
    }
}

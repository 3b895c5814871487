import Foundation
import GRDB
import MufakatCore
import MufakatStore

/// The shared coordination data as the views show it: organisations, asks, positions,
/// actions and meetings (live records), and the conflicts waiting for a person. Read from a
/// replica or from the hub (as far as the reader may see) by the same code.
public struct CoordinationData: Sendable {
    public var organizations: [String: Organization]
    public var asks: [Ask]
    public var positions: [Position]
    public var actions: [Action]
    public var meetings: [Meeting]
    public var conflicts: [Conflict]

    public struct Organization: Sendable, Hashable {
        public var id: String
        public var name: String
        public var type: String
        public var isGovernment: Bool { Catalogue.governmentTypes.contains(type) }
    }

    public struct Ask: Sendable, Hashable {
        public var id: String
        public var title: String
        public var status: String
        public var targetDate: String
    }

    /// A candidate value of a conflicted field: what, by whom, when.
    public struct Candidate: Sendable, Hashable {
        public var value: String
        public var author: String
        public var time: Int64
    }

    public struct Position: Sendable, Hashable {
        public var id: String
        public var subject: String
        public var ask: String
        public var stance: String
        public var influence: String
        /// The stance's candidates when it is in conflict (two or more), else empty.
        public var stanceCandidates: [Candidate]
        /// The latest write to the record: when and by whom.
        public var changed: Int64
        public var changedBy: String
        /// When and by whom the shown stance was written.
        public var stanceTime: Int64
        public var stanceAuthor: String
        public var conflicted: Bool
    }

    public struct Action: Sendable, Hashable {
        public var id: String
        public var title: String
        public var owner: String
        public var due: String
        public var status: String
        public var meeting: String
        public var ask: String

        /// Open: not done and not dropped.
        public var isOpen: Bool { status != "Done" && status != "Dropped" }

        /// Open with a due day before `today` (`YYYY-MM-DD`).
        public func isOverdue(today: String) -> Bool { isOpen && !due.isEmpty && due < today }
    }

    public struct Meeting: Sendable, Hashable {
        public var id: String
        public var date: String
        public var title: String
        public var host: String
        public var attendees: [String]
        public var decisions: String
    }

    public struct Conflict: Sendable, Hashable {
        public var collection: String
        public var id: String
        public var fields: [(field: String, candidates: [Candidate])]

        public static func == (a: Conflict, b: Conflict) -> Bool {
            a.collection == b.collection && a.id == b.id && a.fields.map(\.field) == b.fields.map(\.field)
                && a.fields.map(\.candidates) == b.fields.map(\.candidates)
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(collection)
            hasher.combine(id)
        }

        /// A candidate as shown to others. A report's disputed count is never shown, only who
        /// entered each candidate (`–`): a candidate is a figure like any other, and beside
        /// the figures shown it could give back one they hide (a quarter's candidate minus its
        /// months). The person settling it sees the values on their replica
        /// (`mufakat conflicts`).
        public func shown(_ candidate: Candidate, field: String, threshold: Int64) -> String {
            guard collection == "reports", field == "value", Int64(candidate.value) != nil else { return candidate.value }
            return "–"
        }
    }

    /// Reads everything but the figures (those are aggregated: ``FigureTable``).
    public static func load(_ db: Database, scope: ViewScope) throws -> CoordinationData {
        var data = CoordinationData(organizations: [:], asks: [], positions: [], actions: [], meetings: [], conflicts: [])
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT r.collection, r.id, r.state, r.deleted FROM records r
                WHERE r.collection IN ('organizations', 'asks', 'positions', 'actions', 'meetings')\(scope.and)
                ORDER BY r.collection, r.id
                """, arguments: scope.arguments)
        while let row = try rows.next() {
            let state = try RecordState(json: row["state"])
            let id: String = row["id"]
            let collection: String = row["collection"]
            if state.isConflicted {
                data.conflicts.append(Conflict(collection: collection, id: id, fields: conflictFields(state)))
            }
            if row["deleted"] as Bool { continue }
            let text = { (field: String) in state.displayValue(of: field)?.text ?? "" }
            switch collection {
            case "organizations":
                data.organizations[id] = Organization(id: id, name: text("name"), type: text("type"))
            case "asks":
                data.asks.append(Ask(id: id, title: text("title"), status: text("status"), targetDate: text("targetDate")))
            case "positions":
                let latest = state.fields.values.joined().max { ($0.time, $0.dot.replica.rawValue) < ($1.time, $1.dot.replica.rawValue) }
                let stanceEntries = (state.fields["stance"] ?? []).filter { !$0.value.isNull }
                let shown = (state.fields["stance"]).flatMap { $0.isEmpty ? nil : state.displayEntry(of: $0) }
                data.positions.append(Position(
                    id: id, subject: text("subject"), ask: text("ask"), stance: text("stance"), influence: text("influence"),
                    stanceCandidates: stanceEntries.count > 1 ? stanceEntries.map(candidate) : [],
                    changed: latest?.time ?? 0, changedBy: latest?.author ?? "", stanceTime: shown?.time ?? 0, stanceAuthor: shown?.author ?? "",
                    conflicted: state.isConflicted))
            case "actions":
                data.actions.append(Action(
                    id: id, title: text("title"), owner: text("owner"), due: text("due"), status: text("status"),
                    meeting: text("meeting"), ask: text("ask")))
            case "meetings":
                let attendees: [String]
                if case .list(let list)? = state.displayValue(of: "attendees") { attendees = list } else { attendees = [] }
                data.meetings.append(Meeting(
                    id: id, date: text("date"), title: text("title"), host: text("host"), attendees: attendees,
                    decisions: text("decisions")))
            default:
                break
            }
        }
        // Reports are many: only their conflicts are read here, from the flag's index.
        let conflicted = try Row.fetchCursor(
            db, sql: "SELECT r.id, r.state FROM records r WHERE r.conflicted = 1 AND r.collection = 'reports'\(scope.and) ORDER BY r.id",
            arguments: scope.arguments)
        while let row = try conflicted.next() {
            data.conflicts.append(Conflict(collection: "reports", id: row["id"], fields: conflictFields(try RecordState(json: row["state"]))))
        }
        return data
    }

    /// Organisation ids → names, from the display documents alone (no state decoded): what
    /// a figures table needs to label its rows.
    public static func organizationNames(_ db: Database, scope: ViewScope) throws -> [String: String] {
        var names: [String: String] = [:]
        let rows = try Row.fetchCursor(
            db,
            sql: "SELECT r.id, json_extract(r.document, '$.name') AS name FROM records r WHERE r.collection = 'organizations' AND r.deleted = 0\(scope.and)",
            arguments: scope.arguments)
        while let row = try rows.next() {
            if let name: String = row["name"], !name.isEmpty { names[row["id"]] = name }
        }
        return names
    }

    static func candidate(_ entry: FieldEntry) -> Candidate {
        Candidate(value: entry.value.isNull ? "(cleared)" : entry.value.text, author: entry.author, time: entry.time)
    }

    static func conflictFields(_ state: RecordState) -> [(field: String, candidates: [Candidate])] {
        state.conflicts.map { conflict in
            (conflict.field, conflict.candidates.map { Candidate(value: $0.isDeletion ? "(deleted)" : $0.value.isNull ? "(cleared)" : $0.value.text, author: $0.author, time: $0.time) })
        }
    }

    /// The organisation's name, or its id when this store does not hold it.
    public func name(of organization: String) -> String {
        organizations[organization]?.name.nilIfEmpty ?? organization
    }

    public func title(ofAsk id: String) -> String {
        asks.first { $0.id == id }?.title.nilIfEmpty ?? id
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}

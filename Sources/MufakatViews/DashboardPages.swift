import Foundation
import MufakatCore
import MufakatStore

/// The dashboard's pages as HTML, and their tables as CSV, rendered from view data by the
/// Mustache templates (``Templates``). No page carries a script; every count a page shows
/// went through ``SuppressedTable`` first, so a suppressed number is in no page's HTML.
public enum DashboardPages {
    public enum Tab: String, CaseIterable, Sendable {
        case positions, figures, followUps = "follow-ups", replicas, brief

        var label: String {
            switch self {
            case .positions: return "Positions"
            case .figures: return "Figures"
            case .followUps: return "Follow-ups"
            case .replicas: return "Replicas and conflicts"
            case .brief: return "Brief"
            }
        }
    }

    /// Who is signed in, for the header: `Name (org, role)`.
    public struct Viewer: Sendable {
        public var name: String
        public var org: String
        public var role: String

        public init(name: String, org: String, role: String) {
            self.name = name
            self.org = org
            self.role = role
        }
    }

    /// A whole page: the header with its tabs, then `body`.
    public static func page(title: String, tab: Tab?, viewer: Viewer?, body: String) -> String {
        Templates.library.render(
            [
                "title": title, "css": Templates.css, "body": body, "signedIn": viewer != nil,
                "who": viewer.map { "\($0.name) (\($0.org), \($0.role))" } ?? "",
                "tabs": viewer == nil ? [] : Tab.allCases.map { ["href": "/\($0.rawValue)", "label": $0.label, "current": $0 == tab] },
            ], withTemplate: "page") ?? ""
    }

    // MARK: Positions

    /// Subjects (government bodies first, then members, by name) × asks, each cell the
    /// stance in words and colour, influence, and the last change; a conflicted stance
    /// shows every candidate.
    public static func positions(_ data: CoordinationData, viewer: Viewer) -> String {
        let (subjects, asks, cells) = matrix(data)
        let rows = subjects.map { subject -> [String: Any] in
            [
                "name": data.name(of: subject), "id": subject, "government": data.organizations[subject]?.isGovernment == true,
                "cells": asks.map { ask -> [String: Any] in
                    guard let position = cells[subject]?[ask.id] else { return ["empty": true] }
                    let style = StanceStyle.of(position.stance)
                    return [
                        "empty": false, "id": position.id, "words": style.words, "class": style.cssClass,
                        "style": "background:\(style.background);color:\(style.foreground)",
                        "influence": position.influence.isEmpty ? "" : "influence \(position.influence.lowercased())",
                        "changed": "\(Templates.day(position.changed)) by \(position.changedBy)",
                        "conflicted": !position.stanceCandidates.isEmpty,
                        "candidates": position.stanceCandidates.map { ["text": "\(StanceStyle.of($0.value).words) — \($0.author), \(Templates.day($0.time))"] },
                    ]
                },
            ]
        }
        let body = Templates.library.render(
            [
                "asks": asks.map { ["title": $0.title, "id": $0.id] }, "rows": rows, "hasRows": !rows.isEmpty,
                "legend": StanceStyle.scale.map { stance -> [String: Any] in
                    let style = StanceStyle.of(stance)
                    return ["words": style.words, "style": "background:\(style.background);color:\(style.foreground)"]
                },
            ], withTemplate: "positions") ?? ""
        return page(title: "Positions", tab: .positions, viewer: viewer, body: body)
    }

    static func matrix(_ data: CoordinationData) -> ([String], [CoordinationData.Ask], [String: [String: CoordinationData.Position]]) {
        var cells: [String: [String: CoordinationData.Position]] = [:]
        for position in data.positions { cells[position.subject, default: [:]][position.ask] = position }
        let subjects = cells.keys.sorted { a, b in
            let (ga, gb) = (data.organizations[a]?.isGovernment == true, data.organizations[b]?.isGovernment == true)
            return ga != gb ? ga : data.name(of: a).lowercased() < data.name(of: b).lowercased()
        }
        let used = Set(data.positions.map(\.ask))
        var asks = data.asks.filter { used.contains($0.id) }
        // Positions on asks this store does not hold (yet) still get a column.
        for id in used.subtracting(asks.map(\.id)).sorted() { asks.append(.init(id: id, title: id, status: "", targetDate: "")) }
        asks.sort { $0.title.lowercased() < $1.title.lowercased() }
        return (subjects, asks, cells)
    }

    public static func positionsCSV(_ data: CoordinationData) throws -> String {
        let (subjects, asks, cells) = matrix(data)
        var rows = [["subject", "subject_name", "ask", "ask_title", "stance", "influence", "changed", "changed_by", "conflict"]]
        for subject in subjects {
            for ask in asks {
                guard let position = cells[subject]?[ask.id] else { continue }
                rows.append([
                    subject, data.name(of: subject), ask.id, ask.title, position.stance, position.influence, Templates.day(position.changed),
                    position.changedBy, position.stanceCandidates.map { "\($0.value) (\($0.author))" }.joined(separator: " / "),
                ])
            }
        }
        return try CSVText.write(rows)
    }

    // MARK: Figures

    public static func figures(_ figures: FigureTable, viewer: Viewer, error: String? = nil) -> String {
        let threshold = figures.table.threshold
        let query = figures.query
        let rows = figures.rowLabels.enumerated().map { index, label -> [String: Any] in
            [
                "label": label,
                "cells": figures.table.cells[index].map { cell -> [String: Any] in
                    ["text": cell?.text(threshold: threshold) ?? "", "suppressed": cell != nil && cell?.number == nil]
                },
                "total": figures.table.rowTotals[index].text(threshold: threshold),
                "totalSuppressed": figures.table.rowTotals[index].number == nil,
            ]
        }
        // A country's own totals, below the totals: they are not added to the areas.
        let country = figures.country.map { line -> [String: Any] in
            [
                "cells": line.cells[0].map { cell -> [String: Any] in
                    ["text": cell?.text(threshold: threshold) ?? "", "suppressed": cell != nil && cell?.number == nil]
                },
                "total": line.rowTotals[0].text(threshold: threshold), "totalSuppressed": line.rowTotals[0].number == nil,
            ]
        }
        let options = { (values: [String], selected: String) in values.map { ["value": $0, "selected": $0 == selected] } }
        let body = Templates.library.render(
            [
                "error": error ?? "", "hasError": error != nil,
                "indicators": options(Catalogue.indicators, query.indicator),
                "groupings": FigureQuery.Grouping.allCases.map { ["value": $0.rawValue, "label": $0 == .area ? "area" : "organization", "selected": $0 == query.by] },
                "granularities": options(FigureQuery.Granularity.allCases.map(\.rawValue), query.granularity.rawValue),
                "country": query.country ?? "", "from": query.from ?? "", "to": query.to ?? "",
                "byLabel": query.by == .area ? "Area" : "Organization",
                "periods": figures.periods.map { ["name": $0] }, "rows": rows, "hasRows": !rows.isEmpty || country != nil,
                "countryLine": country.map { [$0] } ?? [],
                "columnTotals": figures.table.columnTotals.map { ["text": $0.text(threshold: threshold), "suppressed": $0.number == nil] },
                "grandTotal": figures.table.grandTotal.text(threshold: threshold),
                "threshold": threshold, "reports": figures.reports, "csv": "/figures.csv?\(query.queryString)",
                "chart": chart(figures),
            ], withTemplate: "figures") ?? ""
        return page(title: "Figures: \(query.indicator)", tab: .figures, viewer: viewer, body: body)
    }

    /// Horizontal bars of the latest period, one per row (area or organisation). A small
    /// count is drawn as a hatched bar of a fixed length with its `<k` label — never a length
    /// that would tell its size; a missing figure gets no bar.
    static func chart(_ figures: FigureTable) -> [String: Any] {
        let threshold = figures.table.threshold
        guard let last = figures.periods.indices.last else { return ["hasBars": false] }
        let cells = figures.table.cells.map { $0[last] }
        let largest = max(1, cells.compactMap { $0?.number }.max() ?? 1)
        let (labelWidth, plot, rowHeight, top) = (180, 420, 26, 28)
        let bars = figures.rowLabels.enumerated().map { index, label -> [String: Any] in
            let y = top + index * rowHeight
            var bar: [String: Any] = [
                "label": label.count > 28 ? String(label.prefix(27)) + "…" : label, "labelY": y + 16, "y": y + 4, "h": rowHeight - 8,
                "x": labelWidth, "text": cells[index]?.text(threshold: threshold) ?? "no figure",
            ]
            switch cells[index] {
            case .value(let number)?:
                let width = max(1, Int(Double(plot) * Double(number) / Double(largest)))
                bar["shown"] = true
                bar["w"] = width
                bar["textX"] = labelWidth + width + 6
            case .small?, .hidden?:
                bar["small"] = true
                bar["w"] = 18
                bar["textX"] = labelWidth + 24
            case nil:
                bar["textX"] = labelWidth + 6
            }
            return bar
        }
        let height = top + figures.rowLabels.count * rowHeight + 8
        return [
            "width": labelWidth + plot + 80, "height": height, "axisX": labelWidth, "axisBottom": height - 4, "period": figures.periods[last],
            "bars": bars, "hasBars": !bars.isEmpty,
        ]
    }

    // MARK: Follow-ups

    /// Actions by owner and due day, overdue ones first; meetings with their decisions.
    public static func followUps(_ data: CoordinationData, today: String, viewer: Viewer) -> String {
        let actions = orderedActions(data, today: today).map { action -> [String: Any] in
            [
                "title": action.title, "owner": data.name(of: action.owner), "due": action.due.isEmpty ? "—" : action.due,
                "status": action.status.isEmpty ? "Open" : action.status, "overdue": action.isOverdue(today: today),
                "meeting": action.meeting.isEmpty ? "" : (data.meetings.first { $0.id == action.meeting }?.title ?? action.meeting),
                "ask": action.ask.isEmpty ? "" : data.title(ofAsk: action.ask), "id": action.id,
            ]
        }
        let meetings = data.meetings.sorted { ($0.date, $0.id) > ($1.date, $1.id) }.map { meeting -> [String: Any] in
            [
                "date": meeting.date, "title": meeting.title, "host": meeting.host.isEmpty ? "" : data.name(of: meeting.host),
                "attendees": meeting.attendees.map(data.name(of:)).joined(separator: ", "), "decisions": meeting.decisions,
            ]
        }
        let body = Templates.library.render(
            [
                "today": today, "actions": actions, "hasActions": !actions.isEmpty, "meetings": meetings, "hasMeetings": !meetings.isEmpty,
                "overdueCount": actions.filter { $0["overdue"] as? Bool == true }.count,
            ], withTemplate: "follow-ups") ?? ""
        return page(title: "Follow-ups", tab: .followUps, viewer: viewer, body: body)
    }

    /// Overdue first (earliest due first), then open by due day (none last), then closed.
    static func orderedActions(_ data: CoordinationData, today: String) -> [CoordinationData.Action] {
        data.actions.sorted { a, b in
            let rank = { (action: CoordinationData.Action) in action.isOverdue(today: today) ? 0 : action.isOpen ? 1 : 2 }
            if rank(a) != rank(b) { return rank(a) < rank(b) }
            let (dueA, dueB) = (a.due.isEmpty ? "9999" : a.due, b.due.isEmpty ? "9999" : b.due)
            if dueA != dueB { return dueA < dueB }
            return (data.name(of: a.owner), a.title) < (data.name(of: b.owner), b.title)
        }
    }

    public static func followUpsCSV(_ data: CoordinationData, today: String) throws -> String {
        var rows = [["id", "title", "owner", "due", "status", "overdue", "meeting", "ask"]]
        for action in orderedActions(data, today: today) {
            rows.append([
                action.id, action.title, action.owner, action.due, action.status.isEmpty ? "Open" : action.status,
                action.isOverdue(today: today) ? "yes" : "", action.meeting, action.ask,
            ])
        }
        return try CSVText.write(rows)
    }

    // MARK: Replicas and conflicts

    /// One replica as the hub knows it.
    public struct ReplicaRow: Sendable {
        public var replica: String
        public var name: String
        public var org: String
        public var client: String
        public var lastSeen: Int64
        /// Changes of the hub's feed it has not been served yet.
        public var behind: UInt64

        public init(replica: String, name: String, org: String, client: String, lastSeen: Int64, behind: UInt64) {
            self.replica = replica
            self.name = name
            self.org = org
            self.client = client
            self.lastSeen = lastSeen
            self.behind = behind
        }
    }

    public static func replicas(
        _ replicas: [ReplicaRow]?, conflicts: [CoordinationData.Conflict], threshold: Int64, viewer: Viewer
    ) -> String {
        let rows = (replicas ?? []).map { row -> [String: Any] in
            [
                "replica": row.replica, "name": row.name, "org": row.org, "client": row.client, "lastSeen": Templates.time(row.lastSeen),
                "behind": row.behind == 0 ? "up to date" : "\(row.behind) change(s)",
            ]
        }
        let conflictRows = conflicts.map { conflict -> [String: Any] in
            [
                "collection": conflict.collection, "id": conflict.id,
                "fields": conflict.fields.map { field in
                    [
                        "field": field.field,
                        "candidates": field.candidates.map {
                            ["text": "\(conflict.shown($0, field: field.field, threshold: threshold)) — \($0.author), \(Templates.time($0.time))"]
                        },
                    ]
                },
            ]
        }
        let body = Templates.library.render(
            [
                "showReplicas": replicas != nil, "replicas": rows, "hasReplicas": !rows.isEmpty,
                "conflicts": conflictRows, "hasConflicts": !conflictRows.isEmpty,
            ], withTemplate: "replicas") ?? ""
        return page(title: "Replicas and conflicts", tab: .replicas, viewer: viewer, body: body)
    }

    public static func replicasCSV(_ replicas: [ReplicaRow]) throws -> String {
        try CSVText.write([["replica", "name", "org", "client", "last_seen", "behind"]] + replicas.map {
            [$0.replica, $0.name, $0.org, $0.client, Templates.time($0.lastSeen), String($0.behind)]
        })
    }

    // MARK: Brief and sign-in

    public static func brief(_ brief: Brief, viewer: Viewer) -> String {
        let form = Templates.library.render(["month": brief.month], withTemplate: "brief-form") ?? ""
        return page(title: "Brief, \(brief.monthName)", tab: .brief, viewer: viewer, body: form + BriefRenderer.render(brief, format: .html, standalone: false))
    }

    public static func signIn(next: String, error: String?) -> String {
        let body = Templates.library.render(["next": next, "error": error ?? "", "hasError": error != nil], withTemplate: "signin") ?? ""
        return page(title: "Sign in", tab: nil, viewer: nil, body: body)
    }

    public static func message(title: String, text: String, viewer: Viewer?) -> String {
        page(title: title, tab: nil, viewer: viewer, body: Templates.library.render(["title": title, "text": text], withTemplate: "message") ?? "")
    }
}

import Foundation
import Mustache

/// Renders the brief as Markdown or as HTML: one set of view data, two templates. The
/// dashboard embeds the HTML fragment in its page; `mufakat brief --format html` wraps it
/// in a document of its own.
public enum BriefRenderer {
    public enum Format: String, Sendable, CaseIterable {
        case md, html
    }

    public static func render(_ brief: Brief, format: Format, standalone: Bool = true) -> String {
        let context = context(brief, markdown: format == .md)
        switch format {
        case .md:
            return Templates.library.render(context, withTemplate: "brief-md") ?? ""
        case .html:
            let fragment = Templates.library.render(context, withTemplate: "brief-html") ?? ""
            guard standalone else { return fragment }
            return Templates.library.render(
                ["title": "Brief, \(brief.monthName)", "body": fragment, "css": Templates.css], withTemplate: "document") ?? ""
        }
    }

    /// The view data: every number already suppressed as text, so no template can show a
    /// hidden one.
    static func context(_ brief: Brief, markdown: Bool) -> [String: Any] {
        let cell = { (text: String) in markdown ? Templates.markdownCell(text) : text }
        let threshold = brief.threshold
        let data = brief.data
        let changes = brief.positionChanges.map { change -> [String: Any] in
            let from = change.first ? "(first assessment)" : change.from.map { StanceStyle.of($0).words } ?? "(not known here)"
            return [
                "subject": cell(change.subject), "ask": cell(change.ask), "from": cell(from),
                "to": cell(StanceStyle.of(change.to).words), "toClass": StanceStyle.of(change.to).cssClass,
                "by": cell(change.by), "when": Templates.day(change.time),
            ]
        }
        let figureTables = brief.figures.map { figures -> [String: Any] in
            [
                "period": figures.period,
                "indicators": figures.indicators.map { ["name": $0] },
                "rows": figures.organizations.enumerated().map { index, name -> [String: Any] in
                    [
                        "label": cell(name),
                        "cells": figures.table.cells[index].map { ["text": $0?.text(threshold: threshold) ?? ""] },
                        "total": figures.table.rowTotals[index].text(threshold: threshold),
                    ]
                },
                "columnTotals": figures.table.columnTotals.map { ["text": $0.text(threshold: threshold)] },
                "grandTotal": figures.table.grandTotal.text(threshold: threshold),
                "markdownRule": String(repeating: "---|", count: figures.indicators.count + 2),
            ]
        }
        let action = { (item: CoordinationData.Action) -> [String: Any] in
            [
                "title": cell(item.title), "owner": cell(data.name(of: item.owner)), "due": item.due,
                "status": cell(item.status.isEmpty ? "Open" : item.status), "ask": cell(item.ask.isEmpty ? "" : data.title(ofAsk: item.ask)),
            ]
        }
        let conflicts = brief.conflicts.map { conflict -> [String: Any] in
            [
                "collection": conflict.collection, "id": cell(conflict.id),
                "fields": conflict.fields.map { field in
                    [
                        "field": field.field,
                        "candidates": cell(field.candidates.map { "\(conflict.shown($0, field: field.field, threshold: threshold)) (\($0.author))" }.joined(separator: " / ")),
                    ]
                },
            ]
        }
        return [
            "month": brief.monthName, "asOf": brief.asOf, "threshold": threshold,
            "changes": changes, "hasChanges": !changes.isEmpty,
            "figureTables": figureTables, "hasFigures": !figureTables.isEmpty,
            "overdue": brief.overdue.map(action), "hasOverdue": !brief.overdue.isEmpty,
            "due": brief.due.map(action), "hasDue": !brief.due.isEmpty,
            "conflicts": conflicts, "hasConflicts": !conflicts.isEmpty,
        ]
    }
}

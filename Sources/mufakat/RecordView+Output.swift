import MufakatCore
import MufakatStore

extension RecordView {
    var json: JSON {
        .object([
            "collection": .string(collection), "id": .string(id), "deleted": .bool(deleted),
            "conflicted": .bool(!conflicts.isEmpty), "fields": .document(document),
            "conflicts": .array(conflicts.map(\.json)),
        ])
    }

    /// `field  value` lines, then the conflicts.
    var text: String {
        let schema = try? Catalogue.collection(named: collection)
        var lines = ["\(collection) \(id)\(deleted ? "  (deleted)" : "")"]
        let names = schema?.fieldNames ?? document.keys.sorted()
        let rows = names.compactMap { name in document[name].map { [name, $0.text] } }
        if !rows.isEmpty { lines.append(table(["field", "value"], rows, maxWidth: 400)) }
        if !conflicts.isEmpty { lines.append(conflictsText) }
        if deleted { lines.append("  deleted: these are the values it held; 'mufakat restore \(collection) \(id)' brings it back") }
        return lines.joined(separator: "\n")
    }

    /// Each conflicted field with its numbered candidates, for `--pick N`.
    var conflictsText: String {
        conflicts.map { conflict in
            var lines = ["  conflict in \(conflict.field):"]
            for (index, candidate) in conflict.candidates.enumerated() {
                let value: String
                if conflict.field == RecordState.deletedField {
                    value = candidate.value == .bool(true) ? "(record deleted)" : "(record kept)"
                } else if candidate.isDeletion {
                    value = candidate.value.isNull ? "(record deleted)" : "(record deleted; it held '\(candidate.value.text)')"
                } else {
                    value = candidate.value.isNull ? "(cleared)" : "'\(candidate.value.text)'"
                }
                lines.append("    \(index + 1). \(value)  by \(candidate.author) on replica \(candidate.replica) at \(formatTime(candidate.time))\(index == 0 ? "  [shown]" : "")")
            }
            lines.append("    resolve: mufakat resolve \(collection) \(id) \(conflict.field) --pick N  (or --value V)")
            return lines.joined(separator: "\n")
        }.joined(separator: "\n")
    }
}

extension FieldConflict {
    var json: JSON {
        .object([
            "field": .string(field),
            "candidates": .array(candidates.enumerated().map { index, candidate in
                .object([
                    "pick": .integer(Int64(index + 1)), "value": JSON(candidate.value), "author": .string(candidate.author),
                    "replica": .string(candidate.replica.rawValue), "time": .integer(candidate.time),
                    "deletion": .bool(candidate.isDeletion),
                ])
            }),
        ])
    }
}

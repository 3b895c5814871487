import CSV
import Foundation
import GRDB
import MufakatCore

/// What an import did, or would do with `--dry-run`.
public struct ImportReport: Sendable, Hashable, Codable {
    public var collection: String
    public var rows: Int
    public var created: Int
    public var updated: Int
    public var unchanged: Int
    public var dryRun: Bool
    public var warnings: [String]
}

extension ReplicaStore {
    /// Most bad rows listed in one error message; the count of the rest follows.
    static let listedBadRows = 200

    /// Imports an RFC 4180 CSV file whose header row names fields of `collection` (and
    /// optionally `id`).
    ///
    /// Every row is validated before anything is kept: if any row is bad, nothing is
    /// written and the error lists each bad row (spreadsheet numbering: the header is row 1)
    /// with its problems. The import is one transaction. A row whose values equal the
    /// record's current values writes nothing, so importing the same file twice changes
    /// nothing the second time. An empty cell clears that field. A `_conflicts` column (as
    /// `export` writes) is read only to leave the listed fields of existing records alone.
    ///
    /// The file is read twice, in chunks: a first pass checks it is UTF-8 with its quotes
    /// closed, the second validates and writes row by row in one transaction — memory stays
    /// flat whatever the file's size, and a bad row still leaves nothing written.
    public func importCSV(_ collection: String, path: String, dryRun: Bool = false) throws -> ImportReport {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
            FileHandle(forReadingAtPath: path) != nil
        else {
            throw MufakatError(.notFound, "import: cannot read '\(path)'", value: path)
        }
        return try importCSV(collection, source: { FileChunkStream(path: path) }, dryRun: dryRun)
    }

    public func importCSV(_ collection: String, data: Data, dryRun: Bool = false) throws -> ImportReport {
        try importCSV(collection, source: { InputStream(data: data) }, dryRun: dryRun)
    }

    /// The import itself; `source` opens the file again for each pass.
    func importCSV(_ collection: String, source: () -> InputStream, dryRun: Bool) throws -> ImportReport {
        let schema = try Catalogue.collection(named: collection)
        let format = try Self.checkCSV(source())
        let reader: CSVReader
        do {
            reader = try CSVReader(stream: source(), delimiter: format.delimiter)
        } catch {
            throw MufakatError(.invalid, "import: the file is not valid CSV")
        }
        if format.separatorLine { _ = reader.next() }
        guard let header = reader.next() else {
            throw MufakatError(.invalid, "import \(schema.name): the file is empty; the first row must name the fields")
        }
        let columns = try Self.columns(header, schema: schema)
        var report = ImportReport(collection: schema.name, rows: 0, created: 0, updated: 0, unchanged: 0, dryRun: dryRun, warnings: [])
        var badRows: [String] = []
        var badRowCount = 0
        // The same warning on many rows (a missing organization) is reported once: its
        // first row and how many.
        var warningRows: [String: (first: Int, count: Int)] = [:]
        var warningOrder: [String] = []
        try writer.writeWithoutTransaction { db in
            try db.inTransaction {
                let dots = try DotAllocator(db)
                // Ids met so far, with their row: on disk (a temporary table), not in memory.
                try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS import_rows (id TEXT PRIMARY KEY NOT NULL, row INTEGER NOT NULL)")
                try db.execute(sql: "DELETE FROM temp.import_rows")
                let firstRow = try db.cachedStatement(sql: "SELECT row FROM temp.import_rows WHERE id = ?")
                let noteRow = try db.cachedStatement(sql: "INSERT INTO temp.import_rows (id, row) VALUES (?, ?)")
                var rowNumber = 1
                while let cells = reader.next() {
                    rowNumber += 1
                    if cells.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { continue }
                    report.rows += 1
                    func fail(_ messages: [String]) {
                        badRowCount += 1
                        if badRows.count < Self.listedBadRows {
                            badRows.append("row \(rowNumber): " + messages.joined(separator: "; "))
                        }
                    }
                    guard cells.count == header.count else {
                        fail(["has \(cells.count) cells; the header has \(header.count) (a quote left open or a stray comma?)"])
                        continue
                    }
                    var assignments: [(field: String, value: String)] = []
                    var id = ""
                    var disputed: Set<String> = []
                    for (column, cell) in zip(columns, cells) {
                        if column == Self.conflictsColumn {
                            disputed = Set(cell.split(whereSeparator: \.isWhitespace).map { $0.lowercased() })
                            continue
                        }
                        let cell = CSVCell.undefused(cell)
                        if let column { assignments.append((column, cell)) } else { id = cell.trimmingCharacters(in: .whitespaces) }
                    }
                    if id.isEmpty {
                        switch Self.idForNewRow(schema: schema, assignments: assignments) {
                        case .success(let derived): id = derived
                        case .failure(let problem):
                            fail([problem.description])
                            continue
                        }
                    }
                    if let first = try Int.fetchOne(firstRow, arguments: [id]) {
                        fail(["is the same record as row \(first) (\(schema.name) \(id))"])
                        continue
                    }
                    try noteRow.execute(arguments: [id, rowNumber])
                    // A value exported while disputed is only the one that was shown: into
                    // a record this replica holds it is not written, so the import does
                    // not settle a conflict behind anyone's back (clearing the row's
                    // _conflicts cell writes it). A new record takes it.
                    var notes: [String] = []
                    if !disputed.isEmpty, let existing = try db.fetchState(collection: schema.name, id: id) {
                        let (skipped, kept) = assignments.reduce(into: ([String](), [(field: String, value: String)]())) { result, assignment in
                            if disputed.contains(assignment.field.lowercased()) { result.0.append(assignment.field) } else { result.1.append(assignment) }
                        }
                        assignments = kept
                        let live = existing.conflicts.map(\.field)
                        for field in skipped where live.contains(field) {
                            notes.append("\(field) is in conflict and was left as it is (clear the row's _conflicts cell to write it, or use 'mufakat resolve')")
                        }
                    }
                    do {
                        var outcome = try put(db, schema: schema, id: id, assignments: assignments, dots: dots, verb: "import")
                        if outcome.action == "restored" {
                            notes.append("\(schema.name) \(id) was deleted on this replica; this import brought it back")
                        }
                        outcome.warnings += notes
                        switch outcome.action {
                        case "created": report.created += 1
                        case "updated", "restored": report.updated += 1
                        default: report.unchanged += 1
                        }
                        for warning in outcome.warnings {
                            if let seen = warningRows[warning] {
                                warningRows[warning] = (seen.first, seen.count + 1)
                            } else {
                                warningOrder.append(warning)
                                warningRows[warning] = (rowNumber, 1)
                            }
                        }
                    } catch let error as InvalidWrite {
                        fail(error.problems.map(\.description))
                    }
                }
                if reader.error != nil {
                    throw MufakatError(.invalid, "import: the file is not valid CSV (it could not be read as UTF-8 text)")
                }
                guard badRowCount == 0, !dryRun else { return .rollback }
                try db.execute(sql: "DROP TABLE temp.import_rows")
                try dots.save(db)
                return .commit
            }
        }
        if badRowCount > 0 {
            var message = "import \(schema.name): \(badRowCount) of \(report.rows) rows are not valid; nothing was imported:\n"
                + badRows.map { "  - \($0)" }.joined(separator: "\n")
            if badRowCount > badRows.count { message += "\n  … and \(badRowCount - badRows.count) more bad rows" }
            throw MufakatError(.invalid, message)
        }
        report.warnings = warningOrder.map { warning in
            let rows = warningRows[warning]!
            let place = rows.count == 1 ? "row \(rows.first)" : "rows \(rows.first) and \(rows.count - 1) more"
            return "\(place): \(warning)"
        }
        return report
    }

    /// The id of a CSV row without an `id` cell: derived from its fields, or generated.
    static func idForNewRow(schema: CollectionSchema, assignments: [(field: String, value: String)]) -> Result<String, ValidationProblem> {
        if case .generated(let prefix) = schema.idRule {
            var generator = SystemRandomNumberGenerator()
            return .success(RecordIDs.generated(prefix: prefix, using: &generator))
        }
        let (values, problems) = schema.parse(assignments)
        if let problem = problems.first { return .failure(problem) }
        guard let id = schema.derivedID(for: values) else {
            return .failure(ValidationProblem(
                field: nil, "needs an id or the fields it is made from: \(schema.idRule.keyFields.joined(separator: ", "))"))
        }
        return .success(id)
    }

    /// Maps header cells to field names (`nil` for the `id` column).
    static func columns(_ header: [String], schema: CollectionSchema) throws -> [String?] {
        var columns: [String?] = []
        var problems: [String] = []
        for cell in header {
            let name = cell.trimmingCharacters(in: .whitespaces)
            if name.lowercased() == "id" {
                columns.append(nil)
            } else if name.lowercased() == Self.conflictsColumn {
                columns.append(Self.conflictsColumn)
            } else if let spec = schema.fields.first(where: { $0.name.lowercased() == name.lowercased() }) {
                columns.append(spec.name)
            } else {
                problems.append(name.isEmpty ? "an empty column name" : "'\(name)'")
                columns.append(name)
            }
        }
        if !problems.isEmpty {
            throw MufakatError(
                .invalid,
                "import \(schema.name): the header row has \(problems.joined(separator: ", ")); columns may be id, \(schema.fieldNames.joined(separator: ", ")) (and \(Self.conflictsColumn), as export writes it: the fields it names are left alone in records this replica holds)")
        }
        let names = columns.map { $0 ?? "id" }
        if let duplicate = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw MufakatError(.invalid, "import \(schema.name): column '\(duplicate)' appears twice in the header row")
        }
        return columns
    }

    /// How a CSV file is to be read: its delimiter, and whether it starts with Excel's
    /// `sep=` line.
    struct CSVFormat {
        var delimiter: UnicodeScalar
        var separatorLine: Bool
    }

    /// The first pass over a CSV file, in chunks: it must be UTF-8 text whose quotes come in
    /// pairs (CSV.swift reads an unclosed quote to the end of the file without complaint).
    /// Spreadsheets in many locales save "CSV" with semicolons: a header row (field names
    /// never hold either) with semicolons and no comma is read that way, as is a file
    /// starting with Excel's `sep=;` line.
    static func checkCSV(_ stream: InputStream) throws -> CSVFormat {
        stream.open()
        defer { stream.close() }
        var quotes = 0
        var firstLine: [UInt8] = []
        var lineDone = false
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = stream.read(&buffer, maxLength: buffer.count)
            if count < 0 { throw MufakatError(.invalid, "import: the file could not be read") }
            if count == 0 { break }
            let chunk = buffer[..<count]
            for byte in chunk where byte == UInt8(ascii: "\"") { quotes += 1 }
            if !lineDone {
                if let newline = chunk.firstIndex(of: UInt8(ascii: "\n")) {
                    firstLine += chunk[..<newline]
                    lineDone = true
                } else if firstLine.count < 1 << 16 {
                    firstLine += chunk
                }
            }
            // UTF-8 checked chunk by chunk: a sequence cut at the chunk's end waits for the next.
            pending += chunk
            let cut = utf8Boundary(pending)
            guard String(validating: pending[..<cut], as: UTF8.self) != nil else { throw notUTF8 }
            pending.removeFirst(cut)
        }
        guard pending.isEmpty else { throw notUTF8 }
        guard quotes % 2 == 0 else {
            throw MufakatError(.invalid, "import: the file is not valid CSV: a quoted cell is never closed (odd number of \" characters)")
        }
        var header = firstLine[...]
        if header.starts(with: [0xEF, 0xBB, 0xBF]) { header = header.dropFirst(3) }
        var format = CSVFormat(
            delimiter: header.contains(UInt8(ascii: ";")) && !header.contains(UInt8(ascii: ",")) ? ";" : ",", separatorLine: false)
        let line = String(decoding: header, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if line.count == 5, line.lowercased().hasPrefix("sep="), let scalar = line.unicodeScalars.last {
            format = CSVFormat(delimiter: scalar, separatorLine: true)
        }
        return format
    }

    static let notUTF8 = MufakatError(.invalid, "import: the file is not UTF-8 text; save it from your spreadsheet as 'CSV UTF-8'")

    /// The length of `bytes` without a UTF-8 sequence cut short at its end.
    static func utf8Boundary(_ bytes: [UInt8]) -> Int {
        var index = bytes.count
        // Step back over at most 3 continuation bytes to the sequence's lead byte.
        while index > 0, bytes.count - index < 4, bytes[index - 1] & 0xC0 == 0x80 { index -= 1 }
        guard index > 0 else { return bytes.count }
        let lead = bytes[index - 1]
        let length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
        return bytes.count - (index - 1) < length ? index - 1 : bytes.count
    }

    /// The live records of `collection` as CSV: an `id` column, then every field of the
    /// catalogue, rows by id; lists are joined with `;`. Importing it into another replica
    /// and exporting again gives the same file.
    public func exportCSV(_ collection: String, where filters: [(field: String, value: String)] = []) throws -> String {
        let schema = try Catalogue.collection(named: collection)
        let records = try list(schema.name, where: filters)
        let stream = OutputStream.toMemory()
        let writer = try CSVWriter(stream: stream)
        try writer.write(row: ["id"] + schema.fieldNames + [Self.conflictsColumn])
        for record in records {
            // Cells a spreadsheet would run as formulas go out defused; import takes it off.
            try writer.write(
                row: ([record.id] + schema.fieldNames.map { record.document[$0]?.text ?? "" }).map(CSVCell.defused)
                    + [record.conflicts.map(\.field).joined(separator: " ")])
        }
        stream.close()
        let data = stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// The column `export` adds after the fields: the conflicted fields of each record,
    /// separated by spaces (empty when none), so a spreadsheet shows which values are
    /// disputed. `import` ignores it.
    public static let conflictsColumn = "_conflicts"

    /// The live records of `collection` as a JSON array of objects with `id` and their
    /// fields; a conflicted record also has `_conflicts`, each field's candidates.
    public func exportJSON(_ collection: String, where filters: [(field: String, value: String)] = []) throws -> String {
        let records = try list(collection, where: filters)
        var output = "[\n"
        for (index, record) in records.enumerated() {
            var document = record.document
            document["id"] = .string(record.id)
            let rendered = record.conflicts.isEmpty ? [:] : [Self.conflictsColumn: CanonicalJSON.conflicts(record.conflicts)]
            output += "  " + CanonicalJSON.document(document, rendered: rendered) + (index + 1 < records.count ? ",\n" : "\n")
        }
        return output + "]\n"
    }
}

/// A file read in 1 MiB chunks, as an `InputStream` for CSV.swift's reader.
///
/// Foundation's file stream on Linux reports bytes available at the end of the file, and
/// the reader then takes its empty read for an error; this stream knows its end.
final class FileChunkStream: InputStream {
    private let handle: FileHandle?
    private var buffer = Data()
    private var offset = 0
    private var ended = false
    private var status: Stream.Status = .notOpen

    init(path: String) {
        handle = FileHandle(forReadingAtPath: path)
        super.init(data: Data())
    }

    override var streamStatus: Stream.Status { status }
    override var streamError: Error? { nil }

    override func open() {
        status = handle == nil ? .error : .open
    }

    override func close() {
        try? handle?.close()
        status = .closed
    }

    /// Fills the buffer when it is used up; false once the file has no more bytes.
    private func refill() -> Bool {
        if offset < buffer.count { return true }
        guard !ended, let handle else { return false }
        buffer = (try? handle.read(upToCount: 1 << 20)) ?? Data()
        offset = 0
        if buffer.isEmpty {
            ended = true
            status = .atEnd
        }
        return !buffer.isEmpty
    }

    override var hasBytesAvailable: Bool { refill() }

    override func read(_ destination: UnsafeMutablePointer<UInt8>, maxLength: Int) -> Int {
        guard status == .open || status == .atEnd, refill() else { return 0 }
        let count = min(maxLength, buffer.count - offset)
        buffer.withUnsafeBytes { raw in
            destination.update(from: raw.baseAddress!.assumingMemoryBound(to: UInt8.self) + offset, count: count)
        }
        offset += count
        return count
    }
}

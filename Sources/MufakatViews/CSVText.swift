import CSV
import Foundation

/// Rows as CSV text (RFC 4180, through CSV.swift), for downloads of tables as shown.
enum CSVText {
    /// A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a formula (a
    /// title typed as `=HYPERLINK(…)`): such a text cell is written with a leading `'`.
    static func write(_ rows: [[String]]) throws -> String {
        let stream = OutputStream.toMemory()
        let writer = try CSVWriter(stream: stream)
        for row in rows { try writer.write(row: row.map(defused)) }
        stream.close()
        let data = stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static func defused(_ cell: String) -> String {
        guard let first = cell.first, "=+-@\t\r".contains(first), Int64(cell) == nil else { return cell }
        return "'" + cell
    }
}

import CSV
import Foundation
import MufakatCore

/// Rows as CSV text (RFC 4180, through CSV.swift), for downloads of tables as shown.
enum CSVText {
    /// Cells a spreadsheet would run as formulas are written defused (``CSVCell``).
    static func write(_ rows: [[String]]) throws -> String {
        let stream = OutputStream.toMemory()
        let writer = try CSVWriter(stream: stream)
        for row in rows { try writer.write(row: row.map(CSVCell.defused)) }
        stream.close()
        let data = stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

/// Spreadsheet-safe CSV cells.
///
/// A spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
/// as a formula: a title typed as `=HYPERLINK("http://…","click")` becomes a live link, or
/// worse, in whoever opens the export. Every CSV Mufakat writes (`mufakat export`, the
/// dashboard's downloads, `mufakat-hub audit --csv`) writes such a cell with a leading `'`,
/// which spreadsheets show as text; a plain number such as `-3` stays as it is.
///
/// `mufakat import` takes one such `'` off again, so exporting and importing gives back
/// every value exactly — also a value that itself starts with `'`:
///
/// ```swift
/// CSVCell.defused("=1+1")            // "'=1+1"
/// CSVCell.undefused("'=1+1")         // "=1+1"
/// CSVCell.defused("'=1+1")           // "''=1+1"
/// ```
public enum CSVCell {
    /// Whether `cell`, past any leading `'`, would run as a formula.
    static func runs(_ cell: Substring) -> Bool {
        let text = cell.drop { $0 == "'" }
        guard let first = text.first, "=+-@\t\r".contains(first) else { return false }
        return Int64(text) == nil
    }

    /// The cell as written to a CSV file.
    public static func defused(_ cell: String) -> String {
        runs(cell[...]) ? "'" + cell : cell
    }

    /// The value a cell read from a CSV file stands for (the inverse of ``defused(_:)``).
    public static func undefused(_ cell: String) -> String {
        guard cell.first == "'", runs(cell.dropFirst()) else { return cell }
        return String(cell.dropFirst())
    }
}

import ArgumentParser
import Foundation
import MufakatStore

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a CSV file whose header row names the fields (all rows or none).",
        discussion: "Every row is checked first; if any is bad nothing is imported and each bad row is listed. Rows equal to what the replica holds change nothing.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The collection.")
    var collection: String

    @Argument(help: ArgumentHelp("The CSV file (UTF-8, with or without BOM).", valueName: "file.csv"))
    var file: String

    @Flag(help: "Check every row and report what would change, without writing.")
    var dryRun = false

    func run() throws {
        try runCommand(options) {
            let report = try options.openStore().importCSV(collection, path: file, dryRun: dryRun)
            printWarnings(report.warnings)
            if options.json {
                print(JSON.object([
                    "collection": .string(report.collection), "rows": .integer(Int64(report.rows)),
                    "created": .integer(Int64(report.created)), "updated": .integer(Int64(report.updated)),
                    "unchanged": .integer(Int64(report.unchanged)), "dryRun": .bool(report.dryRun),
                ]).rendered)
            } else {
                let verb = report.dryRun ? "would import" : "imported"
                print("\(verb) \(report.rows) rows into \(report.collection): \(report.created) new, \(report.updated) updated, \(report.unchanged) unchanged")
            }
        }
    }
}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write a collection as CSV (for spreadsheets) or JSON to standard output.")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case csv, json
    }

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The collection.")
    var collection: String

    @Option(help: "csv or json.")
    var format: Format = .csv

    func run() throws {
        try runCommand(options) {
            let store = try options.openStore()
            let text = options.json || format == .json ? try store.exportJSON(collection) : try store.exportCSV(collection)
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}

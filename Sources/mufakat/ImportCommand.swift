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

    @Option(name: .customLong("where"), help: ArgumentHelp("Only records whose field has this value (repeatable), as for 'list'.", valueName: "field=value"))
    var filters: [String] = []

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("Write to this file (replaced whole, never half-written) instead of standard output.", valueName: "file"))
    var output: String?

    @Flag(help: "Leave out the byte order mark that tells spreadsheets the CSV is UTF-8 (for scripts).")
    var noBom = false

    func run() throws {
        let parsed = try parseAssignments(filters, command: "export --where")
        try runCommand(options) {
            let store = try options.openStore()
            let json = options.json || format == .json
            var text = json ? try store.exportJSON(collection, where: parsed) : try store.exportCSV(collection, where: parsed)
            // Excel reads a CSV without the mark as the local code page, garbling é and ñ.
            if !json && !noBom { text = "\u{FEFF}" + text }
            if let output {
                let path = (output as NSString).expandingTildeInPath
                do {
                    try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
                } catch {
                    throw CLIError(message: "export: cannot write \(path): \(error.localizedDescription); nothing was written there", code: "not-found", exitCode: ExitCodes.notFound)
                }
                FileHandle.standardError.write(Data("exported \(collection) to \(path)\n".utf8))
            } else {
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        }
    }
}

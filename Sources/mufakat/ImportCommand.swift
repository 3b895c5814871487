import ArgumentParser
import Foundation
import MufakatStore
import MufakatViews

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

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("Write to this file instead of standard output ('-'): a file is replaced whole, never half-written, keeping its permissions; a pipe or device is written to.", valueName: "file"))
    var output: String?

    @Flag(help: "Leave out the byte order mark that tells spreadsheets the CSV is UTF-8 (for scripts).")
    var noBom = false

    @Flag(help: "reports only: figures fit for publication — submitted or validated, without breakdowns, each count below --threshold written <N (CSV).")
    var `public` = false

    @Option(help: "With --public: counts below this are written <N.")
    var threshold: Int64 = SuppressedTable.defaultThreshold

    func validate() throws {
        if `public` {
            guard collection.lowercased() == "reports" else {
                throw ValidationError("export --public: only reports hold counts to publish; export \(collection) without --public")
            }
            guard format == .csv, filters.isEmpty else { throw ValidationError("export --public: CSV only, and no --where (the whole published set)") }
            guard (2...1_000).contains(threshold) else { throw ValidationError("export --public: --threshold must be 2 to 1000") }
        }
    }

    func run() throws {
        let parsed = try parseAssignments(filters, command: "export --where")
        try runCommand(options) {
            let store = try options.openStore()
            let json = !`public` && (options.json || format == .json)
            var text = `public`
                ? try store.view { db, scope in try PublicFigures.csv(db, scope: scope, threshold: threshold) }
                : json ? try store.exportJSON(collection, where: parsed) : try store.exportCSV(collection, where: parsed)
            // Excel reads a CSV without the mark as the local code page, garbling é and ñ.
            if !json && !noBom { text = "\u{FEFF}" + text }
            if let output, output != "-" {
                let path = (output as NSString).expandingTildeInPath
                try writeExport(Data(text.utf8), to: path)
                FileHandle.standardError.write(Data("exported \(collection) to \(path)\n".utf8))
            } else {
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        }
    }
}

/// Writes an export to `path`. A regular file (or a new one) is replaced whole through a
/// temporary file, keeping the old file's permissions; anything else — a pipe, a device, a
/// symbolic link — is written to as it is, never replaced by a file.
func writeExport(_ data: Data, to path: String) throws {
    let manager = FileManager.default
    let folder = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
    func refuse(_ why: String, _ code: Int32 = ExitCodes.invalid) -> CLIError {
        CLIError(message: "export: cannot write \(path): \(why); nothing was written", code: code == ExitCodes.notFound ? "not-found" : "invalid", exitCode: code)
    }
    guard !path.isEmpty else { throw refuse("give a file name after -o, or '-' for standard output") }
    var isFolder: ObjCBool = false
    guard manager.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
        throw refuse("the folder \(folder) does not exist", ExitCodes.notFound)
    }
    let attributes = try? manager.attributesOfItem(atPath: path)  // the link itself, not its target
    if let type = attributes?[.type] as? FileAttributeType, type != .typeRegular {
        if type == .typeDirectory { throw refuse("it is a folder; give a file name") }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw refuse("it cannot be opened for writing") }
        defer { try? handle.close() }
        if let target = try? manager.attributesOfItem(atPath: (path as NSString).resolvingSymlinksInPath)[.type] as? FileAttributeType,
            target == .typeRegular
        {
            try handle.truncate(atOffset: 0)
        }
        try handle.write(contentsOf: data)
        return
    }
    if attributes != nil, !manager.isWritableFile(atPath: path) { throw refuse("the file is read-only") }
    guard manager.isWritableFile(atPath: folder) else { throw refuse("the folder \(folder) is not writable") }
    do {
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw refuse("\(error)")
    }
    if let permissions = attributes?[.posixPermissions] {
        try? manager.setAttributes([.posixPermissions: permissions], ofItemAtPath: path)
    }
}

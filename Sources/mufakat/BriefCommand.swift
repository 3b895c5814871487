import ArgumentParser
import Foundation
import MufakatCore
import MufakatStore
import MufakatViews

struct BriefCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "brief",
        abstract: "The monthly meeting brief, offline, from this replica: positions that changed, figures (small counts suppressed), actions due and overdue, open conflicts.",
        discussion: "The hub's dashboard shows the same brief for the hub's data. Counts below --threshold show as <N, and totals that would let a reader work one out as –.")

    @OptionGroup var options: GlobalOptions

    @Option(help: ArgumentHelp("The month, e.g. 2026-11 (default: this month).", valueName: "YYYY-MM"))
    var month: String?

    @Option(help: "md (Markdown) or html.")
    var format: BriefRenderer.Format = .md

    @Option(help: "Counts below this show as <N.")
    var threshold: Int64 = SuppressedTable.defaultThreshold

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file"))
    var output: String?

    func validate() throws {
        guard (2...1_000).contains(threshold) else { throw ValidationError("brief: --threshold must be 2 to 1000") }
        if let month {
            do { _ = try Brief.month(month) } catch { throw ValidationError("brief: --month: \(error.message)") }
        }
    }

    func run() throws {
        try runCommand(options) {
            let today = Brief.today()
            let brief = try options.openStore().view { db, scope in
                try Brief.load(db, scope: scope, month: month ?? String(today.prefix(7)), today: today, threshold: threshold)
            }
            let text = BriefRenderer.render(brief, format: format)
            if let output {
                do {
                    try text.write(toFile: output, atomically: true, encoding: .utf8)
                } catch {
                    throw CLIError.invalid("brief: cannot write \(output): \(error.localizedDescription)")
                }
                if !options.json { print("wrote the brief of \(brief.monthName) to \(output)") }
            } else {
                print(text, terminator: "")
            }
        }
    }
}

extension BriefRenderer.Format: ExpressibleByArgument {}

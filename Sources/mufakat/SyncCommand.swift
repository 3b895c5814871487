import ArgumentParser
import Foundation
import MufakatClient
import MufakatStore
import MufakatWire

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Send your changes to the hub and receive everyone else's.",
        discussion: "Safe to interrupt and run again: nothing is lost or sent twice.")

    @OptionGroup var options: GlobalOptions

    @Option(help: "Most records per frame.")
    var batchSize = 1_000

    @Option(help: "Seconds to wait for an answer from the hub.")
    var timeout = 60

    @Flag(help: "Exit with code 3 when conflicts are waiting after the sync.")
    var check = false

    func validate() throws {
        guard (1...10_000).contains(batchSize) else { throw ValidationError("sync: --batch-size must be 1 to 10000") }
        guard timeout >= 1 else { throw ValidationError("sync: --timeout must be at least 1 second") }
    }

    /// `MUFAKAT_PROTOCOL=2` (3, 4) makes `init` make a replica as clients of 0.7 and older
    /// did (its own counter names its writes) and `sync` speak that version, as clients
    /// before 0.6.0 do with 2: for an operator checking that a hub still serves them during
    /// an upgrade. Unset, a replica speaks 5, in which the hub names every write.
    static func protocolVersion() throws -> Int {
        guard let text = ProcessInfo.processInfo.environment["MUFAKAT_PROTOCOL"], !text.isEmpty else { return WireProtocol.namingVersion }
        let spoken = WireProtocol.versions.union([WireProtocol.namingVersion])
        guard let version = Int(text), spoken.contains(version) else {
            throw ValidationError("MUFAKAT_PROTOCOL is '\(text)'; this mufakat speaks protocol versions \(spoken.sorted().map(String.init).joined(separator: ", ")), or leave it unset for \(WireProtocol.namingVersion)")
        }
        return version
    }

    func run() async throws {
        let store: ReplicaStore
        do {
            store = try options.openStore()
        } catch {
            try runCommand(options) { throw error }
            return
        }
        let bar = ProgressBar(enabled: !options.json && isatty(STDERR_FILENO) == 1)
        let summary: SyncSummary
        do {
            var client = SyncClient(store: store, batchSize: batchSize, timeout: .seconds(Int64(timeout)))
            client.protocolVersion = try Self.protocolVersion()
            summary = try await client.sync { bar.update($0) }
            bar.finish()
        } catch let error as SyncError {
            bar.finish()
            let exitCode: Int32 = switch error.kind {
            case .unreachable: ExitCodes.unreachable
            case .refused: ExitCodes.refused
            case .protocolError: ExitCodes.protocolError
            case .connectionLost: ExitCodes.unreachable
            case .untrustedHub: ExitCodes.untrustedHub
            }
            FileHandle.standardError.write(Data("mufakat: sync: \(error.message)\n".utf8))
            if options.json {
                print(JSON.object(["error": .object([
                    "code": .string(error.code ?? "\(error.kind)"), "message": .string(error.message),
                    "exitCode": .integer(Int64(exitCode)),
                ])]).rendered)
            }
            throw ExitCode(exitCode)
        } catch {
            bar.finish()
            try runCommand(options) { throw error }
            return
        }
        let conflicts = try store.conflictCount()
        if options.json {
            print(JSON.object([
                "hub": .string(summary.hub), "hubSoftware": .string(summary.hubSoftware), "pushed": .integer(Int64(summary.pushed)),
                "unchanged": .integer(Int64(summary.unchanged)), "pulled": .integer(Int64(summary.pulled)),
                "changed": .integer(Int64(summary.changed)), "newConflicts": .integer(Int64(summary.newConflicts)),
                "conflicts": .integer(Int64(conflicts)),
                "replica": .string(summary.replica),
                "newIdentity": summary.newIdentity.map(JSON.string) ?? .null,
                "restamped": .integer(Int64(summary.restamped)),
                "hubBehind": summary.hubBehind.map(JSON.string) ?? .null,
                "hubKeyChange": summary.hubKeyChange.map(JSON.string) ?? .null,
                "access": summary.access.map(JSON.string) ?? .null,
                "protocolVersion": .integer(Int64(summary.protocolVersion)),
                "olderHub": summary.olderHub.map(JSON.string) ?? .null,
                "relayed": .integer(Int64(summary.relayed)),
                "rejected": .array(summary.rejected.map {
                    .object([
                        "collection": .string($0.collection), "id": .string($0.id), "code": .string($0.code),
                        "fields": .array($0.fields.map(JSON.string)),
                    ])
                }),
                "waiting": .array(summary.waiting.map(\.json)),
                "bytesSent": .integer(Int64(summary.bytesSent)), "bytesReceived": .integer(Int64(summary.bytesReceived)),
                "seconds": .string(String(format: "%.3f", Double(summary.duration.components.attoseconds) / 1e18 + Double(summary.duration.components.seconds))),
            ]).rendered)
        } else {
            let seconds = Double(summary.duration.components.seconds) + Double(summary.duration.components.attoseconds) / 1e18
            if let newIdentity = summary.newIdentity {
                print("note: \(newIdentity). Nothing was lost; \(summary.restamped) write\(summary.restamped == 1 ? " was" : "s were") sent again.")
            }
            if let hubBehind = summary.hubBehind {
                print("note: \(hubBehind).")
            }
            if let access = summary.access {
                print("note: \(access).")
            }
            if let hubKeyChange = summary.hubKeyChange {
                print("note: \(hubKeyChange).")
            }
            if let olderHub = summary.olderHub {
                print("note: \(olderHub).")
            }
            print("synced with \(summary.hub) in \(String(format: "%.2f", seconds)) s")
            print("  sent \(summary.pushed) record\(summary.pushed == 1 ? "" : "s")\(summary.unchanged > 0 ? " (+\(summary.unchanged) already there)" : ""), received \(summary.pulled)")
            print("  \(formatBytes(summary.bytesSent)) up, \(formatBytes(summary.bytesReceived)) down")
            if summary.newConflicts > 0 || conflicts > 0 {
                print("  \(summary.newConflicts) new conflict\(summary.newConflicts == 1 ? "" : "s"), \(conflicts) waiting: see 'mufakat conflicts'")
            }
            if summary.relayed > 0 {
                print("  sent back \(summary.relayed) record\(summary.relayed == 1 ? "" : "s") the hub lacked")
            }
            if !summary.waiting.isEmpty {
                print("  \(summary.waiting.count) record\(summary.waiting.count == 1 ? "" : "s") refused by the hub, kept here and sent again at each sync:")
                for waiting in summary.waiting.prefix(20) { print("    \(waiting.line)") }
                if summary.waiting.count > 20 { print("    … 'mufakat status' lists them all") }
            }
        }
        if check && conflicts > 0 { throw ExitCode(ExitCodes.conflicts) }
    }
}

func formatBytes(_ bytes: Int) -> String {
    if bytes < 10_000 { return "\(bytes) B" }
    if bytes < 10_000_000 { return String(format: "%.1f KB", Double(bytes) / 1e3) }
    return String(format: "%.1f MB", Double(bytes) / 1e6)
}

/// A one-line progress bar on stderr, shown only on a terminal and only once a sync
/// moves enough records to be worth watching.
final class ProgressBar: @unchecked Sendable {
    private let enabled: Bool
    private let lock = NSLock()
    private var shown = false

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ progress: SyncProgress) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        let line: String
        switch progress.phase {
        case .pushing where progress.toPush >= 2_000:
            let fraction = Double(progress.pushed) / Double(max(progress.toPush, 1))
            line = "sending   \(bar(fraction)) \(progress.pushed)/\(progress.toPush)"
        case .pulling where progress.hubBacklog >= 2_000 || progress.pulled >= 2_000:
            line = "receiving \(progress.pulled) records"
        default:
            return
        }
        shown = true
        FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
    }

    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    private func bar(_ fraction: Double) -> String {
        let width = 30
        let filled = Int((fraction * Double(width)).rounded(.down))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
    }
}

extension PendingRejection {
    /// `reports r-…: invalid (value)` with what to do.
    var line: String {
        "\(collection) \(id): \(code)\(fields.isEmpty ? "" : " (\(fields.joined(separator: ", ")))")\(reason.isEmpty ? "" : ": \(reason)") — \(advice)"
    }

    var advice: String {
        switch code {
        case "invalid": "fix the record with 'mufakat put'"
        case "forged-dot", "hub-lacks": "holds others' changes the hub lacks; it goes once their owners sync, or the hub runs with --reseed"
        case "removes-entry": "edit the named fields with 'mufakat put' to settle them"
        case "counter-beyond": "this replica's data was altered; sync again after 'mufakat put' on the record"
        case "corruption": "the hub holds a different value under the same write; ask the hub operator"
        case "bad-id": "its id is not what its key fields give; enter it again with 'mufakat new' and delete this one"
        case "missing-field": "fill the named required fields with 'mufakat put'"
        case "reused-dot": "a restored or copied replica wrote twice under one name; nothing to do: this replica writes the change again under its own name at the next sync"
        default: "sent again at the next sync"
        }
    }

    var json: JSON {
        .object([
            "collection": .string(collection), "id": .string(id), "code": .string(code),
            "fields": .array(fields.map(JSON.string)), "reason": .string(reason), "advice": .string(advice),
        ])
    }
}

import ArgumentParser
import MufakatCore
import MufakatStore

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Replica id, hub, changes not yet synced, last sync, conflicts.")

    @OptionGroup var options: GlobalOptions

    func run() throws {
        try runCommand(options) {
            let status = try options.openStore().status()
            let metadata = status.metadata
            if options.json {
                print(JSON.object([
                    "replica": .string(metadata.replica.rawValue), "name": .string(metadata.name), "hub": .string(metadata.hub),
                    "hubKey": metadata.insecure || metadata.hubKey.isEmpty ? .null : .string(metadata.hubKey),
                    "hubNextKey": metadata.hubNextKey.isEmpty ? .null : .string(metadata.hubNextKey),
                    "version": .string(MufakatVersion.current),
                    "org": metadata.org.isEmpty ? .null : .string(metadata.org),
                    "role": metadata.role.isEmpty ? .null : .string(metadata.role),
                    "pending": .integer(Int64(status.pendingChanges)), "conflicts": .integer(Int64(status.conflictedRecords)),
                    "lastSync": metadata.lastSync == 0 ? .null : .integer(metadata.lastSync),
                    "counter": .unsigned(metadata.counter),
                    "checkpoint": .unsigned(metadata.checkpoint),
                    "previousReplicas": .array(metadata.previousReplicas.map(JSON.string)),
                    "refused": .array(status.rejections.map(\.json)),
                    "records": .object(Dictionary(uniqueKeysWithValues: status.records.map { ($0.collection, JSON.integer(Int64($0.count))) })),
                ]).rendered)
                return
            }
            var rows: [[String]] = [
                ["replica", "\(metadata.replica) (\(metadata.name))"],
                ["hub", "\(metadata.hub) (\(trustDescription(metadata)))"],
                ["writes as", metadata.role.isEmpty ? "not known until the first sync (the hub says the token's organization and role)" : "\(metadata.role) of \(metadata.org)"],
                ["not yet synced", "\(status.pendingChanges) record\(status.pendingChanges == 1 ? "" : "s")"],
                ["last sync", metadata.lastSync == 0 ? "never" : formatTime(metadata.lastSync)],
                ["conflicts", status.conflictedRecords == 0 ? "none" : "\(status.conflictedRecords) (see 'mufakat conflicts')"],
                ["records", status.records.map { "\($0.count) \($0.collection)" }.joined(separator: ", ")],
            ]
            if !metadata.previousReplicas.isEmpty {
                rows.append(["earlier ids", metadata.previousReplicas.joined(separator: ", ")])
            }
            if !status.rejections.isEmpty {
                let count = status.rejections.count
                rows.append(["refused", "\(count) record\(count == 1 ? "" : "s"), kept here and sent again at each sync:"])
            }
            print(table(["", ""], rows, maxWidth: 200).split(separator: "\n").dropFirst().joined(separator: "\n"))
            for rejection in status.rejections { print("  \(rejection.line)") }
        }
    }
}

struct DigestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest", abstract: "The SHA-256 digest of all data: equal digests mean identical replicas.")

    @OptionGroup var options: GlobalOptions

    func run() throws {
        try runCommand(options) {
            let digest = try options.openStore().digest()
            print(options.json ? JSON.object(["digest": .string(digest)]).rendered : digest)
        }
    }
}

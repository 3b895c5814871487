import ArgumentParser
import Foundation
import MufakatCore
import MufakatStore

struct DigestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest", abstract: "The SHA-256 digest of the hub's data; equal to a replica's when they hold the same.")

    @OptionGroup var options: HubOptions

    func run() throws {
        try runHubCommand(options) {
            let digest = try options.openStore().digest()
            if options.json { printJSON(["digest": digest]) } else { print(digest) }
        }
    }
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Records, conflicts, and the replicas that synced, with when they were last seen.")

    @OptionGroup var options: HubOptions

    func run() throws {
        try runHubCommand(options) {
            let store = try options.openStore()
            let summary = try store.summary()
            let replicas = try store.replicas()
            let conflicts = try store.conflicts()
            if options.json {
                printJSON([
                    "hub": try store.hubID(), "version": MufakatVersion.current, "sequence": summary.sequence, "records": summary.records,
                    "deleted": summary.deleted, "conflicts": summary.conflicted,
                    "conflicted": conflicts.map { ["collection": $0.collection, "id": $0.id, "fields": $0.conflicts.map(\.field)] },
                    "replicas": replicas.map {
                        ["replica": $0.replica, "token": $0.tokenID, "name": $0.name, "org": $0.org, "counter": $0.counter,
                         "client": $0.client, "lastSeen": $0.lastSeen] as [String: Any]
                    },
                ] as [String: Any])
                return
            }
            print("hub \(try store.hubID()): \(summary.records) records (\(summary.deleted) deleted), \(summary.conflicted) conflicted, sequence \(summary.sequence)")
            for record in conflicts {
                print("  conflict: \(record.collection) \(record.id) (\(record.conflicts.map(\.field).joined(separator: ", ")))")
            }
            print(replicas.isEmpty ? "no replica has synced yet" : "replicas:")
            for replica in replicas {
                print("  \(replica.replica)  \(replica.name) (\(replica.org))  last seen \(formatTime(replica.lastSeen))  token \(replica.tokenID)")
            }
        }
    }
}

import ArgumentParser
import Foundation
import MufakatClient
import MufakatCore
import MufakatStore
import MufakatTLS

struct DigestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest", abstract: "The SHA-256 digest of the hub's data; equal to a replica's when they hold the same.",
        discussion: "A member's or observer's replica does not receive other organizations' draft figures: compare its digest with --token-id (its token) or --org (its organization).")

    @OptionGroup var options: HubOptions

    @Option(name: .customLong("token-id"), help: ArgumentHelp("The digest of what replicas of this token receive.", valueName: "id"))
    var tokenID: String?

    @Option(help: ArgumentHelp("The digest of what a member of this organization receives.", valueName: "org"))
    var org: String?

    func validate() throws {
        if tokenID != nil, org != nil { throw ValidationError("digest: give --token-id or --org, not both") }
    }

    func run() throws {
        try runHubCommand(options) {
            let store = try options.openStore()
            let visibility: Visibility
            if let tokenID {
                visibility = Visibility(try store.token(id: tokenID).writer)
            } else if let org {
                visibility = Visibility(org: org)
                if try store.view(for: .everything, { db, _ in try Bool.fetchOne(db, sql: "SELECT 1 FROM records WHERE collection = 'organizations' AND id = ?", arguments: [org.lowercased()]) }) == nil {
                    FileHandle.standardError.write(Data("mufakat-hub: note: the hub holds no organizations record '\(org.lowercased())'; this is the digest of what a member of it would receive\n".utf8))
                }
            } else {
                visibility = .everything
            }
            let digest = try store.digest(for: visibility)
            if options.json {
                printJSON(["digest": digest, "org": visibility.org.map { $0 as Any } ?? NSNull()])
            } else {
                print(digest)
            }
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
            let tls = try ServedTransport.current(store: store, folder: options.folder)
            let nextPaths = HubIdentity.nextPaths(folder: options.folder)
            var nextProblem: String?
            var next: HubKey?
            if FileManager.default.fileExists(atPath: nextPaths.key) {
                do {
                    next = try HubIdentity.load(certificate: nextPaths.certificate, key: nextPaths.key).key
                } catch {
                    nextProblem = (error as? MufakatError)?.message ?? "\(error)"
                }
            }
            let notYetTold = try TLSCommand.replicasNotYetTold(store)
            if options.json {
                printJSON([
                    "tls": tls.key.map {
                        ["key": $0.description, "certificate": tls.certificate, "expires": tls.expires ?? 0,
                         "next": next.map { $0.description as Any } ?? NSNull(),
                         "replicasNotYetTold": next == nil ? [] : notYetTold] as [String: Any]
                    } ?? NSNull(),
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
            if let key = tls.key {
                print("TLS key \(key) (certificate \(tls.certificate)\(tls.expires.map { ", valid until \(formatTime($0))" } ?? ""))")
            } else {
                print("TLS off: last served plain TCP (--insecure)")
            }
            if let nextProblem {
                print("  the next key in tls/next-*.pem cannot be used (\(nextProblem)); replace or delete tls/next-key.pem and tls/next-cert.pem")
            }
            if let next {
                if try store.setting(TLSCommand.announcedSince) == nil {
                    print("  next key \(next) made, not yet announced: restart the hub to announce it")
                } else {
                    print("  next key \(next) announced; \(replicas.count - notYetTold.count) of \(replicas.count) replicas synced since and trust it")
                }
            }
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

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the hub into one SQLite file, consistent even while it serves (SQLite's online backup).",
        discussion: """
            To restore: stop the hub, move its data folder aside, make a new folder holding the \
            backup as hub.sqlite, and start 'mufakat-hub serve --reseed' on it. Replicas that \
            synced after the backup notice the hub is behind and send what it lacks; once every \
            laptop has synced, restart without --reseed.
            """)

    @OptionGroup var options: HubOptions

    @Option(help: ArgumentHelp("The new file to write (never overwritten).", valueName: "file"))
    var to: String

    func validate() throws {
        guard !to.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ValidationError("backup: --to needs a file name, e.g. --to /var/backups/mufakat/2026-11-29.sqlite")
        }
    }

    func run() throws {
        try runHubCommand(options) {
            let path = (to as NSString).expandingTildeInPath
            let (records, sequence) = try options.openStore().backup(to: path)
            if options.json {
                printJSON(["file": path, "records": records, "sequence": sequence])
            } else {
                print("backed up \(records) record\(records == 1 ? "" : "s") (sequence \(sequence)) to \(path); integrity check ok")
            }
        }
    }
}

struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Ask the running hub whether it answers (a ping, no token); exit 0 if it does, 69 if not.",
        discussion: "Without --address, asks 127.0.0.1 on the port the hub serving --data wrote to DIR/hub.port.")

    @OptionGroup var options: HubOptions

    @Option(help: ArgumentHelp("The hub to ask.", valueName: "host:port"))
    var address: String?

    @Option(help: "Seconds to wait for the answer.")
    var timeout = 5

    @Flag(help: "Ask over plain TCP, for a hub serving with --insecure.")
    var insecure = false

    func validate() throws {
        if let address { try validatePublicAddress(address, "health: --address") }
        guard timeout >= 1 else { throw ValidationError("health: --timeout must be at least 1 second") }
    }

    func run() async throws {
        let target: String
        var probePlain = insecure
        if let address {
            target = address
        } else {
            let portFile = (options.folder as NSString).appendingPathComponent("hub.port")
            guard let port = (try? String(contentsOfFile: portFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines),
                !port.isEmpty
            else {
                let message = "no hub is serving '\(options.data)' (no hub.port there); give the hub's address with --address HOST:PORT"
                FileHandle.standardError.write(Data("mufakat-hub: \(message)\n".utf8))
                if options.json { printJSON(["healthy": false, "error": message]) }
                throw ExitCode(69)
            }
            target = "127.0.0.1:\(port)"
            // The hub serving this folder says how it serves.
            if !insecure, (try? options.openStore().setting(ServedTransport.keySetting)) == ServedTransport.plain {
                probePlain = true
            }
        }
        do {
            let (roundTrip, key) = try await SyncClient.ping(
                hub: target, transport: probePlain ? .plain : .probe, timeout: .seconds(Int64(max(1, timeout))))
            let milliseconds = Double(roundTrip.components.attoseconds) / 1e15 + Double(roundTrip.components.seconds) * 1_000
            if options.json {
                printJSON(["healthy": true, "address": target, "roundTripMs": (milliseconds * 10).rounded() / 10,
                           "key": key.map { $0.description as Any } ?? NSNull()])
            } else {
                print("hub at \(target) answers (\(String(format: "%.1f", milliseconds)) ms\(key.map { ", TLS key \($0)" } ?? ", plain TCP"))")
            }
        } catch var error as SyncError {
            if error.code == "tls-required" {
                error.message = "the hub at \(target) answers over TLS only; run health without --insecure"
            }
            FileHandle.standardError.write(Data("mufakat-hub: \(error.message)\n".utf8))
            if options.json { printJSON(["healthy": false, "address": target, "error": error.message]) }
            throw ExitCode(69)
        }
    }
}

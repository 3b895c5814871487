import ArgumentParser
import Foundation
import MufakatCore
import MufakatStore
import MufakatTLS

/// `mufakat-hub tls next|switch`: changing the hub's key without re-issuing every laptop's
/// init line. The hub announces its next key in every `welcome`; each replica that syncs
/// (over TLS, checking the current key) trusts it from then on; once they all have, the
/// operator switches and restarts, and replicas accept the new key and forget the old.
struct TLSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tls", abstract: "Change the hub's TLS key without re-issuing init lines: announce a next key, then switch to it.",
        subcommands: [Next.self, Switch.self])

    static let announcedSince = "tls.next-since"

    struct Next: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make (or take) the hub's next key; from its next start the hub announces it to every replica that syncs.",
            discussion: """
                'mufakat-hub status' then counts the replicas that synced since, and so trust the next key. \
                When all have, run 'mufakat-hub tls switch' and restart the hub. With your own certificate, \
                give the new pair here (--cert, --key) and, to switch, restart 'serve' with it as --tls-cert and --tls-key.
                """)

        @OptionGroup var options: HubOptions

        @Option(help: ArgumentHelp("A new certificate in PEM (then its chain), instead of a key made here.", valueName: "file"))
        var cert: String?

        @Option(help: ArgumentHelp("The private key of --cert, unencrypted PEM.", valueName: "file"))
        var key: String?

        func validate() throws {
            guard (cert == nil) == (key == nil) else { throw ValidationError("tls next: give --cert and --key together") }
        }

        func run() throws {
            try runHubCommand(options) {
                let store = try options.openStore()
                let folder = (options.data as NSString).expandingTildeInPath
                let paths = HubIdentity.nextPaths(folder: folder)
                if FileManager.default.fileExists(atPath: paths.key) {
                    let existing = try HubIdentity.load(certificate: paths.certificate, key: paths.key)
                    throw MufakatError(.invalid, "a next key is already announced (\(existing.key), in \(paths.key)); switch to it with 'mufakat-hub tls switch', or delete tls/next-key.pem and tls/next-cert.pem to drop it")
                }
                let next: HubIdentity
                if let cert, let key {
                    let given = try HubIdentity.load(certificate: cert, key: key)
                    try FileManager.default.createDirectory(
                        atPath: (paths.key as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
                        attributes: [.posixPermissions: 0o700])
                    try FileManager.default.copyItem(atPath: given.keyPath, toPath: paths.key)
                    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: paths.key)
                    try FileManager.default.copyItem(atPath: given.certificatePath, toPath: paths.certificate)
                    next = try HubIdentity.load(certificate: paths.certificate, key: paths.key)
                } else {
                    next = try HubIdentity.create(paths: paths)
                }
                try store.setSetting(TLSCommand.announcedSince, String(ReplicaStore.systemClock()))
                if options.json {
                    printJSON(["next": next.key.description, "certificate": next.certificatePath])
                } else {
                    print("next key \(next.key) (\(next.certificatePath))")
                    print("restart the hub: from then on it announces this key to every replica that syncs.")
                    print("'mufakat-hub status' counts those that have; when all have, run 'mufakat-hub tls switch' and restart again.")
                }
            }
        }
    }

    struct Switch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make the announced next key the hub's key (the old one is kept as tls/previous-*.pem); restart the hub to serve it.",
            discussion: "Replicas that synced while it was announced accept it; any other replica refuses the hub until it is given the key ('mufakat hub set HOST:PORT --hub-key …').")

        @OptionGroup var options: HubOptions

        func run() throws {
            try runHubCommand(options) {
                let store = try options.openStore()
                let folder = (options.data as NSString).expandingTildeInPath
                let next = HubIdentity.nextPaths(folder: folder)
                guard FileManager.default.fileExists(atPath: next.key) else {
                    throw MufakatError(.notFound, "no next key is announced; make one with 'mufakat-hub tls next' first")
                }
                let identity = try HubIdentity.load(certificate: next.certificate, key: next.key)
                let current = HubIdentity.defaultPaths(folder: folder)
                let tls = (folder as NSString).appendingPathComponent("tls")
                let previous = ((tls as NSString).appendingPathComponent("previous-cert.pem"), (tls as NSString).appendingPathComponent("previous-key.pem"))
                let unsynced = try TLSCommand.replicasNotYetTold(store)
                for path in [previous.0, previous.1] { try? FileManager.default.removeItem(atPath: path) }
                if FileManager.default.fileExists(atPath: current.key) {
                    try FileManager.default.moveItem(atPath: current.key, toPath: previous.1)
                    try? FileManager.default.moveItem(atPath: current.certificate, toPath: previous.0)
                }
                try FileManager.default.moveItem(atPath: next.key, toPath: current.key)
                try FileManager.default.moveItem(atPath: next.certificate, toPath: current.certificate)
                try store.setSetting(TLSCommand.announcedSince, nil)
                // The copy in hub.sqlite follows, so a backup taken from now on restores this key.
                _ = try ServedTransport.ownIdentity(store: store, folder: folder)
                if options.json {
                    printJSON(["key": identity.key.description, "replicasNotYetTold": unsynced])
                } else {
                    print("the hub's key is now \(identity.key); restart the hub to serve it (the old key is in tls/previous-key.pem)")
                    if !unsynced.isEmpty {
                        print("\(unsynced.count) replica(s) have not synced since it was announced and will refuse the hub until given the key: \(unsynced.joined(separator: ", "))")
                    }
                    print("take a new backup: older ones hold the old key")
                }
            }
        }
    }

    /// Replicas last seen before the next key was announced (all of them when none is).
    static func replicasNotYetTold(_ store: HubStore) throws -> [String] {
        let since = try store.setting(announcedSince).flatMap { Int64($0) } ?? .max
        return try store.replicas().filter { $0.lastSeen < since }.map(\.replica)
    }
}

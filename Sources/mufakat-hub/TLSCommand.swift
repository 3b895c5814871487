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
        subcommands: [Next.self, Switch.self, KeepFolderKey.self])

    /// When the running hub first announced the next key, and which key: replicas seen
    /// since then were told it. Set by `serve`, not by `tls next`, which takes effect at
    /// the next start.
    static let announcedSince = "tls.next-since"
    static let announcedKey = "tls.next-announced"

    static func noteAnnounced(_ key: HubKey?, in store: HubStore) throws {
        guard let key else {
            try store.setSetting(announcedKey, nil)
            try store.setSetting(announcedSince, nil)
            return
        }
        if try store.setting(announcedKey) != key.description {
            try store.setSetting(announcedKey, key.description)
            try store.setSetting(announcedSince, String(ReplicaStore.systemClock()))
        }
    }

    /// Whether a hub is serving `folder` now (it holds the folder's lock).
    static func refuseWhileServing(_ folder: String, _ what: String) throws {
        do {
            let lock = try HubLock(folder: folder)
            withExtendedLifetime(lock) {}
        } catch let held as HubLock.Held {
            throw MufakatError(.invalid, "\(what): \(held.message)")
        }
    }

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
                let folder = options.folder
                let paths = HubIdentity.nextPaths(folder: folder)
                if FileManager.default.fileExists(atPath: paths.key) {
                    let existing = try HubIdentity.load(certificate: paths.certificate, key: paths.key)
                    throw MufakatError(.invalid, "a next key is already announced (\(existing.key), in \(paths.key)); switch to it with 'mufakat-hub tls switch', or delete tls/next-key.pem and tls/next-cert.pem to drop it")
                }
                let next: HubIdentity
                if let cert, let key {
                    let given = try HubIdentity.load(certificate: cert, key: key)
                    // Checked before anything is written; the certificate first, so a cut
                    // leaves no key without its certificate.
                    next = try HubIdentity.install(given, at: paths)
                } else {
                    next = try HubIdentity.create(paths: paths)
                }
                guard next.key != (try? ServedTransport.current(store: store, folder: folder).key) else {
                    for path in [paths.key, paths.certificate] { try? FileManager.default.removeItem(atPath: path) }
                    throw MufakatError(.invalid, "that is the key the hub serves now (\(next.key)); give a new pair")
                }
                // Announced from the next start on; counted from then.
                try TLSCommand.noteAnnounced(nil, in: store)
                if options.json {
                    printJSON(["next": next.key.description, "certificate": next.certificatePath])
                } else {
                    print("next key \(next.key) (\(next.certificatePath))")
                    print("restart the hub: from then on it announces this key to every replica that syncs (a running hub does not yet).")
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
                let folder = options.folder
                let next = HubIdentity.nextPaths(folder: folder)
                guard FileManager.default.fileExists(atPath: next.key) else {
                    throw MufakatError(.notFound, "no next key is announced; make one with 'mufakat-hub tls next' first")
                }
                try TLSCommand.refuseWhileServing(folder, "stop the hub before 'tls switch' (its key changes when it starts again, and init lines printed meanwhile would carry the old key)")
                // Everything is checked before a file moves.
                let identity = try HubIdentity.loadOrCreate(paths: next).identity
                guard let keyText = try? String(contentsOfFile: next.key, encoding: .utf8) else {
                    throw MufakatError(.invalid, "cannot read \(next.key)")
                }
                let current = HubIdentity.defaultPaths(folder: folder)
                let previous = HubIdentity.previousPaths(folder: folder)
                let unsynced = try TLSCommand.replicasNotYetTold(store)
                for path in [previous.certificate, previous.key] { try? FileManager.default.removeItem(atPath: path) }
                let hadKey = FileManager.default.fileExists(atPath: current.key)
                if hadKey {
                    try FileManager.default.moveItem(atPath: current.key, toPath: previous.key)
                    try? FileManager.default.moveItem(atPath: current.certificate, toPath: previous.certificate)
                }
                do {
                    try FileManager.default.moveItem(atPath: next.key, toPath: current.key)
                    try FileManager.default.moveItem(atPath: next.certificate, toPath: current.certificate)
                    // The copy in hub.sqlite follows, so a backup taken from now on restores
                    // this key; and what init lines carry, from now on.
                    try store.setSetting(ServedTransport.keyCopySetting, keyText)
                    try ServedTransport.remember(identity, own: true, in: store)
                } catch {
                    // Back as it was: the files and the copy stay in step.
                    try? FileManager.default.moveItem(atPath: current.key, toPath: next.key)
                    try? FileManager.default.moveItem(atPath: current.certificate, toPath: next.certificate)
                    if hadKey {
                        try? FileManager.default.moveItem(atPath: previous.key, toPath: current.key)
                        try? FileManager.default.moveItem(atPath: previous.certificate, toPath: current.certificate)
                    }
                    throw error
                }
                try TLSCommand.noteAnnounced(nil, in: store)
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

    struct KeepFolderKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "keep-folder-key",
            abstract: "Serve the key in DIR/tls/hub-key.pem although hub.sqlite holds another (after restoring a backup into a folder where a hub ran).",
            discussion: "Every replica trusts the key hub.sqlite holds; after this, each must be given the folder's key ('mufakat hub set HOST:PORT --hub-key …').")

        @OptionGroup var options: HubOptions

        func run() throws {
            try runHubCommand(options) {
                let store = try options.openStore()
                let folder = options.folder
                try TLSCommand.refuseWhileServing(folder, "stop the hub first")
                let paths = HubIdentity.defaultPaths(folder: folder)
                guard FileManager.default.fileExists(atPath: paths.key) else {
                    throw MufakatError(.notFound, "there is no key in \(paths.key) to keep")
                }
                // The folder's key must be usable before it replaces the copy replicas trust.
                let identity = try HubIdentity.loadOrCreate(folder: folder).identity
                try ServedTransport.rememberKey(paths: paths, in: store)
                try ServedTransport.remember(identity, own: true, in: store)
                if options.json {
                    printJSON(["key": identity.key.description])
                } else {
                    print("the hub will serve \(identity.key); give every replica this key ('mufakat hub set HOST:PORT --hub-key \(identity.key)')")
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

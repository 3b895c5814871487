import ArgumentParser
import Foundation
import MufakatCore
import MufakatStore
import MufakatTLS

/// How `serve` secures its connections: TLS with the hub's own key (made in the data folder
/// on first start), TLS with the operator's pair, or plain TCP when asked for.
struct TLSOptions: ParsableArguments {
    @Flag(help: "Serve plain TCP, without TLS: tokens and data cross the network readable by anyone on the path. Only for a loopback test or behind a TLS proxy.")
    var insecure = false

    @Option(help: ArgumentHelp(
        "The hub's certificate in PEM (then its chain), e.g. from your agency's certificate authority. Default: DIR/tls/hub-cert.pem, made on first start.",
        valueName: "file"))
    var tlsCert: String?

    @Option(help: ArgumentHelp("The private key of --tls-cert, unencrypted PEM.", valueName: "file"))
    var tlsKey: String?

    func validate() throws {
        guard (tlsCert == nil) == (tlsKey == nil) else {
            throw ValidationError("serve: give --tls-cert and --tls-key together (the certificate and its private key)")
        }
        if insecure, tlsCert != nil {
            throw ValidationError("serve: --insecure serves plain TCP; it cannot be given with --tls-cert/--tls-key")
        }
    }
}

/// What `serve` remembers of its transport, so that `token create` prints a complete line
/// and `status` shows the key, without serving.
enum ServedTransport {
    static let keySetting = "tls.served"
    static let certificateSetting = "tls.certificate"
    static let expirySetting = "tls.expires"
    static let plain = "plain"

    /// The hub's own certificate is remembered as "" (it lives in whatever folder the hub
    /// is served from); an operator's by its path.
    static func remember(_ identity: HubIdentity?, own: Bool, in store: HubStore) throws {
        try store.setSetting(keySetting, identity.map { $0.key.description } ?? plain)
        try store.setSetting(certificateSetting, identity.map { own ? "" : $0.certificatePath })
        try store.setSetting(expirySetting, identity.map { String(Int64($0.notValidAfter.timeIntervalSince1970 * 1_000)) })
    }

    static let keyCopySetting = "tls.key-pem"

    /// The hub's own identity in `folder`, kept in step with a copy of its key in
    /// `hub.sqlite`, so that a hub restored from a backup (`mufakat-hub backup` copies that
    /// one file) presents the key every replica pins. A folder without a key file gets the
    /// copy back before a new key is ever made; a key file that is not the copy (a backup
    /// restored into a folder where a hub ran before) is refused: replicas trust the copy.
    static func ownIdentity(store: HubStore, folder: String) throws -> (identity: HubIdentity, created: Bool, restored: Bool) {
        let paths = HubIdentity.defaultPaths(folder: folder)
        var restored = false
        let copy = try store.setting(keyCopySetting)
        if let copy {
            if FileManager.default.fileExists(atPath: paths.key) {
                let file = (try? String(contentsOfFile: paths.key, encoding: .utf8)).flatMap(HubIdentity.publicKey(ofPEM:))
                if let file, let kept = HubIdentity.publicKey(ofPEM: copy), file != kept {
                    throw MufakatError(.invalid, """
                        the key in \(paths.key) is not the key this hub's database (hub.sqlite) was served with — a backup \
                        restored into a folder where another hub ran? Replicas trust the database's key: delete \(paths.key) \
                        and \(paths.certificate) and the hub writes that key back. To serve the folder's key instead (every \
                        replica must then be given it), run 'mufakat-hub tls keep-folder-key'
                        """)
                }
            } else {
                guard HubIdentity.publicKey(ofPEM: copy) != nil else {
                    throw MufakatError(.invalid, "the copy of the hub's key in hub.sqlite cannot be read, and \(paths.key) is missing: restore the folder or hub.sqlite from a backup")
                }
                try writeKeyBack(copy, paths: paths)
                restored = true
            }
        }
        let identity: HubIdentity
        let created: Bool
        do {
            (identity, created) = try HubIdentity.loadOrCreate(folder: folder)
        } catch let error as MufakatError where copy != nil && error.message.contains("cannot be read as a PEM private key") {
            throw MufakatError(.invalid, error.message + "; or delete it, and the hub writes back the copy hub.sqlite keeps")
        }
        if copy == nil || created { try rememberKey(paths: paths, in: store) }
        return (identity, created, restored)
    }

    /// Keeps the key file's text in `hub.sqlite`.
    static func rememberKey(paths: (certificate: String, key: String), in store: HubStore) throws {
        guard let text = FileManager.default.contents(atPath: paths.key).flatMap({ String(data: $0, encoding: .utf8) }) else {
            throw MufakatError(.invalid, "cannot read the hub's key \(paths.key)", value: paths.key)
        }
        try store.setSetting(keyCopySetting, text)
    }

    private static func writeKeyBack(_ copy: String, paths: (certificate: String, key: String)) throws {
        try HubIdentity.writeKeyFile(copy, to: paths.key)
        // The certificate on disk belongs to the other key, if any: made again from this one.
        unlink(paths.certificate)
    }

    /// What the hub served last, or — for a hub that never served — the key its first
    /// `serve` will present, made now in the data folder.
    static func current(store: HubStore, folder: String) throws -> (key: HubKey?, certificate: String, expires: Int64?) {
        switch try store.setting(keySetting) {
        case plain?:
            return (nil, "", nil)
        case let text?:
            let certificate = try store.setting(certificateSetting) ?? ""
            return (try HubKey(parsing: text), certificate.isEmpty ? HubIdentity.defaultPaths(folder: folder).certificate : certificate,
                    try store.setting(expirySetting).flatMap { Int64($0) })
        case nil:
            let identity = try ownIdentity(store: store, folder: folder).identity
            return (identity.key, identity.certificatePath, Int64(identity.notValidAfter.timeIntervalSince1970 * 1_000))
        }
    }

    /// How replicas must be set up for this hub: `--hub-key SHA256:…`, or `--insecure` for
    /// a hub that last served plain TCP.
    static func initOption(store: HubStore, folder: String) throws -> String {
        guard let key = try current(store: store, folder: folder).key else { return "--insecure" }
        return "--hub-key \(key)"
    }
}

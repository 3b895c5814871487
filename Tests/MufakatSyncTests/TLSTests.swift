import Crypto
import _CryptoExtras
import Foundation
import MufakatClient
import MufakatCore
import MufakatStore
import MufakatTesting
import MufakatTLS
import NIOCore
import NIOPosix
import NIOSSL
import SwiftASN1
import Synchronization
import Testing
import X509

/// An operator's certificate and key, written as PEM files in `directory`.
func operatorPair(
    in directory: TemporaryDirectory, name: String, notBefore: Date = Date().addingTimeInterval(-3_600),
    notAfter: Date = Date().addingTimeInterval(86_400 * 90), names: [GeneralName] = []
) throws -> HubIdentity {
    let key = P256.Signing.PrivateKey()
    let certificateKey = Certificate.PrivateKey(key)
    let subject = try DistinguishedName { CommonName("hub.example.org") }
    let issuerKey = Certificate.PrivateKey(P256.Signing.PrivateKey())
    let issuer = try DistinguishedName { CommonName("Coalition test CA") }
    let certificate = try Certificate(
        version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: certificateKey.publicKey,
        notValidBefore: notBefore, notValidAfter: notAfter, issuer: issuer, subject: subject,
        signatureAlgorithm: .ecdsaWithSHA256,
        extensions: try Certificate.Extensions {
            if !names.isEmpty { SubjectAlternativeNames(names) }
        },
        issuerPrivateKey: issuerKey)
    let certificatePath = directory.path("\(name)-cert.pem")
    let keyPath = directory.path("\(name)-key.pem")
    try (try certificate.serializeAsPEM().pemString + "\n").write(toFile: certificatePath, atomically: true, encoding: .utf8)
    try key.pemRepresentation.write(toFile: keyPath, atomically: true, encoding: .utf8)
    return try HubIdentity.load(certificate: certificatePath, key: keyPath)
}

/// A TLS listener that records every byte a client sends after the handshake: what a hub
/// impostor would learn.
final class RecordingTLSServer: @unchecked Sendable {
    let channel: any Channel
    let received = Received()

    final class Received: Sendable {
        private let bytes = Mutex<[UInt8]>([])
        func append(_ more: [UInt8]) { bytes.withLock { $0 += more } }
        var all: [UInt8] { bytes.withLock { $0 } }
    }

    init(identity: HubIdentity) async throws {
        let context = try identity.makeServerContext()
        let received = self.received
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try child.pipeline.syncOperations.addHandler(Recorder(received: received))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    var port: Int { channel.localAddress?.port ?? 0 }

    func close() async { try? await channel.close() }

    final class Recorder: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received: Received
        init(received: Received) { self.received = received }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            received.append(Array(buffer: unwrapInboundIn(data)))
        }
        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }
}

@Suite("TLS: every sync checks the hub's pinned key before anything is sent")
struct TLSTests {
    @Test("a replica pinned to the hub's key syncs, and the hub's first key stays its key")
    func pinnedSync() async throws {
        try await withHub { hub in
            let key = try #require(hub.key)
            // The key on disk is the one served, and loading again does not replace it.
            #expect(try HubIdentity.loadOrCreate(folder: hub.directory.path).identity.key == key)
            #expect(try HubIdentity.loadOrCreate(folder: hub.directory.path).created == false)
            let replica = try TestReplica(hub: hub)
            try replica.store.put("organizations", id: "iom", [("name", "IOM"), ("type", "UNAgency")])
            let summary = try await replica.sync()
            #expect(summary.pushed == 1)
            #expect(try hub.store.digest() == replica.digest)
            let ping = try await SyncClient.ping(hub: hub.address, transport: .pinned(key: key))
            #expect(ping.key == key)
        }
    }

    @Test("a hub with another key is refused before any byte of the session (the token) is sent")
    func otherKeyRefused() async throws {
        let directory = try TemporaryDirectory()
        let impostor = try HubIdentity.create(paths: (directory.path("impostor-cert.pem"), directory.path("impostor-key.pem")))
        let genuine = try HubIdentity.create(paths: (directory.path("hub-cert.pem"), directory.path("hub-key.pem")))
        let server = try await RecordingTLSServer(identity: impostor)
        defer { Task { await server.close() } }
        let store = try ReplicaStore.inMemory(
            hub: "127.0.0.1:\(server.port)", token: "mft_secret", name: "Andi", hubKey: genuine.key.description)
        try store.put("organizations", id: "iom", [("name", "IOM"), ("type", "UNAgency")])
        let before = try store.digest()
        do {
            try await TestReplica(store: store).sync()
            Issue.record("synced with an impostor")
        } catch let error as SyncError {
            #expect(error.kind == .untrustedHub)
            #expect(error.message.contains("presented the key \(impostor.key)"))
            #expect(error.message.contains("not the key this replica trusts (\(genuine.key))"))
            #expect(error.message.contains("nothing was sent"))
        }
        // Give the server a moment to read anything that might have come.
        try await Task.sleep(for: .milliseconds(100))
        #expect(server.received.all.isEmpty, "the impostor received \(server.received.all.count) bytes")
        #expect(try store.digest() == before)
        #expect(try store.status().pendingChanges == 1)
    }

    @Test("the real hub never sees the token of a replica pinned to another key")
    func otherKeyNeverReachesHub() async throws {
        try await withHub { hub in
            let directory = try TemporaryDirectory()
            let other = try HubIdentity.create(paths: (directory.path("c.pem"), directory.path("k.pem")))
            let store = try ReplicaStore.inMemory(hub: hub.address, token: try hub.token(), name: "Andi", hubKey: other.key.description)
            await #expect(throws: SyncError.self) { try await TestReplica(store: store).sync() }
            #expect(try hub.store.tokens().allSatisfy { $0.lastUsed == nil })
            #expect(try hub.store.replicas().isEmpty)
        }
    }

    @Test("an operator's certificate that expired, is not yet valid, or names another host is refused with a message saying so")
    func operatorCertificates() async throws {
        let directory = try TemporaryDirectory()
        let cases: [(HubIdentity, String)] = [
            (try operatorPair(in: directory, name: "expired", notBefore: Date().addingTimeInterval(-86_400 * 400),
                              notAfter: Date().addingTimeInterval(-86_400)), "presented a certificate that expired on"),
            (try operatorPair(in: directory, name: "future", notBefore: Date().addingTimeInterval(86_400 * 3)),
             "presented a certificate valid only from"),
            (try operatorPair(in: directory, name: "host", names: [.dnsName("hub.example.org"), .dnsName("*.coalition.example")]),
             "the hub's certificate is for hub.example.org, *.coalition.example, not 127.0.0.1"),
        ]
        for (identity, expected) in cases {
            let hub = try await TestHub.start(identity: identity)
            let store = try ReplicaStore.inMemory(hub: hub.address, token: try hub.token(), name: "Andi", hubKey: identity.key.description)
            do {
                try await TestReplica(store: store).sync()
                Issue.record("synced despite: \(expected)")
            } catch let error as SyncError {
                #expect(error.kind == .untrustedHub)
                #expect(error.message.contains(expected), "\(error.message)")
            }
            #expect(try hub.store.replicas().isEmpty)
            await hub.stop()
        }
    }

    @Test("an operator's certificate naming the address dialled, with its chain, is accepted")
    func operatorCertificateAccepted() async throws {
        let directory = try TemporaryDirectory()
        let identity = try operatorPair(
            in: directory, name: "ok", names: [.dnsName("hub.example.org"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))])
        #expect(identity.names == ["hub.example.org", "127.0.0.1"])
        let hub = try await TestHub.start(identity: identity)
        let store = try ReplicaStore.inMemory(hub: hub.address, token: try hub.token(), name: "Andi", hubKey: identity.key.description)
        try store.put("organizations", id: "iom", [("name", "IOM"), ("type", "UNAgency")])
        #expect(try await TestReplica(store: store).sync().pushed == 1)
        await hub.stop()
    }

    @Test("a plain client meeting a TLS hub is told tls-required at once; nothing is stored")
    func plainClientTLSHub() async throws {
        try await withHub { hub in
            let store = try ReplicaStore.inMemory(hub: hub.address, token: try hub.token(), name: "Andi", insecure: true)
            try store.put("organizations", id: "iom", [("name", "IOM"), ("type", "UNAgency")])
            do {
                try await TestReplica(store: store).sync()
                Issue.record("a plain client synced with a TLS hub")
            } catch let error as SyncError {
                #expect(error.kind == .untrustedHub)
                #expect(error.code == "tls-required")
                #expect(error.message.contains("requires TLS"))
            }
            #expect(try hub.store.records().isEmpty)
            #expect(try hub.store.replicas().isEmpty)
        }
    }

    @Test("a TLS client meeting a plain hub fails the handshake at once, saying the hub does not speak TLS")
    func tlsClientPlainHub() async throws {
        try await withHub(insecure: true) { hub in
            let store = try ReplicaStore.inMemory(
                hub: hub.address, token: try hub.token(), name: "Andi", hubKey: HubKey(subjectPublicKeyInfo: [1, 2, 3]).description)
            do {
                try await TestReplica(store: store).sync()
                Issue.record("a TLS client synced with a plain hub")
            } catch let error as SyncError {
                #expect(error.kind == .protocolError)
                #expect(error.message.contains("does not speak TLS"), "\(error.message)")
            }
            #expect(try hub.store.replicas().isEmpty)
        }
    }

    @Test("a next key announced by the pinned hub is trusted beside the old one, then alone once the hub presents it; an announcement that stops is forgotten")
    func keyChange() async throws {
        let directory = try TemporaryDirectory()
        let old = try HubIdentity.create(paths: (directory.path("old-cert.pem"), directory.path("old-key.pem")))
        let next = try HubIdentity.create(paths: (directory.path("next-cert.pem"), directory.path("next-key.pem")))
        let hub = try await TestHub.start(identity: old) { $0.announcedKey = next.key }
        let store = try hub.replica(token: try hub.token())
        try store.put("organizations", id: "iom", [("name", "IOM"), ("type", "UNAgency")])
        let learned = try await TestReplica(store: store).sync()
        #expect(learned.hubKeyChange?.contains("announced the key it will switch to, \(next.key)") == true)
        #expect(try store.metadata().hubKey == old.key.description)
        #expect(try store.metadata().hubNextKey == next.key.description)
        #expect(try await TestReplica(store: store).sync().hubKeyChange == nil, "said once")
        let token = try hub.token(org: "unicef", name: "Sari")
        let untold = try hub.replica(token: token)
        await hub.stop()

        // The operator switched: a hub on the same data presenting the next key.
        let switched = try await TestHub.start(identity: next, folder: hub.directory)
        try store.reconfigure(hub: switched.address)
        let result = try await TestReplica(store: store).sync()
        #expect(result.hubKeyChange?.contains("switched to the key it announced") == true)
        #expect(try store.metadata().hubKey == next.key.description)
        #expect(try store.metadata().hubNextKey == "")
        // A replica that never heard the announcement refuses the new key.
        try untold.reconfigure(hub: switched.address)
        await #expect(throws: SyncError.self) { try await TestReplica(store: untold).sync() }
        await switched.stop()

        // The old key is forgotten: a hub presenting it now is refused.
        let back = try await TestHub.start(identity: old, folder: hub.directory)
        try store.reconfigure(hub: back.address)
        await #expect(throws: SyncError.self) { try await TestReplica(store: store).sync() }
        await back.stop()

        // An announcement the hub stops making is dropped at the next sync.
        let again = try await TestHub.start(identity: next, folder: hub.directory) { $0.announcedKey = old.key }
        try store.reconfigure(hub: again.address)
        try await TestReplica(store: store).sync()
        #expect(try store.metadata().hubNextKey == old.key.description)
        await again.stop()
        let quiet = try await TestHub.start(identity: next, folder: hub.directory)
        try store.reconfigure(hub: quiet.address)
        try await TestReplica(store: store).sync()
        #expect(try store.metadata().hubNextKey == "")
        await quiet.stop()
    }

    @Test("a replica with neither a key nor --insecure refuses to connect, and says how to set one")
    func noKey() async throws {
        try await withHub { hub in
            let store = try ReplicaStore.inMemory(hub: hub.address, token: try hub.token(), name: "Andi")
            do {
                try await TestReplica(store: store).sync()
                Issue.record("synced without a key")
            } catch let error as SyncError {
                #expect(error.kind == .untrustedHub)
                #expect(error.message.contains("mufakat hub set \(hub.address) --hub-key"))
            }
            #expect(try hub.store.tokens().allSatisfy { $0.lastUsed == nil })
        }
    }
}

@Suite("Hub identity files and key fingerprints")
struct HubIdentityTests {
    static let vectors = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("protocol/vectors/transport")

    struct KeyVectors: Decodable {
        struct Key: Decodable {
            var certificate: String
            var key: String
            var names: [String]
        }
        struct Mismatch: Decodable {
            struct Bytes: Decodable { var bytes: String }
            struct Header: Decodable { var header: [String: String] }
            var plainHubAnswersTLS: Bytes
            var tlsHubAnswersPlain: Header
        }
        var keys: [Key]
        var mismatch: Mismatch
    }

    static func loadVectors() throws -> KeyVectors {
        try JSONDecoder().decode(KeyVectors.self, from: Data(contentsOf: vectors.appendingPathComponent("keys.json")))
    }

    @Test("the key vectors (computed with openssl) are what a replica computes from the certificates")
    func keyVectors() throws {
        let file = try Self.loadVectors()
        #expect(file.keys.count == 2)
        for vector in file.keys {
            let chain = try NIOSSLCertificate.fromPEMFile(Self.vectors.appendingPathComponent(vector.certificate).path)
            let leaf = try #require(chain.first)
            #expect(try HubIdentity.key(of: leaf).description == vector.key, "\(vector.certificate)")
            #expect(HubIdentity.names(of: try Certificate(derEncoded: try leaf.toDERBytes())) == vector.names)
            let check = HubKeyCheck(transport: .pinned(key: try HubKey(parsing: vector.key)), host: vector.names.first ?? "127.0.0.1")
            #expect(check.evaluate(chain).refusal == nil)
        }
    }

    @Test("the transport mismatch vectors are what the hubs send: a TLS alert from a plain hub, tls-required in plain from a TLS hub")
    func mismatchVectors() async throws {
        let file = try Self.loadVectors()
        try await withHub(insecure: true) { hub in
            let answer = try await RawHubConnection.with(port: hub.port, key: nil) { connection in
                // The first bytes of a TLS ClientHello.
                try await connection.send(bytes: ByteBuffer(bytes: [0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00]))
                return try await connection.receiveUntilClosed()
            }
            #expect(answer.map { String(format: "%02x", $0) }.joined() == file.mismatch.plainHubAnswersTLS.bytes)
        }
        try await withHub { hub in
            let answer = try await RawHubConnection.with(port: hub.port, key: nil) { connection in
                try await connection.hello(replica: "0123456789abcdef", token: try hub.token())
            }
            guard case .error(let error) = answer else {
                Issue.record("expected an error frame, got \(String(describing: answer))")
                return
            }
            #expect(error.code.rawValue == file.mismatch.tlsHubAnswersPlain.header["code"])
            #expect(try hub.store.tokens().allSatisfy { $0.lastUsed == nil })
        }
    }

    @Test("a key is made once, readable by its owner only; a lost certificate is made again for the same key")
    func keyFiles() throws {
        let directory = try TemporaryDirectory()
        let (first, created) = try HubIdentity.loadOrCreate(folder: directory.path)
        #expect(created)
        let paths = HubIdentity.defaultPaths(folder: directory.path)
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: paths.key)[.posixPermissions] as? Int)
        #expect(mode == 0o600)
        try FileManager.default.removeItem(atPath: paths.certificate)
        let (again, createdAgain) = try HubIdentity.loadOrCreate(folder: directory.path)
        #expect(!createdAgain)
        #expect(again.key == first.key)
        #expect(again.notValidAfter > Date().addingTimeInterval(86_400 * 365 * 40))
        #expect(again.names.isEmpty)
    }

    @Test("the hub's own key may be RSA or P-384 (its certificate is remade for it), a key file with EC parameters reads; Ed25519 and P-521 are refused; a bad certificate is remade")
    func keyKinds() throws {
        let directory = try TemporaryDirectory()
        let rsa = try HubIdentity.loadOrCreate(folder: directory.path).identity
        let paths = HubIdentity.defaultPaths(folder: directory.path)
        // An operator's RSA key put in place of the generated one, without a certificate.
        let rsaKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        try FileManager.default.removeItem(atPath: paths.key)
        try FileManager.default.removeItem(atPath: paths.certificate)
        try rsaKey.pemRepresentation.write(toFile: paths.key, atomically: true, encoding: .utf8)
        let remade = try HubIdentity.loadOrCreate(folder: directory.path)
        #expect(!remade.created)
        #expect(remade.identity.key != rsa.key)
        #expect(remade.identity.notValidBefore <= Date(timeIntervalSince1970: 946_684_800))
        // A damaged certificate is made again for the same key.
        try "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".write(toFile: paths.certificate, atomically: true, encoding: .utf8)
        #expect(try HubIdentity.loadOrCreate(folder: directory.path).identity.key == remade.identity.key)

        // openssl ecparam -genkey writes the curve's parameters before the key.
        let p384 = P384.Signing.PrivateKey()
        let withParameters = "-----BEGIN EC PARAMETERS-----\nBgUrgQQAIg==\n-----END EC PARAMETERS-----\n" + p384.pemRepresentation + "\n"
        let other = try TemporaryDirectory()
        let otherPaths = HubIdentity.defaultPaths(folder: other.path)
        try FileManager.default.createDirectory(atPath: (otherPaths.key as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try withParameters.write(toFile: otherPaths.key, atomically: true, encoding: .utf8)
        let ec = try HubIdentity.loadOrCreate(folder: other.path).identity
        #expect(ec.key == HubKey(subjectPublicKeyInfo: Array(p384.publicKey.derRepresentation)))

        let edwards = try TemporaryDirectory()
        let edPaths = HubIdentity.defaultPaths(folder: edwards.path)
        try FileManager.default.createDirectory(atPath: (edPaths.key as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Certificate.PrivateKey(Curve25519.Signing.PrivateKey()).serializeAsPEM().pemString.write(toFile: edPaths.key, atomically: true, encoding: .utf8)
        #expect { try HubIdentity.loadOrCreate(folder: edwards.path) } throws: {
            ($0 as? MufakatError)?.message.contains("Ed25519 key, which replicas do not accept") == true
        }
        // Replicas offer no P-521 signatures either.
        try Certificate.PrivateKey(P521.Signing.PrivateKey()).serializeAsPEM().pemString.write(toFile: edPaths.key, atomically: true, encoding: .utf8)
        #expect { try HubIdentity.loadOrCreate(folder: edwards.path) } throws: {
            ($0 as? MufakatError)?.message.contains("P-521 key, which replicas do not accept") == true
        }
    }

    @Test("a key that does not belong to the certificate, or files that are not PEM, are refused with the file named")
    func mismatchedPair() throws {
        let directory = try TemporaryDirectory()
        let one = try HubIdentity.create(paths: (directory.path("one-cert.pem"), directory.path("one-key.pem")))
        _ = try HubIdentity.create(paths: (directory.path("two-cert.pem"), directory.path("two-key.pem")))
        #expect(one.key != (try HubIdentity.load(certificate: directory.path("two-cert.pem"), key: directory.path("two-key.pem")).key))
        #expect { try HubIdentity.load(certificate: directory.path("one-cert.pem"), key: directory.path("two-key.pem")) } throws: {
            ($0 as? MufakatError)?.message.contains("does not belong to the certificate") == true
        }
        try "not a certificate".write(toFile: directory.path("bad.pem"), atomically: true, encoding: .utf8)
        #expect { try HubIdentity.load(certificate: directory.path("bad.pem"), key: directory.path("one-key.pem")) } throws: {
            ($0 as? MufakatError)?.message.contains("bad.pem holds no PEM certificate") == true
        }
        #expect { try HubIdentity.load(certificate: directory.path("missing.pem"), key: directory.path("one-key.pem")) } throws: {
            ($0 as? MufakatError)?.code == .notFound
        }
        #expect(throws: MufakatError.self) { try HubIdentity.create(paths: (directory.path("one-cert.pem"), directory.path("new-key.pem"))) }
    }

    @Test("a fingerprint reads back as written; other text is refused", arguments: [
        "", "SHA256:", "sha256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU", "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF",
        "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFUU", "SHA256:47DEQpj8HBSa-_TImW+5JCeuQeRkm5NMpJWZG3hSuFU", "MD5:aa",
    ])
    func fingerprints(_ bad: String) throws {
        let key = HubKey(subjectPublicKeyInfo: Array("spki".utf8))
        #expect(try HubKey(parsing: key.description) == key)
        #expect(try HubKey(parsing: " \(key.description)= \n") == key)
        #expect(key.description.count == 7 + 43)
        #expect(try HubKey(parsing: "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU").digest == Array(SHA256.hash(data: [UInt8]())))
        #expect(throws: MufakatError.self) { try HubKey(parsing: bad) }
    }

    @Test("host names match case-insensitively, one wildcard label deep; addresses as addresses")
    func hostMatching() {
        #expect(HubKeyCheck.matches(host: "Hub.Example.org", names: ["hub.example.org"]))
        #expect(HubKeyCheck.matches(host: "hub.example.org.", names: ["hub.example.org"]))
        #expect(HubKeyCheck.matches(host: "a.coalition.example", names: ["*.coalition.example"]))
        #expect(!HubKeyCheck.matches(host: "a.b.coalition.example", names: ["*.coalition.example"]))
        #expect(!HubKeyCheck.matches(host: "coalition.example", names: ["*.coalition.example"]))
        #expect(!HubKeyCheck.matches(host: "evil.example.org", names: ["hub.example.org"]))
        #expect(HubKeyCheck.matches(host: "127.0.0.1", names: ["127.0.0.1"]))
        #expect(!HubKeyCheck.matches(host: "127.0.0.1", names: ["*.0.0.1", "127.0.0.2"]))
        #expect(HubKeyCheck.matches(host: "::1", names: ["::1"]))
        #expect(HubKeyCheck.matches(host: "0:0:0:0:0:0:0:1", names: ["::1"]))
    }
}

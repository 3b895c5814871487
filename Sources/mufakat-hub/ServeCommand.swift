import ArgumentParser
import Foundation
import Logging
import MufakatCore
import MufakatDashboard
import MufakatHub
import MufakatStore
import MufakatTLS
import NIOCore
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the hub until SIGTERM or SIGINT (then finish in-flight work and stop).")

    @OptionGroup var options: HubOptions

    @Option(help: "Address to listen on.")
    var host = "0.0.0.0"

    @Option(help: "Port to listen on (0 picks a free one and writes it to DIR/hub.port).")
    var port = 7420

    @Option(help: "Seconds a connection may stay silent.")
    var idleTimeout = 120

    @Option(help: "Most connections served at once; one more is told to retry later. Keep the open-file limit (ulimit -n) above it.")
    var maxConnections = 1_024

    @Option(help: ArgumentHelp(
        "The address laptops reach this hub at (e.g. hub.example.org:7420), if not HOST:PORT as bound; remembered, and used in the 'mufakat init' line 'token create' prints.",
        valueName: "host:port"))
    var publicAddress: String?

    @OptionGroup var tls: TLSOptions

    @Option(help: "Log lines as logfmt (key=\"value\", the default) or json, one per event on standard error.")
    var logFormat: HubLogFormat = .logfmt

    @Flag(help: """
        Re-seed mode, after restoring this hub from an old copy or rebuilding it empty: replicas \
        push every record they hold and may relay other replicas' writes. Turn it off once every \
        replica has synced.
        """)
    var reseed = false

    @Option(help: ArgumentHelp(
        "Serve the coordination dashboard on this port too (over TLS when the hub serves TLS; 0 picks a free port and writes it to DIR/http.port).",
        valueName: "port"))
    var httpPort: Int?

    @Option(help: ArgumentHelp("Address the dashboard listens on: loopback unless told otherwise.", valueName: "host"))
    var httpHost = "127.0.0.1"

    @Option(help: ArgumentHelp("Counts below this show as <N on the dashboard and its downloads and brief.", valueName: "N"))
    var suppressBelow: Int64 = 11

    @Option(help: ArgumentHelp(
        "Remove audit entries older than this many days (checked at start and hourly); by default they are kept for good.",
        valueName: "days"))
    var auditRetentionDays: Int?

    func validate() throws {
        if let httpPort, !(0...65_535).contains(httpPort) { throw ValidationError("serve: --http-port must be 0 to 65535") }
        if let httpPort, httpPort != 0, httpPort == port { throw ValidationError("serve: --http-port must differ from --port") }
        guard (2...1_000).contains(suppressBelow) else { throw ValidationError("serve: --suppress-below must be 2 to 1000") }
        if let auditRetentionDays, !(1...36_500).contains(auditRetentionDays) {
            throw ValidationError("serve: --audit-retention-days must be 1 to 36500 (leave it out to keep every entry)")
        }
        guard (0...65_535).contains(port) else { throw ValidationError("serve: --port must be 0 to 65535") }
        guard idleTimeout >= 1 else { throw ValidationError("serve: --idle-timeout must be at least 1") }
        guard maxConnections >= 1 else { throw ValidationError("serve: --max-connections must be at least 1") }
        if let publicAddress { try validatePublicAddress(publicAddress, "serve: --public-address") }
    }

    func run() async throws {
        LoggingSystem.bootstrap { [logFormat] label in HubLogHandler(label: label, format: logFormat) }
        let logger = Logger(label: "mufakat.hub")
        let lock: HubLock
        do {
            lock = try HubLock(folder: options.folder)
        } catch let error as HubLock.Held {
            let message = "cannot serve: \(error.message)"
            FileHandle.standardError.write(Data("mufakat-hub: \(message)\n".utf8))
            if options.json { printJSON(["error": ["code": "cannot-listen", "message": message, "exitCode": 69] as [String: Any]]) }
            throw ExitCode(69)
        }
        defer { withExtendedLifetime(lock) {} }
        let store: HubStore
        do {
            store = try options.openStore(creating: true, holdingLock: true)
        } catch {
            try runHubCommand(options) { throw error }
            return
        }
        if let publicAddress { try store.setPublicAddress(publicAddress) }
        let directory = options.folder
        let identity: HubIdentity?
        let created: Bool
        var restored = false
        var announced: HubKey?
        var nextProblem: String?
        var switchedToNext = false
        let transport: HubListenerTransport
        do {
            if tls.insecure {
                (identity, created) = (nil, false)
            } else if let certificate = tls.tlsCert, let key = tls.tlsKey {
                (identity, created) = (try HubIdentity.load(
                    certificate: URL(fileURLWithPath: (certificate as NSString).expandingTildeInPath).standardizedFileURL.path,
                    key: URL(fileURLWithPath: (key as NSString).expandingTildeInPath).standardizedFileURL.path), false)
            } else {
                let own = try ServedTransport.ownIdentity(store: store, folder: directory)
                (identity, created, restored) = (own.identity, own.created, own.restored)
            }
            transport = try identity.map { .tls(try $0.makeServerContext()) } ?? .plain
            // A next key that cannot be read never stops the hub: it is logged, not announced.
            let nextPaths = HubIdentity.nextPaths(folder: directory)
            if let identity, FileManager.default.fileExists(atPath: nextPaths.key) {
                do {
                    let next = try HubIdentity.loadOrCreate(paths: nextPaths).identity
                    if next.key != identity.key {
                        announced = next.key
                    } else {
                        // The operator now serves the announced pair: the change is done.
                        for path in [nextPaths.key, nextPaths.certificate] { try? FileManager.default.removeItem(atPath: path) }
                        switchedToNext = true
                    }
                } catch {
                    nextProblem = "\(error)"
                }
            }
            try TLSCommand.noteAnnounced(announced, in: store)
            try ServedTransport.remember(identity, own: !tls.insecure && tls.tlsCert == nil, in: store)
        } catch {
            try runHubCommand(options) { throw error }
            return
        }
        // The first line names the key replicas pin, so an operator can read it to a caller.
        logger.info("starting", metadata: [
            "data": "\(URL(fileURLWithPath: directory).standardizedFileURL.path)",
            "version": "\(MufakatVersion.current)",
            "pid": "\(getpid())", "reseed": "\(reseed)",
            "tls": "\(identity.map { $0.key.description } ?? "off (--insecure)")",
        ])
        if let identity {
            if let nextProblem {
                logger.error("the next key in tls/next-*.pem cannot be used and is not announced; replace or delete tls/next-key.pem and tls/next-cert.pem (no copy of a next key is kept)", metadata: [
                    "problem": "\(nextProblem)"])
            }
            if switchedToNext {
                logger.notice("serving the key that was announced as next: the key change is done (tls/next-*.pem removed)", metadata: [
                    "key": "\(identity.key)"])
            }
            if let announced {
                logger.notice("announcing the next key to every replica that syncs; switch with 'mufakat-hub tls switch' once all have", metadata: [
                    "next": "\(announced)"])
            }
            if restored {
                logger.notice("wrote the hub's TLS key back from hub.sqlite (a restored backup): replicas keep trusting it", metadata: [
                    "key": "\(identity.key)"])
            }
            if created {
                logger.notice("made this hub's TLS key and certificate", metadata: [
                    "key": "\(identity.key)", "certificate": "\(identity.certificatePath)",
                    "note": "replicas trust this key and no other; hub.sqlite and its backups hold a copy, keep them as secret as the key"])
            }
            let remaining = identity.notValidAfter.timeIntervalSinceNow
            if remaining < 0 {
                logger.error("the TLS certificate has expired: replicas refuse this hub until it is renewed", metadata: [
                    "certificate": "\(identity.certificatePath)", "expired": "\(identity.notValidAfter)"])
            } else if remaining < 30 * 86_400 {
                logger.warning("the TLS certificate expires within 30 days; renew it for the same key and replicas notice nothing", metadata: [
                    "certificate": "\(identity.certificatePath)", "expires": "\(identity.notValidAfter)"])
            }
        } else {
            logger.warning("serving plain TCP (--insecure): tokens and data cross the network readable by anyone on the path")
        }
        let portFile = (directory as NSString).appendingPathComponent("hub.port")
        try? FileManager.default.removeItem(atPath: portFile)
        let server = HubServer(
            store: store,
            configuration: HubConfiguration(
                host: host, port: port, idleTimeout: .seconds(idleTimeout), maxConnections: maxConnections, reseed: reseed,
                transport: transport, announcedKey: announced),
            logger: logger,
            onListening: { address in
                try? "\(address.port ?? 0)\n".write(toFile: portFile, atomically: true, encoding: .utf8)
            })
        var dashboard: [any Service] = []
        let httpPortFile = (directory as NSString).appendingPathComponent("http.port")
        try? FileManager.default.removeItem(atPath: httpPortFile)
        if let httpPort {
            let scheme = identity == nil ? "http" : "https"
            let host = httpHost
            try store.setSetting("dashboard.scheme", scheme)
            dashboard.append(DashboardServer(
                store: store,
                configuration: DashboardConfiguration(
                    host: httpHost, port: httpPort, threshold: suppressBelow, tls: identity?.serverConfiguration,
                    onListening: { port in
                        try? "\(port)\n".write(toFile: httpPortFile, atomically: true, encoding: .utf8)
                        logger.notice("dashboard listening", metadata: ["address": "\(scheme)://\(host):\(port)/"])
                    }),
                logger: logger))
        }
        let group = ServiceGroup(configuration: .init(
            services: [server, AuditKeeper(store: store, retentionDays: auditRetentionDays, logger: logger)] + dashboard,
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch let error as IOError where error.errnoCode == EADDRINUSE || error.errnoCode == EADDRNOTAVAIL {
            let why = error.errnoCode == EADDRINUSE
                ? "port \(port) on \(host) is in use (another hub, or another program): stop it, or choose another port with --port"
                : "address \(host) is not one of this machine's: choose another with --host (0.0.0.0 listens on all)"
            FileHandle.standardError.write(Data("mufakat-hub: cannot listen: \(why)\n".utf8))
            if options.json { printJSON(["error": ["code": "cannot-listen", "message": "cannot listen: \(why)", "exitCode": 69] as [String: Any]]) }
            throw ExitCode(69)
        } catch where error is SocketAddressError || error is SocketAddressError.UnknownHost {
            let why = "the address \(host) cannot be used (\(error)); give --host as this machine's name or IP address (0.0.0.0 listens on all)"
            FileHandle.standardError.write(Data("mufakat-hub: cannot listen: \(why)\n".utf8))
            if options.json { printJSON(["error": ["code": "cannot-listen", "message": "cannot listen: \(why)", "exitCode": 69] as [String: Any]]) }
            throw ExitCode(69)
        }
    }
}

/// One hub per data folder: `serve` holds an exclusive `flock` on `DIR/hub.lock` (released
/// by the system when the process ends, even by `kill -9`) and writes its process id there.
final class HubLock {
    struct Held: Error {
        var message: String
    }

    let descriptor: Int32

    init(folder: String) throws {
        // A hub folder is its owner's only (it holds token hashes and the coalition's data).
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = (folder as NSString).appendingPathComponent("hub.lock")
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Held(message: "cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let other = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(descriptor)
            throw Held(message: "another mufakat-hub\(other.isEmpty ? "" : " (process \(other))") is serving \(folder); stop it first, or give this one another --data folder")
        }
        ftruncate(descriptor, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(descriptor, $0, strlen($0)) }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// The process id a running hub wrote in `folder`'s lock ("" if unknown), or `nil` when
    /// no process holds the lock.
    static func holder(folder: String) -> String? {
        let path = (folder as NSString).appendingPathComponent("hub.lock")
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_SH | LOCK_NB) != 0 else {
            flock(descriptor, LOCK_UN)
            return nil
        }
        return (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }
}

extension HubLogFormat: ExpressibleByArgument {}

/// At start and then hourly: removes audit entries older than the retention setting, if
/// one is set, and logs the audit log's head — an anchor outside the database, against
/// which `audit verify --expect` finds a log cut or rewritten later.
struct AuditKeeper: Service {
    let store: HubStore
    let retentionDays: Int?
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                if let days = retentionDays {
                    let cutoff = Int64(Date().timeIntervalSince1970 * 1000) - Int64(days) * 86_400_000
                    let removed = try store.pruneAudit(before: cutoff)
                    if removed > 0 {
                        logger.notice("removed old audit entries", metadata: ["entries": "\(removed)", "olderThanDays": "\(days)"])
                    }
                }
                if let head = try store.auditEntries(AuditFilter(limit: 1)).last {
                    logger.info("audit head", metadata: ["head": "\(head.entry):\(head.hash)"])
                }
            } catch {
                logger.error("could not keep the audit log (retention or head); nothing was removed", metadata: ["error": "\(error)"])
            }
            // Shutdown (graceful or not) ends the wait, and with it the loop.
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(3_600)) }
            } catch {
                return
            }
        }
    }
}

import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import MufakatCore
import MufakatStore
import MufakatViews
import NIOSSL
import ServiceLifecycle
import Synchronization

/// How the hub serves its dashboard.
public struct DashboardConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Counts below this show as `<k` on every page, download and brief.
    public var threshold: Int64
    /// Served over TLS with this configuration (the hub's own identity), or plain HTTP.
    public var tls: TLSConfiguration?
    /// How long a sign-in lasts.
    public var sessionLifetime: Duration
    /// Called with the port once listening.
    public var onListening: @Sendable (Int) -> Void

    public init(
        host: String = "127.0.0.1", port: Int = 7421, threshold: Int64 = SuppressedTable.defaultThreshold, tls: TLSConfiguration? = nil,
        sessionLifetime: Duration = .seconds(12 * 3_600), onListening: @escaping @Sendable (Int) -> Void = { _ in }
    ) {
        self.host = host
        self.port = port
        self.threshold = threshold
        self.tls = tls
        self.sessionLifetime = sessionLifetime
        self.onListening = onListening
    }
}

/// The coordination dashboard: a second listener of the hub, serving server-rendered pages
/// (no scripts, no web fonts: it works in a meeting room without internet) to people
/// signed in with their token. Each page shows what the token's role may see, counts
/// suppressed below the threshold.
public struct DashboardServer: Service {
    let store: HubStore
    let configuration: DashboardConfiguration
    let logger: Logger

    public init(store: HubStore, configuration: DashboardConfiguration, logger: Logger) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        let router = Self.router(store: store, configuration: configuration, sessions: Sessions(lifetime: configuration.sessionLifetime))
        let server: HTTPServerBuilder = try configuration.tls.map { try .tls(.http1(), tlsConfiguration: $0) } ?? .http1()
        let onListening = configuration.onListening
        let app = Application(
            router: router, server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
        try await app.run()
    }

    static let cookieName = "mufakat_session"

    /// Every route. Pages answer a visitor not signed in with the sign-in page's address;
    /// downloads with 401.
    public static func router(
        store: HubStore, configuration: DashboardConfiguration, sessions: Sessions, gate: SignInGate = SignInGate()
    ) -> Router<DashboardContext> {
        let router = Router(context: DashboardContext.self)
        let threshold = configuration.threshold
        let secure = configuration.tls != nil

        /// The signed-in token, as it is now (a revoked token or a changed role counts at once).
        @Sendable func viewer(_ request: Request) async throws -> TokenInfo? {
            guard let id = request.cookies[cookieName]?.value, let tokenID = sessions.token(for: id) else { return nil }
            guard let token = try? await store.token(id: tokenID), token.revoked == nil else {
                sessions.remove(id)
                return nil
            }
            return token
        }

        @Sendable func page(
            _ request: Request, _ body: @escaping @Sendable (TokenInfo, DashboardPages.Viewer, Visibility) async throws -> String
        ) async throws -> Response {
            guard let token = try await viewer(request) else {
                let next = request.uri.path + (request.uri.query.map { "?\($0)" } ?? "")
                return redirect("/signin?next=\(next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/")")
            }
            do {
                return html(try await body(token, DashboardPages.Viewer(name: token.name, org: token.org, role: token.role.rawValue), Visibility(token.writer)))
            } catch let error as MufakatError {
                return html(
                    DashboardPages.message(title: "Not shown", text: error.message, viewer: .init(name: token.name, org: token.org, role: token.role.rawValue)),
                    status: .badRequest)
            }
        }

        @Sendable func download(
            _ request: Request, name: String, type: String = "text/csv; charset=utf-8",
            _ body: @escaping @Sendable (TokenInfo, Visibility) async throws -> String
        ) async throws -> Response {
            guard let token = try await viewer(request) else {
                return text("sign in first: open /signin\n", status: .unauthorized)
            }
            do {
                var response = text(try await body(token, Visibility(token.writer)), type: type)
                response.headers[.contentDisposition] = "attachment; filename=\"\(name)\""
                return response
            } catch let error as MufakatError {
                return text(error.message + "\n", status: .badRequest)
            }
        }

        router.get("/") { _, _ in redirect("/positions") }

        router.get("signin") { request, _ in
            html(DashboardPages.signIn(next: safeNext(request.uri.queryParameters.get("next")), error: nil))
        }
        router.post("signin") { request, context in
            guard !crossSite(request) else {
                return html(DashboardPages.signIn(next: "/positions", error: "A sign-in must come from this dashboard's own page."), status: .forbidden)
            }
            let form = try await URLEncodedFormDecoder().decode(
                SignInForm.self, from: String(buffer: try await request.body.collect(upTo: 16 << 10)))
            // One attempt per second and address, however many arrive at once.
            guard let wait = gate.reserve(context.clientAddress, now: .now) else {
                context.logger.notice("dashboard sign-in refused: too many attempts queued from \(context.clientAddress)")
                return html(
                    DashboardPages.signIn(next: safeNext(form.next), error: "Too many sign-ins from this address; wait a minute and try again."),
                    status: .tooManyRequests)
            }
            try await Task.sleep(for: wait)
            guard let token = try await store.authenticate(secret: form.token.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                context.logger.notice("dashboard sign-in refused: unknown or revoked token")
                // A wrong guess costs a second: too slow to try tokens by the thousand.
                try await Task.sleep(for: .seconds(1))
                return html(
                    DashboardPages.signIn(next: safeNext(form.next), error: "That token is not known to this hub, or was revoked. Check it, or ask the hub operator."),
                    status: .unauthorized)
            }
            return signedIn(token, next: safeNext(form.next))
        }
        // A one-time link the operator sends ('mufakat-hub dashboard link'): spent at once.
        router.get("signin/:code") { request, context in
            let code = context.parameters.get("code") ?? ""
            guard let wait = gate.reserve(context.clientAddress, now: .now) else {
                return html(
                    DashboardPages.signIn(next: "/positions", error: "Too many sign-ins from this address; wait a minute and try again."),
                    status: .tooManyRequests)
            }
            try await Task.sleep(for: wait)
            guard let token = try await store.redeemDashboardLink(code) else {
                return html(
                    DashboardPages.signIn(next: "/positions", error: "That sign-in link was used already, has expired, or is not this hub's. Ask the hub operator for a new one."),
                    status: .unauthorized)
            }
            return signedIn(token, next: safeNext(request.uri.queryParameters.get("next")))
        }
        router.post("signout") { request, _ in
            if let id = request.cookies[cookieName]?.value { sessions.remove(id) }
            var response = redirect("/signin")
            response.setCookie(Cookie(name: cookieName, value: "", maxAge: 0, path: "/", secure: secure, httpOnly: true, sameSite: .strict))
            return response
        }

        @Sendable func signedIn(_ token: TokenInfo, next: String) -> Response {
            var response = redirect(next)
            response.setCookie(Cookie(
                name: cookieName, value: sessions.create(tokenID: token.id), maxAge: Int(configuration.sessionLifetime.components.seconds),
                path: "/", secure: secure, httpOnly: true, sameSite: .strict))
            return response
        }

        router.get("positions") { request, _ in
            try await page(request) { _, viewer, visibility in
                DashboardPages.positions(try await store.view(for: visibility) { db, scope in try CoordinationData.load(db, scope: scope) }, viewer: viewer)
            }
        }
        router.get("positions.csv") { request, _ in
            try await download(request, name: "positions.csv") { _, visibility in
                try DashboardPages.positionsCSV(try await store.view(for: visibility) { db, scope in try CoordinationData.load(db, scope: scope) })
            }
        }
        router.get("figures") { request, _ in
            let parameters = queryDictionary(request)
            return try await page(request) { _, viewer, visibility in
                var problem: String?
                let query: FigureQuery
                do {
                    query = try FigureQuery(parameters: parameters)
                } catch let error as MufakatError {
                    (query, problem) = (FigureQuery(), "\(error.message); showing the default view instead")
                }
                let table = try await figures(store: store, visibility: visibility, query: query, threshold: threshold)
                return DashboardPages.figures(table, viewer: viewer, error: problem)
            }
        }
        router.get("figures.csv") { request, _ in
            let parameters = queryDictionary(request)
            return try await download(request, name: "figures.csv") { _, visibility in
                try await figures(store: store, visibility: visibility, query: try FigureQuery(parameters: parameters), threshold: threshold).csv()
            }
        }
        router.get("follow-ups") { request, _ in
            try await page(request) { _, viewer, visibility in
                DashboardPages.followUps(
                    try await store.view(for: visibility) { db, scope in try CoordinationData.load(db, scope: scope) }, today: Brief.today(), viewer: viewer)
            }
        }
        router.get("follow-ups.csv") { request, _ in
            try await download(request, name: "follow-ups.csv") { _, visibility in
                try DashboardPages.followUpsCSV(
                    try await store.view(for: visibility) { db, scope in try CoordinationData.load(db, scope: scope) }, today: Brief.today())
            }
        }
        router.get("replicas") { request, _ in
            try await page(request) { token, viewer, visibility in
                let conflicts = try await store.view(for: visibility) { db, scope in try CoordinationData.load(db, scope: scope) }.conflicts
                // Who synced when is the operator's and coordinators' business.
                return DashboardPages.replicas(
                    token.role == .coordinator ? try replicaRows(store) : nil, conflicts: conflicts, threshold: threshold, viewer: viewer)
            }
        }
        router.get("replicas.csv") { request, _ in
            try await download(request, name: "replicas.csv") { token, _ in
                guard token.role == .coordinator else {
                    throw MufakatError(.forbidden, "the replicas list is for coordinators")
                }
                return try DashboardPages.replicasCSV(try replicaRows(store))
            }
        }
        router.get("brief") { request, _ in
            let month = request.uri.queryParameters.get("month")
            return try await page(request) { _, viewer, visibility in
                DashboardPages.brief(try await brief(store: store, visibility: visibility, month: month, threshold: threshold), viewer: viewer)
            }
        }
        router.get("brief.md") { request, _ in
            let month = request.uri.queryParameters.get("month")
            return try await download(request, name: "brief-\(month ?? "this-month").md", type: "text/markdown; charset=utf-8") { _, visibility in
                BriefRenderer.render(try await brief(store: store, visibility: visibility, month: month, threshold: threshold), format: .md)
            }
        }
        return router
    }

    static func figures(store: HubStore, visibility: Visibility, query: FigureQuery, threshold: Int64) async throws -> FigureTable {
        try await store.view(for: visibility) { db, scope in
            try FigureTable.load(
                db, scope: scope, query: query, threshold: threshold, names: try CoordinationData.organizationNames(db, scope: scope))
        }
    }

    static func brief(store: HubStore, visibility: Visibility, month: String?, threshold: Int64) async throws -> Brief {
        let today = Brief.today()
        return try await store.view(for: visibility) { db, scope in
            try Brief.load(db, scope: scope, month: month.flatMap { $0.isEmpty ? nil : $0 } ?? String(today.prefix(7)), today: today, threshold: threshold)
        }
    }

    static func replicaRows(_ store: HubStore) throws -> [DashboardPages.ReplicaRow] {
        let sequence = try store.sequence()
        return try store.replicas().map {
            DashboardPages.ReplicaRow(
                replica: $0.replica, name: $0.name, org: $0.org, client: $0.client, lastSeen: $0.lastSeen,
                behind: sequence > $0.served ? sequence - $0.served : 0)
        }
    }

    static func queryDictionary(_ request: Request) -> [String: String] {
        var parameters: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { parameters[String(key)] = String(value) }
        return parameters
    }

    /// Only a path of this dashboard: never another site (an open redirect). A browser drops
    /// tabs and line breaks from an address, so `/\t/host` would be `//host`: only plain URL
    /// characters are let through.
    static func safeNext(_ next: String?) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/?=&%+")
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), next.count <= 2_000, next.allSatisfy(allowed.contains) else {
            return "/positions"
        }
        return next
    }

    /// A sign-in posted from another site (login CSRF: signing a person in as someone else)
    /// is refused: the browser says where the form came from.
    static func crossSite(_ request: Request) -> Bool {
        if let site = request.headers[.init("Sec-Fetch-Site")!], site != "same-origin", site != "none" { return true }
        guard let origin = request.headers[.origin], origin != "null" else { return false }
        guard let host = request.head.authority else { return true }
        return URL(string: origin).map { url in "\(url.host ?? "")\(url.port.map { ":\($0)" } ?? "")" != host } ?? true
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var response = Response(status: status, body: .init(byteBuffer: ByteBuffer(string: text)))
        response.headers[.contentType] = "text/html; charset=utf-8"
        response.headers[.cacheControl] = "no-store"
        // Nothing but this page's own styles: no scripts, no framing.
        response.headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.init("Referrer-Policy")!] = "no-referrer"
        return response
    }

    static func text(_ text: String, type: String = "text/plain; charset=utf-8", status: HTTPResponse.Status = .ok) -> Response {
        var response = Response(status: status, body: .init(byteBuffer: ByteBuffer(string: text)))
        response.headers[.contentType] = type
        response.headers[.cacheControl] = "no-store"
        response.headers[.xContentTypeOptions] = "nosniff"
        return response
    }

    static func redirect(_ location: String) -> Response {
        var response = Response(status: .seeOther)
        response.headers[.location] = location
        response.headers[.cacheControl] = "no-store"
        return response
    }
}

struct SignInForm: Decodable {
    var token: String
    var next: String?
}

/// Signed-in browsers: a random session id (the cookie) → the token, until it expires.
/// Kept in memory: a hub restart signs everyone out, and no token secret is ever stored.
public final class Sessions: Sendable {
    private let sessions = Mutex<[String: (token: String, expires: ContinuousClock.Instant)]>([:])
    let lifetime: Duration

    public init(lifetime: Duration) {
        self.lifetime = lifetime
    }

    /// Most sessions a token holds at once (its oldest are signed out) and in all.
    static let perToken = 20
    static let most = 10_000

    func create(tokenID: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let id = (0..<4).map { _ in String(generator.next(), radix: 16) }.joined(separator: "-")
        sessions.withLock { sessions in
            let now = ContinuousClock.now
            sessions = sessions.filter { $0.value.expires > now }
            let own = sessions.filter { $0.value.token == tokenID }.sorted { $0.value.expires < $1.value.expires }
            for old in own.prefix(max(0, own.count - Self.perToken + 1)) { sessions.removeValue(forKey: old.key) }
            if sessions.count >= Self.most, let oldest = sessions.min(by: { $0.value.expires < $1.value.expires }) {
                sessions.removeValue(forKey: oldest.key)
            }
            sessions[id] = (tokenID, now + lifetime)
        }
        return id
    }

    func token(for id: String) -> String? {
        sessions.withLock { sessions in
            guard let session = sessions[id], session.expires > .now else { return nil }
            return session.token
        }
    }

    func remove(_ id: String) {
        _ = sessions.withLock { $0.removeValue(forKey: id) }
    }
}

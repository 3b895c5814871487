import MufakatStore
import MufakatWire
import NIOCore

extension HubSession {
    /// Checks the token of `hello`, after the wait the ``HelloThrottle`` sets for the
    /// peer's address; returns `nil` when the token is wrong (and counts the failure).
    ///
    /// A good token lifts the connection to the full frame limits: from here on the peer is
    /// someone the hub operator gave a token to.
    func authenticate(_ hello: Hello) async throws -> TokenInfo? {
        let address = peerAddress
        guard let wait = helloThrottle.admit(address) else {
            throw WireError(
                .unauthorized,
                "too many hellos with a wrong token from \(address); wait a few seconds and check the token")
        }
        if wait > .zero { try await Task.sleep(for: wait) }
        guard let token = try await store.authenticate(secret: hello.token) else {
            helloThrottle.failed(address)
            return nil
        }
        limits.authenticated()
        return token
    }
}

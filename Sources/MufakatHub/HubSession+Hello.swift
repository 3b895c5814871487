import MufakatStore
import MufakatWire
import NIOCore

extension HubSession {
    /// Checks the token of `hello`, after the wait the ``HelloThrottle`` sets for the
    /// peer's address; returns `nil` when the token is wrong (and counts the failure).
    ///
    /// A good token lifts the connection to the full frame limits: from here on the peer is
    /// someone the hub operator gave a token to.
    /// The hello's token, active or revoked (`revoked` set: refuse it, but log whose it
    /// was); `nil` for a token this hub never issued. A token that is not active slows the
    /// next hellos from the same address.
    func authenticate(_ hello: Hello) async throws -> TokenInfo? {
        let address = peerAddress
        guard let wait = helloThrottle.admit(address) else {
            throw WireError(
                .unauthorized,
                "too many hellos with a wrong token from \(address); wait a few seconds and check the token")
        }
        if wait > .zero { try await Task.sleep(for: wait) }
        let token = try await store.token(secret: hello.token)
        guard let token, token.revoked == nil else {
            helloThrottle.failed(address)
            return token
        }
        limits.authenticated()
        return token
    }
}

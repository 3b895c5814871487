import MufakatCore
import MufakatTLS
import MufakatWire
import NIOCore

/// A record's history as the hub told it.
public struct HubHistory: Sendable, Hashable {
    /// Whether the hub holds the record and this replica's token may receive it.
    public var found: Bool
    /// Entries left out: beyond the limit, or written while the record stayed in-house
    /// with another organisation.
    public var omitted: Int
    public var entries: [AuditEntry]
    /// The hub's software, from `welcome`.
    public var hubSoftware: String
}

extension SyncClient {
    /// Asks the hub for the audit history of one record (`hello`, `history`, `bye`): no push,
    /// no pull, nothing stored. Throws ``SyncError`` when the hub cannot be reached or keeps
    /// no history (a hub before 0.7).
    public func history(collection: String, id: String, limit: Int = 200) async throws -> HubHistory {
        let metadata = try await store.loadMetadata()
        let (host, port) = try Self.parse(hub: metadata.hub)
        let transport = try Self.transport(for: metadata)
        let check = HubKeyCheck(transport: transport, host: host)
        let connection: NIOAsyncChannel<Message, Message>
        do {
            connection = try await Self.connect(
                host: host, port: port, transport: transport, check: check, group: group, timeout: timeout, counts: ByteCounts())
        } catch let failure as HandshakeFailure {
            throw Self.describeHandshake(failure, check: check, hub: metadata.hub, timeout: timeout)
        } catch {
            throw SyncError(.unreachable, "cannot reach the hub at \(metadata.hub): \(Self.describe(error))")
        }
        let timeout = self.timeout
        return try await connection.executeThenClose { inbound, outbound in
            var messages = inbound.makeAsyncIterator()
            func receive() async throws -> Message {
                let message: Message?
                do {
                    message = try await messages.next()
                } catch {
                    throw Self.receiveFailure(error, timeout: timeout, advice: "")
                }
                switch message {
                case .error(let error) where error.code == .unknownType || error.code == .versionUnsupported:
                    throw SyncError(
                        .refused, "the hub keeps no history that this replica can ask for (a mufakat-hub before 0.7); ask its operator to upgrade it",
                        code: error.code.rawValue)
                case .error(let error):
                    throw SyncError.fromHub(error, hub: metadata.hub)
                case .none:
                    throw SyncError(.connectionLost, "the hub closed the connection")
                case .some(let message):
                    return message
                }
            }
            try await outbound.write(.hello(Hello(
                version: protocolVersion, replica: metadata.replica.rawValue, token: metadata.token,
                client: "\(clientName) (\(metadata.name))")))
            guard case .welcome(let welcome) = try await receive() else {
                throw SyncError(.protocolError, "the hub did not answer hello with welcome")
            }
            try await outbound.write(.history(HistoryRequest(collection: collection, id: id, limit: limit)))
            guard case .recordHistory(let answer, let entries) = try await receive() else {
                throw SyncError(.protocolError, "the hub did not answer history with record-history")
            }
            try? await outbound.write(.bye)
            return HubHistory(found: answer.found, omitted: answer.omitted, entries: entries, hubSoftware: welcome.software ?? "")
        }
    }
}

import MufakatCore
import MufakatHub
import MufakatWire
import Testing

@Suite("Hub session state machine")
struct SessionStateMachineTests {
    let hello = Message.hello(Hello(replica: "r1", token: "t", client: "c"))
    let peer = HubSessionStateMachine.Peer(replica: try! ReplicaID("r1"), tokenID: "tok", name: "Andi")

    @Test("hello first, then push, pull and ping in any order, bye closes")
    func happyPath() throws {
        var machine = HubSessionStateMachine(pullLimit: 500)
        guard case .authenticate(_, let replica) = machine.received(hello) else { Issue.record("no authenticate"); return }
        #expect(replica.rawValue == "r1")
        machine.authenticated(peer)
        #expect(machine.state == .active(peer))
        #expect(machine.received(.pull(Pull(since: 3, limit: 10_000))) == .servePull(since: 3, limit: 500, peer))
        #expect(machine.received(.push(Push(through: 1, id: "p1", after: "", counter: 1), records: [])) == .applyPush(Push(through: 1, id: "p1", after: "", counter: 1), [], peer))
        #expect(machine.received(.ping(Ping(nonce: 4))) == .pong(Ping(nonce: 4)))
        #expect(machine.received(.bye) == .close)
        #expect(machine.state == .closed)
        #expect(machine.received(.ping(Ping(nonce: 5))) == .close)
    }

    @Test("messages out of place are protocol errors", arguments: [
        Message.push(Push(through: 1, id: "p1", after: "", counter: 1), records: []), .pull(Pull(since: 0, limit: 1)),
        .welcome(Welcome(hub: "h", seq: 0, counter: 0, limits: .default)),
    ])
    func beforeHello(_ message: Message) {
        var machine = HubSessionStateMachine()
        guard case .fail(let error) = machine.received(message) else { Issue.record("accepted \(message)"); return }
        #expect(error.code == .unexpectedMessage)
        #expect(machine.state == .closed)
    }

    @Test("a ping before hello is answered (health checks) and the session still waits for hello")
    func pingBeforeHello() {
        var machine = HubSessionStateMachine()
        #expect(machine.received(.ping(Ping(nonce: 9))) == .pong(Ping(nonce: 9)))
        #expect(machine.state == .awaitingHello)
        guard case .fail(let error) = machine.received(.pull(Pull(since: 0, limit: 1))) else {
            Issue.record("pull accepted before hello")
            return
        }
        #expect(error.code == .unexpectedMessage)
    }

    @Test("version, replica id and pull limit are checked")
    func checks() {
        var machine = HubSessionStateMachine()
        guard case .fail(let version) = machine.received(.hello(Hello(version: 1, replica: "r1", token: "t", client: ""))) else {
            Issue.record("accepted version 1"); return
        }
        #expect(version.message.contains("this hub speaks 2"))
        #expect(version.code == .versionUnsupported)
        var second = HubSessionStateMachine()
        guard case .fail(let badID) = second.received(.hello(Hello(replica: "Not Valid", token: "t", client: ""))) else {
            Issue.record("accepted bad id"); return
        }
        #expect(badID.code == .badField)
        var third = HubSessionStateMachine()
        _ = third.received(hello)
        third.authenticated(peer)
        guard case .fail(let limit) = third.received(.pull(Pull(since: 0, limit: 0))) else { Issue.record("accepted limit 0"); return }
        #expect(limit.code == .badField)
        var fourth = HubSessionStateMachine()
        _ = fourth.received(hello)
        fourth.authenticated(peer)
        guard case .fail(let again) = fourth.received(hello) else { Issue.record("accepted second hello"); return }
        #expect(again.code == .unexpectedMessage)
    }
}

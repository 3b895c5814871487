import Foundation
import MufakatTesting
import NIOCore
import NIOPosix
import Synchronization

/// A TCP proxy that breaks connections on purpose, for fault-injection tests:
///
///     mufakat-faultproxy --upstream 127.0.0.1:7420 --seed 7 --port-file proxy.port --stats proxy.stats
///
/// For each connection it draws, from the seed, whether to pass it through untouched, to cut
/// it (close, or reset with RST) after a random number of bytes in either direction, and how
/// long to delay each chunk. Every fault is counted in the stats file, one `key=value` per
/// line, rewritten after each connection. Point replicas at the proxy's port instead of the
/// hub's to see that a sync cut anywhere loses nothing and is completed by the next one.
@main
final class FaultProxy: Sendable {
    struct Options {
        var listenPort = 0
        var upstreamHost = "127.0.0.1"
        var upstreamPort = 7420
        var seed: UInt64 = 1
        /// Share of connections that get cut.
        var cutRate = 0.6
        /// Cuts happen within the first this-many bytes of a direction.
        var cutWithin = 200_000
        var maxDelayMilliseconds = 20
        var portFile: String?
        var statsFile: String?
    }

    static func main() async throws {
        let options = try parse(Array(CommandLine.arguments.dropFirst()))
        let proxy = FaultProxy(options: options)
        try await proxy.run()
    }

    static func parse(_ arguments: [String]) throws -> Options {
        var options = Options()
        var index = 0
        func value() throws -> String {
            index += 1
            guard index < arguments.count else { throw UsageError("\(arguments[index - 1]) needs a value") }
            return arguments[index]
        }
        while index < arguments.count {
            switch arguments[index] {
            case "--listen-port": options.listenPort = Int(try value()) ?? -1
            case "--upstream":
                let address = try value()
                guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
                    throw UsageError("--upstream takes HOST:PORT")
                }
                options.upstreamHost = String(address[..<colon])
                options.upstreamPort = port
            case "--seed": options.seed = UInt64(try value()) ?? 1
            case "--cut-rate": options.cutRate = Double(try value()) ?? 0.6
            case "--cut-within": options.cutWithin = Int(try value()) ?? 200_000
            case "--max-delay-ms": options.maxDelayMilliseconds = Int(try value()) ?? 20
            case "--port-file": options.portFile = try value()
            case "--stats": options.statsFile = try value()
            default:
                throw UsageError("unknown option \(arguments[index]); options: --listen-port, --upstream HOST:PORT, --seed N, --cut-rate R, --cut-within BYTES, --max-delay-ms MS, --port-file FILE, --stats FILE")
            }
            index += 1
        }
        return options
    }

    struct UsageError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// What happens to one connection.
    struct Plan: Sendable {
        enum Fault: String, Sendable { case none, close, reset }
        var fault: Fault
        /// Direction to cut: true = client→hub.
        var upstream: Bool
        var cutAfter: Int
        var delays: [Int]
    }

    let options: Options
    let random: Mutex<SplitMix64>
    let stats = Mutex<[String: Int]>([:])

    init(options: Options) {
        self.options = options
        random = Mutex(SplitMix64(seed: options.seed))
    }

    func nextPlan() -> Plan {
        random.withLock { rng in
            let roll = Double(rng.next() % 10_000) / 10_000
            let fault: Plan.Fault = roll < options.cutRate ? (rng.next() % 3 == 0 ? .reset : .close) : .none
            return Plan(
                fault: fault, upstream: rng.next() % 2 == 0, cutAfter: Int(rng.next() % UInt64(max(options.cutWithin, 1))),
                delays: (0..<8).map { _ in Int(rng.next() % UInt64(options.maxDelayMilliseconds + 1)) })
        }
    }

    func count(_ key: String) {
        let snapshot = stats.withLock { stats -> [String: Int] in
            stats[key, default: 0] += 1
            return stats
        }
        if let file = options.statsFile {
            let text = snapshot.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n") + "\n"
            try? text.write(toFile: file, atomically: true, encoding: .utf8)
        }
    }

    func run() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: options.listenPort) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let port = server.channel.localAddress?.port ?? 0
        if let file = options.portFile { try "\(port)\n".write(toFile: file, atomically: true, encoding: .utf8) }
        print("fault proxy on 127.0.0.1:\(port) → \(options.upstreamHost):\(options.upstreamPort), seed \(options.seed)")
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { inbound in
                for try await client in inbound {
                    let plan = nextPlan()
                    group.addTask { await self.handle(client, plan) }
                }
            }
        }
    }

    func handle(_ client: NIOAsyncChannel<ByteBuffer, ByteBuffer>, _ plan: Plan) async {
        count("connections")
        let upstream: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            upstream = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: options.upstreamHost, port: options.upstreamPort) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            count("upstream-unreachable")
            try? await client.channel.close()
            return
        }
        let breaker = Breaker(clientChannel: client.channel, upstreamChannel: upstream.channel, reset: plan.fault == .reset) {
            self.count(plan.fault == .reset ? "resets" : "cuts")
        }
        do {
            try await client.executeThenClose { clientIn, clientOut in
                try await upstream.executeThenClose { upstreamIn, upstreamOut in
                    async let toHub: Void = self.relay(
                        clientIn, to: upstreamOut, cutting: plan.fault != .none && plan.upstream, plan, breaker)
                    async let toClient: Void = self.relay(
                        upstreamIn, to: clientOut, cutting: plan.fault != .none && !plan.upstream, plan, breaker)
                    _ = try await (toHub, toClient)
                }
            }
        } catch {}
        if !breaker.broken { count("passed") }
    }

    /// Breaks a proxied connection once: FIN, or RST when `reset`.
    final class Breaker: Sendable {
        let clientChannel: any Channel
        let upstreamChannel: any Channel
        let reset: Bool
        let onBreak: @Sendable () -> Void
        private let done = Atomic<Bool>(false)

        init(clientChannel: any Channel, upstreamChannel: any Channel, reset: Bool, onBreak: @escaping @Sendable () -> Void) {
            self.clientChannel = clientChannel
            self.upstreamChannel = upstreamChannel
            self.reset = reset
            self.onBreak = onBreak
        }

        var broken: Bool { done.load(ordering: .relaxed) }

        func breakConnection() async {
            guard done.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
            onBreak()
            if reset {
                // SO_LINGER 0 makes close send RST instead of FIN: the peer sees "connection reset".
                for channel in [clientChannel, upstreamChannel] {
                    if let provider = channel as? any SocketOptionProvider {
                        _ = try? await provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
                    }
                }
            }
            clientChannel.close(promise: nil)
            upstreamChannel.close(promise: nil)
        }
    }

    func relay(
        _ input: NIOAsyncChannelInboundStream<ByteBuffer>, to output: NIOAsyncChannelOutboundWriter<ByteBuffer>,
        cutting: Bool, _ plan: Plan, _ breaker: Breaker
    ) async throws {
        var sent = 0
        var chunkIndex = 0
        for try await var chunk in input {
            let delay = plan.delays[chunkIndex % plan.delays.count]
            chunkIndex += 1
            if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
            if cutting, sent + chunk.readableBytes > plan.cutAfter {
                if let head = chunk.readSlice(length: plan.cutAfter - sent), head.readableBytes > 0 {
                    try await output.write(head)
                }
                await breaker.breakConnection()
                return
            }
            sent += chunk.readableBytes
            try await output.write(chunk)
        }
        output.finish()
    }
}

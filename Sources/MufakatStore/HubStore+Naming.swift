import Crypto
import Foundation
import GRDB
import MufakatCore
import MufakatSync

/// One run of the hub (protocol 5): the actor whose dots it issues.
///
/// Every hub start takes a new one, so a hub restored from any backup — with or without its
/// write-ahead log — never issues a dot it issued before: the lost future's dots belong to an
/// actor the restored file never heard of.
public struct HubIncarnation: Sendable, Hashable {
    public var actor: ReplicaID
    /// The hub sequence when it began: the changes it numbers come after it.
    public var fromSequence: UInt64
    /// The last counter it issued (0: none yet).
    public var counter: UInt64
    public var started: Int64
}

extension PushedWrite {
    public var key: RecordKey { RecordKey(collection: collection, id: id) }
}

/// The name the hub gave a pushed write.
public struct WriteName: Sendable, Hashable {
    public var dot: Dot
    /// The hub's clock when it named the write.
    public var time: Int64
    /// Who wrote it, as the hub stamps it from the token: `name (organization)`.
    public var author: String
    /// The dots the write was applied over for its `after` writes (named before, or reserved
    /// as seen now), in the order of `after`. Empty for a write named earlier.
    public var over: [Dot]
    /// Named by an earlier push, or reserved as seen by a later write: nothing changed now.
    public var earlier: Bool
    /// The pusher's named state of the record was the hub's just before this write: it may
    /// apply the write itself (``RecordState/applyingNamed(_:seen:over:dot:time:author:)``)
    /// and holds the hub's state, so the feed need not send the record back.
    public var exact: Bool
    /// When ``exact``: the hub's voucher for the state after this write, which the pusher
    /// now holds (docs/write-naming.md §6).
    public var voucher: String? = nil
}

/// What the hub did with one pushed write.
public enum NamingResult: Sendable, Hashable {
    case named(WriteName)
    case refused(RecordRejection)
}

extension HubStore {
    /// Starts a new incarnation: call once at every hub start, before naming any write.
    @discardableResult
    public func startIncarnation() throws -> HubIncarnation {
        try writer.write { [clock] db in
            var actor = ReplicaID.random()
            while try Self.knownCounter(db, actor) != nil { actor = ReplicaID.random() }
            let incarnation = HubIncarnation(actor: actor, fromSequence: try Self.sequence(db), counter: 0, started: clock())
            try db.execute(
                cached: "INSERT INTO incarnations (actor, from_seq, counter, started) VALUES (?, ?, 0, ?)",
                arguments: [actor.rawValue, Int64(bitPattern: incarnation.fromSequence), incarnation.started])
            return incarnation
        }
    }

    /// Every incarnation this hub file remembers, oldest first.
    public func incarnations() throws -> [HubIncarnation] {
        try writer.read { db in
            try Row.fetchAll(db, cached: "SELECT actor, from_seq, counter, started FROM incarnations ORDER BY from_seq, started, actor").map { row in
                HubIncarnation(
                    actor: try ReplicaID(row["actor"]), fromSequence: UInt64(bitPattern: row["from_seq"]),
                    counter: UInt64(bitPattern: row["counter"]), started: row["started"])
            }
        }
    }

    /// The highest counter this hub holds for `actor`: an incarnation's last issued counter,
    /// or, for a laptop's id from before 0.8, the highest counter of it the hub accepted.
    /// `nil` for an actor it never heard of.
    static func knownCounter(_ db: Database, _ actor: ReplicaID) throws -> UInt64? {
        // A run's own counter, what relays brought back of it or of a run this file lost,
        // and a pre-0.8 laptop id's ledger counter: the most any of them says.
        let counters = try Int64.fetchAll(db, cached: """
            SELECT counter FROM incarnations WHERE actor = ?1
            UNION ALL SELECT counter FROM held WHERE actor = ?1
            UNION ALL SELECT counter FROM ledger WHERE replica = ?1
            """, arguments: [actor.rawValue])
        return counters.map { UInt64(bitPattern: $0) }.max()
    }

    /// Notes that the hub now holds dots up to the counters of `context` (a relayed
    /// state's), for actors it did not issue them under in this file — a run the file was
    /// restored past: what ``knownCounter(_:_:)`` and `welcome` report.
    static func noteHeld(_ db: Database, _ context: VersionVector) throws {
        for (actor, counter) in context.counters where counter > (try knownCounter(db, actor) ?? 0) {
            try db.execute(
                cached: "INSERT INTO held (actor, counter) VALUES (?, ?) ON CONFLICT (actor) DO UPDATE SET counter = max(counter, excluded.counter)",
                arguments: [actor.rawValue, Int64(bitPattern: min(counter, Counters.maxCounter))])
        }
    }

    /// What `welcome` tells a protocol 5 replica (§13.2): every run of this hub file,
    /// oldest first, and the highest counter held for every actor — runs, actors taken back
    /// by relay, and replica ids from before protocol 5.
    ///
    /// For a run of this file `held` is what the run named in this file, even when relays
    /// brought back later writes of it; a run the file lost is not listed. A relay of one
    /// record holding a later write proves nothing about another record's earlier one, so
    /// laptops are told to send back everything beyond what the file itself holds (once per
    /// run). Replica ids of protocol 4 and older keep the highest counter held.
    public func namingView() async throws -> (incarnations: [HubIncarnation], held: [String: UInt64]) {
        let incarnations = try incarnations()
        var held = try await writer.read { db in
            var held: [String: UInt64] = [:]
            for row in try Row.fetchAll(db, cached: "SELECT replica AS actor, counter FROM ledger") {
                let counter = UInt64(bitPattern: row["counter"] as Int64)
                guard counter > 0 else { continue }
                held[row["actor"], default: 0] = max(held[row["actor"], default: 0], counter)
            }
            return held
        }
        for incarnation in incarnations {
            held[incarnation.actor.rawValue] = incarnation.counter
        }
        return (incarnations, held)
    }

    /// Names pushed writes, in order, in one transaction synced to disk before it returns
    /// (docs/write-naming.md §3). `incarnation` is the actor this process started with;
    /// `replica` the pushing session's replica id (its token decides the rights and the
    /// stamp); `push` the push's id, remembered as the origin of records the pusher holds
    /// exactly.
    ///
    /// A refused write changes nothing and does not stop the rest. A write id named before
    /// is answered with the same dot and changes nothing — so a write pushed twice, by
    /// whatever copy, is stored once.
    public func nameWrites(
        _ writes: [PushedWrite], incarnation actor: ReplicaID, replica: String, push: String
    ) async throws -> [NamingResult] {
        try await writer.write { [clock] db in
            guard let issued = try Int64.fetchOne(db, cached: "SELECT counter FROM incarnations WHERE actor = ?", arguments: [actor.rawValue]) else {
                throw MufakatError(.invalid, "hub incarnation \(actor) is not in this hub file; a hub names writes only under the incarnation it started with")
            }
            var naming = Naming(
                db: db, voucherKey: try Self.voucherKey(db), actor: actor, counter: UInt64(bitPattern: issued), sequence: try Self.sequence(db),
                token: try Self.token(db, replica: replica), replica: replica, origin: "push:" + push, now: clock())
            var results: [NamingResult] = []
            for pushed in writes { results.append(try naming.name(pushed)) }
            try db.execute(
                cached: "UPDATE incarnations SET counter = ? WHERE actor = ?", arguments: [Int64(bitPattern: naming.counter), actor.rawValue])
            try db.execute(cached: "UPDATE meta SET value = ? WHERE key = 'seq'", arguments: [String(naming.sequence)])
            try db.execute(cached: "UPDATE replicas SET last_seen = ? WHERE replica = ?", arguments: [naming.now, replica])
            return results
        }
    }

    /// The dot a write id was named with, and its record; `nil` when the hub never saw it.
    public func writeName(_ id: WriteID) throws -> (dot: Dot, key: RecordKey, reserved: Bool)? {
        try writer.read { db in
            try Row.fetchOne(
                db, cached: "SELECT actor, counter, collection, id, entered_at FROM writes WHERE tag = ?", arguments: [id.tag]
            ).map { row in
                (Dot(replica: try ReplicaID(row["actor"]), counter: UInt64(bitPattern: row["counter"])),
                 RecordKey(collection: row["collection"], id: row["id"]), (row["entered_at"] as Int64?) == nil)
            }
        }
    }
}

/// One push being named, inside its transaction.
private struct Naming {
    let db: Database
    let voucherKey: SymmetricKey
    let actor: ReplicaID
    var counter: UInt64
    var sequence: UInt64
    let token: TokenInfo?
    let replica: String
    let origin: String
    let now: Int64
    /// Per record, the context the pusher's named state has reached if every write of it in
    /// this push so far was exact; a record missing here has had none yet.
    var followed: [RecordKey: VersionVector?] = [:]
    /// Write ids refused in this batch: a later write that follows one is refused too, so a
    /// refused write is never reserved away by the write made on top of it (PROTOCOL.md §13.3).
    var refusedIDs: Set<WriteID> = []
    /// `after` ids looked up, and reserved, in this batch so far.
    var lookups = 0
    var reservations = 0

    init(
        db: Database, voucherKey: SymmetricKey, actor: ReplicaID, counter: UInt64, sequence: UInt64, token: TokenInfo?, replica: String,
        origin: String, now: Int64
    ) {
        self.db = db
        self.voucherKey = voucherKey
        self.actor = actor
        self.counter = counter
        self.sequence = sequence
        self.token = token
        self.replica = replica
        self.origin = origin
        self.now = now
    }

    /// Most earlier writes one write may follow: each may cost a reservation, and a laptop
    /// that syncs at all never holds this many pending writes of one record.
    static let maxAfter = 1_000
    /// Most `after` ids one batch may make the hub look up, and reserve: a laptop's batch of
    /// a thousand writes follows a few earlier ones each, and reserves only writes refused or
    /// discarded; a frame of compressed made-up ids must not hold the hub for minutes.
    static let maxLookupsPerBatch = 50_000
    static let maxReservationsPerBatch = 10_000

    /// `name (organisation)`, or the token's name alone when it ends with its organisation
    /// in brackets already ("Sari (UNICEF)" for unicef).
    var author: String {
        guard let token else { return "hub" }
        return HubStore.authorStamp(token)
    }

    mutating func name(_ pushed: PushedWrite) throws -> NamingResult {
        let result = try nameOne(pushed)
        if case .refused = result { refusedIDs.insert(pushed.write.id) }
        return result
    }

    mutating func nameOne(_ pushed: PushedWrite) throws -> NamingResult {
        let write = pushed.write
        guard let schema = try? Catalogue.collection(named: pushed.collection), schema.name == pushed.collection else {
            return .refused(RecordRejection(
                .invalid, "unknown collection; the collections are \(Catalogue.collectionNames.joined(separator: ", "))"))
        }
        if RecordIDs.problem(with: pushed.id) != nil {
            return .refused(RecordRejection(.invalid, "the id is not valid: 1 to \(RecordIDs.maxLength) letters, digits and - _ . : + @"))
        }
        guard !write.values.isEmpty else {
            return .refused(RecordRejection(.invalid, "the write names no field; a write writes at least one"))
        }
        guard write.after.count <= Self.maxAfter else {
            return .refused(RecordRejection(
                .invalid, "the write follows \(write.after.count) earlier writes; at most \(Self.maxAfter) (sync more often)"))
        }
        guard (1...PushRules.maxAuthorBytes).contains(write.author.utf8.count) else {
            return .refused(RecordRejection(.invalid, "the typed author is empty or longer than \(PushRules.maxAuthorBytes) bytes"))
        }
        // A context names only writes the hub issued: claiming more would hide them as seen
        // the day they arrive (relayed to a restored hub, or issued later).
        for (claimed, count) in write.context.counters where count > (try HubStore.knownCounter(db, claimed) ?? 0) {
            return .refused(RecordRejection(
                .counterBeyond, "the context names writes of \(claimed) up to \(count), beyond what this hub issued or holds"))
        }
        let digest = Self.digest(write.values)
        if let earlier = try Row.fetchOne(
            db, cached: "SELECT actor, counter, collection, id, time, author, digest FROM writes WHERE tag = ?", arguments: [write.id.tag])
        {
            guard earlier["collection"] as String == pushed.collection, earlier["id"] as String == pushed.id else {
                return .refused(RecordRejection(.corruption, "the write id names a write of another record"))
            }
            if let known: String = earlier["digest"], known != digest {
                return .refused(RecordRejection(.corruption, "the write id names a write with other values"))
            }
            return .named(WriteName(
                dot: Dot(replica: try ReplicaID(earlier["actor"]), counter: UInt64(bitPattern: earlier["counter"])),
                time: earlier["time"], author: earlier["author"], over: [], earlier: true, exact: false))
        }

        if let refused = write.after.first(where: { refusedIDs.contains($0) }) {
            return .refused(RecordRejection(
                .invalid,
                "the write follows write \(refused.tag) of this record, which the hub refused: settle that one first (correct what was refused, or 'mufakat discard')"))
        }
        guard lookups + write.after.count <= Self.maxLookupsPerBatch else {
            return .refused(RecordRejection(
                .invalid, "the batch's writes follow more than \(Self.maxLookupsPerBatch) earlier writes in all; send fewer writes per batch"))
        }
        lookups += write.after.count
        // The write's `after`: each id the dot it was named with, or a dot reserved now.
        var over: [Dot] = []
        var reserve: [(WriteID, Dot)] = []
        var next = counter
        for earlier in write.after {
            guard earlier != write.id else {
                return .refused(RecordRejection(.invalid, "the write names itself among the writes it follows"))
            }
            if let row = try Row.fetchOne(db, cached: "SELECT actor, counter, collection, id FROM writes WHERE tag = ?", arguments: [earlier.tag]) {
                guard row["collection"] as String == pushed.collection, row["id"] as String == pushed.id else {
                    return .refused(RecordRejection(.corruption, "the write follows a write id that names a write of another record"))
                }
                over.append(Dot(replica: try ReplicaID(row["actor"]), counter: UInt64(bitPattern: row["counter"])))
            } else if let reserved = reserve.first(where: { $0.0 == earlier }) {
                over.append(reserved.1)
            } else {
                guard reservations + reserve.count < Self.maxReservationsPerBatch else {
                    return .refused(RecordRejection(
                        .invalid, "the batch follows more than \(Self.maxReservationsPerBatch) writes the hub never received; send fewer writes per batch"))
                }
                next += 1
                let dot = Dot(replica: actor, counter: next)
                reserve.append((earlier, dot))
                over.append(dot)
            }
        }
        next += 1
        let dot = Dot(replica: actor, counter: next)

        var stored = try db.fetchState(collection: pushed.collection, id: pushed.id)
        let keepsInHouse = schema.inHouse != nil
        let inHouseBefore = stored == nil || !keepsInHouse ? nil : try HubStore.inHouse(db, collection: pushed.collection, id: pushed.id)
        // A record kept in-house by another organisation is, to this pusher, one the hub does
        // not hold: judged as new, and never written from here.
        let visibility = token.map { Visibility($0.writer) } ?? .everything
        let hidden = stored != nil && !visibility.admits(inHouseBefore)
        if hidden { stored = nil }
        let state: RecordState
        do {
            state = try (stored ?? RecordState()).applyingNamed(
                write.values, seen: write.context, over: Set(over), dot: dot, time: now, author: author)
        } catch {
            // The record claims a dot this run never issued: a broken or forged state. Refuse
            // the write, not the batch, and spend no counter.
            return .refused(RecordRejection(.corruption, "the record already claims write \(dot) of this hub's run, which the hub never issued: \(error.message)"))
        }
        if let refusal = refusal(schema: schema, pushed: pushed, stored: stored, state: state, hidden: hidden) {
            return .refused(refusal)
        }

        // Stored: the counter moves on, reservations and the write are remembered.
        counter = next
        reservations += reserve.count
        let key = pushed.key
        let before = followed[key] ?? write.context
        let exact = !hidden && before != nil && (stored?.context ?? VersionVector()) == before
        followed[key] = exact ? state.context : .some(nil)
        sequence += 1
        try db.saveRecord(collection: pushed.collection, id: pushed.id, state: state, seq: sequence, origin: exact ? origin : nil)
        let record = ReplicatedRecord(collection: pushed.collection, id: pushed.id, state: state)
        let inHouse = try HubStore.storeInHouse(db, record: record, stored: stored, merged: state, current: inHouseBefore)
        try HubStore.appendAudit(
            db, seq: sequence, token: token, replica: replica, collection: pushed.collection, id: pushed.id, inHouse: inHouse,
            inHouseBefore: inHouseBefore, before: stored, after: state, time: now)
        let insert = try db.cachedStatement(sql: """
            INSERT INTO writes (tag, actor, counter, collection, id, token, author, time, entered_at, entered_by, digest)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for (id, reserved) in reserve {
            try insert.execute(arguments: [
                id.tag, actor.rawValue, Int64(bitPattern: reserved.counter), pushed.collection, pushed.id, token?.id ?? "",
                author, now, nil, nil, nil,
            ])
        }
        try insert.execute(arguments: [
            write.id.tag, actor.rawValue, Int64(bitPattern: dot.counter), pushed.collection, pushed.id, token?.id ?? "", author,
            now, write.enteredAt, write.author, digest,
        ])
        // The record's tags gain this write's (PROTOCOL.md §13.5); the voucher covers them.
        var tags = hidden ? [:] : try HubStore.tags(db, collection: pushed.collection, id: pushed.id)
        tags[dot] = write.id.tag
        tags = RecordTags.pruned(tags, to: state)
        try HubStore.saveTags(db, collection: pushed.collection, id: pushed.id, tags)
        let voucher = exact
            ? HubStore.voucher(
                key: voucherKey, collection: pushed.collection, id: pushed.id, stateJSON: state.compactJSON, tagsJSON: RecordTags.json(tags))
            : nil
        return .named(WriteName(dot: dot, time: now, author: author, over: over, earlier: false, exact: exact, voucher: voucher))
    }

    /// Why the hub refuses to store `state`, the record after the write; `nil` when it may.
    func refusal(schema: CollectionSchema, pushed: PushedWrite, stored: RecordState?, state: RecordState, hidden: Bool) -> RecordRejection? {
        // Values are checked where the write brings them; the rest was checked when it came.
        let problems = schema.problems(in: state, newerThan: stored?.context ?? VersionVector())
        if !problems.isEmpty { return RecordRejection(values: problems, collection: schema.name) }
        if let token, let refusal = WriteRights.refusal(
            writer: token.writer, schema: schema, id: pushed.id, before: stored, after: state,
            writeContext: pushed.write.context,
            organizationTypes: { (try? HubStore.organizationTypes(db, $0)) ?? [] })
        {
            return RecordRejection(refusal)
        }
        if hidden { return RecordRejection(.forbidden, "the token's organization may not write this record") }
        if let rejection = CatalogueRules.check(
            ReplicatedRecord(collection: pushed.collection, id: pushed.id, state: state), stored: stored, merged: state)
        {
            return rejection
        }
        guard state.canonicalJSON.utf8.count <= PushRules.maxRecordBytes else {
            return RecordRejection(.invalid, "the record would grow past \(PushRules.maxRecordBytes) bytes; resolve its conflicts first")
        }
        return nil
    }

    /// SHA-256 of the write's values in canonical JSON: one write id, one set of values.
    static func digest(_ values: [String: FieldValue]) -> String {
        SHA256.hash(data: Array(CanonicalJSON.document(values).utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

extension HubStore {
    /// The author the hub stamps on a token's writes: `name (organisation)`, or the name
    /// alone when it ends with its organisation in brackets already.
    static func authorStamp(_ token: TokenInfo) -> String {
        let suffix = "(\(token.org))"
        return token.name.lowercased().hasSuffix(suffix.lowercased()) ? token.name : "\(token.name) \(suffix)"
    }
}

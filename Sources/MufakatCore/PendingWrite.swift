/// A write made on a laptop that the hub has not named yet (protocol 5).
///
/// It carries what it had seen when it was made, so the hub can apply it later — after
/// other writes, after a restore, from a copy of the folder — replacing exactly what it
/// replaced on the laptop and nothing else:
///
/// - ``context``: the record's named state's context (writes the hub named) as the laptop
///   held it;
/// - ``after``: the record's earlier pending writes on this laptop. The hub treats each as
///   seen whether or not it ever received it, so a later write on the same laptop
///   supersedes an earlier one only through this list — never because a counter happens to
///   be higher.
///
/// The laptop's clock and typed name travel as ``enteredAt`` and ``author``: shown until the
/// hub names the write, then kept by the hub as "entered on the laptop at", never used by a
/// rule.
public struct PendingWrite: Hashable, Sendable {
    public var id: WriteID
    public var values: [String: FieldValue]
    public var context: VersionVector
    public var after: [WriteID]
    /// The laptop's wall clock, in milliseconds, when the write was made.
    public var enteredAt: Int64
    /// The name the laptop's user gave.
    public var author: String

    public init(
        id: WriteID, values: [String: FieldValue], context: VersionVector, after: [WriteID] = [], enteredAt: Int64,
        author: String
    ) {
        self.id = id
        self.values = values
        self.context = context
        self.after = after
        self.enteredAt = enteredAt
        self.author = author
    }
}

extension RecordState {
    /// What a person sees on the laptop: this named state with the record's pending writes
    /// laid over it, oldest first.
    ///
    /// Each pending write replaces, in the fields it writes, the entries it had seen (dots
    /// in its context, and its ``PendingWrite/after`` writes — under their local dot, or
    /// under the dot the hub gave them, found in `named`). An entry it had not seen stays
    /// beside it, so a colleague's write pulled since, or a restored laptop's own lost
    /// future, shows as a conflict here exactly as it will on the hub. Pending entries carry
    /// their ``WriteID/localDot``; the result is for display and for making the next write,
    /// never for merging or sending.
    public func overlaying(_ pending: [PendingWrite], named: [WriteID: Dot] = [:]) -> RecordState {
        var state = self
        for write in pending {
            var seen = Set(write.after.map(\.localDot))
            for earlier in write.after { if let dot = named[earlier] { seen.insert(dot) } }
            state.replace(write.values, dot: write.id.localDot, time: write.enteredAt, author: write.author) {
                write.context.contains($0) || seen.contains($0)
            }
        }
        return state
    }

    /// The state after the hub names a pending write `dot`, stamped with the hub's `time`
    /// and `author`.
    ///
    /// In each field the write names, the entries it had seen go — dots in `context` (the
    /// named context it was made on) or in `over` (the dots the hub gave, or reserved for,
    /// its ``PendingWrite/after`` writes) — and its entry comes. The context gains `dot`
    /// and `over`, never `context`: a pushed context may name writes a restored hub lost,
    /// and claiming them here would hide them for good when a laptop relays them back.
    ///
    /// The hub applies it to the state it stores; a laptop whose named state was the hub's
    /// applies it to its own and gets the same state, byte for byte.
    ///
    /// - Throws: ``MufakatError/Code/staleDot`` when the record has already seen `dot`: a
    ///   hub incarnation never issues a counter twice, so this is a broken store.
    public func applyingNamed(
        _ values: [String: FieldValue], seen context: VersionVector, over: Set<Dot>, dot: Dot, time: Int64, author: String
    ) throws(MufakatError) -> RecordState {
        guard !self.context.contains(dot) else {
            throw MufakatError(
                .staleDot, "write \(dot) is not newer than what this record has seen (\(self.context[dot.replica]))",
                value: dot.description)
        }
        var state = self
        state.replace(values, dot: dot, time: time, author: author) { context.contains($0) || over.contains($0) }
        for seen in over where !state.context.contains(seen) { state.context[seen.replica] = seen.counter }
        return state
    }

    /// This state without the entries written under `dot`; the context keeps it (seen).
    public func droppingEntries(of dot: Dot) throws(MufakatError) -> RecordState {
        var fields = self.fields
        for (name, entries) in fields {
            let kept = entries.filter { $0.dot != dot }
            fields[name] = kept.isEmpty ? nil : kept
        }
        return try RecordState(context: context, fields: fields)
    }

    /// Writes `values` as one write named `dot`: in each field, the entries `seen` says the
    /// write had seen are replaced by its entry; the others stay beside it.
    mutating func replace(
        _ values: [String: FieldValue], dot: Dot, time: Int64, author: String, seen: (Dot) -> Bool
    ) {
        let entry = { (value: FieldValue) in FieldEntry(dot: dot, value: value, time: time, author: author) }
        for (name, value) in values {
            var kept = (fields[name] ?? []).filter { !seen($0.dot) && $0.dot != dot }
            kept.append(entry(value))
            kept.sort { $0.dot < $1.dot }
            fields[name] = kept
        }
        if context[dot.replica] < dot.counter { context[dot.replica] = dot.counter }
    }
}

/// A pending write as a `write` message carries it (protocol 5, PROTOCOL.md §13): its
/// record and the write.
///
/// One line of JSON, keys sorted:
///
/// ```json
/// {"after":[],"author":"Andi","collection":"meetings","context":{"h-6f1c":4},"entered":1764390000000,"id":"m-1","values":{"decisions":"X1"},"write":"6f1c…e2a9-1"}
/// ```
public struct PushedWrite: Sendable, Hashable {
    public var collection: String
    public var id: String
    public var write: PendingWrite

    public init(collection: String, id: String, write: PendingWrite) {
        self.collection = collection
        self.id = id
        self.write = write
    }

    /// The write's line (no trailing newline).
    public var line: String {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        CanonicalJSON.appendLiteral("{\"after\":[", to: &output)
        for (index, earlier) in write.after.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            CanonicalJSON.appendString(earlier.rawValue, to: &output)
        }
        CanonicalJSON.appendLiteral("],\"author\":", to: &output)
        CanonicalJSON.appendString(write.author, to: &output)
        CanonicalJSON.appendLiteral(",\"collection\":", to: &output)
        CanonicalJSON.appendString(collection, to: &output)
        CanonicalJSON.appendLiteral(",\"context\":{", to: &output)
        for (index, item) in write.context.sorted.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            CanonicalJSON.appendString(item.replica.rawValue, to: &output)
            output.append(UInt8(ascii: ":"))
            CanonicalJSON.appendNumber(item.counter, to: &output)
        }
        CanonicalJSON.appendLiteral("},\"entered\":", to: &output)
        CanonicalJSON.appendNumber(write.enteredAt, to: &output)
        CanonicalJSON.appendLiteral(",\"id\":", to: &output)
        CanonicalJSON.appendString(id, to: &output)
        CanonicalJSON.appendLiteral(",\"values\":{", to: &output)
        for (index, name) in write.values.keys.sorted(by: { $0.utf8Precedes($1) }).enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            CanonicalJSON.appendString(name, to: &output)
            output.append(UInt8(ascii: ":"))
            CanonicalJSON.appendValue(write.values[name]!, to: &output)
        }
        CanonicalJSON.appendLiteral("},\"write\":", to: &output)
        CanonicalJSON.appendString(write.id.rawValue, to: &output)
        output.append(UInt8(ascii: "}"))
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes a write line from UTF-8 bytes. Members may come in any order; unknown ones
    /// are skipped; a number out of its range or a malformed write id is a structure error.
    public static func decode(utf8 bytes: UnsafeRawBufferPointer) throws(RecordDecodingError) -> PushedWrite {
        try RecordJSONParser.parseWrite(bytes.assumingMemoryBound(to: UInt8.self))
    }
}

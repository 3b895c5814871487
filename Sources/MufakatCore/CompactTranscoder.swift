/// Writes the expanded canonical text of a state from its canonical compact text, copying
/// bytes instead of decoding: what a digest of a store costs.
///
/// Both forms write strings, numbers and the context the same way and order entries by dot,
/// so the expanded text is the compact one with each entry's `[index, value]` replaced by the
/// object of its write's author, dot and time and the value's own bytes. Text that is not in
/// the compact shape gives `nil`, and the caller decodes it instead.
public enum CompactTranscoder {
    /// The expanded canonical text of a state as a store holds it: copied out of canonical
    /// compact text, or decoded and written again when the text is anything else.
    public static func expandedJSON(stored text: String) throws(MufakatError) -> String {
        if let expanded = expanded(stateJSON: text) { return expanded }
        return try RecordState(json: text).canonicalJSON
    }

    static func expanded(stateJSON text: String) -> String? {
        var text = text
        return text.withUTF8 { bytes in
            var scanner = Scanner(bytes: bytes)
            return scanner.expanded()
        }
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
        }

        typealias Span = Range<Int>

        mutating func expanded() -> String? {
            guard literal(#"{"context":{"#) else { return nil }
            let contextStart = 0
            while index < bytes.count, bytes[index] != UInt8(ascii: "}") { index += 1 }
            guard index < bytes.count else { return nil }
            index += 1
            let contextEnd = index
            guard literal(#","dots":["#) else { return nil }
            var writes: [(replica: Span, counter: Span, time: Span, author: Span)] = []
            if !literal("]") {
                repeat {
                    guard literal("["), let replica = string(), literal(","), let counter = number(), literal(","),
                        let time = number(), literal(","), let author = string(), literal("]")
                    else { return nil }
                    writes.append((replica, counter, time, author))
                } while literal(",")
                guard literal("]") else { return nil }
            }
            guard literal(#","fields":{"#) else { return nil }
            var output: [UInt8] = []
            output.reserveCapacity(bytes.count * 3)
            output.append(contentsOf: bytes[contextStart..<contextEnd])
            output.append(contentsOf: #","fields":{"#.utf8)
            if !literal("}") {
                var firstField = true
                repeat {
                    guard let name = string(), literal(":[") else { return nil }
                    if !firstField { output.append(UInt8(ascii: ",")) }
                    firstField = false
                    output.append(contentsOf: bytes[name])
                    output.append(contentsOf: ":[".utf8)
                    var firstEntry = true
                    repeat {
                        guard literal("["), let position = number(), literal(","), let value = value(), literal("]"),
                            let written = Int(decimal: bytes[position]), written < writes.count
                        else { return nil }
                        let write = writes[written]
                        if !firstEntry { output.append(UInt8(ascii: ",")) }
                        firstEntry = false
                        output.append(contentsOf: #"{"author":"#.utf8)
                        output.append(contentsOf: bytes[write.author])
                        output.append(contentsOf: #","dot":["#.utf8)
                        output.append(contentsOf: bytes[write.replica])
                        output.append(UInt8(ascii: ","))
                        output.append(contentsOf: bytes[write.counter])
                        output.append(contentsOf: #"],"time":"#.utf8)
                        output.append(contentsOf: bytes[write.time])
                        output.append(contentsOf: #","value":"#.utf8)
                        output.append(contentsOf: bytes[value])
                        output.append(UInt8(ascii: "}"))
                    } while literal(",")
                    guard literal("]") else { return nil }
                    output.append(UInt8(ascii: "]"))
                } while literal(",")
                guard literal("}") else { return nil }
            }
            guard literal("}"), index == bytes.count else { return nil }
            output.append(contentsOf: "}}".utf8)
            return String(decoding: output, as: UTF8.self)
        }

        mutating func literal(_ text: StaticString) -> Bool {
            let count = text.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            for offset in 0..<count where bytes[index + offset] != text.utf8Start[offset] { return false }
            index += count
            return true
        }

        /// A string with its quotes.
        mutating func string() -> Span? {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
            let start = index
            index += 1
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\\"): index += 2
                case UInt8(ascii: "\""):
                    index += 1
                    return start..<index
                default: index += 1
                }
            }
            return nil
        }

        mutating func number() -> Span? {
            let start = index
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            return index > start ? start..<index : nil
        }

        /// A value: null, true, false, a number, a string or a list of strings.
        mutating func value() -> Span? {
            guard index < bytes.count else { return nil }
            let start = index
            switch bytes[index] {
            case UInt8(ascii: "\""): return string()
            case UInt8(ascii: "n"): return literal("null") ? start..<index : nil
            case UInt8(ascii: "t"): return literal("true") ? start..<index : nil
            case UInt8(ascii: "f"): return literal("false") ? start..<index : nil
            case UInt8(ascii: "["):
                index += 1
                if literal("]") { return start..<index }
                repeat {
                    guard string() != nil else { return nil }
                } while literal(",")
                return literal("]") ? start..<index : nil
            default: return number()
            }
        }
    }
}

private extension Int {
    init?(decimal digits: Slice<UnsafeBufferPointer<UInt8>>) {
        guard !digits.isEmpty, digits.count < 18 else { return nil }
        var value = 0
        for digit in digits {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) else { return nil }
            value = value * 10 + Int(digit - UInt8(ascii: "0"))
        }
        self = value
    }
}

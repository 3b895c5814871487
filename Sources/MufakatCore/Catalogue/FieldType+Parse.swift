extension FieldType {
    /// Turns what a person typed into the stored value.
    ///
    /// Surrounding whitespace is ignored, and an empty input clears the field (`null`).
    /// Enumerations match without regard to case, spaces or punctuation and are stored as
    /// listed; country codes are stored in capitals; one-line strings have runs of
    /// whitespace collapsed.
    ///
    /// - Returns: the value, or the reason it is not accepted (without the field name).
    public func parse(_ raw: String) -> Result<FieldValue, ParseFailure> {
        let input = raw.trimmingWhitespace()
        if input.isEmpty { return .success(.null) }
        switch self {
        case .string:
            if input.isPlainASCIILine, input.utf8.count <= Self.maxStringLength { return .success(.string(input)) }
            guard !input.unicodeScalars.contains(where: Self.isLineBreak) else {
                return .failure("is more than one line; use one line of text here")
            }
            return Self.withinLength(input.collapsingWhitespace(), Self.maxStringLength)
        case .text:
            return Self.withinLength(input.unifyingLineBreaks(), Self.maxTextLength)
        case .integer:
            guard input.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
                if input.hasPrefix("-"), input.dropFirst().allSatisfy(\.isASCIIDigit) {
                    return .failure("is below 0; counts are whole numbers, 0 or more")
                }
                return .failure("is not a whole number")
            }
            guard let number = Int64(input), number <= Self.maxCount else {
                return .failure("is larger than \(Self.maxCount), the most a count may be")
            }
            return .success(.integer(number))
        case .date:
            guard let date = Self.parseDate(input) else {
                return .failure("is not a date; use YYYY-MM-DD, e.g. 2025-11-03")
            }
            return .success(.string(date))
        case .period:
            guard let period = Self.parsePeriod(input) else {
                return .failure("is not a period; use YYYY, YYYY-Qn (quarter 1–4) or YYYY-MM")
            }
            return .success(.string(period))
        case .country:
            let code = input.uppercased()
            guard CountryCodes.all.contains(code) else {
                return .failure("is not an ISO 3166-1 country code; use two letters such as ID, MY, PH or TH")
            }
            return .success(.string(code))
        case .enumeration(let values):
            if values.contains(input) { return .success(.string(input)) }
            let wanted = Self.enumKey(input)
            guard let match = values.first(where: { Self.enumKey($0) == wanted }) else {
                return .failure("is not one of \(values.joined(separator: ", "))")
            }
            return .success(.string(match))
        case .reference(let target):
            switch Self.parseReference(input, target: target) {
            case .success(let id): return .success(.string(id))
            case .failure(let failure): return .failure(failure)
            }
        case .references(let target):
            var ids: [String] = []
            for part in input.split(whereSeparator: { $0 == ";" || $0 == "," }) {
                let item = String(part).trimmingWhitespace()
                if item.isEmpty { continue }
                switch Self.parseReference(item, target: target) {
                case .success(let id): if !ids.contains(id) { ids.append(id) }
                case .failure(let failure): return .failure(failure)
                }
            }
            return .success(ids.isEmpty ? .null : .list(ids))
        case .url:
            guard let url = Self.parseURL(input) else {
                return .failure("is not a web address; use one starting with http:// or https://")
            }
            return .success(.string(url))
        }
    }

    /// Checks that a stored value is what ``parse(_:)`` would have produced: the hub uses
    /// it on pushed records, which were typed on somebody else's laptop.
    public func isCanonical(_ value: FieldValue) -> Bool {
        switch (self, value) {
        case (_, .null): return true
        case (.integer, .integer(let number)): return (0...Self.maxCount).contains(number)
        case (.references, .list(let ids)):
            return !ids.isEmpty && (try? parse(ids.joined(separator: ";")).get()) == value
        case (.integer, _), (.references, _), (_, .list), (_, .integer), (_, .bool): return false
        case (_, .string(let string)): return (try? parse(string).get()) == value
        }
    }

    /// Why a stored value is not in the form ``parse(_:)`` gives, naming the rule and not
    /// the value; `nil` when it is. Writers normalise what a person types (trimmed, one-line
    /// text with single spaces, LF line ends, enumerations as listed, codes in capitals);
    /// a hub refuses a pushed value that is not already so.
    public func storedFormProblem(_ value: FieldValue) -> String? {
        switch (self, value) {
        case (_, .null):
            return nil
        case (.integer, .integer(let number)):
            if number < 0 { return "is below 0; counts are whole numbers, 0 or more" }
            return number <= Self.maxCount ? nil : "is larger than \(Self.maxCount), the most a count may be"
        case (.integer, _):
            return "is not a whole number; this field holds an integer from 0 to \(Self.maxCount)"
        case (.references, .list(let ids)):
            if ids.isEmpty { return "is an empty list; a cleared list is null" }
            if Set(ids).count != ids.count { return "names one id twice; a list holds each id once, in the order written" }
            return isCanonical(value) ? nil : "holds an id that is not valid (1–200 letters, digits and - _ . : + @; organization ids in lower case)"
        case (.references, _):
            return "is not a list; this field holds a JSON array of record ids"
        case (_, .list):
            return "is a list; only list-of-reference fields hold lists"
        case (_, .integer):
            return "is a number; this field holds a string"
        case (_, .bool):
            return "is true or false; only _deleted holds those"
        case (_, .string(let text)):
            if isCanonical(value) { return nil }
            if text.isEmpty { return "is an empty string; a cleared field is null" }
            if text.trimmingWhitespace() != text { return "begins or ends with whitespace; values are stored trimmed" }
            switch self {
            case .string:
                if text.unicodeScalars.contains(where: Self.isLineBreak) { return "holds a line break; this field is one line of text" }
                if text.collapsingWhitespace() != text {
                    return "holds a tab or a run of whitespace; one-line text is stored with single spaces"
                }
                return "is longer than \(Self.maxStringLength) characters (Unicode scalar values)"
            case .text:
                if text.unicodeScalars.contains(where: { $0 != "\n" && Self.isLineBreak($0) }) {
                    return "holds a line break other than LF (CR, VT, FF, NEL, U+2028 or U+2029); text is stored with LF line ends"
                }
                return "is longer than \(Self.maxTextLength) characters (Unicode scalar values)"
            case .reference:
                return "is not a valid id (1–200 letters, digits and - _ . : + @; organization ids in lower case)"
            default:
                if case .failure(let failure) = parse(text) { return failure.reason }
                return "is not in its stored form (enumeration values as listed, codes and periods in capitals)"
            }
        }
    }

    /// `text` as a stored string when it holds at most `limit` Unicode scalar values.
    static func withinLength(_ text: String, _ limit: Int) -> Result<FieldValue, ParseFailure> {
        let length = text.unicodeScalars.count
        guard length <= limit else {
            return .failure(ParseFailure(
                "is \(length) characters long (Unicode scalar values: an accent typed apart counts too); at most \(limit) are accepted",
                echo: false))
        }
        return .success(.string(text))
    }

    /// The seven line breaks (PROTOCOL.md §6.4): LF, VT, FF, CR, NEL, U+2028 and U+2029.
    static func isLineBreak(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0A...0x0D, 0x85, 0x2028, 0x2029: true
        default: false
        }
    }

    static func enumKey(_ text: String) -> String {
        String(text.lowercased().unicodeScalars.filter { scalar in
            ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "+"
        }.map(Character.init))
    }

    static func parseReference(_ input: String, target: String) -> Result<String, ParseFailure> {
        let id = target == Catalogue.organizations.name ? input.lowercased() : input
        if let problem = RecordIDs.problem(with: id) { return .failure(ParseFailure(problem)) }
        return .success(id)
    }

    static func parseDate(_ input: String) -> String? {
        let parts = input.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1900...2199).contains(year), (1...12).contains(month)
        else { return nil }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...lengths[month - 1]).contains(day) else { return nil }
        return input
    }

    static func parsePeriod(_ input: String) -> String? {
        let upper = input.uppercased()
        let parts = upper.split(separator: "-", omittingEmptySubsequences: false)
        guard let yearPart = parts.first, yearPart.count == 4, yearPart.allSatisfy(\.isASCIIDigit),
            let year = Int(yearPart), (1900...2199).contains(year)
        else { return nil }
        switch parts.count {
        case 1:
            return upper
        case 2 where parts[1].count == 2 && parts[1].first == "Q":
            guard let quarter = Int(parts[1].dropFirst()), (1...4).contains(quarter) else { return nil }
            return upper
        case 2 where parts[1].count == 2 && parts[1].allSatisfy(\.isASCIIDigit):
            guard let month = Int(parts[1]), (1...12).contains(month) else { return nil }
            return upper
        default:
            return nil
        }
    }

    static func parseURL(_ input: String) -> String? {
        guard !input.contains(where: { $0.isWhitespace }) else { return nil }
        let lower = input.lowercased()
        let rest: Substring
        if lower.hasPrefix("https://") {
            rest = input.dropFirst(8)
        } else if lower.hasPrefix("http://") {
            rest = input.dropFirst(7)
        } else {
            return nil
        }
        let host = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !host.isEmpty, host.contains("."), input.count <= 2000 else { return nil }
        return input
    }
}

/// Why a typed value was not accepted, without the field name (the caller adds it).
public struct ParseFailure: Error, Hashable, Sendable, ExpressibleByStringLiteral {
    public var reason: String
    /// Whether to quote the input in front of the reason (not for very long inputs).
    public var echo: Bool

    public init(_ reason: String, echo: Bool = true) {
        self.reason = reason
        self.echo = echo
    }

    public init(stringLiteral value: String) { self.init(value) }

    /// `'12x' is not a whole number`.
    public func message(for input: String) -> String {
        echo ? "'\(input.trimmingWhitespace())' \(reason)" : reason
    }
}

extension Result where Failure == ParseFailure {
    static func failure(_ reason: String, echo: Bool = true) -> Self {
        .failure(ParseFailure(reason, echo: echo))
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

extension String {
    /// Printable ASCII with single spaces and no space at either end: text that parsing
    /// would leave exactly as it is. Checking bytes is far cheaper than Unicode properties.
    var isPlainASCIILine: Bool {
        var previousWasSpace = true
        for byte in utf8 {
            guard byte >= 0x20 && byte < 0x7f else { return false }
            let isSpace = byte == 0x20
            if isSpace && previousWasSpace { return false }
            previousWasSpace = isSpace
        }
        return !previousWasSpace
    }

    func trimmingWhitespace() -> String {
        if let first = utf8.first, let last = utf8.last, first > 0x20, first < 0x7f, last > 0x20, last < 0x7f {
            return self
        }
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }

    /// Every line break as LF: CR LF, and CR, VT, FF, NEL, U+2028 and U+2029 alone.
    func unifyingLineBreaks() -> String {
        var result = ""
        result.reserveCapacity(utf8.count)
        var previousWasCR = false
        for scalar in unicodeScalars {
            if scalar == "\n" && previousWasCR {
                previousWasCR = false
                continue
            }
            previousWasCR = scalar == "\r"
            result.unicodeScalars.append(FieldType.isLineBreak(scalar) ? "\n" : scalar)
        }
        return result
    }

    /// Each run of `White_Space` scalars as one space (U+0020), the runs counted by scalar,
    /// not by character: an accent typed after a space does not join it.
    func collapsingWhitespace() -> String {
        var result = ""
        result.reserveCapacity(utf8.count)
        var inRun = false
        for scalar in unicodeScalars {
            if scalar.properties.isWhitespace {
                inRun = true
                continue
            }
            if inRun, !result.isEmpty { result.unicodeScalars.append(" ") }
            inRun = false
            result.unicodeScalars.append(scalar)
        }
        return result
    }
}

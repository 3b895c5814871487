import PropertyBased
import Testing
@testable import MufakatCore

@Suite("Catalogue and validation")
struct CatalogueTests {
    struct ParseCase: Sendable, CustomTestStringConvertible {
        let type: FieldType
        let input: String
        let expected: FieldValue?
        let reason: String?
        var testDescription: String { "\(type.name) '\(input)'" }

        static func good(_ type: FieldType, _ input: String, _ expected: FieldValue) -> Self {
            .init(type: type, input: input, expected: expected, reason: nil)
        }
        static func bad(_ type: FieldType, _ input: String, _ reason: String) -> Self {
            .init(type: type, input: input, expected: nil, reason: reason)
        }
    }

    static let parseCases: [ParseCase] = [
        .good(.string, "  East   Java ", .string("East Java")),
        .good(.string, "", .null),
        .bad(.string, "two\nlines", "more than one line"),
        .bad(.string, String(repeating: "x", count: 201), "at most 200"),
        .good(.text, "line one\r\nline two", .string("line one\nline two")),
        .bad(.text, String(repeating: "x", count: 10_001), "at most 10000"),
        .good(.integer, "12", .integer(12)),
        .good(.integer, " 007 ", .integer(7)),
        .good(.integer, "0", .integer(0)),
        .bad(.integer, "12x", "is not a whole number"),
        .bad(.integer, "1.5", "is not a whole number"),
        .bad(.integer, "-3", "below 0"),
        .bad(.integer, "99999999999999999999", "larger than 1000000000, the most a count may be"),
        .bad(.integer, "9223372036854775000", "larger than 1000000000"),
        .bad(.integer, "1000000001", "larger than 1000000000"),
        .good(.integer, "1000000000", .integer(1_000_000_000)),
        .good(.date, "2024-02-29", .string("2024-02-29")),
        .bad(.date, "2023-02-29", "is not a date"),
        .bad(.date, "2025-13-01", "is not a date"),
        .bad(.date, "3/11/2025", "YYYY-MM-DD"),
        .good(.period, "2025", .string("2025")),
        .good(.period, "2025-q3", .string("2025-Q3")),
        .good(.period, "2025-07", .string("2025-07")),
        .bad(.period, "2025-Q5", "is not a period"),
        .bad(.period, "2025-13", "is not a period"),
        .bad(.period, "25-Q1", "is not a period"),
        .good(.country, "id", .string("ID")),
        .good(.country, "MY", .string("MY")),
        .bad(.country, "XX", "ISO 3166-1"),
        .bad(.country, "IDN", "ISO 3166-1"),
        .good(.enumeration(Catalogue.stances), "activesupport", .string("ActiveSupport")),
        .good(.enumeration(Catalogue.stances), "Active Support", .string("ActiveSupport")),
        .good(.enumeration(Catalogue.ageBands), "18-20", .string("18--20")),
        .good(.enumeration(Catalogue.ageBands), "48+", .string("48+")),
        .bad(.enumeration(Catalogue.stances), "suport", "is not one of ActiveSupport, PassiveSupport, Neutral"),
        .good(.reference("organizations"), "IOM", .string("iom")),
        .good(.reference("asks"), "ask-Budget", .string("ask-Budget")),
        .bad(.reference("asks"), "ask budget", "may only hold"),
        .good(.references("organizations"), "iom; UNICEF ;iom,stc", .list(["iom", "unicef", "stc"])),
        .good(.references("organizations"), " ; ", .null),
        .bad(.references("organizations"), "iom;bad id", "may only hold"),
        .good(.url, "https://iom.int/news?id=1", .string("https://iom.int/news?id=1")),
        .bad(.url, "iom.int", "web address"),
        .bad(.url, "https://", "web address"),
        .bad(.url, "https://a b.org", "web address"),
    ]

    @Test("every field type, good and bad values", arguments: parseCases)
    func parse(_ testCase: ParseCase) {
        let result = testCase.type.parse(testCase.input)
        switch (result, testCase.expected, testCase.reason) {
        case (.success(let value), .some(let expected), _):
            #expect(value == expected)
            #expect(testCase.type.isCanonical(value))
        case (.failure(let failure), nil, .some(let reason)):
            #expect(failure.message(for: testCase.input).contains(reason), "\(failure.message(for: testCase.input))")
        default:
            Issue.record("unexpected \(result)")
        }
    }

    @Test("messages a field worker understands, all problems at once")
    func messages() throws {
        let reports = try Catalogue.collection(named: "reports")
        let (_, problems) = reports.parse([("value", "12x"), ("colour", "red"), ("indicator", "victims")])
        let text = problems.map(\.description)
        #expect(text.contains("value: '12x' is not a whole number"))
        #expect(text.contains { $0.hasPrefix("colour: unknown field; the fields of reports are org, period") })
        #expect(text.contains { $0.hasPrefix("indicator: 'victims' is not one of VictimsIdentified") })
        let positions = try Catalogue.collection(named: "positions")
        let (_, stance) = positions.parse([("stance", "suport")])
        #expect(stance.map(\.description) == ["stance: 'suport' is not one of ActiveSupport, PassiveSupport, Neutral, PassiveOpposition, ActiveOpposition, NoPosition, Unknown"])
    }

    @Test("required fields are reported by name with what they accept")
    func required() throws {
        let positions = try Catalogue.collection(named: "positions")
        let problems = positions.problems(in: ["subject": .string("iom")])
        #expect(problems.map(\.field) == ["ask", "stance"])
        #expect(problems[1].description.contains("ActiveSupport"))
    }

    @Test("unknown collections name the ones that exist")
    func unknownCollection() {
        do {
            _ = try Catalogue.collection(named: "reprots")
            Issue.record("accepted")
        } catch {
            #expect(error.message == "unknown collection 'reprots'; the collections are organizations, reports, asks, positions, meetings, actions")
        }
    }

    @Test("report ids are stable under enum case and whitespace differences")
    func reportIDStable() throws {
        let reports = try Catalogue.collection(named: "reports")
        let first = reports.parse([
            ("org", "iom"), ("period", "2025-q1"), ("country", "id"), ("area", "East  Java"),
            ("indicator", "victimsidentified"), ("value", "12"), ("gender", "FEMALE"),
        ]).values
        let second = reports.parse([
            ("org", "IOM"), ("period", "2025-Q1"), ("country", "ID"), ("area", " east java "),
            ("indicator", "VictimsIdentified"), ("value", "15"), ("gender", "female"), ("datasource", "Hotline"),
        ]).values
        let id = try #require(reports.derivedID(for: first))
        #expect(id.hasPrefix("r-") && id.count == 22)
        #expect(reports.derivedID(for: second) == id)
        var otherGender = second
        otherGender["gender"] = .string("Male")
        #expect(reports.derivedID(for: otherGender) != id)
        var national = second
        national["area"] = nil
        #expect(reports.derivedID(for: national) != id)
        #expect(reports.problems(withID: id, document: first).isEmpty)
        #expect(!reports.problems(withID: "r-0000", document: first).isEmpty)
    }

    @Test("position ids are <subject>:<ask> and fill in their key fields")
    func positionIDs() throws {
        let positions = try Catalogue.collection(named: "positions")
        #expect(positions.keyValues(fromID: "IOM:ask-1") == ["subject": .string("iom"), "ask": .string("ask-1")])
        #expect(positions.keyValues(fromID: "nocolon") == [:])
        #expect(positions.derivedID(for: ["subject": .string("iom"), "ask": .string("ask-1")]) == "iom:ask-1")
        #expect(!positions.problems(withID: "iom:ask-2", document: ["subject": .string("iom"), "ask": .string("ask-1")]).isEmpty)
    }

    @Test("organization ids are slugs; generated ids carry the prefix")
    func otherIDs() throws {
        let organizations = try Catalogue.collection(named: "organizations")
        #expect(organizations.derivedID(for: ["name": .string("Save the Children")]) == "save-the-children")
        #expect(organizations.problems(withID: "save-the-children", document: [:]).isEmpty)
        #expect(organizations.problems(withID: "Save_Children", document: [:]).first?.message.contains("save-children") == true)
        var generator = SystemRandomNumberGenerator()
        let id = RecordIDs.generated(prefix: "ask-", using: &generator)
        #expect(id.hasPrefix("ask-") && id.count == 14 && RecordIDs.problem(with: id) == nil)
    }

    @Test("pushed states are checked entry by entry")
    func stateValidation() throws {
        let positions = try Catalogue.collection(named: "positions")
        var state = RecordState()
        let r = try ReplicaID("r")
        try state.write(["stance": .string("ActiveSupport"), "subject": .string("iom")], dot: Dot(replica: r, counter: 1), now: 1, author: "")
        #expect(positions.problems(in: state).isEmpty)
        try state.write(["stance": .string("activesupport"), "colour": .string("red"), "influence": .integer(3)], dot: Dot(replica: r, counter: 2), now: 1, author: "")
        #expect(Set(positions.problems(in: state).compactMap(\.field)) == ["stance", "colour", "influence"])
    }

    @Test("the catalogue is consistent: references point at collections, key fields exist")
    func consistency() {
        let names = Set(Catalogue.collectionNames)
        for schema in Catalogue.collections {
            for field in schema.fields {
                if case .reference(let target) = field.type { #expect(names.contains(target)) }
                if case .references(let target) = field.type { #expect(names.contains(target)) }
            }
            for key in schema.idRule.keyFields { #expect(schema.field(named: key) != nil, "\(schema.name).\(key)") }
            #expect(Set(schema.fieldNames).count == schema.fields.count)
        }
        #expect(CountryCodes.all.count == 249)
    }

    @Test("report ids: case folded (ß, final sigma), NFC, spacing; ids derived by earlier versions stay valid")
    func naturalKeyNormalisation() throws {
        let reports = try Catalogue.collection(named: "reports")
        func id(_ area: String) -> String? {
            reports.derivedID(for: [
                "org": .string("iom"), "period": .string("2025-Q3"), "country": .string("ID"), "area": .string(area),
                "indicator": .string("VictimsIdentified"), "value": .integer(1),
            ])
        }
        #expect(id("Straße") == id("STRASSE") && id("STRASSE") == id("strasse") && id("Straße") != nil)
        #expect(id("ΟΔΟΣ") == id("οδος"))
        #expect(id("Cafe\u{301}  Street") == id("CAF\u{C9} street"))
        #expect(id("Café") != id("Cafe"))
        // A record an earlier version made from decomposed text keeps its id.
        let document: [String: FieldValue] = [
            "org": .string("iom"), "period": .string("2025-Q3"), "country": .string("ID"), "area": .string("Cafe\u{301}"),
            "indicator": .string("VictimsIdentified"), "value": .integer(1),
        ]
        let keys = ["org", "period", "country", "area", "indicator", "gender", "ageBroad", "typeOfExploitation", "countryOfExploitation"]
        let legacy = RecordIDs.legacyNaturalKey(prefix: "r-", values: keys.map { document[$0] })
        #expect(legacy != reports.derivedID(for: document))
        #expect(reports.problems(withID: legacy, document: document).isEmpty)
        #expect(!reports.problems(withID: "r-00000000000000000000", document: document).isEmpty)
    }
}

@Suite("Counts are bounded")
struct CountBoundTests {
    /// A hub checks pushed values in their stored form: a count past the bound is refused
    /// there too, whatever a laptop in another language let through.
    @Test("a stored count from 0 to 1,000,000,000 is accepted; past it, or below 0, refused with the rule")
    func storedCounts() throws {
        #expect(FieldType.integer.storedFormProblem(.integer(1_000_000_000)) == nil)
        #expect(FieldType.integer.storedFormProblem(.integer(0)) == nil)
        #expect(FieldType.integer.storedFormProblem(.integer(9_223_372_036_854_775_000))?.contains("the most a count may be") == true)
        #expect(FieldType.integer.storedFormProblem(.integer(-1))?.contains("below 0") == true)
        let schema = try Catalogue.collection(named: "reports")
        var state = RecordState()
        try state.write(["value": .integer(9_223_372_036_854_775_000)], dot: Dot(replica: try ReplicaID("r1"), counter: 1), now: 1, author: "A")
        #expect(schema.problems(in: state).map(\.field) == ["value"])
    }
}

@Suite("CSV cells a spreadsheet would run")
struct CSVCellTests {
    @Test("formula starts are defused, numbers and text are not", arguments: [
        ("=1+1", "'=1+1"), ("+31 6", "'+31 6"), ("-x", "'-x"), ("@A1", "'@A1"), ("\tx", "'\tx"), ("\rx", "'\rx"),
        ("-3", "-3"), ("+7", "+7"), ("plain", "plain"), ("", ""), ("'=x", "''=x"), ("'plain", "'plain"), ("''", "''"),
    ])
    func defused(_ value: String, _ cell: String) {
        #expect(CSVCell.defused(value) == cell)
        #expect(CSVCell.undefused(cell) == value)
    }

    @Test("undefused(defused(v)) is v for every mix of quotes, formula marks, digits and text — 1,000 cases")
    func roundTrip() async {
        let parts = ["'", "=", "+", "-", "@", "\t", "1", "a", " "]
        await propertyCheck(count: 1_000, input: Gen.int(in: 0...(parts.count - 1)).array(of: 0...6)) { picks in
            let value = picks.map { parts[$0] }.joined()
            #expect(CSVCell.undefused(CSVCell.defused(value)) == value)
        }
    }
}

import Foundation
import Logging
import MufakatHub
import Testing

@Suite("Hub log lines")
struct HubLogTests {
    static let metadata = [
        "peer": "127.0.0.1", "name": #"Andi "A" O'Neil"#, "end": "failed: line 1\nline 2", "token": "tok-1", "tab": "a\tb\u{1}",
    ]

    /// A small logfmt reader: `key="value"` pairs separated by one space, values unescaped.
    static func parseLogfmt(_ line: String) -> [String: String]? {
        var fields: [String: String] = [:]
        var rest = Substring(line)
        while !rest.isEmpty {
            guard let equals = rest.firstIndex(of: "="), rest[rest.index(after: equals)] == "\"" else { return nil }
            let key = String(rest[..<equals])
            var index = rest.index(equals, offsetBy: 2)
            var value = ""
            while index < rest.endIndex, rest[index] != "\"" {
                if rest[index] == "\\" {
                    index = rest.index(after: index)
                    switch rest[index] {
                    case "n": value.append("\n")
                    case "t": value.append("\t")
                    case "r": value.append("\r")
                    case "u":
                        let hex = rest[rest.index(after: index)...].prefix(4)
                        value.unicodeScalars.append(Unicode.Scalar(UInt32(hex, radix: 16)!)!)
                        index = rest.index(index, offsetBy: 4)
                    default: value.append(rest[index])
                    }
                } else {
                    value.append(rest[index])
                }
                index = rest.index(after: index)
            }
            guard index < rest.endIndex else { return nil }
            fields[key] = value
            rest = rest[rest.index(after: index)...]
            if rest.first == " " { rest = rest.dropFirst() }
        }
        return fields
    }

    @Test("logfmt: every value quoted and escaped; the line reads back to the same fields")
    func logfmt() throws {
        let line = HubLogHandler.line(
            format: .logfmt, time: Date(timeIntervalSince1970: 1_764_400_000.25), level: .info, label: "mufakat.hub",
            message: "session", metadata: Self.metadata)
        #expect(!line.contains("\n"))
        #expect(line.hasPrefix(#"time="2025-11-29T07:06:40.250Z" level="info" logger="mufakat.hub" msg="session""#))
        let fields = try #require(Self.parseLogfmt(line), "\(line)")
        for (key, value) in Self.metadata { #expect(fields[key] == value, "\(key)") }
        #expect(fields["msg"] == "session")
    }

    @Test("json: one object per line with the same fields")
    func json() throws {
        let line = HubLogHandler.line(
            format: .json, time: Date(timeIntervalSince1970: 1_764_400_000), level: .notice, label: "mufakat.hub",
            message: "refused record", metadata: Self.metadata)
        #expect(!line.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        for (key, value) in Self.metadata { #expect(object[key] == value, "\(key)") }
        #expect(object["level"] == "notice" && object["msg"] == "refused record")
    }
}

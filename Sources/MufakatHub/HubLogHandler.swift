import Foundation
import Logging

/// How the hub writes its log: one line per event on standard error.
public enum HubLogFormat: String, Sendable, CaseIterable {
    /// `time="…" level="info" msg="session" peer="…" …`: every value quoted, so a name with
    /// spaces or an error message stays one field (logfmt).
    case logfmt
    /// One JSON object per line with the same members.
    case json
}

/// A `LogHandler` writing ``HubLogFormat`` lines: time (UTC, milliseconds), level, label,
/// message, then the metadata sorted by key.
public struct HubLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    let format: HubLogFormat
    let write: @Sendable (String) -> Void

    public init(label: String, format: HubLogFormat, write: @escaping @Sendable (String) -> Void = HubLogHandler.standardError) {
        self.label = label
        self.format = format
        self.write = write
    }

    public static let standardError: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        write(Self.line(
            format: format, time: Date(), level: event.level, label: label, message: "\(event.message)",
            metadata: merged.mapValues { "\($0)" }))
    }

    /// One line; separate from `log` so tests can check the text.
    public static func line(
        format: HubLogFormat, time: Date, level: Logger.Level, label: String, message: String, metadata: [String: String]
    ) -> String {
        let fields = [("time", timestamp(time)), ("level", level.rawValue), ("logger", label), ("msg", message)]
            + metadata.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        switch format {
        case .logfmt:
            return fields.map { "\($0.0)=\(quoted($0.1))" }.joined(separator: " ")
        case .json:
            return "{" + fields.map { "\(quoted($0.0)):\(quoted($0.1))" }.joined(separator: ",") + "}"
        }
    }

    /// `text` in double quotes with `\`, `"` and control characters escaped — valid in
    /// logfmt and in JSON alike.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: true).timeSeparator(.colon).timeZone(separator: .omitted))
    }
}

import ArgumentParser
import Foundation
import MufakatCore
import MufakatStore

/// Exit codes (sysexits.h where one fits), documented in the README.
enum ExitCodes {
    static let conflicts: Int32 = 3
    static let usage: Int32 = 64
    static let invalid: Int32 = 65
    static let notFound: Int32 = 66
    static let unreachable: Int32 = 69
    static let internalError: Int32 = 70
    /// Busy or short of room for now (a file being upgraded or written by another program,
    /// a full disk): nothing changed, run again.
    static let tempFail: Int32 = 75
    static let protocolError: Int32 = 76
    static let refused: Int32 = 77
    /// The hub's TLS identity was refused, or there is none to check it with; nothing sent.
    static let untrustedHub: Int32 = 78
}

/// An error the CLI itself raises.
struct CLIError: Error {
    var message: String
    var code: String
    var exitCode: Int32

    static func notFound(_ message: String) -> CLIError { CLIError(message: message, code: "not-found", exitCode: ExitCodes.notFound) }
    static func invalid(_ message: String) -> CLIError { CLIError(message: message, code: "invalid", exitCode: ExitCodes.invalid) }
}

/// Runs a command body, turning every failure into a message on stderr (and a JSON error
/// object on stdout with --json) and a documented exit code. No Swift type names, no
/// stack traces.
func runCommand(_ options: GlobalOptions, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch let error as ValidationError {
        throw error
    } catch {
        let (code, message, exitCode) = describe(error)
        FileHandle.standardError.write(Data("mufakat: \(message)\n".utf8))
        if options.json {
            print(JSON.object(["error": .object([
                "code": .string(code), "message": .string(message), "exitCode": .integer(Int64(exitCode)),
            ])]).rendered)
        }
        throw ExitCode(exitCode)
    }
}

func describe(_ error: any Error) -> (code: String, message: String, exitCode: Int32) {
    switch error {
    case let error as CLIError:
        return (error.code, error.message, error.exitCode)
    case let error as MufakatError:
        let exitCode: Int32 = switch error.code {
        case .invalid, .malformed: ExitCodes.invalid
        case .notFound: ExitCodes.notFound
        case .busy: ExitCodes.tempFail
        case .forbidden: ExitCodes.refused
        default: ExitCodes.internalError
        }
        return (error.code.rawValue, error.message, exitCode)
    default:
        return ("internal", "unexpected failure: \(String(describing: error)); nothing was changed", ExitCodes.internalError)
    }
}

/// A JSON value for --json output, written with sorted keys on one line.
indirect enum JSON {
    case null
    case bool(Bool)
    case integer(Int64)
    /// Counters and sequences: unsigned 64-bit, printed as such.
    case unsigned(UInt64)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    init(_ value: FieldValue) {
        switch value {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .integer(let number): self = .integer(number)
        case .string(let text): self = .string(text)
        case .list(let items): self = .array(items.map(JSON.string))
        }
    }

    static func document(_ document: [String: FieldValue]) -> JSON {
        .object(document.mapValues(JSON.init))
    }

    var rendered: String {
        var output = ""
        render(into: &output)
        return output
    }

    private func render(into output: inout String) {
        switch self {
        case .null: output += "null"
        case .bool(let flag): output += flag ? "true" : "false"
        case .integer(let number): output += String(number)
        case .unsigned(let number): output += String(number)
        case .string(let text): CanonicalJSON.appendString(text, to: &output)
        case .array(let items):
            output += "["
            for (index, item) in items.enumerated() {
                if index > 0 { output += "," }
                item.render(into: &output)
            }
            output += "]"
        case .object(let members):
            output += "{"
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { output += "," }
                CanonicalJSON.appendString(key, to: &output)
                output += ":"
                members[key]!.render(into: &output)
            }
            output += "}"
        }
    }
}

/// Columns aligned with spaces, for people.
/// Columns of text padded to line up; cells longer than `maxWidth` end in "…", except in
/// the `whole` columns (ids: a cut id names nothing).
func table(_ header: [String], _ rows: [[String]], maxWidth: Int = 48, whole: Set<Int> = []) -> String {
    func clip(_ text: String, _ column: Int) -> String {
        let oneLine = text.replacingOccurrences(of: "\n", with: " ⏎ ")
        return oneLine.count > maxWidth && !whole.contains(column) ? String(oneLine.prefix(maxWidth - 1)) + "…" : oneLine
    }
    let cells = ([header] + rows).map { $0.enumerated().map { clip($0.element, $0.offset) } }
    let widths = header.indices.map { column in cells.map { $0[column].count }.max() ?? 0 }
    return cells.map { row in
        row.enumerated().map { index, cell in
            // Padded by characters (a combining accent is part of one), never cut.
            index == row.count - 1 ? cell : cell + String(repeating: " ", count: max(0, widths[index] - cell.count))
        }.joined(separator: "  ")
    }.joined(separator: "\n")
}

/// `2025-11-29 04:30 UTC` for entry times.
func formatTime(_ milliseconds: Int64) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
    return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1_000))
}

func printWarnings(_ warnings: [String]) {
    for warning in warnings {
        FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
    }
}

extension WriteOutcome {
    /// What every writing command prints: warnings on standard error, then the outcome
    /// (its JSON under `--json`, else ``text`` and `suffix`).
    func report(_ options: GlobalOptions, suffix: String = "") {
        printWarnings(warnings)
        print(options.json ? json.rendered : text + suffix)
    }

    var json: JSON {
        .object([
            "collection": .string(collection), "id": .string(id), "action": .string(action),
            "warnings": .array(warnings.map(JSON.string)),
            "replaced": .object(replaced.mapValues(JSON.string)),
        ])
    }

    /// `updated positions x:y (stance was Neutral; influence was Low)`: what happened, and
    /// what a value replaced, so nobody overwrites a colleague's figure without seeing it.
    var text: String {
        var line = "\(action) \(collection) \(id)"
        if !replaced.isEmpty {
            line += " (" + replaced.sorted { $0.key < $1.key }.map { "\($0.key) was \($0.value)" }.joined(separator: "; ") + ")"
        }
        return line
    }
}

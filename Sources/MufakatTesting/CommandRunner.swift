import Foundation

/// Runs a built executable of this package, as a user or a script would.
///
/// Output goes to temporary files rather than pipes, so a process that writes a lot can
/// never block on a full pipe while the test waits for it.
public struct CommandRunner: Sendable {
    /// What a finished command left behind.
    public struct Result: Sendable {
        public var exitCode: Int32
        public var stdout: String
        public var stderr: String

        /// stdout parsed as JSON (object or array).
        public func json() throws -> Any {
            try JSONSerialization.jsonObject(with: Data(stdout.utf8), options: [.fragmentsAllowed])
        }
    }

    public var executable: URL
    public var environment: [String: String]

    /// The executable `name` next to the test bundle (`.build/debug/NAME`), or in
    /// `$MUFAKAT_BIN_DIR` when set.
    public init(product name: String, environment: [String: String] = [:]) {
        executable = Self.productsDirectory.appendingPathComponent(name)
        var merged = ProcessInfo.processInfo.environment
        merged["MUFAKAT_HOME"] = nil
        for (key, value) in environment { merged[key] = value }
        self.environment = merged
    }

    public static var productsDirectory: URL {
        if let directory = ProcessInfo.processInfo.environment["MUFAKAT_BIN_DIR"] {
            return URL(fileURLWithPath: directory)
        }
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.pathComponents.count > 1 {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("mufakat").path) { return url }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".build/debug")
    }

    /// Runs the command to completion.
    @discardableResult
    public func run(_ arguments: [String], stdin: String? = nil) throws -> Result {
        let process = try start(arguments, stdin: stdin)
        process.process.waitUntilExit()
        return try process.result()
    }

    /// Starts the command and returns at once; call ``Running/result()`` after it ends.
    public func start(_ arguments: [String], stdin: String? = nil) throws -> Running {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mufakat-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let out = directory.appendingPathComponent("stdout")
        let err = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        if let stdin {
            let input = directory.appendingPathComponent("stdin")
            try Data(stdin.utf8).write(to: input)
            process.standardInput = try FileHandle(forReadingFrom: input)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        return Running(process: process, directory: directory)
    }

    /// A started process and where its output goes.
    public struct Running: @unchecked Sendable {
        public let process: Process
        let directory: URL

        public func readStdout() -> String {
            (try? String(contentsOf: directory.appendingPathComponent("stdout"), encoding: .utf8)) ?? ""
        }

        public func readStderr() -> String {
            (try? String(contentsOf: directory.appendingPathComponent("stderr"), encoding: .utf8)) ?? ""
        }

        public func result() throws -> Result {
            process.waitUntilExit()
            defer { try? FileManager.default.removeItem(at: directory) }
            return Result(exitCode: process.terminationStatus, stdout: readStdout(), stderr: readStderr())
        }
    }
}

/// A temporary folder removed when the test is done with it.
public final class TemporaryDirectory: Sendable {
    public let url: URL

    public init(_ prefix: String = "mufakat-test") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    public var path: String { url.path }

    public func path(_ component: String) -> String { url.appendingPathComponent(component).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

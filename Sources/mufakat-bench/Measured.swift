import Foundation
import MufakatTLS

/// A child process's wall time, peak memory and output, measured with `wait4`, so the
/// figures are the child's own and not the benchmark's.
struct Measured {
    var seconds: Double
    /// Peak resident set size, in kilobytes.
    var maxRSSKilobytes: Int
    var exitCode: Int32
    var stdout: String
}

/// Runs `executable` with `arguments` to completion.
func runMeasured(_ executable: String, _ arguments: [String], stdoutFile: String? = nil) throws -> Measured {
    let output = stdoutFile ?? FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString).out").path
    var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let start = DispatchTime.now().uptimeNanoseconds
    let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
    guard spawned == 0 else { throw BenchError("cannot start \(executable): error \(spawned)") }
    // ru_maxrss from wait4 would include this benchmark's own memory: Linux carries the
    // parent's high-water mark across posix_spawn's exec. The child's own peak is VmHWM in
    // /proc, read until the child ends.
    var status: Int32 = 0
    var usage = rusage()
    var peak = 0
    while true {
        let result = wait4(pid, &status, WNOHANG, &usage)
        if result == pid { break }
        if result == -1 && errno != EINTR { break }
        peak = max(peak, processPeakRSS(pid: pid))
        usleep(10_000)
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
    if stdoutFile == nil { try? FileManager.default.removeItem(atPath: output) }
    let exitCode: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return Measured(seconds: seconds, maxRSSKilobytes: peak, exitCode: exitCode, stdout: text)
}

/// The peak resident set size of a running process, from /proc, in kilobytes.
func processPeakRSS(pid: pid_t) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
    }
    return 0
}

/// A hub process serving `directory` on a free port.
final class HubProcess {
    let process: Process
    let port: Int
    /// How a replica is set up for this hub: `--hub-key SHA256:…`, or `--insecure`.
    let trust: [String]
    private var stopped = false

    init(binary: String, directory: String, insecure: Bool = false) throws {
        trust = insecure ? ["--insecure"] : ["--hub-key", try HubIdentity.loadOrCreate(folder: directory).identity.key.description]
        let portFile = (directory as NSString).appendingPathComponent("hub.port")
        try? FileManager.default.removeItem(atPath: portFile)
        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--data", directory, "--host", "127.0.0.1", "--port", "0", "--idle-timeout", "600"]
            + (insecure ? ["--insecure"] : [])
        let log = (directory as NSString).appendingPathComponent("hub.log")
        FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: log)
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        for _ in 0..<400 {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                self.port = port
                return
            }
            usleep(25_000)
        }
        process.terminate()
        throw BenchError("the hub did not start")
    }

    var peakRSSKilobytes: Int { processPeakRSS(pid: process.processIdentifier) }

    func stop() {
        guard !stopped else { return }
        stopped = true
        process.terminate()
        process.waitUntilExit()
    }
}


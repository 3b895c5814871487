import Foundation
import MufakatFuzzing

#if FUZZING
/// libFuzzer's driver, from `libclang_rt.fuzzer_no_main` (`make fuzz` builds this target with
/// `-sanitize=address -sanitize-coverage=…` and links that library): our own `main` hands it
/// the command line and the target, so SwiftPM's entry point stays ours.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@main
struct FuzzDriver {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            FuzzTarget.run(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        })
    }
}
#else
/// Without libFuzzer: a plain driver that runs every file of the corpus folders given, then
/// mutates them at random until the time is up. `mufakat-fuzz --seconds 60 --seed 7 DIR…`
/// runs the same inputs again for the same seed and iteration count.
@main
struct FuzzDriver {
    static func main() throws {
        var arguments = Array(CommandLine.arguments.dropFirst())
        var seconds = 10.0
        var seed = UInt64.random(in: 1...UInt64.max)
        var folders: [String] = []
        while !arguments.isEmpty {
            let argument = arguments.removeFirst()
            switch argument {
            case "--seconds": seconds = Double(arguments.removeFirst()) ?? seconds
            case "--seed": seed = UInt64(arguments.removeFirst()) ?? seed
            default: folders.append(argument)
            }
        }
        var corpus: [[UInt8]] = []
        for folder in folders {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder))?.sorted() ?? [] {
                if let data = FileManager.default.contents(atPath: folder + "/" + name) { corpus.append(Array(data)) }
            }
        }
        if corpus.isEmpty { corpus = [Array(#"{"type":"bye"}"#.utf8)] }
        print("mufakat-fuzz: plain driver, seed \(seed), \(corpus.count) corpus inputs, \(seconds) s")
        for input in corpus { input.withUnsafeBytes(FuzzTarget.run) }
        var rng = SplitMix(seed)
        let deadline = Date().addingTimeInterval(seconds)
        var runs = 0
        while Date() < deadline {
            for _ in 0..<200 {
                var input = corpus[Int(rng.next() % UInt64(corpus.count))]
                for _ in 0...(rng.next() % 4) { mutate(&input, with: &rng, corpus: corpus) }
                input.withUnsafeBytes(FuzzTarget.run)
                runs += 1
            }
        }
        print("mufakat-fuzz: \(runs) mutated inputs, no property failed")
    }

    static func mutate(_ input: inout [UInt8], with rng: inout SplitMix, corpus: [[UInt8]]) {
        let position = input.isEmpty ? 0 : Int(rng.next() % UInt64(input.count))
        switch rng.next() % 7 {
        case 0 where !input.isEmpty: input[position] ^= UInt8(1 << (rng.next() % 8))
        case 1: input.insert(UInt8(truncatingIfNeeded: rng.next()), at: position)
        case 2 where !input.isEmpty: input.remove(at: position)
        case 3 where !input.isEmpty: input[position] = [0x00, 0x0A, 0x0D, 0x22, 0x2C, 0x2D, 0x30, 0x5B, 0x5C, 0x7B, 0x7D, 0xEF, 0xFF][Int(rng.next() % 13)]
        case 4:
            let other = corpus[Int(rng.next() % UInt64(corpus.count))]
            guard !other.isEmpty else { return }
            let start = Int(rng.next() % UInt64(other.count))
            input.insert(contentsOf: other[start..<min(other.count, start + 1 + Int(rng.next() % 64))], at: position)
        case 5 where input.count > 1:
            let end = min(input.count, position + 1 + Int(rng.next() % 32))
            input.insert(contentsOf: input[position..<end], at: position)
        default:
            let digits = Array(["0", "-0", "1.0", "1e3", "18446744073709551616", "9223372036854775808", "\u{FEFF}", "\r\n", "\"\\ud800\""][Int(rng.next() % 9)].utf8)
            input.insert(contentsOf: digits, at: position)
        }
    }
}

/// A small seeded generator, so that a run can be repeated.
struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
#endif

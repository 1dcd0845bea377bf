import Foundation

/// The entry point shared by the fuzz targets (`Sources/Fuzz/Fuzz*`, run by `scripts/fuzz`).
///
/// Built by `scripts/fuzz` (`-sanitize=fuzzer,address -D CX_LIBFUZZER`), ``run(_:)`` hands the
/// process to libFuzzer. Built normally (`swift build`), it replays the files and directories
/// given as arguments through the same check, so the committed corpus
/// (`Fuzz/corpus/<target>/`) and any crash input can be replayed without libFuzzer:
/// `.build/debug/FuzzJournal Fuzz/corpus/FuzzJournal crash-…`.
///
/// A check traps (`precondition`) when the code under test breaks a promise; thrown errors are
/// the expected answer to bad input and are not findings.
public enum FuzzDriver {
    /// The check of the running target, called once per input.
    nonisolated(unsafe) static var check: ([UInt8]) -> Void = { _ in }

    /// Runs `check` under libFuzzer, or over the argument files; does not return.
    public static func run(_ check: @escaping ([UInt8]) -> Void) -> Never {
        Self.check = check
        #if CX_LIBFUZZER
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, { data, count in
            FuzzDriver.check(count == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: count)))
            return 0
        }))
        #else
        exit(replay(Array(CommandLine.arguments.dropFirst())))
        #endif
    }

    /// Runs `check` over every regular file named (directories: their files, recursively).
    static func replay(_ paths: [String]) -> Int32 {
        guard !paths.isEmpty else {
            FileHandle.standardError.write(Data(
                "usage: \(CommandLine.arguments[0]) FILE|DIR…  (replays inputs; scripts/fuzz builds the libFuzzer binary)\n".utf8))
            return 64
        }
        var count = 0
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("no such file: \(path)\n".utf8))
                return 66
            }
            var files = [path]
            if isDirectory.boolValue {
                let names = (FileManager.default.enumerator(atPath: path)?.allObjects as? [String]) ?? []
                files = names.sorted().map { path + "/" + $0 }.filter {
                    var directory: ObjCBool = false
                    return FileManager.default.fileExists(atPath: $0, isDirectory: &directory) && !directory.boolValue
                }
            }
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else {
                    FileHandle.standardError.write(Data("cannot read \(file)\n".utf8))
                    return 66
                }
                check(Array(data))
                count += 1
            }
        }
        print("replayed \(count) inputs without a failure")
        return 0
    }
}

/// libFuzzer's per-input entry point. `scripts/fuzz` links libFuzzer's own `main`, which needs
/// this symbol, but SwiftPM renames that `main` to the target's `@main`, which calls
/// ``FuzzDriver/run(_:)`` and from there `LLVMFuzzerRunDriver`.
@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    FuzzDriver.check(count == 0 ? [] : Array(UnsafeBufferPointer(start: start, count: count)))
    return 0
}

#if CX_LIBFUZZER
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
#endif

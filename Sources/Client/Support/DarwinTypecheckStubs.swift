#if CX_TYPECHECK_DARWIN && !canImport(Darwin)
// Darwin declarations Glibc lacks, with Darwin's signatures, so that `scripts/check-portability`
// can type-check the `#if canImport(Darwin) || CX_TYPECHECK_DARWIN` branches on Linux. Only that
// type-check defines CX_TYPECHECK_DARWIN; no build links these (their bodies never run).

/// `F_FULLFSYNC` of Darwin's `<fcntl.h>` (value 51 there).
let F_FULLFSYNC: Int32 = 51

/// `char ***_NSGetEnviron(void)` of Darwin's `<crt_externs.h>`.
func _NSGetEnviron() -> UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>! {
    fatalError("type-check stub: CX_TYPECHECK_DARWIN is for `swiftc -typecheck` only")
}
#endif

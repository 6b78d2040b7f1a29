#!/usr/bin/env bash
# errors.sh - bad input: one line naming the input and what is wrong, and the
# documented exit status (2 for a malformed command line, 1 for a request
# that fails).
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/tap.bash

expect_error "no command" 2 'missing command' "$HWBP"
expect_error "unknown command" 2 "unknown command 'frobnicate'" "$HWBP" frobnicate
expect_error "unknown global option" 2 "unknown option '--frob'" "$HWBP" --frob
expect_error "unknown command option" 2 "unknown option '--frob'" "$HWBP" encode --frob w:0x1000
expect_error "missing option argument" 2 "option '--arch' needs an argument" "$HWBP" encode w:0x1000 --arch
run "$HWBP" encode w:0x1000 --arch arm64
if [ "$rc" = 0 ] && [[ "$out" == *"on arm64"* ]]; then ok "options may follow the SPECs"
else not_ok "options may follow the SPECs"; fi
expect_error "encode without SPEC" 2 "at least one SPEC" "$HWBP" encode --arch x86_64
expect_error "unknown arch" 2 "unknown arch 'sparc'" "$HWBP" encode --arch sparc w:0x1000
expect_error "conflicting --arch" 2 "conflicting options: --arch x86_64 and --arch arm64" \
	"$HWBP" encode --arch x86_64 --arch arm64 w:0x1000
expect_error "length 0" 2 "bad SPEC 'w:0x1000/0': length 0" "$HWBP" encode --arch x86_64 w:0x1000/0
expect_error "bad length" 2 "bad SPEC 'w:0x1000/8x'" "$HWBP" encode --arch x86_64 w:0x1000/8x
expect_error "missing length" 2 "bad SPEC 'w:0x1000/': missing length" "$HWBP" encode w:0x1000/
expect_error "unknown access" 2 "bad SPEC 'q:0x1000': unknown access 'q'" "$HWBP" encode q:0x1000
expect_error "bad address" 2 "bad SPEC '0x12zz': bad address '0x12zz'" "$HWBP" encode 0x12zz
expect_error "decimal address" 2 "bad address '4096'" "$HWBP" encode w:4096
expect_error "missing location" 2 "bad SPEC 'w:': missing location" "$HWBP" encode w:
expect_error "address overflows with its length" 2 "past the end of the address space" \
	"$HWBP" encode --arch x86_64 w:0xfffffffffffffffe/4
expect_error "address too large" 2 "bad SPEC 'w:0x1ffffffffffffffff'" \
	"$HWBP" encode --arch x86_64 w:0x1ffffffffffffffff
expect_error "symbol in encode" 2 "encode takes numeric addresses: 'counter'" \
	"$HWBP" encode --arch x86_64 w:counter
expect_error "bad SPEC stops before any output" 2 "bad SPEC 'w:0x2000/0'" \
	"$HWBP" encode --arch x86_64 w:0x1000 w:0x2000/0
expect_error "too long for the debug registers" 1 \
	"cannot watch w:0x1001/40 on x86_64: needs 8 debug registers, 4 free" \
	"$HWBP" encode --arch x86_64 w:0x1001/40
expect_error "arm64 range over the watchpoints" 1 "needs 5 debug registers, 4 free" \
	"$HWBP" encode --arch arm64 w:0x1000/40
expect_error "decode: unknown register" 2 "unknown register 'dr9' for x86_64" \
	"$HWBP" decode --arch x86_64 dr9=1
expect_error "decode: not NAME=VALUE" 2 "bad argument 'dr7'" "$HWBP" decode --arch x86_64 dr7
expect_error "decode: bad value" 2 "bad value 'zz' for register 'dr7'" \
	"$HWBP" decode --arch x86_64 dr7=zz
expect_error "decode: conflicting values" 2 "conflicting values for register 'dr0'" \
	"$HWBP" decode --arch x86_64 dr0=1 dr0=2
expect_error "decode: x86 I/O breakpoint is reserved" 2 "dr7" \
	"$HWBP" decode --arch x86_64 dr0=0x1000 dr7=0x00020001
expect_error "decode: x86 exec with a length" 2 "dr7" \
	"$HWBP" decode --arch x86_64 dr0=0x1000 dr7=0x000c0001
expect_error "decode: x86 misaligned address" 2 "dr0" \
	"$HWBP" decode --arch x86_64 dr0=0x1002 dr7=0x000d0001
expect_error "decode: arm64 BAS not contiguous" 2 "wcr0" \
	"$HWBP" decode --arch arm64 wvr0=0x1000 wcr0=0xb5
expect_error "decode: arm64 unknown register" 2 "unknown register 'wcr16' for arm64" \
	"$HWBP" decode --arch arm64 wcr16=1
expect_error "decode: loongarch unknown register" 2 "unknown register 'db14ctrl'" \
	"$HWBP" decode --arch loongarch64 db14ctrl=1
expect_error "info: extra argument" 2 "unexpected argument 'x'" "$HWBP" info x
expect_error "help: unknown command" 2 "unknown command 'frob'" "$HWBP" help frob
expect_error "output file cannot be written" 1 "cannot write output file '/nonexistent/x'" \
	"$HWBP" encode --arch x86_64 -o /nonexistent/x w:0x1000

expect_rc "--help exits 0" 0 "$HWBP" --help
expect_rc "--version exits 0" 0 "$HWBP" --version
run "$HWBP" --version
if [[ "$out" =~ ^hwbp\ [0-9]+\.[0-9]+\.[0-9]+$ ]]; then ok "--version prints 'hwbp X.Y.Z'"
else not_ok "--version prints 'hwbp X.Y.Z' (got '$out')"; fi
for c in info encode decode help; do
	run "$HWBP" help "$c"
	if [ "$rc" = 0 ] && [[ "$out" == "usage: hwbp $c"* ]]; then ok "help $c"
	else not_ok "help $c (exit $rc)"; fi
	run "$HWBP" "$c" --help
	if [ "$rc" = 0 ] && [[ "$out" == "usage: hwbp $c"* ]]; then ok "$c --help"
	else not_ok "$c --help (exit $rc)"; fi
done
run "$HWBP" enc --arch x86_64 w:0x1000
if [ "$rc" = 0 ] && [[ "$out" == *"1 slot"* ]]; then ok "an unambiguous prefix runs its command"
else not_ok "an unambiguous prefix runs its command"; fi
tmp=$(mktemp)
run "$HWBP" encode --arch x86_64 --json -o "$tmp" w:0x1000/8
if [ "$rc" = 0 ] && [ -z "$out" ] && grep -q '"dr7":"0x90001"' "$tmp"; then ok "-o writes the output to the file"
else not_ok "-o writes the output to the file"; cat "$tmp" | diag; fi
rm -f "$tmp"
done_testing

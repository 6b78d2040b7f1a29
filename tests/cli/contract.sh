#!/usr/bin/env bash
# contract.sh - the command-line contract of DESIGN.md that needs no hits,
# so it holds on any machine: with -- COMMAND every failure of hwbp itself
# is 125 (a malformed command line included), without one 2 stays 2; every
# refusal is exactly one line on stderr with its remedy; with --json it is
# also an error record on stdout; an exec SPEC where no instruction can
# start is refused.
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/tap.bash
T="$HWBP_BUILD/tests/targets"

# The command would exit 2 itself: hwbp's refusal must not look like that.
app=(-- sh -c 'exit 2')
for spec in w:counter/0 q:counter w:counter/-8 w: w:0xZZ/4; do
	expect_error "bad SPEC '$spec' with a command: 125" 125 "bad SPEC '$spec'" \
		"$HWBP" watch "$spec" "${app[@]}"
	expect_error "bad SPEC '$spec' without a command: 2" 2 "bad SPEC '$spec'" \
		"$HWBP" watch -p 1 "$spec"
	expect_error "stat: bad SPEC '$spec' with a command: 125" 125 "bad SPEC '$spec'" \
		"$HWBP" stat "$spec" "${app[@]}"
done
expect_error "unknown option with a command: 125" 125 "unknown option '--frob' for 'watch' \(see 'hwbp help watch'\)" \
	"$HWBP" watch --frob w:counter "${app[@]}"
expect_error "unknown short option with a command: 125" 125 "unknown option '-Z' for 'watch' \(see 'hwbp help watch'\)" \
	"$HWBP" watch -Z w:counter "${app[@]}"
expect_error "unknown option without a command: 2" 2 "unknown option '--frob' for 'watch'" \
	"$HWBP" watch --frob -p 1 w:counter
expect_error "missing option argument with a command: 125" 125 "option '--max-hits' needs an argument" \
	"$HWBP" watch w:counter --max-hits "${app[@]}"
for n in x 0 -1; do
	expect_error "bad --max-hits '$n' with a command: 125" 125 "bad --max-hits '$n' \(give a positive number" \
		"$HWBP" watch --max-hits "$n" w:counter "${app[@]}"
	expect_error "bad --max-hits '$n' without a command: 2" 2 "bad --max-hits '$n'" \
		"$HWBP" watch --max-hits "$n" -p 1 w:counter
done
expect_error "no SPEC with a command: 125" 125 "watch needs at least one SPEC \(e.g. hwbp watch w:counter -- ./app\)" \
	"$HWBP" watch "${app[@]}"
expect_error "stat: no SPEC with a command: 125" 125 "stat needs at least one SPEC" \
	"$HWBP" stat "${app[@]}"
expect_error "no SPEC without a command: 2" 2 "watch needs at least one SPEC" "$HWBP" watch -p 1
expect_error "no target: 2" 2 "watch needs a target \(add -- COMMAND" "$HWBP" watch w:counter
expect_error "-p and a command: 125" 125 "conflicting options" "$HWBP" watch -p 1 w:counter "${app[@]}"
expect_error "--if on perf with a command: 125" 125 "need the old and new values" \
	"$HWBP" watch --backend perf --if 'value == 1' w:counter "${app[@]}"
expect_error "too many SPECs with a command: 125" 125 "too many SPECs: 33 \(at most 32" \
	"$HWBP" watch $(for i in $(seq 33); do printf 'w:0x%x ' $((0x1000 + 8 * i)); done) "${app[@]}"
# The command cannot be run: 126/127 stay, in one line.
expect_error "command not found: 127" 127 "command not found: 'no-such-command-x' \(check the name" \
	"$HWBP" watch w:0x1000 -- no-such-command-x
expect_error "command not executable: 126" 126 "cannot run command '/etc/passwd': .* \(check that it is" \
	"$HWBP" watch w:0x1000 -- /etc/passwd
# Well-formed requests that fail.
expect_error "no such process: 1, one line with the remedy" 1 \
	"^hwbp: no such process: 999999 \(check the pid with ps\)$" "$HWBP" watch -p 999999 w:counter
expect_error "unknown symbol with a command: 125, one line" 125 "cannot resolve 'countr': .* \(did you mean counter" \
	"$HWBP" watch countr -- "$T/counter-O0"
expect_error "unknown symbol with -p: 1" 1 "cannot resolve 'countr'" "$HWBP" watch -p $$ countr

# The refusal counts what the whole request needs: five 8-byte variables
# and a 4 KiB buffer need 5 + 512 of the 4 slots of an x86-64 CPU. (With
# --backend auto such a request goes to the guard backend: guard.sh.)
if [ "$(uname -m)" = x86_64 ]; then
	specs=(w:0x10000/8 w:0x10008/8 w:0x10010/8 w:0x10018/8 w:0x10020/8 w:0x20000/4096)
	expect_error "ENOSPC counts every slot the request needs" 125 \
		"^hwbp: cannot watch w:0x10000/8, .*w:0x20000/4096: needs 517 debug registers, 4 free \(watch fewer" \
		"$HWBP" watch --backend perf "${specs[@]}" -- true
	expect_error "ENOSPC: five 8-byte variables alone need 5" 125 \
		"needs 5 debug registers, 4 free" "$HWBP" watch --backend perf "${specs[@]:0:5}" -- true
	expect_error "ENOSPC of one SPEC" 125 "^hwbp: cannot watch w:0x20000/40: needs 5 debug registers, 4 free \(" \
		"$HWBP" watch --backend perf w:0x20000/40 -- true
else
	skip "ENOSPC counts every slot the request needs" "x86-64 counts"
fi

# --json: the refusal is also a record on stdout, and stderr one line.
expect_json_error "--json: bad SPEC with a command" 125 w:counter/0 "^bad SPEC 'w:counter/0': length 0" \
	"$HWBP" watch --json w:counter/0 "${app[@]}"
expect_json_error "--json: bad SPEC without a command" 2 q:counter "^bad SPEC 'q:counter': unknown access" \
	"$HWBP" watch -p 1 q:counter --json
expect_json_error "--json: unknown option" 125 - "^unknown option '--frob'" \
	"$HWBP" watch --json --frob w:counter "${app[@]}"
expect_json_error "--json: bad --max-hits" 125 - "^bad --max-hits 'x'" \
	"$HWBP" watch --max-hits x --json w:counter "${app[@]}"
expect_json_error "--json: no SPEC" 125 - "^watch needs at least one SPEC" "$HWBP" watch -j "${app[@]}"
expect_json_error "stat --json: bad SPEC" 125 w: "^bad SPEC 'w:': missing location" \
	"$HWBP" stat --json w: "${app[@]}"
expect_json_error "--json: no such process" 1 - "^no such process: 999999 \(check the pid with ps\)$" \
	"$HWBP" watch --json -p 999999 w:counter
expect_json_error "--json: unknown symbol" 125 countr "^cannot resolve 'countr'" \
	"$HWBP" watch --json countr -- "$T/counter-O0"
expect_json_error "encode --json: no instruction starts there" 2 x:0x401002 \
	"^cannot watch x:0x401002 on loongarch64: no instruction starts at 0x401002 \(" \
	"$HWBP" encode --json --arch loongarch64 x:0x401002
expect_json_error "info --json: an extra argument" 2 - "^unexpected argument 'x' \(usage: " \
	"$HWBP" info --json x
expect_json_error "info --json: an output file that cannot be written" 1 - \
	"^cannot write output file '/nonexistent/x': " "$HWBP" info --json -o /nonexistent/x
tmp=$(mktemp)
expect_json_error "--json -o FILE: the error record is on stdout all the same" 125 w:counter/0 \
	"^bad SPEC 'w:counter/0'" "$HWBP" watch --json -o "$tmp" w:counter/0 "${app[@]}"
rm -f "$tmp"

# An exec SPEC where no instruction can start (arm64, LoongArch: 4-byte
# aligned instructions) is refused, never widened.
expect_error "encode arm64 x:0x401001/1 refused" 2 \
	"^hwbp: cannot watch x:0x401001/1 on arm64: no instruction starts at 0x401001 \(instructions are 4-byte aligned: give a multiple of 4\)$" \
	"$HWBP" encode --arch arm64 x:0x401001/1
expect_error "encode loongarch64 x:0x401002 refused" 2 "no instruction starts at 0x401002" \
	"$HWBP" encode --arch loongarch64 x:0x401002
expect_error "encode arm64 x:0x401003/8 refused" 2 "no instruction starts at 0x401003" \
	"$HWBP" encode --arch arm64 x:0x401003/8
expect_error "encode refuses it before any output" 2 "no instruction starts at 0x401001" \
	"$HWBP" encode --arch arm64 x:0x401001 x:0x401000
run "$HWBP" encode --arch x86_64 x:0x401001
[ "$rc" = 0 ] && [[ "$out" == *"1 slot"* ]] && ok "x86-64 instructions start anywhere: x:0x401001 fits" ||
	not_ok "x86-64 x:0x401001 (exit $rc)"
run "$HWBP" encode --arch arm64 x:0x401004
[ "$rc" = 0 ] && [[ "$out" == *"1 slot"* ]] && [[ "$out" != *note* ]] && ok "arm64 x:0x401004: one exact slot" ||
	not_ok "arm64 x:0x401004 (exit $rc)"
case $(uname -m) in
aarch64 | loongarch64)
	expect_error "watch: x:0x401001 refused on this CPU, with a command" 125 \
		"cannot watch 'x:0x401001' .*no instruction starts there" "$HWBP" watch x:0x401001 -- true ;;
*)	;;	# x86-64: an instruction may start at any byte (the encode check above)
esac

# One line per refusal across the other commands too.
expect_error "missing option argument: the remedy in the same line" 2 \
	"^hwbp: option '--arch' needs an argument \(see 'hwbp help encode'\)$" "$HWBP" encode w:0x1000 --arch
expect_error "unknown command: the remedy in the same line" 2 \
	"^hwbp: unknown command 'frob' \(see 'hwbp --help' for the commands\)$" "$HWBP" frob
done_testing

# tap.bash - sourced by tests/cli/*.sh: a small TAP writer and helpers.
# HWBP is the binary under test (tools/run-tests sets it).
HWBP=${HWBP:-build/hwbp}
HWBP_BUILD=${HWBP_BUILD:-$(dirname "$HWBP")}
tap_n=0
tap_failed=0
ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
not_ok() { tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1)); echo "not ok $tap_n - $*"; }
skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1 # SKIP $2"; }
diag() { sed 's/^/# /'; }
done_testing() { echo "1..$tap_n"; }
# needs_exact_dr6 NAME: true (after a skip) where DR6 is not exact, as the
# x86 lane's HWBP_DR6_INEXACT says (tests/hw/hw.h, hw_needs_exact_dr6): for a
# test whose verdict needs several watchpoints to match one access. The skip
# stands under HWBP_REQUIRE_HW=1; tools/run-tests counts it.
needs_exact_dr6() {
	[ -n "${HWBP_DR6_INEXACT:-}" ] || return 1
	tap_n=$((tap_n + 1)); echo "ok $tap_n - $1 # SKIP needs exact DR6: $HWBP_DR6_INEXACT"
}

# run CMD...: runs it, sets $out, $err and $rc.
run() {
	local o e
	o=$(mktemp) e=$(mktemp)
	"$@" >"$o" 2>"$e" </dev/null
	rc=$?
	out=$(cat "$o") err=$(cat "$e")
	rm -f "$o" "$e"
}

# expect_rc NAME RC CMD...: CMD exits with RC.
expect_rc() {
	local name=$1 want=$2
	shift 2
	run "$@"
	if [ "$rc" = "$want" ]; then ok "$name"; else
		not_ok "$name (exit $rc, wanted $want)"; printf '%s\n%s\n' "$out" "$err" | diag; fi
}

# expect_error NAME RC PATTERN CMD...: CMD exits RC, prints exactly one
# line on stderr, "hwbp: " and a message matching PATTERN (grep -E) with the
# remedy in the same line (no "hint: " line), and nothing on stdout.
expect_error() {
	local name=$1 want=$2 pat=$3 lines
	shift 3
	run "$@"
	lines=$(printf '%s' "$err" | grep -c '')
	if [ "$rc" = "$want" ] && [ "$lines" = 1 ] && [ -z "$out" ] &&
	   [[ "$err" == "hwbp: "* ]] && printf '%s\n' "$err" | grep -Eq -- "$pat"; then
		ok "$name"
	else
		not_ok "$name (exit $rc, wanted $want; $lines lines on stderr, wanted 1)"
		printf 'stdout: %s\nstderr: %s\n' "$out" "$err" | diag
	fi
}

# expect_json_error NAME RC SPEC PATTERN CMD...: as expect_error, for a CMD
# run with --json: one line on stderr, and on stdout an error record
# {"type":"error","spec":SPEC,...} (no "spec" when SPEC is -) whose message
# matches PATTERN, then at most a summary record.
expect_json_error() {
	local name=$1 want=$2 spec=$3 pat=$4 lines log
	shift 4
	run "$@"
	lines=$(printf '%s' "$err" | grep -c '')
	log=$(mktemp)
	if [ "$rc" = "$want" ] && [ "$lines" = 1 ] && python3 -c "
import json, re, sys
recs = [json.loads(l) for l in sys.stdin.read().splitlines()]
assert recs and recs[0]['type'] == 'error', recs
e = recs[0]
assert set(e) <= {'type', 'spec', 'message'}, e
if sys.argv[1] == '-':
    assert 'spec' not in e, e
else:
    assert e['spec'] == sys.argv[1], e
assert re.search(sys.argv[2], e['message']), e
assert ('hwbp: ' + e['message']) == sys.argv[3], (e, sys.argv[3])
assert all(r['type'] == 'summary' for r in recs[1:]) and len(recs) <= 2, recs
" "$spec" "$pat" "$err" <<<"$out" 2>"$log"; then
		ok "$name"
	else
		not_ok "$name (exit $rc, wanted $want; $lines lines on stderr, wanted 1)"
		{ cat "$log"; printf 'stdout: %s\nstderr: %s\n' "$out" "$err"; } | diag
	fi
	rm -f "$log"
}

# require_backend NAME: end the test file with a skip (a failure under
# HWBP_REQUIRE_HW=1) unless hwbp info says backend NAME (perf, ptrace) works.
require_backend() {
	local b=$1
	if [ "$("$HWBP" info --json | python3 -c "import json,sys; print(json.load(sys.stdin)['backends']['$b']['usable'])")" != True ]; then
		if [ "${HWBP_REQUIRE_HW:-0}" = 1 ]; then echo "not ok 1 - $b breakpoints usable"; echo "1..1"; exit 1; fi
		echo "1..0 # SKIP $b breakpoints are not usable here (see hwbp info)"; exit 0
	fi
}

# check_records NAME PYTHON: run PYTHON with recs (the JSON records in
# $out), hits (the hit records) and summ (the last record, a summary).
check_records() {
	local name=$1 expr=$2 log
	log=$(mktemp)
	if python3 -c "
import json, sys
recs = [json.loads(l) for l in sys.stdin.read().splitlines() if l.startswith('{')]
hits = [r for r in recs if r['type'] == 'hit']
summ = recs[-1]
assert summ['type'] == 'summary', summ
$expr" <<<"$out" 2>"$log"; then ok "$name"; else
		not_ok "$name"; { cat "$log"; printf '%s\n' "$out" | head -20; } | diag; fi
	rm -f "$log"
}

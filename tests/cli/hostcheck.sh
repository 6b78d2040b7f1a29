#!/usr/bin/env bash
# lane: too
# hostcheck.sh - does this machine deliver debug exceptions, and do watch and
# stat act on the answer? Meaningful on both kinds of machine:
#   - hwbp info --json's verdict ("debug_exceptions") is checked against an
#     independent count (tests/tools/bpcount: a raw perf breakpoint, 100
#     writes, no libhwbp);
#   - where the machine does not deliver them, watch and stat refuse with
#     one line (125 with a command, which never runs; 1 with -p, whose
#     process is left alone) through --backend perf and ptrace, after any
#     bad input has had its own error; --backend auto says so in one line
#     and uses the guard backend instead, which needs no debug exception;
#   - where it does, the same commands run and report their hits.
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/tap.bash
T="$HWBP_BUILD/tests/targets"
BPCOUNT="$HWBP_BUILD/tests/tools/bpcount"
tmp=$(mktemp -d)
loop_pid=
cleanup() { [ -z "$loop_pid" ] || kill -KILL "$loop_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

# field JSON KEY.KEY...: the value as JSON (python's json.dumps), or nothing.
field() { python3 -c 'import json,sys; d=json.loads(sys.argv[1])
for k in sys.argv[2].split("."): d=d[k]
print(json.dumps(d))' "$1" "$2" 2>/dev/null; }

# The verdict, as hwbp info gives it.
run "$HWBP" info --json
info=$out
delivered=$(field "$info" debug_exceptions.delivered)
reason=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["debug_exceptions"]["reason"])' "$info" 2>/dev/null)
if [ "$rc" = 0 ] && [[ "$delivered" =~ ^(true|false|null)$ ]] &&
   python3 -c '
import json, sys
d = json.loads(sys.argv[1])["debug_exceptions"]
assert set(d) == {"delivered", "reason"}, d
r = d["reason"]
assert isinstance(r, str) and len(r) > 10 and "\n" not in r and not r.endswith("."), r' "$info" 2>"$tmp/log"; then
	ok "info --json: debug_exceptions is {delivered: $delivered, reason: a sentence}: $reason"
else
	not_ok "info --json: debug_exceptions (exit $rc)"; { cat "$tmp/log"; printf '%s\n' "$info"; } | diag
fi
case $delivered in true) word=delivered ;; false) word="not delivered" ;; *) word=unknown ;; esac
run "$HWBP" info
line=$(printf '%s\n' "$out" | grep '^debug exceptions: ')
if [ "$rc" = 0 ] && [ "$line" = "debug exceptions: $word ($reason)" ]; then
	ok "info: one line with the same verdict"
else not_ok "info: the verdict line (got '$line', wanted 'debug exceptions: $word ($reason)')"; fi

# An independent count: a raw perf counting breakpoint, 100 writes.
run "$BPCOUNT" 100
count=$out perf_ok=0
if [ "$rc" = 0 ] && [[ "$count" =~ ^([0-9]+)\ of\ 100$ ]]; then
	perf_ok=1 n=${BASH_REMATCH[1]}
	if { [ "$n" -gt 0 ] && [ "$delivered" = true ]; } || { [ "$n" = 0 ] && [ "$delivered" = false ]; }; then
		ok "the verdict agrees with a raw perf count ($count writes counted: delivered $delivered)"
	else
		not_ok "the verdict agrees with a raw perf count ($count counted, but delivered is $delivered: $reason)"
	fi
	# Through perf the reason names the count the library saw.
	case $delivered in
	true) pat='^a perf counting breakpoint counted 3 of 3 writes to a watched word$' ;;
	false) pat='^a perf counting breakpoint counted 0 of 3 writes to a watched word$' ;;
	*) pat='^$' ;;
	esac
	if [[ "$reason" =~ $pat ]]; then ok "the reason gives the library's own count: $reason"
	else not_ok "the reason gives the library's own count (got '$reason')"; fi
else
	skip "the verdict agrees with a raw perf count" "perf refused here ($count): the independent count needs it"
	skip "the reason gives the library's own count" "perf refused here"
fi
# ptrace can arm its probe here (it may still not trap).
ptrace_ok=0
case $(field "$info" backends.ptrace.usable)/$(field "$info" backends.ptrace.reason) in
true/* | 'false/"a ptrace watchpoint did not stop a child at its watched write"') ptrace_ok=1 ;;
esac
if [ "$delivered" = null ]; then
	skip "watch and stat act on the verdict" "neither backend could check here: $reason"
	done_testing
	exit 0
fi

# A process for -p: stopper loop writes 'watched' every millisecond until
# SIGUSR2, then exits 0.
start_loop() {
	"$T/stopper-O2" loop >"$tmp/loop.out" 2>&1 &
	loop_pid=$!
	for _ in $(seq 50); do grep -q ready "$tmp/loop.out" && break; sleep 0.1; done
}
# end_loop NAME: the process is running, untraced, and ends as asked (0).
end_loop() {
	local st tracer prc
	st=$(awk '/^State/ {print $2}' "/proc/$loop_pid/status" 2>/dev/null)
	tracer=$(awk '/^TracerPid/ {print $2}' "/proc/$loop_pid/status" 2>/dev/null)
	kill -USR2 "$loop_pid" 2>/dev/null
	wait "$loop_pid"; prc=$?
	loop_pid=
	if [[ "$st" =~ ^[RS]$ ]] && [ "$tracer" = 0 ] && [ "$prc" = 0 ]; then
		ok "$1: the process runs on, untraced, and exits 0 when asked"
	else not_ok "$1: the process (state '$st', tracer '$tracer', exit $prc)"; diag <"$tmp/loop.out"; fi
}

# Bad input gets its own error first, whatever the machine.
expect_error "bad SPEC first, with a command: 125" 125 "bad SPEC 'w:counter/0'" \
	"$HWBP" watch w:counter/0 -- "$T/demo-O0"
expect_error "bad SPEC first, with -p: 2" 2 "bad SPEC 'q:counter'" "$HWBP" watch -p 1 q:counter
expect_error "unknown symbol first, with a command: 125" 125 "cannot resolve 'countr'" \
	"$HWBP" watch countr -- "$T/demo-O0"
expect_error "no such process first: 1" 1 "no such process: 999999" "$HWBP" watch -p 999999 w:watched
expect_error "command not found first: 127" 127 "command not found: 'no-such-command-x'" \
	"$HWBP" watch w:0x1000 -- no-such-command-x

refusal='^hwbp: this machine does not deliver debug exceptions: [^()]+ \((no watchpoint can fire here: use --backend guard or auto, |nothing can be watched here: ).*see hwbp info\)$'
picked='^hwbp: this machine does not deliver debug exceptions \([^()]+\): using the guard backend$'
# Whether this libhwbp opens guard sessions here (0.4 declares the backend;
# a build or host without it gives EOPNOTSUPP).
run "$HWBP" watch -q --backend guard w:config.limit -- "$T/demo-O0"
guard_ok=0 guard_why=$err
[ "$rc" = 0 ] && guard_ok=1
for b in auto perf ptrace; do
	# The reason is the probe of the backend the run would use.
	if [ $b = ptrace ] || { [ $b = auto ] && [ $perf_ok = 0 ]; }; then
		why='a ptrace watchpoint did not stop a child at its watched write'
	else
		why='a perf counting breakpoint counted 0 of 3 writes to a watched word'
	fi
	if [ $b = perf ] && [ $perf_ok = 0 ]; then
		skip "--backend perf" "perf refused here: the run fails with its own reason"
		continue
	fi
	if [ $b != perf ] && [ $perf_ok = 0 ] || [ $b = ptrace ]; then
		if [ $ptrace_ok = 0 ]; then
			skip "--backend $b through ptrace" "ptrace cannot arm a watchpoint here"
			continue
		fi
	fi
	if [ "$delivered" = false ] && [ $b = auto ] && [ "$guard_ok" = 1 ]; then
		# auto: one line saying why, then the guard backend does the job.
		run "$HWBP" watch --json --backend auto w:config.limit -- "$T/demo-O0"
		first=$(printf '%s\n' "$err" | head -1)
		if [[ "$first" =~ $picked ]] && [ "$(printf '%s' "$err" | grep -c '')" = 1 ]; then
			ok "watch --backend auto: one line, the guard backend and why: $first"
		else not_ok "watch --backend auto: the line saying guard"; printf '%s\n' "$err" | diag; fi
		check_records "watch --backend auto through guard: 6 hits with old and new" \
			"assert $rc == 0 and summ['hits'] == 6 == len(hits), (summ, $rc)
assert all('old' in h and 'value' in h for h in hits), hits
assert 'guard_steps' in summ, summ"
		run "$HWBP" watch -q --backend auto w:0x1000 -- touch "$tmp/ran-$b"
		if [ -e "$tmp/ran-$b" ] || [ "$rc" = 125 ]; then
			ok "watch --backend auto -- touch FILE: ran, or refused 0x1000 with a reason of its own (exit $rc)"
		else not_ok "watch --backend auto -- touch FILE (exit $rc)"; printf '%s\n' "$err" | diag; fi
		run "$HWBP" stat --json --backend auto counter -- "$T/demo-O2"
		check_records "stat --backend auto through guard: 3 hits" \
			"assert $rc == 0 and summ['hits'] == 3 and 'guard_steps' in summ, (summ, $rc)"
		start_loop
		run "$HWBP" watch --json -q --backend auto --duration 0.5 -p "$loop_pid" w:watched
		check_records "watch --backend auto -p PID through guard: hits > 0" \
			"assert $rc == 0 and summ['hits'] > 0, (summ, $rc)"
		if [[ "$(printf '%s\n' "$err" | head -1)" =~ $picked ]]; then ok "watch --backend auto -p PID: the line saying guard"
		else not_ok "watch --backend auto -p PID: the line saying guard"; printf '%s\n' "$err" | diag; fi
		end_loop "watched -p --backend auto (guard)"
	elif [ "$delivered" = false ]; then
		# perf and ptrace refuse; so does auto in a libhwbp without guard.
		expect_error "watch --backend $b with a command: 125, one line, the command not run" 125 \
			"$refusal" "$HWBP" watch --backend $b w:config.limit -- "$T/demo-O0"
		run "$HWBP" watch --backend $b w:config.limit -- "$T/demo-O0"
		if [[ "$err" == *": $why ("* ]]; then ok "watch --backend $b: the reason is the probe's: $why"
		else not_ok "watch --backend $b: the reason (wanted '$why')"; printf '%s\n' "$err" | diag; fi
		run "$HWBP" watch --backend $b w:0x1000 -- touch "$tmp/ran-$b"
		if [ "$rc" = 125 ] && [ ! -e "$tmp/ran-$b" ] && [ -z "$out" ]; then
			ok "watch --backend $b -- touch FILE: 125 and FILE is not there (the command never ran)"
		else not_ok "watch --backend $b -- touch FILE (exit $rc, file $(ls "$tmp/ran-$b" 2>&1))"; fi
		expect_error "stat --backend $b with a command: 125, one line" 125 \
			"$refusal" "$HWBP" stat --backend $b counter -- "$T/demo-O2"
		run "$HWBP" stat --backend $b -q w:0x1000 -- touch "$tmp/stat-ran-$b"
		if [ "$rc" = 125 ] && [ ! -e "$tmp/stat-ran-$b" ] && [ -z "$out" ]; then
			ok "stat --backend $b -q -- touch FILE: 125, FILE not there, no '0 hits'"
		else not_ok "stat -q --backend $b -- touch FILE (exit $rc, stdout '$out')"; fi
		expect_json_error "watch --json --backend $b: the error record" 125 - \
			"^this machine does not deliver debug exceptions: " \
			"$HWBP" watch --json --backend $b w:config.limit -- "$T/demo-O0"
		expect_json_error "stat --json --backend $b: the error record" 125 - \
			"^this machine does not deliver debug exceptions: " \
			"$HWBP" stat --json --backend $b counter -- "$T/demo-O2"
		start_loop
		expect_error "watch --backend $b -p PID: 1, one line" 1 "$refusal" \
			"$HWBP" watch --backend $b -p "$loop_pid" w:watched
		expect_json_error "stat --json --backend $b -p PID: 1 and the error record" 1 - \
			"^this machine does not deliver debug exceptions: " \
			"$HWBP" stat --json --backend $b -p "$loop_pid" w:watched
		end_loop "refused -p --backend $b"
	else
		# Delivered: the check lets every run go on, and hits come.
		run "$HWBP" watch --json --backend $b w:config.limit -- "$T/demo-O0"
		check_records "watch --backend $b: runs, hits > 0" \
			"assert $rc == 0 and summ['hits'] > 0 and len(hits) == summ['hits'], (summ, $rc)"
		if [[ "$err" != *"does not deliver"* ]]; then ok "watch --backend $b: no refusal"
		else not_ok "watch --backend $b: no refusal"; printf '%s\n' "$err" | diag; fi
		run "$HWBP" watch -q --backend $b w:0x1000 -- touch "$tmp/ran-$b"
		if [ "$rc" = 0 ] && [ -e "$tmp/ran-$b" ]; then ok "watch --backend $b -- touch FILE: the command ran"
		else not_ok "watch --backend $b -- touch FILE (exit $rc)"; printf '%s\n' "$err" | diag; fi
		run "$HWBP" stat --json --backend $b counter -- "$T/demo-O2"
		check_records "stat --backend $b: runs, hits > 0" "assert $rc == 0 and summ['hits'] > 0, (summ, $rc)"
		start_loop
		run "$HWBP" watch --json -q --backend $b --duration 0.5 -p "$loop_pid" w:watched
		check_records "watch --backend $b -p PID: hits > 0" "assert $rc == 0 and summ['hits'] > 0, (summ, $rc)"
		end_loop "watched -p --backend $b"
	fi
done
done_testing

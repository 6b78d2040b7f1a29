#!/usr/bin/env bash
# needs: debug exceptions
# ptrace.sh - hwbp watch and hwbp stat in stop mode (--backend ptrace) on
# real debug registers: exact old -> new values, --if and --if-changed,
# threads, fork, exec, signals passed on, job control, attach and detach
# with the target surviving, and the errors of the backend.
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/tap.bash
T="$HWBP_BUILD/tests/targets"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; kill $(jobs -p) 2>/dev/null' EXIT

require_backend ptrace

SET=$(grep -n 'LINE_set' tests/targets/stopper.c | cut -d: -f1)


for v in O0 O2 O0-nopie O2-nopie; do
	run "$HWBP" watch --backend ptrace --json w:watched w:small -- "$T/stopper-$v" values
	[ "$rc" = 0 ] && ok "stopper-$v values: exit 0" || { not_ok "stopper-$v values: exit $rc"; echo "$err" | diag; }
	check_records "stopper-$v: every write with its exact old and new value" "
w = [(int(h['old'], 16), int(h['value'], 16)) for h in hits if h['spec'] == 'w:watched']
assert w == [(0, 5), (5, 5), (5, 8), (8, 0xffffffff), (0xffffffff, 42)], w
s = [(int(h['old'], 16), int(h['value'], 16)) for h in hits if h['spec'] == 'w:small']
assert s == [(0, 1), (1, 2)], s
assert summ['hits'] == 7 and summ['lost'] == 0, summ
sets = [h for h in hits if h['func'] == 'set_watched']
assert len(sets) == 4 and all(h['file'] == 'stopper.c' and h['line'] == $SET for h in sets), sets
assert all(h['access'] == 'w' and h['pid'] == h['tid'] for h in hits)"
done

run "$HWBP" watch --backend ptrace w:watched -- "$T/stopper-O2" values
if [ "$rc" = 0 ] && printf '%s\n' "$out" | grep -q 'set_watched+[0-9]* (stopper.c:'"$SET"')  8 -> -1$'; then
	ok "text: a signed int shows old -> new as signed (8 -> -1)"
else not_ok "text: 8 -> -1"; printf '%s\n%s\n' "$out" "$err" | diag; fi

run "$HWBP" watch --json --if-changed w:watched -- "$T/stopper-O2" values
check_records "--if-changed (auto picks ptrace): the write of 5 over 5 is left out" "
w = [(int(h['old'], 16), int(h['value'], 16)) for h in hits]
assert w == [(0, 5), (5, 8), (8, 0xffffffff), (0xffffffff, 42)], w
assert summ['hits'] == 4, summ"

for c in "value == 5:2" "value != 5:3" "value < 0:1" "value > 5:2" "value <= 5:3" "value >= 8:2" "value & 0x2:2" "value == -1:1"; do
	cond=${c%:*} want=${c##*:}
	run "$HWBP" watch --json --if "$cond" w:watched -- "$T/stopper-O2" values
	check_records "--if '$cond' (signed int): $want hits" "assert summ['hits'] == $want and len(hits) == $want, (summ, hits)"
done

run "$HWBP" watch --json --if 'value == 2' w:small -- "$T/stopper-O2" values
check_records "--if on an unsigned char: 1 hit" "assert summ['hits'] == 1 and int(hits[0]['value'], 16) == 2"

run "$HWBP" watch --backend ptrace --json w:watched -- "$T/stopper-O2" threads 8
check_records "8 threads, thread i writes i times: 36 hits, 8 threads with 1..8 each" "
from collections import Counter
c = Counter(h['tid'] for h in hits)
assert sorted(c.values()) == list(range(1, 9)), c
assert summ['hits'] == 36 and all(h['tid'] != h['pid'] for h in hits)"

run "$HWBP" watch --backend ptrace --json w:watched -- "$T/stopper-O2" signals
if [ "$rc" = 0 ] && printf '%s\n' "$out" | grep -q '^usr1 3 trap 2$'; then
	ok "signals: SIGUSR1 x3 and the target's own SIGTRAP x2 reach its handlers"
else not_ok "signals passed on (exit $rc)"; printf '%s\n%s\n' "$out" "$err" | diag; fi
check_records "signals: the 4 writes are exact" "assert summ['hits'] == 4 and [int(h['value'], 16) for h in hits] == [1, 2, 3, 4]"

run "$HWBP" watch --backend ptrace --no-follow-fork --json w:watched -- "$T/stopper-O2" fork 5
check_records "fork with --no-follow-fork: the parent's 5 writes, the child runs unwatched" "assert summ['hits'] == 5 and len({h['pid'] for h in hits}) == 1"
[ "$rc" = 0 ] && ok "fork: the child was not hurt (exit 0)" || not_ok "fork: exit $rc"
run "$HWBP" watch --backend ptrace --follow-fork --json w:watched -- "$T/stopper-O2" fork 5
check_records "fork with --follow-fork: 5 + 5 writes from two processes" "
from collections import Counter
assert summ['hits'] == 10 and sorted(Counter(h['pid'] for h in hits).values()) == [5, 5], hits"

run "$HWBP" watch --backend ptrace --json w:watched -- "$T/stopper-O2" exec 3
check_records "exec: 3 writes before, 3 in the new image" "assert summ['hits'] == 6, summ"
if [ "$rc" = 0 ] && printf '%s\n' "$err" | grep -q "called exec: 'w:watched' watched again at 0x"; then
	ok "exec: said so, and re-armed in the new image"
else not_ok "exec message (exit $rc)"; printf '%s\n' "$err" | diag; fi

run "$HWBP" stat --backend ptrace --json w:watched -- "$T/stopper-O2" threads 4
check_records "stat in stop mode: 10 hits" "assert summ['hits'] == 10, summ"

expect_rc "exit status of the command passes through" 2 "$HWBP" watch --backend ptrace w:watched -- "$T/stopper-O2" nosuchmode

# Attach, job control, detach: the target survives and runs on unwatched.
"$T/stopper-O2" loop >"$tmp/loop.out" &
P=$!
for _ in $(seq 50); do grep -q ready "$tmp/loop.out" && break; sleep 0.1; done
"$HWBP" watch --backend ptrace -q --json -o "$tmp/attach.json" -p "$P" w:watched --duration 4 &
H=$!
sleep 0.5
state_of() { awk '/^State/ {print $2}' "/proc/$1/status"; }
kill -STOP "$P"
# hwbp sees the group-stop and leaves it stopped (PTRACE_LISTEN); under
# load that takes a moment, either way.
for _ in $(seq 60); do st=$(state_of "$P"); [ "$st" = t ] || [ "$st" = T ] && break; sleep 0.05; done
sleep 0.2
st=$(state_of "$P")
kill -CONT "$P"
for _ in $(seq 60); do st2=$(state_of "$P"); [ "$st2" != t ] && [ "$st2" != T ] && break; sleep 0.05; done
wait "$H"
hrc=$?
if [ "$st" = t ] || [ "$st" = T ]; then ok "job control: SIGSTOP stops the watched process ($st)"; else not_ok "SIGSTOP: state $st"; fi
if [ "$st2" != t ] && [ "$st2" != T ]; then ok "job control: SIGCONT resumes it ($st2)"; else not_ok "SIGCONT: state $st2"; fi
out=$(cat "$tmp/attach.json")
[ "$hrc" = 0 ] && ok "-p: exit 0 after --duration" || not_ok "-p: exit $hrc"
check_records "-p: hits seen while attached" "assert summ['hits'] > 100, summ"
tracer=$(awk '/^TracerPid/ {print $2}' "/proc/$P/status")
[ "$tracer" = 0 ] && ok "detach: no tracer left" || not_ok "detach: TracerPid $tracer"
sleep 0.3
kill -USR2 "$P"
wait "$P"
prc=$?
[ "$prc" = 0 ] && ok "detach: the target wrote on unwatched and exited 0 (no stray SIGTRAP)" || not_ok "target exit $prc after detach"

# Ctrl-C on a launched command in stop mode: detach, then the command ends as
# it would (SIGINT leaves it running: it is stopped by hwbp's SIGUSR2 below).
"$T/stopper-O2" loop >"$tmp/loop2.out" &
P=$!
for _ in $(seq 50); do grep -q ready "$tmp/loop2.out" && break; sleep 0.1; done
"$HWBP" watch --backend ptrace -q -o /dev/null -p "$P" w:watched &
H=$!
sleep 0.5
kill -INT "$H"
wait "$H"
hrc=$?
sleep 0.2
[ "$hrc" = 0 ] && ok "-p: Ctrl-C detaches cleanly (exit 0)" || not_ok "Ctrl-C: exit $hrc"
kill -USR2 "$P"
wait "$P"
prc=$?
[ "$prc" = 0 ] && ok "Ctrl-C: the target survives and exits 0" || not_ok "target exit $prc after Ctrl-C"

expect_error "--if with --backend perf is refused" 125 "need the old and new values" \
	"$HWBP" watch --backend perf --if 'value == 1' w:watched -- "$T/stopper-O2" values
expect_error "--if syntax" 125 "bad --if 'count == 1'" \
	"$HWBP" watch --if 'count == 1' w:watched -- "$T/stopper-O2" values
expect_error "--if number" 125 "bad --if 'value == x'.*not a number" \
	"$HWBP" watch --if 'value == x' w:watched -- "$T/stopper-O2" values
expect_error "ptrace: no such process" 1 "no such process" \
	"$HWBP" watch --backend ptrace -p 999999 w:watched
# A process already traced (by another hwbp) cannot be traced twice.
"$T/stopper-O2" loop >"$tmp/loop3.out" &
P=$!
for _ in $(seq 50); do grep -q ready "$tmp/loop3.out" && break; sleep 0.1; done
"$HWBP" watch --backend ptrace -q -o /dev/null -p "$P" w:watched --duration 3 &
H=$!
sleep 0.5
expect_error "ptrace: a traced process is refused, naming the tracer" 1 "already traced by process [0-9]+" \
	"$HWBP" watch --backend ptrace -p "$P" w:watched --duration 0.5
kill -INT "$H"
wait "$H"
kill -USR2 "$P"
wait "$P"

done_testing

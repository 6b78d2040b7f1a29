#!/usr/bin/env bash
# lane: too
# guard.sh - the guard backend from the command line. It arms no debug
# register, so this runs on any machine, those that drop debug exceptions
# too:
#   - --backend guard is parsed, and documented in --help and hwbp help;
#   - hwbp info lists guard with its verdict, text and JSON;
#   - where libhwbp opens guard sessions: hits with the accessing
#     instruction, its line and the exact old -> new values, a whole struct
#     reported by the bytes each access touched, a read(2) into a watched
#     buffer reported "by the kernel", the guard_* counts in the summary,
#     --if, -p, stat's tables, and x: SPECs as software breakpoints;
#   - --backend auto picks guard, saying why in one line, where debug
#     registers cannot do the job (no debug exceptions here, or more SPECs
#     than the CPU has slots).
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/tap.bash
T="$HWBP_BUILD/tests/targets"
tmp=$(mktemp -d)
loop_pid=
cleanup() { [ -z "$loop_pid" ] || kill -KILL "$loop_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
line_of() { grep -n -- "$2" "tests/targets/$1" | head -1 | cut -d: -f1; }
GROW=$(line_of demo.c 'config.limit += by')
SHRINK=$(line_of demo.c 'config.limit -= ')
MAX=$(line_of demo.c 'config.limits\[2\].max = ')

# --- the command line ---------------------------------------------------
expect_error "unknown backend: the four names in the remedy" 125 \
	"^hwbp: unknown backend 'frob' \(use auto, perf, ptrace or guard\)$" \
	"$HWBP" watch --backend frob w:config.limit -- "$T/demo-O0"
expect_error "unknown backend without a command: 2" 2 "unknown backend 'frob'" \
	"$HWBP" stat --backend frob -p 1 w:config.limit
for c in watch stat; do
	run "$HWBP" help $c
	if [ "$rc" = 0 ] && printf '%s\n' "$out" | grep -Eq -- '--backend <name> +auto \(default\), perf, ptrace or guard'; then
		ok "hwbp help $c: --backend names guard"
	else not_ok "hwbp help $c: --backend names guard"; printf '%s\n' "$out" | diag; fi
done
run "$HWBP" help watch
if [[ "$out" == *"guard uses no debug register"* ]] && [[ "$out" == *'"by":"kernel","syscall":"read"'* ]] &&
   [[ "$out" == *"guard_steps"* ]] && [[ "$out" == *"calls are not reported"* ]]; then
	ok "hwbp help watch: what guard does, what auto picks, kernel records, guard_* counts"
else not_ok "hwbp help watch: the guard backend explained"; printf '%s\n' "$out" | diag; fi
if grep -q 'guard_steps' docs/hwbp.1 && grep -q '"by":"kernel"' docs/hwbp.1 && grep -q 'using the guard backend' docs/hwbp.1; then
	ok "the man page: guard_*, kernel records, auto's line"
else not_ok "the man page: guard_*, kernel records, auto's line"; fi

# --- hwbp info ------------------------------------------------------------
run "$HWBP" info --json
json=$out
if python3 -c '
import json, sys
d = json.loads(sys.argv[1])
g, p = d["backends"]["guard"], d["backends"]["ptrace"]
assert isinstance(g["usable"], bool), g
assert g["usable"] or (isinstance(g["reason"], str) and g["reason"]), g
# guard needs ptrace, not debug exceptions: a ptrace probe that armed its
# watch and saw no trap still leaves guard usable
if p["usable"] or p.get("reason") == "a ptrace watchpoint did not stop a child at its watched write":
    assert g["usable"], (g, p)
print(g["usable"])' "$json" >"$tmp/g" 2>&1; then
	ok "info --json: backends.guard {usable$([ "$(cat "$tmp/g")" = True ] || echo ', reason')}"
else not_ok "info --json: backends.guard"; diag <"$tmp/g"; fi
guard_usable=$(cat "$tmp/g")
run "$HWBP" info
gl=$(printf '%s\n' "$out" | grep -E '^  guard ')
if { [ "$guard_usable" = True ] &&
     [ "$gl" = "  guard    usable (page protection under ptrace; any length, any number of points)" ]; } ||
   { [ "$guard_usable" = False ] && [[ "$gl" == "  guard    not usable: "* ]]; }; then
	ok "info: one line for guard: ${gl#  }"
else not_ok "info: the guard line ('$gl')"; printf '%s\n' "$out" | diag; fi

# --- guard sessions -------------------------------------------------------
run "$HWBP" watch --json --backend guard w:config.limit -- "$T/demo-O0"
if [ "$rc" != 0 ] && [[ "$err" == *"Operation not supported"* ]]; then
	skip "watch --backend guard" "no guard sessions in this libhwbp here: $err"
	done_testing
	exit 0
fi
check_records "watch --backend guard w:config.limit: 6 hits, grow (demo.c:$GROW) and shrink (demo.c:$SHRINK), exact old -> new" "
assert $rc == 0, $rc
assert summ['hits'] == 6 == len(hits), summ
seq = [(int(h['old'], 16), int(h['value'], 16)) for h in hits]
assert seq == [(10, 15), (15, 13), (13, 18), (18, 16), (16, 21), (21, 19)], seq
assert [h['func'] for h in hits] == ['grow', 'shrink'] * 3, hits
assert all(h['line'] == ($GROW if h['func'] == 'grow' else $SHRINK) and h['file'] == 'demo.c' for h in hits), hits
assert all(h['access'] == 'w' and h['len'] == 4 and 'ip' in h and 'by' not in h for h in hits), hits
for k in ('guard_steps', 'guard_emulated', 'guard_opened', 'guard_bounced'):
    assert isinstance(summ[k], int) and summ[k] >= 0, (k, summ)
assert summ['guard_emulated'] + summ['guard_opened'] >= 6, summ"
run "$HWBP" watch --backend guard w:config.limit -- "$T/demo-O0"
if [ "$rc" = 0 ] && [ "$(printf '%s\n' "$out" | grep -c ' -> ')" = 6 ] &&
   printf '%s\n' "$out" | grep -Eq "w   grow\+[0-9]+ \(demo.c:$GROW\)  10 -> 15$" &&
   printf '%s\n' "$out" | grep -Eq '^6 hits, 0 lost, ' &&
   printf '%s\n' "$out" | grep -Eq '^guard: [0-9]+ steps? over unwatched bytes, [0-9]+ stores? emulated, [0-9]+ access(es)? stepped with the page open, [0-9]+ system calls? bounced, [0-9]+ run with (its|their) pages? open$'; then
	ok "text: old -> new on each line, the summary and the guard line"
else not_ok "text (exit $rc)"; printf '%s\n%s\n' "$out" "$err" | diag; fi
if [ -z "$err" ]; then ok "--backend guard: nothing on stderr"
else not_ok "--backend guard: nothing on stderr"; printf '%s\n' "$err" | diag; fi

# A whole struct (40 bytes, 5 debug registers' worth): each hit is the bytes
# the access touched.
run "$HWBP" watch --json --backend guard w:config -- "$T/demo-O0"
check_records "w:config (40 bytes): 6 hits on .limit, 1 on .limits[2].max (demo.c:$MAX), by the bytes touched" "
assert $rc == 0 and summ['hits'] == 7 == len(hits), (summ, $rc)
base = int(summ['points'][0]['addr'], 16)
assert summ['points'][0]['len'] == 40, summ
offs = [(int(h['addr'], 16) - base, h['len']) for h in hits]
assert offs == [(4, 4)] * 6 + [(28, 4)], offs
last = hits[-1]
assert last['line'] == $MAX and int(last['old'], 16) == 0 and int(last['value'], 16) == 19, last"
run "$HWBP" watch --backend guard w:config -- "$T/demo-O0"
if [ "$rc" = 0 ] && printf '%s\n' "$out" | grep -Eq "\(demo.c:$MAX\)  \+28/4 0 -> 19$"; then
	ok "text: a part of a SPEC shows +OFFSET/LEN old -> new"
else not_ok "text of a part of a SPEC"; printf '%s\n' "$out" | diag; fi

# A kernel access: read(2) into request[] (demo.c's receive()).
run "$HWBP" watch --json --backend guard w:request -- "$T/demo-O0"
check_records "read(2) into a watched buffer: one hit by the kernel, in read, no ip or line" "
assert $rc == 0 and summ['hits'] == 1 == len(hits), (summ, $rc)
h = hits[0]
assert h['by'] == 'kernel' and h['syscall'] == 'read' and h['access'] == 'w', h
assert not {'ip', 'func', 'offset', 'file', 'line'} & set(h), h
assert h['len'] == 10 and h['addr'] == summ['points'][0]['addr'], h
assert summ['guard_bounced'] >= 1, summ"
run "$HWBP" watch --backend guard w:request -- "$T/demo-O0"
if [ "$rc" = 0 ] && printf '%s\n' "$out" | grep -Eq '  w:request +tid [0-9]+ +w   by the kernel in read\(2\)'; then
	ok "text: by the kernel in read(2)"
else not_ok "text: by the kernel in read(2)"; printf '%s\n' "$out" | diag; fi
run "$HWBP" stat --backend guard w:request config.limit -- "$T/demo-O0"
if [ "$rc" = 0 ] && printf '%s\n' "$out" | grep -Eq '^ +1  by the kernel in read\(2\)' &&
   printf '%s\n' "$out" | grep -q '^config.limit: 6 hits' && printf '%s\n' "$out" | grep -q '^guard: '; then
	ok "stat: a row for the kernel's read(2), the totals, the guard line"
else not_ok "stat --backend guard (exit $rc)"; printf '%s\n%s\n' "$out" "$err" | diag; fi
run "$HWBP" stat --json --backend guard w:request -- "$T/demo-O0"
check_records "stat --json: the kernel's row and guard_* in the summary" "
st = [r for r in recs if r['type'] == 'stat']
assert st[0]['locations'] == [{'by': 'kernel', 'syscall': 'read', 'hits': 1}], st
assert 'guard_steps' in summ, summ"

# Five SPECs, more than any x86-64 CPU has debug registers for.
run "$HWBP" watch --json --backend guard w:counter w:config.port w:config.limit w:config.limits[2].max w:request -- "$T/demo-O0"
check_records "five SPECs at once: every write of each" "
by = {}
for h in hits: by[h['spec']] = by.get(h['spec'], 0) + 1
assert $rc == 0 and by == {'w:counter': 3, 'w:config.limit': 6, 'w:config.limits[2].max': 1, 'w:request': 1}, by"

run "$HWBP" watch --json --backend guard --if 'value > 20' w:config.limit -- "$T/demo-O0"
check_records "--if 'value > 20' under guard: the one write of 21" "
assert $rc == 0 and [int(h['value'], 16) for h in hits] == [21], hits"
run "$HWBP" watch --json --backend guard x:grow w:config.limit -- "$T/demo-O0"
check_records "x:grow under guard: a software breakpoint, 3 calls, beside the 6 writes" "
x = [h for h in hits if h['spec'] == 'x:grow']
assert $rc == 0 and len(x) == 3 and len(hits) == 9, (summ, $rc)
assert all(h['access'] == 'x' and h['func'] == 'grow' and h['offset'] == 0 for h in x), x"

# -p: attach, watch, detach; the process runs on untraced, its page as before.
"$T/stopper-O2" loop >"$tmp/loop.out" 2>&1 &
loop_pid=$!
for _ in $(seq 50); do grep -q ready "$tmp/loop.out" && break; sleep 0.1; done
run "$HWBP" watch --json -q --backend guard --duration 0.5 -p "$loop_pid" w:watched
check_records "-p under guard: hits in half a second" "assert $rc == 0 and summ['hits'] > 0, (summ, $rc)"
st=$(awk '/^State/ {print $2}' "/proc/$loop_pid/status" 2>/dev/null)
tracer=$(awk '/^TracerPid/ {print $2}' "/proc/$loop_pid/status" 2>/dev/null)
kill -USR2 "$loop_pid" 2>/dev/null
wait "$loop_pid"; prc=$?
loop_pid=
if [[ "$st" =~ ^[RS]$ ]] && [ "$tracer" = 0 ] && [ "$prc" = 0 ]; then
	ok "-p under guard: the process runs on, untraced, and exits 0 when asked"
else not_ok "-p under guard: the process (state '$st', tracer '$tracer', exit $prc)"; diag <"$tmp/loop.out"; fi

# --- auto -------------------------------------------------------------------
delivered=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["debug_exceptions"]["delivered"])' "$json")
if [ "$delivered" = False ]; then
	run "$HWBP" watch --json w:config.limit -- "$T/demo-O0"
	if [ "$rc" = 0 ] && [ "$(printf '%s' "$err" | grep -c '')" = 1 ] &&
	   [[ "$err" =~ ^hwbp:\ this\ machine\ does\ not\ deliver\ debug\ exceptions\ \([^()]+\):\ using\ the\ guard\ backend$ ]]; then
		ok "auto, no debug exceptions here: one line, then guard ($err)"
	else not_ok "auto, no debug exceptions here (exit $rc)"; printf '%s\n' "$err" | diag; fi
	check_records "auto, no debug exceptions here: the 6 hits" "assert summ['hits'] == 6 and 'guard_steps' in summ, summ"
elif [ "$delivered" = True ] && [ "$(uname -m)" = x86_64 ]; then
	run "$HWBP" watch --json w:counter w:config.port w:config.limit w:config.limits[2].max w:request -- "$T/demo-O0"
	if [ "$rc" = 0 ] && [ "$(printf '%s' "$err" | grep -c '')" = 1 ] &&
	   [[ "$err" == "hwbp: w:counter, w:config.port, w:config.limit, w:config.limits[2].max, w:request need "*" debug registers, the CPU has 4: using the guard backend" ]]; then
		ok "auto, more SPECs than slots: one line, then guard ($err)"
	else not_ok "auto, more SPECs than slots (exit $rc)"; printf '%s\n' "$err" | diag; fi
	check_records "auto, more SPECs than slots: every hit" "assert summ['hits'] == 11 and 'guard_steps' in summ, summ"
	run "$HWBP" watch --json w:config.limit -- "$T/demo-O0"
	check_records "auto, one SPEC that fits: perf, no guard_* counts" \
		"assert $rc == 0 and summ['hits'] == 6 and 'guard_steps' not in summ, summ"
else
	skip "auto picks guard" "debug exceptions: $delivered, $(uname -m)"
fi
done_testing

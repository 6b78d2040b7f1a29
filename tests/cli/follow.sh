#!/usr/bin/env bash
# needs: debug exceptions
# follow.sh - what hwbp watches when the target forks or execs, and a SPEC
# in a library that never loads: children followed by default (each hit
# names the child's pid, exact counts per pid), --no-follow-fork (children
# unharmed, unwatched), both backends, -p; nothing stale after exec; the
# pending SPEC's end-of-run line, its "pending" JSON field and exit 125
# when nothing was ever armed.
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/tap.bash
T="$HWBP_BUILD/tests/targets"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; kill $(jobs -p) 2>/dev/null' EXIT

require_backend perf

line_of() { grep -n "$2" "tests/targets/$1" | head -1 | cut -d: -f1; }
PARENT=$(line_of forks.c LINE_PARENT)
CHILD=$(line_of forks.c LINE_CHILD)

# check_follow NAME WANT-PY: the hits of $out (JSON records and the target's
# own lines) per pid. WANT-PY maps 'parent', 'child', 'grandchild' to the
# hits wanted from each such process (0: none at all).
check_follow() {
	local name=$1 want=$2
	if python3 -c "
import json, sys
want = $want
lines = sys.stdin.read().splitlines()
recs = [json.loads(l) for l in lines if l.startswith('{')]
role = {}
for l in lines:
    w = l.split()
    if len(w) == 2 and w[0] in ('parent', 'child', 'grandchild'):
        role[int(w[1])] = w[0]
hits = [r for r in recs if r['type'] == 'hit']
summ = recs[-1]
assert summ['type'] == 'summary', summ
per = {}
for h in hits:
    assert h['pid'] in role, ('a hit from a process the target did not name', h, role)
    assert h['tid'] == h['pid'], h
    per[h['pid']] = per.get(h['pid'], 0) + 1
    r = role[h['pid']]
    func, line = ('parent_write', $PARENT) if r == 'parent' else ('child_write', $CHILD)
    assert h['func'] == func and h['line'] == line and h['file'] == 'forks.c', (r, h)
for pid, r in role.items():
    assert per.get(pid, 0) == want[r], (r, pid, per.get(pid, 0), want[r], per)
total = sum(want[r] for r in role.values())
assert summ['hits'] == total == len(hits) and summ['lost'] == 0, (summ, total)
" <<<"$out" 2>"$tmp/py.err"; then ok "$name"; else
		not_ok "$name"; { cat "$tmp/py.err"; printf '%s\n' "$out" | head -20; echo "$err"; } | diag; fi
}

for be in perf ptrace; do
	run "$HWBP" watch --json --backend $be w:fvar -- "$T/forks-O0" -k 2
	if [ "$rc" = 0 ]; then ok "$be: forks -k 2: exit status 0, no child died"
	else not_ok "$be: forks -k 2: exit $rc"; echo "$err" | diag; fi
	check_follow "$be: children followed: 15 hits by the parent, 50 by each of 2 children, each naming its pid" \
		"{'parent': 15, 'child': 50}"

	run "$HWBP" watch --json --backend $be w:fvar -- "$T/forks-O2" -k 1 -g -n 20
	if [ "$rc" = 0 ]; then ok "$be: forks -g: exit status 0"
	else not_ok "$be: forks -g: exit $rc"; echo "$err" | diag; fi
	check_follow "$be: a grandchild is followed too: 15, 20 and 20 hits" \
		"{'parent': 15, 'child': 20, 'grandchild': 20}"

	run "$HWBP" watch --json --backend $be --no-follow-fork w:fvar -- "$T/forks-O0" -k 2 -g
	if [ "$rc" = 0 ]; then ok "$be --no-follow-fork: exit status 0, no child died of an inherited trap"
	else not_ok "$be --no-follow-fork: exit $rc"; echo "$err" | diag; fi
	check_follow "$be --no-follow-fork: the parent's 15 hits only" \
		"{'parent': 15, 'child': 0, 'grandchild': 0}"
done

run "$HWBP" stat -q w:fvar -- "$T/forks-O2" -k 3
if [ "$rc" = 0 ] && [[ "$out" == *"w:fvar: 165 hits"* ]]; then
	ok "stat -q counts the children: 15 + 3 x 50 = 165"
else not_ok "stat -q with children (exit $rc)"; printf '%s\n%s\n' "$out" "$err" | diag; fi
run "$HWBP" stat -q --no-follow-fork w:fvar -- "$T/forks-O2" -k 3
if [ "$rc" = 0 ] && [[ "$out" == *"w:fvar: 15 hits"* ]]; then
	ok "stat -q --no-follow-fork: the parent's 15"
else not_ok "stat -q --no-follow-fork (exit $rc)"; printf '%s\n%s\n' "$out" "$err" | diag; fi

# -p: the children of an attached process are followed too.
for be in perf ptrace; do
	rm -f "$tmp/in"
	mkfifo "$tmp/in"
	"$T/forks-O0" -w -k 2 <"$tmp/in" >"$tmp/target.out" 2>"$tmp/target.err" &
	tpid=$!
	exec 7>"$tmp/in"
	for _ in $(seq 50); do grep -q ready "$tmp/target.out" && break; sleep 0.1; done
	"$HWBP" watch --json --backend $be -p "$tpid" w:fvar >"$tmp/attach.json" 2>"$tmp/attach.err" &
	hpid=$!
	sleep 1
	echo go >&7
	exec 7>&-
	wait "$tpid"; trc=$?
	wait "$hpid"; hrc=$?
	if [ "$hrc" = 0 ] && [ "$trc" = 0 ]; then ok "$be -p: hwbp and the forking process exit 0"
	else not_ok "$be -p: hwbp $hrc, target $trc"; cat "$tmp/attach.err" "$tmp/target.err" | diag; fi
	out=$(cat "$tmp/target.out" "$tmp/attach.json") err=$(cat "$tmp/attach.err")
	check_follow "$be -p: the attached process's children are followed: 15, 50, 50" \
		"{'parent': 15, 'child': 50}"
done

# exec: the old image's watches are gone before the new image runs. The
# new image maps a page at fvar's old address and writes there 9 times at
# once, then, released once hwbp says it watches the new image's fvar,
# writes that 3 times.
for be in perf ptrace; do
	rm -f "$tmp/in"
	mkfifo "$tmp/in"
	"$HWBP" watch --json --backend $be w:fvar -- "$T/forks-O0-nopie" -e "$T/forks-O2" -n 9 \
		<"$tmp/in" >"$tmp/exec.out" 2>"$tmp/exec.err" &
	hpid=$!
	exec 7>"$tmp/in"
	for _ in $(seq 100); do grep -q "watched again\|no longer watched\|nothing is watched" \
		"$tmp/exec.err" && break; sleep 0.1; done
	echo go >&7
	exec 7>&-
	wait "$hpid"; rc=$?
	out=$(cat "$tmp/exec.out") err=$(cat "$tmp/exec.err")
	if [ "$rc" = 0 ] && [[ "$out" == *"poked 0x"*" 9"* ]]; then
		ok "$be exec: exit 0, and the new image wrote 9 times at the old address"
	else not_ok "$be exec: exit $rc"; printf '%s\n%s\n' "$out" "$err" | diag; fi
	check_follow "$be exec: 10 hits in the old image, 3 on the new image's fvar, none at the old address" \
		"{'parent': 13}"
	if [[ "$err" == *"called exec: 'w:fvar' watched again at 0x"* ]] &&
	   [ "$(grep -c 'called exec' <<<"$err")" = 1 ]; then
		ok "$be exec: one line says w:fvar is watched again in the new image"
	else not_ok "$be exec: no re-resolve line"; echo "$err" | diag; fi
done

# A SPEC in a library that never loads.
run "$HWBP" watch --json w:nosuchlib.so:counter -- "$T/forks-O0" -k 0
lines=$(printf '%s' "$err" | grep -c '')
if [ "$rc" = 125 ] && [[ "$err" == *"'w:nosuchlib.so:counter'"*"watched once the program loads it"* ]] &&
   [[ "$(tail -1 <<<"$err")" == "hwbp: 'w:nosuchlib.so:counter' was never watched: the program did not load nosuchlib.so" ]] &&
   [ "$lines" = 2 ]; then
	ok "a pending SPEC never armed: exit 125, its line at the start and one at the end"
else not_ok "pending, never armed (exit $rc, $lines lines)"; printf '%s\n%s\n' "$out" "$err" | diag; fi
if python3 -c "
import json, sys
recs = [json.loads(l) for l in sys.stdin.read().splitlines() if l.startswith('{')]
s = recs[-1]
assert s['type'] == 'summary' and s['hits'] == 0 and s['pending'] == ['w:nosuchlib.so:counter'], s
" <<<"$out" 2>"$tmp/py.err"; then ok "the JSON summary says \"pending\": [\"w:nosuchlib.so:counter\"]"
else not_ok "pending JSON"; { cat "$tmp/py.err"; echo "$out"; } | diag; fi

run "$HWBP" watch --json --no-follow-fork w:fvar w:nosuchlib.so:counter -- "$T/forks-O0" -k 1
if [ "$rc" = 0 ] && [[ "$(tail -1 <<<"$err")" == *"'w:nosuchlib.so:counter' was never watched"* ]] &&
   python3 -c "
import json, sys
recs = [json.loads(l) for l in sys.stdin.read().splitlines() if l.startswith('{')]
s = recs[-1]
assert s['type'] == 'summary' and s['hits'] == 15 and s['pending'] == ['w:nosuchlib.so:counter'], s
" <<<"$out" 2>"$tmp/py.err"; then
	ok "one SPEC armed, one pending: the command's exit status 0, 15 hits, the pending one named"
else not_ok "armed + pending (exit $rc)"; { cat "$tmp/py.err"; echo "$out"; echo "$err"; } | diag; fi
run "$HWBP" watch --json w:fvar -- "$T/forks-O0" -k 0
if python3 -c "
import json, sys
s = [json.loads(l) for l in sys.stdin.read().splitlines() if l.startswith('{')][-1]
assert s['type'] == 'summary' and 'pending' not in s, s
" <<<"$out" 2>"$tmp/py.err"; then ok "no pending SPEC: no \"pending\" field"
else not_ok "no pending field"; { cat "$tmp/py.err"; echo "$out"; } | diag; fi

done_testing

#!/usr/bin/env bash
# needs: debug exceptions
# rate.sh - hwbp watch and hwbp stat at the highest rate one thread makes:
# a bundled target writes one variable 200000 times in a tight loop, and
# every write is accounted for exactly, as a hit record or as lost. Nothing
# here is timed.
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/tap.bash
T="$HWBP_BUILD/tests/targets"
N=${HWBP_RATE_WRITES:-200000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

require_backend perf

# account NAME FILE: FILE holds JSON Lines; print "hits lost" from its
# records after checking them, or fail with the reason on stderr.
account() {
	python3 - "$1" "$2" "$N" <<'PY'
import json, sys
mode, n = sys.argv[1], int(sys.argv[3])
recs = [json.loads(l) for l in open(sys.argv[2]).read().splitlines() if l.startswith('{')]
assert recs and recs[-1]['type'] == 'summary', 'the last record is the summary'
summ = recs[-1]
if mode == 'watch':
    hits = [r for r in recs if r['type'] == 'hit']
    assert len(hits) == summ['hits'], ('hit records', len(hits), 'summary hits', summ['hits'])
    assert all(h['func'] == 'bump_counter' and h['spec'] == 'w:counter' for h in hits[:100])
    t = [h['time_ns'] for h in hits]
    assert t == sorted(t), 'hits are printed in time order across the CPUs'
    pts = summ['points']
    assert len(pts) == 1 and pts[0]['hits'] == summ['hits'], pts
    # The kernel's own count of the watchpoint's hits, lost ones included.
    assert pts[0].get('count', n) == n, ('kernel count', pts[0].get('count'), 'writes', n)
else:
    st = [r for r in recs if r['type'] == 'stat']
    assert len(st) == 1 and st[0]['hits'] == summ['hits'], (st, summ)
    locs = st[0]['locations']
    assert sum(l['hits'] for l in locs) == summ['hits'], locs
    assert all(l['func'] == 'bump_counter' for l in locs), locs
assert summ['hits'] + summ['lost'] == n, ('hits', summ['hits'], 'lost', summ['lost'], 'writes', n)
print(summ['hits'], summ['lost'])
PY
}

for mode in watch stat; do
	"$HWBP" "$mode" --json -o "$tmp/$mode.json" w:counter -- "$T/counter-O2" -q -r "$N" \
		>"$tmp/$mode.out" 2>"$tmp/$mode.err"
	rc=$?
	if [ "$rc" = 0 ] && grep -qx "counter $N" "$tmp/$mode.out"; then
		ok "$mode: the target wrote counter $N times and exited 0"
	else
		not_ok "$mode: target exit $rc"; cat "$tmp/$mode.out" "$tmp/$mode.err" | diag
	fi
	if hl=$(account "$mode" "$tmp/$mode.json" 2>"$tmp/py.err"); then
		read -r hits lost <<<"$hl"
		ok "$mode: every write accounted for at full rate: $hits hits + $lost lost == $N"
	else
		not_ok "$mode: hits + lost != $N"
		{ cat "$tmp/py.err" "$tmp/$mode.err"; tail -1 "$tmp/$mode.json"; } | diag
	fi
done

done_testing

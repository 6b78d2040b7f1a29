#!/usr/bin/env bash
# lane: too
# guarded.sh - hwbp watch --backend guard (page protection under ptrace, no
# debug registers), natively on any machine, against tests/targets/guarded
# (-O0/-O2, PIE and not): exact hits for any length at any offset, and only
# those (the writes outside a range on its pages are stepped over and counted
# as "guard_steps"), the bytes each access touched with their old and new
# values, 8 threads writing at once, system calls on guarded buffers
# (never EFAULT; the kernel's accesses reported "by":"kernel" with the
# call's name), the target's own SIGSEGV handler and mprotect(2), fork and
# exec, five points at once, the memory the kernel writes on its own
# refused (stacks, the thread control block, rseq), detach restoring every
# protection, text output, and what --backend auto picks where the machine
# does not deliver debug exceptions.
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/tap.bash
T="$HWBP_BUILD/tests/targets"
G="$T/guarded"
tmp=$(mktemp -d)
sleep_pid=
cleanup() { [ -z "$sleep_pid" ] || kill -KILL "$sleep_pid" 2>/dev/null; rm -rf "$tmp"; jobs -p | xargs -r kill 2>/dev/null; }
trap cleanup EXIT

# The interpreter itself, once: a version manager's shim costs a second a call.
PY=$(python3 -c 'import sys; print(sys.executable)')
# The lines of guarded.c marked /* LINE_G_NAME */, as {"NAME": line}.
LINES_JSON=$("$PY" -c '
import json, re
L = {}
for n, l in enumerate(open("tests/targets/guarded.c"), 1):
    m = re.search(r"/\* LINE_G_(\w+) \*/", l)
    if m:
        L[m.group(1)] = n
print(json.dumps(L))')
export LINES_JSON

# grun ARGS...: hwbp watch --backend guard --json -o REPORT ARGS... (at most
# 120 s); sets
# $out (the target's stdout), $err, $rc (see run), and the report's file.
grun() {
	rm -f "$tmp/rep.json"
	# A hang fails its test (exit 124), not the whole script.
	run timeout -k 5 120 "$HWBP" watch --backend guard --json -o "$tmp/rep.json" "$@"
	printf '%s\n' "$out" >"$tmp/tout"
}

# variants V...: the target builds a loop runs over; in the x86 lane (QEMU
# TCG, ten times slower) the first one only, and the lengths below at one
# offset in three, so that the script stays within its time there.
variants() { if [ -n "${HWBP_IN_VM:-}" ]; then echo "$1"; else echo "$@"; fi; }

# gcheck NAME PYTHON: PYTHON asserts over the last grun: recs, hits, summ
# (the last record, a summary), tout (the target's stdout), A (its "NAME
# 0xADDR" lines), L (the LINE_G_ lines), rc; ival(h, key) is a hex field as
# an int, rel(h, NAME) a hit's address less A[NAME], user(h) says the
# target itself made the access.
gcheck() {
	local name=$1 expr=$2 log
	log=$(mktemp)
	if RC=$rc "$PY" -c "
import json, os, sys
from collections import Counter, defaultdict
rc = int(os.environ['RC'])
L = json.loads(os.environ['LINES_JSON'])
tout = open('$tmp/tout').read()
try:
    recs = [json.loads(l) for l in open('$tmp/rep.json').read().splitlines() if l.startswith('{')]
except FileNotFoundError:
    recs = []
assert recs, 'no JSON records (exit %d)' % rc
hits = [r for r in recs if r['type'] == 'hit']
summ = recs[-1]
assert summ['type'] == 'summary', summ
A = {}
for l in tout.splitlines():
    w = l.split()
    if len(w) == 2 and w[1].startswith('0x'):
        A[w[0]] = int(w[1], 16)
def ival(h, k='value'):
    return int(h[k], 16)
def rel(h, name):
    return int(h['addr'], 16) - A[name]
def user(h):
    return h.get('by') != 'kernel' and 'syscall' not in h
$expr" 2>"$log"; then ok "$name"; else
		not_ok "$name"
		{ cat "$log"; head -12 "$tmp/rep.json" 2>/dev/null; printf 'target: %s\nstderr: %s\n' "$out" "$err" | head -20; } | diag
	fi
	rm -f "$log"
}

# --- any length at any offset --------------------------------------------------
# guarded lengths writes one byte at each of its positions, then reads each;
# a point is exactly the bytes it names: its hits are the positions inside,
# each its own byte (len 1) with old 0 and the byte written; the writes
# outside on its pages are steps, and none elsewhere.
lengths_check() {	# OFF LEN ACCESS
	gcheck "$1" "
off, ln, acc = $2, $3, '$4'
pos = [int(p) for p in next(l for l in tout.splitlines() if l.startswith('positions ')).split()[1:]]
assert rc == 0, 'exit %d' % rc
inside = [p for p in pos if off <= p < off + ln]
pages = set(range(off // 4096, (off + ln - 1) // 4096 + 1))
want = []
if 'w' in acc:
    want += [('w', p, 0, p % 251 + 1, L['LEN'], 'len_write') for p in inside]
if 'r' in acc:
    want += [('r', p, p % 251 + 1, p % 251 + 1, L['LEN_READ'], 'len_read') for p in inside]
got = [(h['access'], rel(h, 'buf'), ival(h, 'old'), ival(h), h['line'], h['func']) for h in hits]
assert got == want, ('hits', len(got), len(want), [g for g in got if g not in want][:5], [w for w in want if w not in got][:5])
assert all(h['len'] == 1 and h['spec'] == '$4:buf+$2/$3' and h['file'] == 'guarded.c' and h['pid'] == h['tid'] and user(h) for h in hits), hits[:2]
assert summ['hits'] == len(want) and summ['lost'] == 0, summ
if acc == 'w':
    steps = len([p for p in pos if p // 4096 in pages and not off <= p < off + ln])
    assert summ.get('guard_steps') == steps, ('guard_steps', summ.get('guard_steps'), 'wanted', steps)
"
}

for off in $(variants 4093 1 3); do
	for len in 1 2 3 4 5 7 8 9 15 16 17 31 64 100 255 256 1000 4095 4096; do
		grun "w:buf+$off/$len" -- "$G-O2" lengths
		lengths_check "w:buf+$off/$len: each write inside, none outside, the others on its pages stepped" \
			"$off" "$len" w
	done
done
for v in $(variants O0 O0-nopie O2-nopie); do
	for ol in 4093:5 3:4096 1:4095; do
		grun "w:buf+${ol%:*}/${ol#*:}" -- "$G-$v" lengths
		lengths_check "guarded-$v: w:buf+${ol%:*}/${ol#*:}" "${ol%:*}" "${ol#*:}" w
	done
done
for acc in r rw; do
	for ol in 3:1 4093:9 3:4096 4093:1000; do
		grun "$acc:buf+${ol%:*}/${ol#*:}" -- "$G-O2" lengths
		lengths_check "$acc:buf+${ol%:*}/${ol#*:}: each access of its kind inside, in order" \
			"${ol%:*}" "${ol#*:}" "$acc"
	done
done

# --- the bytes an access touched --------------------------------------------
# guarded wide: 8, 4, 2 and 1-byte stores at unaligned positions over the
# edges of buf+100..109. A hit's addr/len are the watched bytes the store
# touched, old/value those bytes before and after.
for v in $(variants O0 O2 O0-nopie O2-nopie); do
	grun w:buf+100/10 -- "$G-$v" wide
	gcheck "guarded-$v wide: 5 of 7 stores touch buf+100/10; addr, len, old and value of the bytes each touched" "
assert rc == 0, 'exit %d' % rc
st = [(96, 8, 0x0807060504030201), (108, 4, 0x44332211), (101, 8, 0xa8a7a6a5a4a3a2a1),
      (99, 2, 0xbbaa), (110, 8, 0x1d1c1b1a19181716), (92, 8, 0x2f2e2d2c2b2a2928), (104, 1, 0xcc)]
line = {8: L['W8'], 4: L['W4'], 2: L['W2'], 1: L['W1']}
mem = bytearray(256)
want = []
for p, n, v in st:
    lo, hi = max(p, 100), min(p + n, 110)
    old = int.from_bytes(mem[lo:hi], 'little') if lo < hi else 0
    mem[p:p + n] = v.to_bytes(n, 'little')
    if lo < hi:
        want.append((lo, hi - lo, old, int.from_bytes(mem[lo:hi], 'little'), line[n]))
got = [(rel(h, 'buf'), h['len'], ival(h, 'old'), ival(h), h['line']) for h in hits]
assert got == want, (got, want)
assert all(h['access'] == 'w' and h['func'] == 'wide_store' and user(h) for h in hits), hits
assert summ['hits'] == 5 and summ['guard_steps'] == 2, summ
"
done

# Two points side by side: a store over both is a hit on each, with the
# bytes of each it touched.
grun w:buf+100/5 w:buf+105/5 -- "$G-O2" wide
gcheck "two adjacent points (buf+100/5, buf+105/5): a store over both is one hit on each, its own bytes" "
assert rc == 0, 'exit %d' % rc
st = [(96, 8, 0x0807060504030201), (108, 4, 0x44332211), (101, 8, 0xa8a7a6a5a4a3a2a1),
      (99, 2, 0xbbaa), (110, 8, 0x1d1c1b1a19181716), (92, 8, 0x2f2e2d2c2b2a2928), (104, 1, 0xcc)]
mem = bytearray(256)
want = []
for i, (p, n, v) in enumerate(st):
    new = bytearray(mem)
    new[p:p + n] = v.to_bytes(n, 'little')
    for spec, a in (('w:buf+100/5', 100), ('w:buf+105/5', 105)):
        lo, hi = max(p, a), min(p + n, a + 5)
        if lo < hi:
            want.append((i, spec, lo, hi - lo, int.from_bytes(mem[lo:hi], 'little'), int.from_bytes(new[lo:hi], 'little')))
    mem = new
got = [(h['spec'], rel(h, 'buf'), h['len'], ival(h, 'old'), ival(h)) for h in hits]
assert sorted(got) == sorted(w[1:] for w in want), (got, want)
for spec in ('w:buf+100/5', 'w:buf+105/5'):
    assert [g for g in got if g[0] == spec] == [w[1:] for w in want if w[1] == spec], spec
assert summ['hits'] == len(want) == 6, summ
"

# --- threads -------------------------------------------------------------------
# 8 threads at once, each writing its own word of tsh.w 1000 times and a word
# of tsh.pad (same page, not watched) after each: no write slips through
# while another thread's access is stepped with the page open.
for v in $(variants O0 O2); do
	grun w:tsh.w -- "$G-$v" threads 8 1000
	gcheck "guarded-$v threads 8 1000: 1000 hits per thread, 8 threads, 8000 in all, every value in order" "
assert rc == 0, 'exit %d' % rc
per = defaultdict(list)
for h in hits:
    per[h['tid']].append(h)
assert len(per) == 8, Counter(h['tid'] for h in hits)
assert all(len(x) == 1000 for x in per.values()), sorted(len(x) for x in per.values())
words = set()
for tid, hs in per.items():
    assert tid != hs[0]['pid'], 'a thread other than main'
    r = {rel(h, 'tsh') for h in hs}
    assert len(r) == 1 and r.pop() % 8 == 0, ('one word per thread', tid, r)
    words.add(rel(hs[0], 'tsh'))
    assert [ival(h) for h in hs] == list(range(1, 1001)), ('values', tid, [ival(h) for h in hs][:10])
    assert [ival(h, 'old') for h in hs] == list(range(0, 1000)), ('old', tid)
    assert all(h['len'] == 8 and h['line'] == L['THREAD'] and h['func'] == 'thread_write' for h in hs), hs[0]
assert words == set(range(0, 64, 8)), words
assert summ['hits'] == 8000 and summ['lost'] == 0, summ
assert summ['guard_steps'] == 8000, ('the 8000 writes of tsh.pad are steps', summ)
"
done

# Atomic read-modify-writes from 4 threads at once: each is single-stepped
# with its page open, the others stopped: every increment a hit, none lost.
grun w:acnt.cnt -- "$G-O2" atomic 4 500
gcheck "atomic 4 500: 2000 lock-add hits (rw), 500 per thread, each value once, the count exact" "
assert rc == 0 and 'acnt 2000' in tout, ('exit', rc)
c = Counter(h['tid'] for h in hits)
assert len(c) == 4 and set(c.values()) == {500}, c
assert sorted(ival(h) for h in hits) == list(range(1, 2001)), 'each value once'
assert all(ival(h) == ival(h, 'old') + 1 and h['access'] == 'rw' and h['len'] == 8 and h['line'] == L['ATOMIC'] for h in hits), hits[:2]
assert summ['hits'] == 2000 and summ['guard_steps'] == 2000, summ
"

# --- system calls --------------------------------------------------------------
# read, pread64 and recvfrom into w-watched buffers, write, sendto and
# pwrite64 from rw-watched ones: every call as without hwbp (the target
# checks each), the kernel's access to a point a hit "by":"kernel" naming the
# call, with the bytes it touched (recv gets 24 of the 64 bytes it asks for).
SYS_SPECS=(w:rdbuf+8/4 w:prbuf/8 w:rvbuf+20/8 rw:wrbuf+4/4 rw:sdbuf+8/8 rw:pwbuf/2)
for v in $(variants O0 O2-nopie); do
	grun "${SYS_SPECS[@]}" -- "$G-$v" syscalls
	gcheck "guarded-$v syscalls: the target's calls all succeed with the right data (exit 0)" "
assert rc == 0 and 'syscalls ok' in tout, ('exit', rc)"
	gcheck "guarded-$v syscalls: 20 hits in order, the kernel's 6 naming read, pread64, recvfrom, write, sendto, pwrite64" "
le = lambda first, n: int.from_bytes(bytes(range(first, first + n)), 'little')
K, U = 'kernel', 'user'
want = [
    ('w:rdbuf+8/4', K, 'read', 'w', 'rdbuf', 8, 4, 0, le(0x48, 4)),
    ('w:prbuf/8', K, 'pread64', 'w', 'prbuf', 0, 8, 0, le(0x48, 8)),
    ('w:rvbuf+20/8', K, 'recvfrom', 'w', 'rvbuf', 20, 4, 0, le(0x54, 4)),
] + [('rw:wrbuf+4/4', U, None, 'w', 'wrbuf', i, 1, 0, 0x60 + i) for i in range(4, 8)] + [
    ('rw:wrbuf+4/4', K, 'write', 'r', 'wrbuf', 4, 4, le(0x64, 4), le(0x64, 4)),
] + [('rw:sdbuf+8/8', U, None, 'w', 'sdbuf', i, 1, 0, 0x70 + i) for i in range(8, 16)] + [
    ('rw:sdbuf+8/8', K, 'sendto', 'r', 'sdbuf', 8, 8, le(0x78, 8), le(0x78, 8)),
] + [('rw:pwbuf/2', U, None, 'w', 'pwbuf', i, 1, 0, 0x50 + i) for i in range(0, 2)] + [
    ('rw:pwbuf/2', K, 'pwrite64', 'r', 'pwbuf', 0, 2, le(0x50, 2), le(0x50, 2)),
]
got = []
for h in hits:
    name = h['spec'].split(':')[1].split('+')[0].split('/')[0]
    by = K if h.get('by') == 'kernel' else U
    got.append((h['spec'], by, h.get('syscall'), h['access'], name, rel(h, name), h['len'],
                ival(h, 'old') if 'old' in h else None, ival(h) if 'value' in h else None))
assert got == want, [(g, w) for g, w in zip(got + [None] * 20, want + [None] * 20) if g != w][:4]
for h in hits:
    if h.get('by') == 'kernel':
        assert h.get('file') != 'guarded.c', ('no line of the target for a kernel access', h)
    else:
        assert h['func'] == 'fill' and h['line'] == L['FILL'] and 'syscall' not in h, h
assert summ['hits'] == 20 and summ['lost'] == 0, summ
"
done
grun w:rdbuf+2048/8 -- "$G-O2" syscalls
gcheck "read(2) into a point whose bytes it does not reach: no hit, the call succeeds" "
assert rc == 0 and 'syscalls ok' in tout, rc
k = [h for h in hits if h.get('by') == 'kernel']
assert len(k) == 1 and k[0]['syscall'] == 'read' and rel(k[0], 'rdbuf') == 2048 and k[0]['len'] == 8, k
assert ival(k[0]) == int.from_bytes(bytes(range(0x40, 0x48)), 'little') and ival(k[0], 'old') == 0, k
assert len(hits) == 1 and summ['hits'] == 1, hits"

# A signal stack in a watched buffer: the kernel writes signal frames there.
# The target must not be harmed: hwbp refuses (one line, 125) or the
# signals reach the handler as without hwbp.
grun w:altstk -- "$G-O2" altstack 3
lines=$(printf '%s' "$err" | grep -c '')
if { [ "$rc" = 0 ] && [[ "$out" == *"usr1 3"* ]]; } ||
   { [ "$rc" = 125 ] && [ "$lines" = 1 ] && [[ "$err" == "hwbp: "* ]] && [ -z "$out" ]; }; then
	ok "w:altstk, then sigaltstack(altstk): the target unharmed (exit $rc)"
else not_ok "w:altstk, then sigaltstack(altstk): exit $rc (139: killed, its signal frame could not be written)"
	printf 'target: %s\nstderr: %s\n' "$out" "$err" | diag; fi
grun w:alt_var -- "$G-O2" altstack 3
gcheck "altstack: a watched variable outside the signal stack: 3 hits, 3 signals handled" "
assert rc == 0 and 'usr1 3' in tout, ('exit', rc)
assert [(ival(h, 'old'), ival(h), h['line']) for h in hits] == [(0, 1, L['ALT']), (1, 2, L['ALT']), (2, 3, L['ALT'])], hits"

# --- the target's own SIGSEGV handler and mprotect(2) -----------------------------
for v in $(variants O0 O2); do
	grun w:segv_var -- "$G-$v" segv
	gcheck "guarded-$v segv: its handler gets its own two faults (si_addr, si_code), never the watched writes" "
assert rc == 0 and 'handler ran 2' in tout, ('exit', rc)
got = [(ival(h, 'old'), ival(h), h['func'], h['line'], h['access']) for h in hits]
assert got == [(0, 1, 'set_segv', L['SEGV'], 'w'), (1, 2, 'set_segv', L['SEGV'], 'w')], got
assert summ['hits'] == 2, summ"
done
grun w:segv_var -- "$G-O2" segv-die
gcheck "segv-die: a real fault with no handler kills the target (exit 139) after its one hit" "
assert rc == 139, ('exit', rc)
assert [(ival(h), h['line']) for h in hits] == [(1, L['SEGV'])] and summ['hits'] == 1, hits"

for v in $(variants O0 O2-nopie); do
	grun w:mp.var -- "$G-$v" mprotect
	gcheck "guarded-$v mprotect: its own PROT_READ and PROT_NONE fault to its handler; 0 -> 1 and 1 -> 3 are hits" "
assert rc == 0 and 'mprotect ok' in tout, ('exit', rc)
got = [(h['access'], ival(h, 'old'), ival(h), h['line'], h['func'], rel(h, 'mp.var'), h['len']) for h in hits]
assert got == [('w', 0, 1, L['MP'], 'set_mp', 0, 4), ('w', 1, 3, L['MP'], 'set_mp', 0, 4)], got
assert summ['hits'] == 2, summ"
	grun rw:mp.var -- "$G-$v" mprotect
	gcheck "guarded-$v mprotect under rw: (PROT_NONE): the writes and the two reads the target made, not the refused ones" "
assert rc == 0 and 'mprotect ok' in tout, ('exit', rc)
got = [(h['access'], ival(h, 'old'), ival(h)) for h in hits]
assert got == [('w', 0, 1), ('r', 1, 1), ('w', 1, 3), ('r', 3, 3)], got
assert summ['hits'] == 4, summ"
done

# --- text output -----------------------------------------------------------------
run "$HWBP" watch --backend guard w:mp.var -- "$G-O2" mprotect
if [ "$rc" = 0 ] && printf '%s\n' "$out" | grep -q "set_mp+[0-9]* (guarded.c:$(grep -n '/\* LINE_G_MP \*/' tests/targets/guarded.c | cut -d: -f1))  0 -> 1\$" &&
   printf '%s\n' "$out" | grep -q 'set_mp+[0-9]* (guarded.c:[0-9]*)  1 -> 3$' &&
   [ "$(printf '%s\n' "$out" | grep -c ' -> ')" = 2 ]; then
	ok "text: the two hits show old -> new (0 -> 1, 1 -> 3) at set_mp's line"
else not_ok "text: old -> new (exit $rc)"; printf '%s\n%s\n' "$out" "$err" | diag; fi
run "$HWBP" watch --backend guard w:f_short w:f_page.v -- "$G-O0" five
if [ "$rc" = 0 ] && printf '%s\n' "$out" | grep -q 'w:f_short .*five_short+[0-9]* (guarded.c:[0-9]*)  10 -> 20$' &&
   printf '%s\n' "$out" | grep -q 'w:f_page.v .*five_page+[0-9]* (guarded.c:[0-9]*)  4 -> 5$' &&
   [ "$(printf '%s\n' "$out" | grep -c ' -> ')" = 8 ]; then
	ok "text: two SPECs, 3 + 5 hits, each line with its SPEC and old -> new"
else not_ok "text: five (exit $rc)"; printf '%s\n%s\n' "$out" "$err" | diag; fi

# --- fork and exec ---------------------------------------------------------------
# fork_check NAME CHILD-HITS: the parent writes fvar 1, 2, 3, (children
# 101 .. 105), then 4, 5.
fork_check() {
	gcheck "$1" "
assert rc == 0, ('exit: a child was hurt', rc)
parent = int(next(l.split()[1] for l in tout.splitlines() if l.startswith('parent ')))
kids = [int(l.split()[1]) for l in tout.splitlines() if l.startswith('child ')]
assert len(kids) == 2, tout
per = defaultdict(list)
for h in hits:
    assert h['tid'] == h['pid'], h
    per[h['pid']].append(h)
assert set(per) <= {parent, *kids}, ('a hit from a process the target did not name', set(per))
assert [ival(h) for h in per[parent]] == [1, 2, 3, 4, 5], [ival(h) for h in per[parent]]
assert [ival(h, 'old') for h in per[parent]] == [0, 1, 2, 3, 4], [ival(h, 'old') for h in per[parent]]
assert all(h['func'] == 'parent_write' and h['line'] == L['PARENT'] for h in per[parent])
for k in kids:
    if $2:
        assert [ival(h) for h in per[k]] == [101, 102, 103, 104, 105], (k, [ival(h) for h in per[k]])
        assert [ival(h, 'old') for h in per[k]] == [3, 101, 102, 103, 104], (k, [ival(h, 'old') for h in per[k]])
        assert all(h['func'] == 'child_write' and h['line'] == L['CHILD'] for h in per[k])
    else:
        assert not per[k], (k, len(per[k]))
assert summ['hits'] == 5 + $2 * 10 == len(hits), summ
"
}
for v in $(variants O0 O2); do
	grun w:fvar -- "$G-$v" fork 2
	fork_check "guarded-$v fork 2: 5 hits by the parent, 5 by each child, each naming its pid" 1
	grun --no-follow-fork w:fvar -- "$G-$v" fork 2
	fork_check "guarded-$v fork 2 --no-follow-fork: the parent's 5 only, the children unharmed (their writes land, exit 0)" 0
done
grun w:fvar -- "$G-O0-nopie" exec 3
gcheck "exec: 2 hits in the old image, then 3 on the new image's fvar" "
assert rc == 0, rc
assert [(ival(h, 'old'), ival(h)) for h in hits] == [(0, 1), (1, 2), (0, 1), (1, 2), (2, 3)], hits
assert len({h['pid'] for h in hits}) == 1 and summ['hits'] == 5, summ"
if [[ "$err" == *"called exec: 'w:fvar' watched again at 0x"* ]]; then ok "exec: one line says w:fvar is watched again"
else not_ok "exec: no re-resolve line"; printf '%s\n' "$err" | diag; fi

# --- a 64-byte struct and five points at once -----------------------------------
for v in $(variants O0 O2 O0-nopie O2-nopie); do
	grun w:s64 -- "$G-$v" s64
	gcheck "guarded-$v w:s64 (64 bytes, one point): 8 word stores and a byte, each its bytes and values" "
assert rc == 0, rc
want = [(8 * i, 8, 0, i + 1, L['S64Q']) for i in range(8)] + [(63, 1, 0, 0x7f, L['S64B'])]
got = [(rel(h, 's64'), h['len'], ival(h, 'old'), ival(h), h['line']) for h in hits]
assert got == want, got
assert all(h['spec'] == 'w:s64' and h['access'] == 'w' for h in hits)
assert summ['hits'] == 9, summ"
	grun w:f_int w:f_char w:f_short w:f_long w:f_page.v -- "$G-$v" five
	gcheck "guarded-$v five points at once: 1, 2, 3, 4 and 5 hits with their values and lines, none of f_other" "
assert rc == 0, rc
want = {
    'w:f_int': ('FINT', 'five_int', 4, [7]),
    'w:f_char': ('FCHAR', 'five_char', 1, [1, 2]),
    'w:f_short': ('FSHORT', 'five_short', 2, [10, 20, 30]),
    'w:f_long': ('FLONG', 'five_long', 8, [1000, 2000, 3000, 4000]),
    'w:f_page.v': ('FPAGE', 'five_page', 4, [1, 2, 3, 4, 5]),
}
assert {h['spec'] for h in hits} == set(want), {h['spec'] for h in hits}
for spec, (ln, func, size, vals) in want.items():
    hs = [h for h in hits if h['spec'] == spec]
    assert [ival(h) for h in hs] == vals, (spec, [ival(h) for h in hs])
    assert [ival(h, 'old') for h in hs] == [0] + vals[:-1], (spec, [ival(h, 'old') for h in hs])
    assert all(h['line'] == L[ln] and h['func'] == func and h['len'] == size and h['access'] in ('w', 'rw') for h in hs), (spec, hs[0])
    name = spec[2:].split('.')[0]
    assert all(rel(h, name) == 0 for h in hs), spec
assert summ['hits'] == 15 and len(hits) == 15, summ
"
done

# --max-hits: the watch ends, the command runs on unguarded to its end.
grun --max-hits 2 w:fvar -- "$G-O2" write 50
gcheck "--max-hits 2: 2 hits, then the command's 48 more writes land unguarded (exit 0)" "
assert rc == 0, ('exit', rc)
assert [(ival(h, 'old'), ival(h)) for h in hits] == [(0, 1), (1, 2)] and summ['hits'] == 2, hits"

# A w: and an rw: point on one page (so PROT_NONE): the w: point's reads
# are stepped, the rw: point's read at the end (five checks the values) is
# a hit.
grun w:f_int rw:f_char -- "$G-O2" five
gcheck "w:f_int and rw:f_char on one page: f_int's write, f_char's 2 writes and 1 read" "
assert rc == 0, rc
got = [(h['spec'], h['access'], ival(h, 'old'), ival(h)) for h in hits]
assert got == [('w:f_int', 'w', 0, 7), ('rw:f_char', 'w', 0, 1), ('rw:f_char', 'w', 1, 2), ('rw:f_char', 'r', 2, 2)], got
assert summ['hits'] == 4, summ"

run "$HWBP" stat --backend guard --json w:fvar -- "$G-O2" write 7
out=$(printf '%s\n' "$out" | grep '^{')
if [ "$rc" = 0 ] && "$PY" -c "
import json, sys
recs = [json.loads(l) for l in sys.stdin.read().splitlines()]
st = [r for r in recs if r['type'] == 'stat']
assert len(st) == 1 and st[0]['spec'] == 'w:fvar' and st[0]['hits'] == 7, st
assert recs[-1]['type'] == 'summary' and recs[-1]['hits'] == 7, recs[-1]" <<<"$out" 2>"$tmp/py.err"; then
	ok "stat --backend guard: 7 hits counted"
else not_ok "stat --backend guard (exit $rc)"; { cat "$tmp/py.err"; echo "$out"; echo "$err"; } | diag; fi

# --- refusals: memory the kernel writes on its own ---------------------------------
expect_error "w:tlsvar by name: thread-local, no fixed address (125)" 125 "tlsvar.*thread-local" \
	"$HWBP" watch --backend guard w:tlsvar -- "$G-O0" addrs
# x: a software breakpoint on len_write's first instruction, stepped over:
# one hit per call (one per position), each at the function's entry.
grun x:len_write -- "$G-O0" lengths
gcheck "x:len_write under guard: one hit per call, at its first instruction, the target unharmed" "
pos = [int(p) for p in next(l for l in tout.splitlines() if l.startswith('positions ')).split()[1:]]
assert rc == 0, 'exit %d' % rc
assert len(pos) > 20 and len(hits) == len(pos), (len(hits), len(pos))
assert all(h['access'] == 'x' and h['func'] == 'len_write' and h['offset'] == 0 for h in hits), hits[:3]
assert summ['hits'] == len(pos), summ"

# Launched with ASLR off, the target's stack, TLS and rseq area are where a
# first run under hwbp (watching something else) finds them. At exec, when
# the points are armed, only the stack is there: the thread control block
# (with the TLS block and the rseq area) is mapped later by ld.so, so
# those two are refused as memory with no page to guard yet.
run setarch "$(uname -m)" -R "$HWBP" watch --backend guard -o /dev/null w:f_int -- "$G-O0" addrs
addr_of() { printf '%s\n' "$1" | awk -v k="$2" '$1 == k { print $2; exit }'; }
l_stack=$(addr_of "$out" stack) l_tls=$(addr_of "$out" tls) l_rseq=$(addr_of "$out" rseq) l_tcb=$(addr_of "$out" tcb)
if [ "$rc" = 0 ] && [ -n "$l_stack" ] && [ -n "$l_tls" ] && [ -n "$l_rseq" ]; then
	ok "setarch -R: the target's stack ($l_stack), TLS ($l_tls, TCB $l_tcb) and rseq ($l_rseq) under hwbp"
else not_ok "setarch -R: the addresses under hwbp (exit $rc)"; printf '%s\n%s\n' "$out" "$err" | diag; fi
# refuse_launch WHAT ADDR PATTERN
refuse_launch() {
	local spec="w:$2/4"
	expect_error "launch: $spec on the $1: refused, one line naming it, 125, the command never runs" 125 \
		"$2/4 [^(]*($3)" setarch "$(uname -m)" -R "$HWBP" watch --backend guard "$spec" -- "$G-O0" addrs
}
refuse_launch "main thread's stack" "$l_stack" "stack"
refuse_launch "thread-local variable (not mapped at exec)" "$l_tls" "unmapped|no page|control block"
if [ "$l_rseq" != none ]; then
	refuse_launch "rseq area (not mapped at exec)" "$l_rseq" "unmapped|no page|control block|rseq"
else skip "launch: w: on the rseq area" "glibc registers no rseq area here"; fi

# A running process: guarded sleep 10 writes slow_var every 10 ms.
"$G-O2" sleep 10 >"$tmp/sleep.out" 2>"$tmp/sleep.err" &
sleep_pid=$!
for _ in $(seq 100); do grep -q ready "$tmp/sleep.out" && break; sleep 0.05; done
so=$(cat "$tmp/sleep.out")
p_stack=$(addr_of "$so" stack) p_tls=$(addr_of "$so" tls) p_rseq=$(addr_of "$so" rseq)
p_tstack=$(addr_of "$so" tstack) p_slow=$(addr_of "$so" slow) p_mapped=$(addr_of "$so" mapped)
cp "/proc/$sleep_pid/maps" "$tmp/maps.before"
# refuse_pid WHAT ADDR PATTERN
refuse_pid() {
	local spec="w:$2/4"
	expect_error "-p: $spec on the $1: refused, one line naming it, exit 1" 1 \
		"$2/4 [^(]*($3)" "$HWBP" watch --backend guard -p "$sleep_pid" "$spec"
}
refuse_pid "main thread's stack" "$p_stack" "stack"
refuse_pid "second thread's stack, near its top" "$p_tstack" "stack"
refuse_pid "second thread's stack, 64 KiB down" "$(printf '0x%x' $((p_tstack - 0x10000)))" "stack"
refuse_pid "thread-local variable (its thread's control block)" "$p_tls" "control block|TCB|thread pointer|clear_child_tid|TLS|thread-local"
if [ "$p_rseq" != none ]; then
	refuse_pid "rseq area" "$p_rseq" "rseq|control block|TCB"
	run "$HWBP" watch --backend guard --json -p "$sleep_pid" "w:$p_rseq/4"
	if [ "$rc" = 1 ] && "$PY" -c "
import json, re, sys
recs = [json.loads(l) for l in sys.stdin.read().splitlines()]
e = recs[0]
assert e['type'] == 'error' and e.get('spec', sys.argv[1]) == sys.argv[1], e
assert re.search(sys.argv[2], e['message']) and 'hwbp: ' + e['message'] == sys.argv[3], e
assert all(r['type'] == 'summary' for r in recs[1:]) and len(recs) <= 2, recs
" "w:$p_rseq/4" "$p_rseq/4 [^(]*(rseq|control block)" "$err" <<<"$out" 2>"$tmp/py.err"; then
		ok "-p --json: the rseq refusal's error record, the same message"
	else not_ok "-p --json: the rseq refusal's error record (exit $rc)"; { cat "$tmp/py.err"; echo "$out"; echo "$err"; } | diag; fi
else skip "-p: w: on the rseq area" "glibc registers no rseq area here"; fi
# proc_ok NAME: the process runs on, untraced, its mappings as before
proc_ok() {
	local st tracer
	st=$(awk '/^State/ {print $2}' "/proc/$sleep_pid/status" 2>/dev/null)
	tracer=$(awk '/^TracerPid/ {print $2}' "/proc/$sleep_pid/status" 2>/dev/null)
	if [[ "$st" =~ ^[RS]$ ]] && [ "$tracer" = 0 ] && cat "/proc/$sleep_pid/maps" >"$tmp/maps.now" && cmp -s "$tmp/maps.before" "$tmp/maps.now"; then
		ok "$1: the process runs on (state $st), untraced, /proc/PID/maps as before"
	else
		not_ok "$1: the process (state '$st', tracer '$tracer')"
		diff "$tmp/maps.before" "$tmp/maps.now" | diag
	fi
}
proc_ok "after the refusals"

# A page the process mapped itself, just below its main thread's TCB
# mapping, is ordinary memory: watched, and its writes are hits.
rm -f "$tmp/rep.json"
run "$HWBP" watch --backend guard --json -o "$tmp/rep.json" -p "$sleep_pid" --duration 0.5 "w:$p_mapped/8"
printf '%s\n' "$so" >"$tmp/tout"
gcheck "-p w:$p_mapped/8 (a page it mmapped, below the TCB's mapping): watched, its writes are hits" "
assert rc == 0, ('exit', rc)
assert hits and all(h['line'] == L['MAPPED'] and h['func'] == 'mapped_write' and rel(h, 'mapped') == 0 for h in hits), hits[:1]
assert all(ival(h) == ival(h, 'old') + 1 for h in hits), hits[:3]"
proc_ok "after watching the mapped page"

# Detach: --duration, then SIGINT; every protection restored.
# perms_of ADDR: the permissions of the sleeping process's mapping holding ADDR.
# (in bash: a python start per look is too slow in the x86 lane's TCG)
perms_of() {
	local a=$(($1)) range perms rest
	while read -r range perms rest; do
		if (( 16#${range%-*} <= a && a < 16#${range#*-} )); then
			echo "$perms"
			return
		fi
	done <"/proc/$sleep_pid/maps" 2>/dev/null
}
# wait_guarded HWBP-PID: until ADDR's page is guarded (r--p) or hwbp ended.
wait_guarded() {
	for _ in $(seq 100); do
		guarded_now=$(perms_of "$p_slow")
		[ "$guarded_now" = r--p ] && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
"$HWBP" watch --backend guard --json -o "$tmp/rep.json" -p "$sleep_pid" w:slow_var --duration 1 2>"$tmp/d.err" &
hpid=$!
wait_guarded "$hpid"
wait "$hpid"; rc=$?
out=$so err=$(cat "$tmp/d.err")
printf '%s\n' "$out" >"$tmp/tout"
if [ "$guarded_now" = "r--p" ]; then ok "-p w:slow_var: while watched, its page is r--p"
else not_ok "-p w:slow_var: while watched, its page is '$guarded_now', wanted r--p"; fi
gcheck "-p w:slow_var --duration 1: exit 0, 40 to 110 hits, each value old + 1 in a row" "
assert rc == 0, ('exit', rc)
v = [(ival(h, 'old'), ival(h)) for h in hits]
assert 20 <= len(v) <= 110, len(v)
assert all(n == o + 1 for o, n in v) and all(b[0] == a[1] for a, b in zip(v, v[1:])), v[:5]
assert all(h['line'] == L['SLOW'] and h['func'] == 'slow_write' for h in hits), hits[0]
assert summ['hits'] == len(hits), summ"
proc_ok "after --duration"

"$HWBP" watch --backend guard --json -o "$tmp/rep.json" -p "$sleep_pid" w:slow_var rw:buf/8192 w:tsh 2>"$tmp/d.err" &
hpid=$!
wait_guarded "$hpid"
sleep 0.3
kill -INT "$hpid"
wait "$hpid"; rc=$?
err=$(cat "$tmp/d.err")
gcheck "-p with three points, SIGINT: exit 0, hits before it" "
assert rc == 0, ('exit', rc)
assert len(hits) > 10 and {h['spec'] for h in hits} == {'w:slow_var'}, len(hits)"
proc_ok "after SIGINT"

sleep 0.2
kill -USR2 "$sleep_pid"
wait "$sleep_pid"; prc=$?
sleep_pid=
n=$(awk '$1 == "slow" && $2 !~ /^0x/ { print $2 }' "$tmp/sleep.out")
if [ "$prc" = 0 ] && [ -n "$n" ] && [ "$n" -gt 100 ]; then
	ok "detached: the process wrote on unwatched ($n writes in all) and exited 0"
else not_ok "detached: exit $prc, slow '$n'"; diag <"$tmp/sleep.err"; fi

# --- what auto picks -------------------------------------------------------------
delivered=$("$HWBP" info --json | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["debug_exceptions"]["delivered"])' 2>/dev/null)
COUNTER_BUMP=$(grep -n 'LINE_BUMP' tests/targets/counter.c | head -1 | cut -d: -f1)
if [ "$delivered" = False ]; then
	rm -f "$tmp/rep.json"
	run "$HWBP" watch --json -o "$tmp/rep.json" w:counter -- "$T/counter-O0" -q
	printf '%s\n' "$out" >"$tmp/tout"
	gcheck "no debug exceptions here: watch without --backend runs (guard), 1 hit at counter.c:$COUNTER_BUMP" "
assert rc == 0, ('exit', rc)
assert [(h['func'], h['file'], h['line']) for h in hits] == [('bump_counter', 'counter.c', $COUNTER_BUMP)], hits
assert summ['hits'] == 1 and 'guard_steps' in summ, summ"
	lines=$(printf '%s' "$err" | grep -c '')
	if [ "$lines" = 1 ] && [[ "$err" == "hwbp: "*guard* ]]; then
		ok "no debug exceptions here: one line on stderr names the guard backend: $err"
	else not_ok "auto: one line naming guard ($lines lines)"; printf '%s\n' "$err" | diag; fi
else
	grun w:counter -- "$T/counter-O0" -q
	gcheck "debug exceptions delivered here ($delivered): --backend guard still works, 1 hit at counter.c:$COUNTER_BUMP" "
assert rc == 0, ('exit', rc)
assert [(h['func'], h['file'], h['line']) for h in hits] == [('bump_counter', 'counter.c', $COUNTER_BUMP)], hits
assert summ['hits'] == 1, summ"
fi

done_testing

#!/usr/bin/env bash
# needs: debug exceptions
# dlopen.sh - a SPEC in a library the program loads later with dlopen():
# armed once the dynamic linker has mapped it, before its constructors
# run (perf backend; hwbp follows the dynamic linker meanwhile).
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/tap.bash
T="$HWBP_BUILD/tests/targets"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; kill $(jobs -p) 2>/dev/null' EXIT

require_backend perf
INIT=$(grep -n 'LINE_demo_init' tests/targets/libdemo.c | cut -d: -f1)
SET=$(grep -n 'demo_value = v' tests/targets/libdemo.c | cut -d: -f1)


for v in O0 O2 O0-nopie O2-nopie; do
	run "$HWBP" watch --json w:libdemo.so:demo_state.count w:libdemo.so:demo_value w:counter -- \
		"$T/counter-$v" -q -n 4 -l "$T/libdemo.so"
	[ "$rc" = 0 ] && ok "counter-$v -l libdemo.so: exit 0" || { not_ok "counter-$v: exit $rc"; echo "$err" | diag; }
	check_records "counter-$v: the constructor's write (libdemo.c:$INIT), 4 demo_set writes (libdemo.c:$SET) = 7, 4 counter writes" "
c = [h for h in hits if h['spec'] == 'w:libdemo.so:demo_state.count']
d = [h for h in hits if h['spec'] == 'w:libdemo.so:demo_value']
assert len(c) == 1 and c[0]['func'] == 'demo_init' and c[0]['line'] == $INIT and c[0]['value'] == '0x1', c
assert len(d) == 4 and all(h['func'] == 'demo_set' and h['line'] == $SET and h['file'] == 'libdemo.c' for h in d), d
assert all(h.get('value') in (None, '0x7') for h in d), d
assert summ['hits'] == 9, summ"
	if printf '%s\n' "$err" | grep -q "^hwbp: 'w:libdemo.so:demo_value': no module 'libdemo.so' loaded; watched once the program loads it$"; then
		ok "counter-$v: says the SPEC waits for the library"
	else not_ok "counter-$v: pending message"; printf '%s\n' "$err" | diag; fi
done

run "$HWBP" watch --json w:libnever.so:x -- "$T/counter-O2" -q -n 2
check_records "a library never loaded: no hits, the command runs to its end" "assert summ['hits'] == 0"
[ "$rc" = 125 ] && ok "a library never loaded, nothing else watched: exit 125" || not_ok "libnever: exit $rc"
run "$HWBP" watch --json w:counter w:libnever.so:x -- "$T/counter-O2" -q -n 2
check_records "one SPEC armed, one never: 2 hits of counter" "assert summ['hits'] == 2"
[ "$rc" = 0 ] && ok "one SPEC armed, one never: the command's exit status 0" || not_ok "armed + libnever: exit $rc"

# The command's own signals and status while hwbp follows its libraries
# (with one SPEC armed, so that the command's status is hwbp's).
run "$HWBP" watch w:0x1000 w:libnever.so:x -- sh -c 'kill -USR1 $$'
[ "$rc" = 138 ] && ok "following libraries: the command's own SIGUSR1 kills it as usual (138)" || not_ok "SIGUSR1: exit $rc"

# Ctrl-C while following: hwbp stops following (detaches) at once; the
# command goes on (a terminal's Ctrl-C reaches it by itself) until it ends.
"$HWBP" watch -q -o /dev/null w:0x1000 w:libnever.so:x -- "$T/stopper-O2" loop >"$tmp/w.out" 2>/dev/null &
H=$!
for _ in $(seq 50); do grep -qs ready "$tmp/w.out" && break; sleep 0.1; done
P=$(pgrep -P "$H")
kill -INT "$H"
sleep 0.5
tracer=$(awk '/^TracerPid/ {print $2}' "/proc/$P/status" 2>/dev/null)
[ "$tracer" = 0 ] && ok "Ctrl-C while following libraries: the command is detached" || not_ok "TracerPid '$tracer' after Ctrl-C"
kill -USR2 "$P"
wait "$H"
hrc=$?
[ "$hrc" = 0 ] && ok "then hwbp ends with the command's status (0)" || not_ok "exit $hrc after Ctrl-C"
done_testing

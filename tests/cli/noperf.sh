#!/usr/bin/env bash
# needs: debug exceptions
# noperf.sh - tests/tools/noperf, the user hwbp's ptrace backend is for:
# run as nobody, perf_event_open refused with EACCES (or EPERM), ptrace of
# one's own children still allowed. Needs root to change user.
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/tap.bash
NOPERF="$HWBP_BUILD/tests/tools/noperf"
PERFOPEN="$HWBP_BUILD/tests/tools/perfopen"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP not root: noperf needs root to become nobody"; exit 0
fi
if [ ! -x "$NOPERF" ] || [ ! -x "$PERFOPEN" ]; then
	not_ok "noperf and perfopen are built in $HWBP_BUILD/tests/tools"; done_testing; exit 1
fi

# nobody must be able to reach the binaries: if some directory on the way
# to the build is closed to others, run copies from a 0755 directory.
chmod 755 "$tmp"
run "$NOPERF" -- "$PERFOPEN"
if [ "$rc" = 126 ]; then
	printf 'nobody cannot run programs in %s; using copies in %s\n' "$HWBP_BUILD" "$tmp" | diag
	cp "$NOPERF" "$PERFOPEN" "$HWBP" "$tmp/" && chmod 755 "$tmp"/*
	NOPERF="$tmp/noperf" PERFOPEN="$tmp/perfopen" HWBP="$tmp/hwbp"
fi

# The identity: nobody, with nobody's group and no others.
run "$NOPERF" -- id -u
[ "$rc" = 0 ] && [ "$out" = 65534 ] && ok "runs as uid 65534" || not_ok "runs as uid 65534 (exit $rc: $out $err)"
run "$NOPERF" -- id -G
[ "$rc" = 0 ] && [ "$out" = 65534 ] && ok "only group 65534" || not_ok "only group 65534 ($out)"
run "$NOPERF" --user 4242 -- id -u
[ "$rc" = 0 ] && [ "$out" = 4242 ] && ok "--user 4242 runs as uid 4242" || not_ok "--user 4242 ($out $err)"
run "$NOPERF" -- grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status
if [[ "$out" == *"NoNewPrivs:"*1* ]] && [[ "$out" == *"Seccomp:"*2* ]]; then
	ok "no_new_privs set and a seccomp filter installed"
else not_ok "no_new_privs and seccomp filter"; printf '%s\n' "$out" | diag; fi

# perf_event_open is refused with the errno asked for; outside noperf,
# root may open the same event (when the machine has breakpoints at all).
run "$PERFOPEN"
if [ "$out" = ok ]; then ok "outside noperf, root opens a perf breakpoint"
else skip "outside noperf, root opens a perf breakpoint" "perf_event_open gives $out here"; fi
run "$NOPERF" -- "$PERFOPEN"
[ "$rc" = 1 ] && [ "$out" = EACCES ] && ok "perf_event_open fails with EACCES" ||
	not_ok "perf_event_open fails with EACCES (exit $rc: $out $err)"
run "$NOPERF" --errno EPERM -- "$PERFOPEN"
[ "$rc" = 1 ] && [ "$out" = EPERM ] && ok "--errno EPERM: perf_event_open fails with EPERM" ||
	not_ok "--errno EPERM (exit $rc: $out $err)"
# Not root any more, the inner noperf keeps the user and adds its filter.
run "$NOPERF" -- "$NOPERF" -- sh -c "id -u; exec '$PERFOPEN'"
[ "$out" = $'65534\nEACCES' ] && ok "noperf without root keeps the user and still filters" ||
	not_ok "noperf without root ($out $err)"

# What hwbp info sees there: perf refused with the errno's text, not root,
# and the ptrace backend arming a real watchpoint in its own child.
run "$HWBP" info --json
root_info=$out
run "$NOPERF" -- "$HWBP" info --json
json=$out
get() { python3 -c 'import json,sys; d=json.loads(sys.argv[1])
for k in sys.argv[2].split("."): d=d[k]
print(d if isinstance(d, str) else json.dumps(d))' "$json" "$1" 2>/dev/null; }
[ "$rc" = 0 ] && [ "$(get credentials.root)" = false ] && ok "hwbp info runs and is not root" ||
	not_ok "hwbp info runs and is not root (exit $rc: $err)"
reason=$(get backends.perf.reason)
if [ "$(get backends.perf.usable)" = false ] && [[ "$reason" == "perf_event_open: Permission denied"* ]]; then
	ok "hwbp info: perf not usable, perf_event_open: Permission denied"
else not_ok "hwbp info: perf not usable with EACCES ($reason)"; fi
if [ "$(get backends.ptrace.usable)" = true ]; then ok "hwbp info: ptrace backend usable as nobody"
else
	why=$(get backends.ptrace.reason)
	json=$root_info
	if [ "$(get backends.ptrace.usable)" != true ] && [ "${HWBP_REQUIRE_HW:-0}" != 1 ]; then
		skip "hwbp info: ptrace backend usable as nobody" "not usable as root either: $why"
	else not_ok "hwbp info: ptrace backend usable as nobody: $why"; fi
fi
json=$("$NOPERF" --errno EPERM -- "$HWBP" info --json 2>/dev/null)
[[ "$(get backends.perf.reason)" == "perf_event_open: Operation not permitted"* ]] &&
	ok "hwbp info under --errno EPERM: Operation not permitted" ||
	not_ok "hwbp info under --errno EPERM ($(get backends.perf.reason))"

# Exit statuses, as env(1).
run "$NOPERF" -- sh -c 'exit 7'
[ "$rc" = 7 ] && ok "the command's exit status is passed through" || not_ok "exit status passed through ($rc)"
run env PATH=/usr/bin:/bin "$NOPERF" -- no-such-command-hwbp
[ "$rc" = 127 ] && [[ "$err" == "noperf: cannot run 'no-such-command-hwbp': No such file or directory" ]] &&
	ok "127 and one line when the command is not found" || not_ok "command not found (exit $rc: $err)"
run "$NOPERF" -- /etc/passwd
[ "$rc" = 126 ] && ok "126 when the command cannot run" || not_ok "command cannot run (exit $rc: $err)"
for args in "--errno ENOENT -- true" "--frob -- true" "--user" "" "--user no-such-user-hwbp -- true"; do
	# shellcheck disable=SC2086
	run "$NOPERF" $args
	if [ "$rc" = 125 ] && [ -z "$out" ] && [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] &&
	   [[ "$err" == "noperf: "* ]]; then ok "125 and one error line for '$args'"
	else not_ok "125 and one error line for '$args' (exit $rc: $err)"; fi
done
run "$NOPERF" -- "$NOPERF" --user 0 -- true
[ "$rc" = 125 ] && [[ "$err" == "noperf: --user needs root (running as uid 65534)" ]] &&
	ok "--user without root is refused" || not_ok "--user without root (exit $rc: $err)"
run "$NOPERF" --help
[ "$rc" = 0 ] && [[ "$out" == "usage: noperf "* ]] && ok "--help" || not_ok "--help (exit $rc)"

# hwbp itself there: --backend auto falls back to ptrace, says why in one
# line, and still gives exact old -> new values.
STOPPER="$HWBP_BUILD/tests/targets/stopper-O2"
if [ "$HWBP" = "$tmp/hwbp" ]; then cp "$STOPPER" "$tmp/" && STOPPER="$tmp/stopper-O2"; fi
for e in EACCES EPERM; do
	run "$NOPERF" --errno "$e" -- "$HWBP" watch --json w:watched -- "$STOPPER" values
	vals=$(printf '%s\n' "$out" | python3 -c '
import json, sys
recs = [json.loads(l) for l in sys.stdin if l.startswith("{")]
print(" ".join("%d>%d" % (int(r["old"], 16), int(r["value"], 16)) for r in recs if r["type"] == "hit"), recs[-1]["hits"])' 2>&1)
	if [ "$rc" = 0 ] && [ "$vals" = "0>5 5>5 5>8 8>4294967295 4294967295>42 5" ] &&
	   [ "$(printf '%s\n' "$err" | grep -c .)" = 1 ] &&
	   [[ "$err" == "hwbp: perf refused ("*"): using the ptrace backend" ]]; then
		ok "as nobody with perf refused ($e): falls back to ptrace, one line, exact values"
	else not_ok "fallback under $e (exit $rc)"; printf '%s\n%s\n%s\n' "$vals" "$out" "$err" | diag; fi
done
run "$NOPERF" -- "$HWBP" stat w:watched -- "$STOPPER" threads 5
[ "$rc" = 0 ] && [[ "$out" == *"15 hits, 0 lost"* ]] && ok "as nobody: hwbp stat falls back too (15 hits)" ||
	{ not_ok "stat fallback (exit $rc)"; printf '%s\n%s\n' "$out" "$err" | diag; }
run "$NOPERF" -- "$HWBP" watch --backend perf w:watched -- "$STOPPER" values
[ "$rc" = 125 ] && [[ "$err" == *"hwbp: cannot watch process "*"Permission denied"* ]] && [[ "$err" == *"--backend ptrace"* ]] &&
	ok "as nobody, --backend perf: 125, with the remedy" || { not_ok "--backend perf as nobody (exit $rc)"; printf '%s\n' "$err" | diag; }
done_testing

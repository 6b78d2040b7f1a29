#!/usr/bin/env bash
# needs: debug exceptions
# info.sh - hwbp info on this machine: the arch, the slot counts as the
# kernel reports them, perf and ptrace tried for real, and guard's verdict.
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/tap.bash

run "$HWBP" info --json
if [ "$rc" = 0 ]; then ok "info --json exits 0"; else not_ok "info --json exits 0 ($rc)"; fi
json=$out
if python3 -c 'import json,sys; json.loads(sys.argv[1])' "$json" 2>/dev/null; then
	ok "info --json is one JSON object"
else not_ok "info --json is one JSON object"; printf '%s\n' "$json" | diag; fi
get() { python3 -c 'import json,sys; d=json.loads(sys.argv[1])
for k in sys.argv[2].split("."): d=d[k]
print(json.dumps(d))' "$json" "$1" 2>/dev/null; }
arch=$(uname -m)
case "$arch" in
x86_64)
	[ "$(get arch)" = '"x86_64"' ] && ok "arch is x86_64" || not_ok "arch is x86_64 ($(get arch))"
	if [ "$(get slots.watch)" = 4 ] && [ "$(get slots.shared)" = true ]; then ok "4 shared slots"
	else not_ok "4 shared slots (watch=$(get slots.watch), shared=$(get slots.shared))"; fi ;;
aarch64)
	[ "$(get arch)" = '"arm64"' ] && ok "arch is arm64" || not_ok "arch is arm64 ($(get arch))"
	if [ "$(get slots.source)" = '"dbg_info"' ] && [ "$(get slots.watch)" -ge 1 ]; then
		ok "slot counts from dbg_info: $(get slots.watch) watch, $(get slots.break) break"
	else not_ok "slot counts from dbg_info ($(get slots))"; fi ;;
esac
paranoid=$(cat /proc/sys/kernel/perf_event_paranoid)
[ "$(get perf_event_paranoid)" = "$paranoid" ] && ok "perf_event_paranoid is $paranoid" ||
	not_ok "perf_event_paranoid ($(get perf_event_paranoid) vs $paranoid)"
if [ "$(id -u)" = 0 ]; then
	[ "$(get credentials.root)" = true ] && ok "root is reported" || not_ok "root is reported"
	# As root both backends work wherever the CPU has debug registers.
	if [ "$(get backends.perf.usable)" = true ]; then ok "perf backend usable"
	elif [ "${HWBP_REQUIRE_HW:-0}" = 1 ]; then not_ok "perf backend usable: $(get backends.perf.reason)"
	else skip "perf backend usable" "$(get backends.perf.reason)"; fi
	if [ "$(get backends.ptrace.usable)" = true ]; then ok "ptrace backend usable"
	elif [ "${HWBP_REQUIRE_HW:-0}" = 1 ]; then not_ok "ptrace backend usable: $(get backends.ptrace.reason)"
	else skip "ptrace backend usable" "$(get backends.ptrace.reason)"; fi
	# guard needs no debug register, only ptrace of one's own children.
	if [ "$(get backends.guard.usable)" = true ]; then ok "guard backend usable"
	else not_ok "guard backend usable: $(get backends.guard.reason)"; fi
fi
run "$HWBP" info
if [ "$rc" = 0 ] && [[ "$out" == *"backends:"* ]] && [[ "$out" == *"slots:"* ]]; then
	ok "info prints a text report"
else not_ok "info prints a text report"; fi
if printf '%s\n' "$out" | grep -Eq '^  guard    (usable \(page protection under ptrace; any length, any number of points\)|not usable: .+)$'; then
	ok "info lists the guard backend with its verdict"
else not_ok "info lists the guard backend"; printf '%s\n' "$out" | diag; fi
done_testing

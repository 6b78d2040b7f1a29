#!/usr/bin/env bash
# golden.sh - each tests/cli/golden/NAME.cmd is one command line (with
# $HWBP for the binary); its stdout must equal NAME.out byte for byte and
# its exit status the number in NAME.rc (0 if there is none).
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/tap.bash
for cmd in tests/cli/golden/*.cmd; do
	name=$(basename "$cmd" .cmd)
	want_rc=0
	[ -f "${cmd%.cmd}.rc" ] && want_rc=$(cat "${cmd%.cmd}.rc")
	got=$(mktemp)
	HWBP=$HWBP bash -c "$(cat "$cmd")" >"$got" 2>/dev/null
	rc=$?
	if [ "$rc" = "$want_rc" ] && diff -u "${cmd%.cmd}.out" "$got" >/dev/null; then
		ok "golden $name"
	else
		not_ok "golden $name (exit $rc, wanted $want_rc)"
		diff -u "${cmd%.cmd}.out" "$got" | diag
	fi
	rm -f "$got"
done
done_testing

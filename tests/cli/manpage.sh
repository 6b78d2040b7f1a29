#!/usr/bin/env bash
# manpage.sh - the man page lists exactly the options that --help shows,
# and it renders without warnings.
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/tap.bash

help_opts=$(for c in $("$HWBP" help | awk '/^  [a-z]/{print $1}'); do
	"$HWBP" help "$c" | grep -E '^  +-' | grep -oE -- '--[a-z][a-z-]+'; done | sort -u)
help_opts=$(printf '%s\n--help\n--version\n' "$help_opts" | sort -u)
man_opts=$(sed -n '/^\.SH OPTIONS/,/^\.SH /p' docs/hwbp.1 | grep -E '^\.(BR|B) ' | sed 's/\\-/-/g' |
	grep -oE -- '--[a-z][a-z-]+' | sort -u)
if [ "$help_opts" = "$man_opts" ]; then ok "man page OPTIONS match --help"
else not_ok "man page OPTIONS match --help"; diff <(echo "$help_opts") <(echo "$man_opts") | diag; fi
for page in docs/hwbp.1 docs/libhwbp.3; do
	if [ ! -f "$page" ]; then not_ok "$page exists"; continue; fi
	if command -v groff >/dev/null; then
		w=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
		if [ -z "$w" ]; then ok "$page renders cleanly"; else not_ok "$page renders cleanly"; echo "$w" | diag; fi
	else
		skip "$page renders cleanly" "groff is not installed"
	fi
done
done_testing

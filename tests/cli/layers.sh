#!/usr/bin/env bash
# layers.sh - the tree keeps its layout's rules (tools/check-layers): cli/
# includes only <hwbp/hwbp.h> and its own headers, no ptrace( or
# perf_event_open outside lib/backend/ and lib/sys.c, layers include
# downwards only, no function over 120 lines and no file over 1500.
cd "$(dirname "$0")/../.." || exit 1
exec python3 tools/check-layers --tap

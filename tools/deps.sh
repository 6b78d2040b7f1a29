#!/usr/bin/env bash
# deps.sh - install the Debian packages hwbp needs to build and test, once.
#
# Idempotent: asks dpkg which packages are missing and installs only those,
# after one `apt-get update`. Quick (a dpkg query) when all are present.
# `deps.sh bench` adds what `make bench` runs side by side: perf, bpftrace, gdb.
# Set HWBP_NO_DEPS=1 to skip entirely (e.g. on a non-Debian system where you
# installed the equivalents yourself).
set -euo pipefail

[ "${HWBP_NO_DEPS:-}" = 1 ] && exit 0

# Build: compiler, make, pkg-config, elfutils (libdw), Capstone.
# Tests: cmocka, valgrind; the cross lanes: aarch64 gcc and glibc, clang-19 + lld-19
# for loongarch64, QEMU for arm64 and cpio for its initramfs.
pkgs=(
	gcc make pkg-config libc6-dev
	libdw-dev libelf-dev libcapstone-dev
	libcmocka-dev valgrind
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross
	clang-19 lld-19
	qemu-system-arm cpio
	groff-base python3
	debian-archive-keyring ca-certificates
)
# `deps.sh bench`: also the peers bench/ compares hwbp with.
[ "${1:-}" = bench ] && pkgs+=(linux-perf bpftrace gdb)

missing=()
for p in "${pkgs[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
	echo "hwbp: missing build dependencies: ${missing[*]}" >&2
	echo "hint: install them with your package manager, then set HWBP_NO_DEPS=1" >&2
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "hwbp: missing build dependencies: ${missing[*]}" >&2
	echo "hint: run as root, or: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi

echo "hwbp: installing build dependencies: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp /tmp/hwbp-deps.XXXXXX)
if ! { apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
	tail -n 20 "$log" >&2
	echo "hwbp: apt-get could not install: ${missing[*]} (full log: $log)" >&2
	exit 1
fi
rm -f "$log"

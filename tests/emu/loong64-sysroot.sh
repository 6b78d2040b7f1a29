#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# loong64-sysroot.sh - prepare a loongarch64 sysroot for cross-compiling hwbp
# with clang-19 and lld-19, and print its path.
#
# Usage:
#   tests/emu/loong64-sysroot.sh          print the sysroot path
#   tests/emu/loong64-sysroot.sh --cc     print a complete CC value for make:
#     clang-19 --target=loongarch64-linux-gnu --sysroot=SYSROOT -fuse-ld=lld
#     -Wno-unused-command-line-argument
#   e.g. make O=build-loong64 CC="$(tests/emu/loong64-sysroot.sh --cc)" WITH_SYM=0 STATIC=1
#   (static and shared links, -pthread/-lpthread and host ar(1) all work;
#   without the -Wno- flag, -Werror compile steps fail on the unused -fuse-ld)
#   tests/emu/loong64-sysroot.sh --help
#
# Nothing built with it can run here: no emulator implements the LoongArch
# debug CSRs.  The point is to catch LoongArch compile and link errors.
#
# The sysroot holds libc6, libc6-dev, linux-libc-dev, libgcc-s1 and libgcc-N-dev for
# loong64 from Debian (bookworm has no loong64), fetched with a private apt
# state and unpacked with dpkg-deb -x; N is the version of the archive's
# default gcc.  clang-19 and lld-19 are installed from apt when missing.
# Everything is cached; a second call only prints.
#
# Environment (all optional):
#   HWBP_EMU_CACHE         cache dir (default /var/cache/hwbp-emu)
#   HWBP_EMU_LOONG64_SUITE Debian suite (default forky; sid also works)
#   HWBP_EMU_REFRESH=1     fetch the packages again
#   HWBP_EMU_NO_APT=1      never run apt-get for host packages
#
# Exit status: 0 ready, 2 setup error (message on stderr).
set -euo pipefail

SUITE=${HWBP_EMU_LOONG64_SUITE:-forky}
CC_BASE="clang-19 --target=loongarch64-linux-gnu"

say() { printf '[loong64-sysroot %(%T)T] %s\n' -1 "$*" >&2; }
die() { say "error: $*"; exit 2; }
# shellcheck source=tests/emu/apt.bash
. "$(dirname "$0")/apt.bash"

MODE=path
case "${1:-}" in
"") ;;
--cc) MODE=cc ;;
-h | --help) sed -n '4,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
*) die "unknown argument $1 (try --help)" ;;
esac

emu_cache
TOP=$CACHE/loong64-$SUITE
APT_DIR=$TOP/apt
SYSROOT=$TOP/sysroot
# libgcc-s1 lets clang link shared objects (libgcc_s.so names libgcc_s.so.1).
PACKAGES=(libc6 libc6-dev linux-libc-dev libgcc-s1)
STAMP=.hwbp-sysroot-v3	# lists the unpacked debs; bump when the layout changes

host_packages()
{
	local missing=()

	command -v clang-19 >/dev/null || missing+=(clang-19)
	command -v ld.lld-19 >/dev/null || missing+=(lld-19)
	[ -e /usr/share/keyrings/debian-archive-keyring.gpg ] || missing+=(debian-archive-keyring)
	emu_install_missing "$CACHE/apt-host-loong64.log" "${missing[@]}"
}

apt_loong64() { emu_apt loong64 "$@"; }

sysroot()
{
	local mirror gccv tmp d

	[ "${HWBP_EMU_REFRESH:-0}" != 1 ] || rm -rf "$TOP"
	[ -e "$SYSROOT/$STAMP" ] && return 0
	mirror=$(emu_debian_mirrors) || die "no Debian mirror in /etc/apt sources"
	mirror=${mirror%% *}
	mkdir -p "$APT_DIR/state/lists/partial" "$APT_DIR/cache/archives/partial" "$APT_DIR/none"
	: >"$APT_DIR/state/status"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $SUITE main" \
		>"$APT_DIR/sources.list"
	say "updating the $SUITE loong64 package index"
	apt_loong64 apt-get update >"$TOP/apt.log" 2>&1 ||
		{ tail -n 20 "$TOP/apt.log" >&2; die "loong64 apt-get update failed"; }
	# libgcc-N-dev carries crtbeginT.o and libgcc.a: N is the default gcc's.
	gccv=$(apt_loong64 apt-cache depends gcc 2>/dev/null |
		sed -n 's/^ *Depends: gcc-\([0-9][0-9]*\)$/\1/p' | head -n 1)
	[ -n "$gccv" ] || die "cannot find the default gcc version of $SUITE loong64"
	say "downloading ${PACKAGES[*]} libgcc-$gccv-dev"
	tmp=$(mktemp -d "$TOP/dl.XXXXXX")
	(cd "$tmp" && apt_loong64 apt-get download "${PACKAGES[@]}" "libgcc-$gccv-dev") \
		>>"$TOP/apt.log" 2>&1 ||
		{ rm -rf "$tmp"; tail -n 20 "$TOP/apt.log" >&2; die "download failed"; }
	rm -rf "$SYSROOT"
	mkdir -p "$SYSROOT"
	for d in "$tmp"/*.deb; do
		dpkg-deb -x "$d" "$SYSROOT" || { rm -rf "$tmp"; die "cannot unpack $d"; }
	done
	# The merged-/usr links of base-files: libc.so names /lib64/ld-linux-*.
	for d in lib lib64; do
		[ -e "$SYSROOT/$d" ] || ln -s "usr/$d" "$SYSROOT/$d"
	done
	(cd "$tmp" && ls -- *.deb) >"$SYSROOT/$STAMP"
	rm -rf "$tmp" "$APT_DIR/cache"/*.bin
	say "sysroot ready: $SYSROOT ($(du -sh "$SYSROOT" | cut -f1))"
}

mkdir -p "$TOP"
exec 9>"$TOP/.lock"
flock 9
host_packages
sysroot
exec 9>&-

if [ "$MODE" = cc ]; then
	# -fuse-ld=lld is unused in -c steps, which -Werror would refuse.
	echo "$CC_BASE --sysroot=$SYSROOT -fuse-ld=lld -Wno-unused-command-line-argument"
else
	echo "$SYSROOT"
fi

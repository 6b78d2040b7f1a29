#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# x86-lane.sh - run hwbp's tests that need debug exceptions in an x86-64
# guest under qemu-system-x86_64 -cpu max (TCG), whose emulated debug
# registers work on any host, and report them to the host as one TAP stream.
#
# Usage:
#   tests/emu/x86-lane.sh BUILD_DIR     boot the guest and run the tests
#   tests/emu/x86-lane.sh --setup       only install, download and build
#   tests/emu/x86-lane.sh --help
#
# BUILD_DIR is the native build (make tests), inside this checkout. The
# guest boots Debian's generic amd64 kernel with an initramfs of busybox and
# the 9p modules; it mounts the host's root filesystem read-only over 9p and
# this checkout read-write at the same path, so the very binaries, bash and
# python3 of the host run in it, as root. There it runs
#   tools/run-tests --build BUILD_DIR --suites "dr6 hw cli" --hw-only --tap
# (the DR6 probe, every tests/hw program, the tests/cli scripts marked
# "# needs: debug exceptions" or "# lane: too"), logs in BUILD_DIR/test-logs/x86-vm/.
# Before that, tests/tools/dr6probe --reason probes QEMU's DR6 fault (only
# the first matching watchpoint's flag set): its reason becomes
# HWBP_DR6_INEXACT in the guest, and the probe runs as the test "dr6probe",
# expecting the fault (it fails the day QEMU gets DR6 right).
#
# Output (stdout): TAP, the guest runner's results as they are
# ("ok 3 - hw/hw_counts: ..."); a guest that ends without its verdict gives
#   not ok N - lane: VM ended without a verdict (...)
# and a guest kernel soft lockup the comment "the guest kernel locked up",
# on which tools/run-tests runs the lane again. Progress goes to stderr.
#
# Exit status: 0 all passed, 1 a test failed or no verdict, 2 usage or
# setup error (also reported as a "not ok" line).
#
# Environment (all optional):
#   HWBP_EMU_KERNEL    6.1 (default: what linux-image-amd64 depends on) or
#                      6.12 (the newest linux-image-6.12.*+deb12-amd64-unsigned)
#   HWBP_EMU_KPKG      exact Debian kernel package to boot instead
#   HWBP_EMU_CACHE     cache dir (default /var/cache/hwbp-emu)
#   HWBP_EMU_TIMEOUT   seconds for the whole guest run (default 3000)
#   HWBP_EMU_SMP, HWBP_EMU_MEM   vCPUs (default 2), MiB (default 2048)
#   HWBP_EMU_APPEND    extra kernel command line
#   HWBP_EMU_ENV       extra NAME=VALUE words for the guest environment
#   HWBP_EMU_SUITES    the guest's suites (default "dr6 hw cli")
#   HWBP_EMU_LOG       console log (default BUILD_DIR/emu-x86.log)
#   HWBP_EMU_REFRESH=1 resolve and download the kernel again
#   HWBP_EMU_NO_APT=1  never run apt-get for host packages
#   HWBP_REQUIRE_HW, HWBP_TEST_TIMEOUT, HWBP_TEST_ONLY   passed into the
#                      guest when set (tools/run-tests --help)
set -euo pipefail

SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$SELF_DIR/../.." && pwd -P)
KSEL=${HWBP_EMU_KERNEL:-6.1}
TIMEOUT=${HWBP_EMU_TIMEOUT:-3000}
SMP=${HWBP_EMU_SMP:-2}
MEM=${HWBP_EMU_MEM:-2048}
SUITES=${HWBP_EMU_SUITES:-dr6 hw cli}
MODE=run
REPORTED=0

say() { printf '[x86-lane %(%T)T] %s\n' -1 "$*" >&2; }

# A setup failure is a failed test for the runner, never a skip.
die()
{
	say "error: $*"
	if [ "$MODE" = run ] && [ "$REPORTED" = 0 ]; then
		printf 'not ok 1 - lane: setup failed: %s\n1..1\n' "$*"
	fi
	exit 2
}
# shellcheck source=tests/emu/apt.bash
. "$SELF_DIR/apt.bash"

emu_mode "${1:-}"

emu_cache

# ------------------------------------------------------------ host packages
host_packages()
{
	local missing=()

	command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
	# busybox-static: the initramfs has no C library.
	dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' ||
		missing+=(busybox-static)
	command -v cpio >/dev/null || missing+=(cpio)
	command -v xz >/dev/null || missing+=(xz-utils)
	command -v zstd >/dev/null || missing+=(zstd)
	emu_install_missing "$CACHE/apt-host.log" "${missing[@]}"
}

# --------------------------------------------------------------- the kernel
# kpkg: the Debian package to boot. The ABI name changes with every kernel
# update, so it is asked of apt each time (about a second), never written
# down: the meta package's dependency for 6.1, the newest 6.12 image for
# 6.12 (Debian 12 has no amd64 meta package for it).
kpkg_query()
{
	case "$KSEL" in
	6.1 | 6.1.*)
		apt-cache depends linux-image-amd64 2>/dev/null |
			awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }' ;;
	6.12 | 6.12.*)
		apt-cache pkgnames linux-image-6.12. 2>/dev/null |
			grep -E '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' | sort -V | tail -n 1 ;;
	*) die "HWBP_EMU_KERNEL=$KSEL: use 6.1 or 6.12" ;;
	esac
}

# ko_depends FILE: the modules a .ko (maybe compressed) depends on.
ko_cat()
{
	case "$1" in
	*.xz) xz -dc "$1" ;;
	*.zst) zstd -dcq "$1" ;;
	*.gz) gzip -dc "$1" ;;
	*) cat "$1" ;;
	esac
}
ko_depends() { ko_cat "$1" | tr '\0' '\n' | sed -n 's/^depends=//p' | head -n 1 | tr , ' '; }

# add_module NAME: NAME and what it depends on, dependencies first, into
# MODS (file paths); built-in modules need nothing.
declare -A KO=() SEEN=()
MODS=()
add_module()
{
	local n=${1//-/_} d

	[ -z "${SEEN[$n]:-}" ] || return 0
	SEEN[$n]=1
	if [ -z "${KO[$n]:-}" ]; then
		tr - _ <"$MODDIR/modules.builtin" | grep -q "/$n\.ko$" ||
			die "$KPKG has no module $n"
		return 0
	fi
	for d in $(ko_depends "${KO[$n]}"); do add_module "$d"; done
	MODS+=("${KO[$n]}")
}

kernel()
{
	local tmp f n

	KPKG=${HWBP_EMU_KPKG:-$(kpkg_query)}
	if [ -z "$KPKG" ]; then
		say "updating the package index"
		apt-get update -q >"$CACHE/apt-x86.log" 2>&1 ||
			{ tail -n 20 "$CACHE/apt-x86.log" >&2; die "apt-get update failed"; }
		KPKG=$(kpkg_query)
	fi
	[ -n "$KPKG" ] || die "cannot find the Debian kernel package for HWBP_EMU_KERNEL=$KSEL"
	KDIR=$CACHE/x86-$KPKG
	[ "${HWBP_EMU_REFRESH:-0}" != 1 ] || rm -rf "$KDIR"
	[ -e "$KDIR/ready" ] && return
	say "downloading $KPKG (once)"
	rm -rf "$KDIR"
	tmp=$(mktemp -d "$CACHE/dl.XXXXXX")
	(cd "$tmp" && apt-get -q -o APT::Sandbox::User=root download "$KPKG") \
		>>"$CACHE/apt-x86.log" 2>&1 ||
		{ rm -rf "$tmp"; tail -n 20 "$CACHE/apt-x86.log" >&2; die "cannot download $KPKG"; }
	dpkg-deb -x "$tmp"/*.deb "$tmp/root" || { rm -rf "$tmp"; die "cannot unpack $KPKG"; }
	MODDIR=$({ find "$tmp/root/lib/modules" "$tmp/root/usr/lib/modules" -mindepth 1 \
		-maxdepth 1 -type d 2>/dev/null || true; } | head -n 1)
	f=$(find "$tmp/root/boot" -name 'vmlinuz-*' | head -n 1)
	[ -n "$MODDIR" ] && [ -n "$f" ] || { rm -rf "$tmp"; die "$KPKG has no kernel or modules"; }
	mkdir -p "$KDIR.new/modules"
	cp "$f" "$KDIR.new/vmlinuz"
	basename "$MODDIR" >"$KDIR.new/release"
	# 9p over virtio-pci: the modules the guest loads, in order.
	while IFS= read -r f; do
		n=${f##*/}; n=${n%%.ko*}; KO[${n//-/_}]=$f
	done < <(find "$MODDIR" -name '*.ko*')
	for n in virtio_pci 9pnet_virtio 9p; do add_module "$n"; done
	for f in ${MODS[@]+"${MODS[@]}"}; do
		n=${f##*/}; n=${n%%.ko*}
		ko_cat "$f" >"$KDIR.new/modules/$n.ko"
		echo "$n" >>"$KDIR.new/modules/order"
	done
	touch "$KDIR.new/modules/order"
	rm -rf "$tmp"
	mv "$KDIR.new" "$KDIR"
	touch "$KDIR/ready"
}

# ------------------------------------------------------------ the initramfs
# PID 1 (busybox sh): load the modules, mount the host root read-only, the
# checkout read-write at its own path and the run's share on /run/hwbp-lane,
# then run the share's guest.sh with the host's bash in that root, and
# power off. The markers carry the run's nonce, so no output can fake them.
read -r -d '' INIT <<'EOF' || true
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
fail() { echo "x86-lane init: $*"; poweroff -f; }
for m in $(cat /modules/order); do insmod /modules/$m.ko || fail "insmod $m failed"; done
O=trans=virtio,version=9p2000.L,msize=512000
R=/newroot
mkdir -p /lane $R
mount -t 9p -o $O,cache=none lane /lane || fail "cannot mount the lane share"
DIR=$(cat /lane/dir)
mount -t 9p -o $O,cache=loose,ro hostroot $R || fail "cannot mount the host root"
mount -t proc proc $R/proc
mount -t sysfs sysfs $R/sys
mount -t devtmpfs devtmpfs $R/dev
mount -t debugfs debugfs $R/sys/kernel/debug 2>/dev/null
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $R/dev/pts
ln -sf /proc/self/fd $R/dev/fd
for d in /dev/shm /tmp /var/tmp /run; do
	mount -t tmpfs -o mode=1777 tmpfs $R$d || fail "cannot mount a tmpfs on $d"
done
chmod 755 $R/run
mkdir -p $R/run/hwbp-lane "$R$DIR"
mount --bind /lane $R/run/hwbp-lane || fail "cannot bind the lane share"
mount -t 9p -o $O,cache=mmap work "$R$DIR" || fail "cannot mount $DIR"
ip link set lo up
chroot $R /bin/bash /run/hwbp-lane/guest.sh </dev/null >/dev/console 2>&1
sync
poweroff -f
EOF

initramfs()
{
	local key dir

	key=$(printf '%s\n' "$INIT" "$(cat "$KDIR/modules/order")" "$(busybox | head -n 1)" |
		sha256sum | cut -c1-12)
	INITRD=$KDIR/initrd-$key.gz
	[ -s "$INITRD" ] && return
	say "building the initramfs"
	rm -f "$KDIR"/initrd-*.gz
	dir=$(mktemp -d "$CACHE/ird.XXXXXX")
	mkdir -p "$dir/bin" "$dir/dev" "$dir/proc" "$dir/sys"
	cp /bin/busybox "$dir/bin/busybox"
	cp -r "$KDIR/modules" "$dir/modules"
	printf '%s\n' "$INIT" >"$dir/init"
	chmod 755 "$dir/init"
	(cd "$dir" && find . | cpio -o -H newc -R 0:0 --quiet | gzip -1) >"$INITRD.new" ||
		{ rm -rf "$dir"; die "cannot build the initramfs"; }
	mv "$INITRD.new" "$INITRD"
	rm -rf "$dir"
}

setup()
{
	exec 9>"$CACHE/.lock-x86"
	flock 9		# one setup at a time per cache; runs go on in parallel
	host_packages
	kernel
	initramfs
	exec 9>&-
	KNAME=linux-$(cat "$KDIR/release")
}

if [ "$MODE" = setup ]; then
	setup
	say "ready: $KNAME ($KDIR), $INITRD"
	exit 0
fi

# ------------------------------------------------------------------ the run
BUILD=$1
[ -d "$BUILD" ] || die "$BUILD: no such build directory"
BUILD=$(cd "$BUILD" && pwd -P)
case "$BUILD/" in
"$TOP"/*) ;;
*) die "$BUILD is not inside the checkout $TOP (the guest sees only the checkout)" ;;
esac
[ -x "$BUILD/tests/tools/dr6probe" ] || die "$BUILD/tests/tools/dr6probe is missing (make tests)"
LOG=${HWBP_EMU_LOG:-$BUILD/emu-x86.log}

setup

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hwbp-x86-lane.XXXXXX")
QPID=''
cleanup() { [ -z "$QPID" ] || kill "$QPID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
NONCE=HWBP$(od -An -tx1 -N6 /dev/urandom | tr -d ' \n')
printf '%s\n' "$TOP" >"$WORK/dir"
: >"$WORK/tap"

# The guest's environment: the host's PATH (python3 may live in it), the
# hardware requirement, and nothing else of this shell's.
# A python3 behind launcher shims (pyenv) costs dozens of processes a call,
# which TCG makes slow: the interpreter's own directory goes first.
GPATH=${PATH:-/usr/sbin:/usr/bin:/sbin:/bin}
py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) && [ -x "$py" ] &&
	GPATH=$(dirname "$py"):$GPATH
ENVS=(PATH="$GPATH" HOME=/root LANG="${LANG:-C.UTF-8}"
	TERM=dumb HWBP_IN_VM=1 HWBP_DR6_EXPECT=fault)
[ -z "${HWBP_REQUIRE_HW+x}" ] || ENVS+=(HWBP_REQUIRE_HW="$HWBP_REQUIRE_HW")
[ -z "${HWBP_TEST_TIMEOUT+x}" ] || ENVS+=(HWBP_TEST_TIMEOUT="$HWBP_TEST_TIMEOUT")
[ -z "${HWBP_TEST_ONLY+x}" ] || ENVS+=(HWBP_TEST_ONLY="$HWBP_TEST_ONLY")
for kv in ${HWBP_EMU_ENV:-}; do
	[[ $kv =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die "HWBP_EMU_ENV: '$kv' is not NAME=VALUE"
	ENVS+=("$kv")
done
{
	echo 'unset $(compgen -e)'
	printf 'export'; printf ' %q' "${ENVS[@]}"; echo
	printf 'cd %q || exit 1\n' "$TOP"
	printf 'N=%q\n' "$NONCE"
	printf 'B=%q\n' "${BUILD#"$TOP"/}"
	printf 'S=%q\n' "$SUITES"
	cat <<'EOF'
echo "@@$N-BEGIN $(uname -r)@@"
# QEMU's DR6 fault, once: the reason the tests that need exact DR6 skip.
if r=$("$B/tests/tools/dr6probe" --reason 2>&1); then export HWBP_DR6_INEXACT=$r; fi
echo "@@$N-DR6 ${HWBP_DR6_INEXACT:-exact}@@"
tools/run-tests --build "$B" --suites "$S" --hw-only --tap --logs "$B/test-logs/x86-vm" \
	>/run/hwbp-lane/tap 2>/run/hwbp-lane/err
echo "@@$N-DONE rc=$?@@"
sync
EOF
} >"$WORK/guest.sh"

share()	# TAG PATH [ro]
{
	SHARES+=(-fsdev "local,id=$1,path=${2//,/,,},security_model=none,multidevs=remap${3:+,readonly=on}"
		-device "virtio-9p-pci,fsdev=$1,mount_tag=$1")
}
SHARES=()
share hostroot / ro
share work "$TOP"
share lane "$WORK"

say "booting $KNAME (-cpu max, TCG, -smp $SMP -m $MEM): suites $SUITES of $BUILD"
echo "# x86 lane: $KNAME, qemu-system-x86_64 -M q35 -cpu max -accel tcg -smp $SMP -m $MEM"
REPORTED=1
start=$SECONDS
set +e
timeout -k 10 "$TIMEOUT" qemu-system-x86_64 -M q35 -cpu max -accel tcg -smp "$SMP" -m "$MEM" \
	-nographic -nodefaults -no-reboot -monitor none -serial "file:$WORK/console" \
	-kernel "$KDIR/vmlinuz" -initrd "$INITRD" \
	-append "console=ttyS0 panic=-1 softlockup_panic=1 quiet mitigations=off ${HWBP_EMU_APPEND:-}" \
	"${SHARES[@]}" </dev/null >"$WORK/qemu.log" 2>&1 &
QPID=$!
# Progress: the guest's results as they come.
tail -n +1 -s 1 --pid=$QPID -f "$WORK/tap" 2>/dev/null | grep --line-buffered '^not ok' >&2 &
wait "$QPID"
qrc=$?
QPID=''
wait
set -e
tr -d '\r' <"$WORK/console" >"$LOG"
cat "$WORK/qemu.log" >>"$LOG"
say "the guest ran $((SECONDS - start)) s (qemu exit $qrc), console log in $LOG"

# The verdict: the guest runner's TAP, renumbered, then the lane's own.
awk -v nonce="$NONCE" -v qrc="$qrc" -v timeout="$TIMEOUT" -v console="$LOG" \
	-v errfile="$WORK/err" '
function out(s) { print s; fflush() }
function result(ok, desc) { n++; if (!ok) fails++; out((ok ? "ok " : "not ok ") n " - " desc) }
BEGIN { B = "@@" nonce "-" }
FILENAME == console {
	if ($0 ~ /watchdog: BUG: soft lockup/) lockup = 1
	if ($0 ~ /(BUG:|Oops|general protection|Kernel panic|segfault at)/ && index($0, B) == 0)
		kernel[++nk] = $0
	# (the firmware leaves escape sequences before the first marker)
	if ((i = index($0, B)) > 0) {
		m = substr($0, i + length(B)); sub(/@@.*$/, "", m)
		if (m ~ /^BEGIN /) began = substr(m, 7)
		if (m ~ /^DR6 /) dr6 = substr(m, 5)
		if (m ~ /^DONE rc=/) { done = 1; rc = substr(m, 9) + 0 }
	} else if (!done)
		tail[++nt % 30] = $0
	next
}
/^(not )?ok [0-9]+/ {
	line = $0; notok = line ~ /^not /
	sub(/^(not )?ok [0-9]+ *-? */, "", line)
	result(!notok, line); guestn++
	next
}
/^1\.\.[0-9]+/ { plan = substr($0, 4) + 0; next }
/^#/ { out($0); next }
END {
	if (began != "") out("# x86 lane: guest kernel " began "; DR6: " dr6)
	for (i = 1; i <= nk; i++) out("# kernel: " kernel[i])
	if (!done) {
		if (qrc == 124 || qrc == 137) why = "timed out after " timeout " s"
		else if (began == "") why = "the guest did not start the tests, qemu exit " qrc
		else why = "qemu exit " qrc ", no end marker"
		result(0, "lane: VM ended without a verdict (" why ")")
		for (i = nt - 29; i <= nt; i++) if (i > 0) print "console: " tail[i % 30] > "/dev/stderr"
	} else {
		if (plan != guestn) result(0, "lane: the guest runner planned " plan " results, gave " guestn)
		if (rc != 0 && fails == 0) result(0, "lane: the guest runner exited " rc " with no failed test")
	}
	while ((getline l < errfile) > 0) if (l != "") print "guest stderr: " l > "/dev/stderr"
	if (lockup)
		out("# the guest kernel locked up (watchdog: soft lockup, a kernel fault, not a test verdict)")
	if (n == 0) result(0, "lane: no test results")
	out("1.." n)
	exit fails > 0
}' "$LOG" "$WORK/tap"

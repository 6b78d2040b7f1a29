#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# arm64-lane.sh - run hwbp's arm64 hardware tests in qemu-system-aarch64 (TCG)
# and report them to the host as one TAP stream.
#
# Usage:
#   tests/emu/arm64-lane.sh BUILD_DIR [TEST...]   boot the VM and run the tests
#   tests/emu/arm64-lane.sh --setup               only install/download/build
#   tests/emu/arm64-lane.sh --help
#
# BUILD_DIR comes from an aarch64 cross build (static binaries preferred):
#   make O=build-arm64 CROSS_COMPILE=aarch64-linux-gnu- WITH_SYM=0 STATIC=1 hw-tests
# In the VM, as root: every executable BUILD_DIR/tests/hw/* (or only the TEST
# names given), then "hwbp info" and "hwbp info --json" when BUILD_DIR/hwbp
# exists.  BUILD_DIR/tests/targets/ is copied along.  Layout in the VM:
# /hwbp/hwbp, /hwbp/tests/hw/NAME, /hwbp/tests/targets/NAME, cwd /hwbp,
# environment HWBP=/hwbp/hwbp HWBP_IN_VM=1 (+ HWBP_REQUIRE_HW when set here).
#
# Output (stdout): TAP.  Each guest result becomes one host result named
#   "<tag>: <program>: <guest description>", e.g.
#   ok 12 - arm64: hw_perf_counts: len 4 at offset 2
# A program that crashes, times out, exits non-zero without a failed test,
# or whose results do not match its plan adds a "not ok" of its own; a VM
# that ends without the final marker gives
#   not ok N - arm64 lane: VM ended without a verdict (...)
# Guest comments, stray output and kernel messages become "# " lines.
# The plan "1..N" comes last.  Progress and setup messages go to stderr.
#
# Exit status: 0 all passed, 1 a test failed or the VM gave no verdict,
# 2 usage or setup error (also reported as a "not ok" line).
#
# Environment (all optional):
#   HWBP_EMU_KERNEL        6.1 (default: linux-image-cloud-arm64), 6.12
#                          (linux-image-6.12-cloud-arm64) or a path to an
#                          arm64 Image to boot
#   HWBP_EMU_KPKG          exact Debian kernel package to use instead
#   HWBP_EMU_CACHE         cache dir (default /var/cache/hwbp-emu)
#   HWBP_EMU_TIMEOUT       seconds for the whole VM run (default 900)
#   HWBP_EMU_TEST_TIMEOUT  seconds per program in the VM (default 300)
#   HWBP_EMU_CPU           -cpu (default max,pauth-impdef=on)
#   HWBP_EMU_SMP, HWBP_EMU_MEM   vCPUs (default 2), MiB (default 512)
#   HWBP_EMU_APPEND        extra kernel command line
#   HWBP_EMU_ENV           extra NAME=VALUE words for the guest environment
#   HWBP_EMU_TAG           name prefix of the results (default arm64, arm64-6.12)
#   HWBP_EMU_LOG           raw console log (default BUILD_DIR/emu-<tag>.log)
#   HWBP_EMU_REFRESH=1     resolve and download the kernel again
#   HWBP_EMU_NO_APT=1      never run apt-get for host packages
#   HWBP_REQUIRE_HW        passed into the guest when set
set -euo pipefail

SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KSEL=${HWBP_EMU_KERNEL:-6.1}
TIMEOUT=${HWBP_EMU_TIMEOUT:-900}
TEST_TIMEOUT=${HWBP_EMU_TEST_TIMEOUT:-300}
CPU=${HWBP_EMU_CPU:-max,pauth-impdef=on}
SMP=${HWBP_EMU_SMP:-2}
MEM=${HWBP_EMU_MEM:-512}
XCC=aarch64-linux-gnu-gcc
case "$KSEL" in
6.1 | 6.1.*) TAG=${HWBP_EMU_TAG:-arm64} ;;
*/*) TAG=${HWBP_EMU_TAG:-arm64} ;;
*) TAG=${HWBP_EMU_TAG:-arm64-$KSEL} ;;
esac
MODE=run
REPORTED=0	# 1 once a TAP line went to stdout

say() { printf '[%s-lane %(%T)T] %s\n' "$TAG" -1 "$*" >&2; }

# A setup failure is a failed test for the runner, never a skip.
die()
{
	say "error: $*"
	if [ "$MODE" = run ] && [ "$REPORTED" = 0 ]; then
		printf 'not ok 1 - %s lane: setup failed: %s\n1..1\n' "$TAG" "$*"
	fi
	exit 2
}
# shellcheck source=tests/emu/apt.bash
. "$(dirname "$0")/apt.bash"

emu_mode "${1:-}"

emu_cache

# ------------------------------------------------------------ host packages
host_packages()
{
	local missing=()

	command -v qemu-system-aarch64 >/dev/null || missing+=(qemu-system-arm)
	command -v "$XCC" >/dev/null || missing+=(gcc-aarch64-linux-gnu)
	[ -e /usr/aarch64-linux-gnu/lib/libc.a ] || missing+=(libc6-dev-arm64-cross)
	command -v cpio >/dev/null || missing+=(cpio)
	[ -e /usr/share/keyrings/debian-archive-keyring.gpg ] || missing+=(debian-archive-keyring)
	emu_install_missing "$CACHE/apt-host.log" "${missing[@]}"
}

# --------------------------------------------------------------- the kernel
# apt for arm64 with a private state under $CACHE: the host's dpkg database
# and architecture list stay as they are.
APT_DIR=$CACHE/apt-arm64
apt_arm64() { emu_apt arm64 "$@"; }

apt_arm64_update()
{
	local mirrors main sec key="[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]"

	mirrors=$(emu_debian_mirrors) || die "no Debian mirror in /etc/apt sources"
	read -r main sec <<<"$mirrors"
	mkdir -p "$APT_DIR/state/lists/partial" "$APT_DIR/cache/archives/partial" "$APT_DIR/none"
	: >"$APT_DIR/state/status"
	{
		echo "deb $key $main bookworm main"
		echo "deb $key $main bookworm-updates main"
		echo "deb $key $sec bookworm-security main"
	} >"$APT_DIR/sources.list"
	say "updating the arm64 package index"
	apt_arm64 apt-get update >"$CACHE/apt-arm64.log" 2>&1 ||
		{ tail -n 20 "$CACHE/apt-arm64.log" >&2; die "arm64 apt-get update failed"; }
}

kernel()
{
	local meta key kdir pkg tmp vmlinuz

	case "$KSEL" in
	*/*)
		[ -s "$KSEL" ] || die "HWBP_EMU_KERNEL=$KSEL: no such kernel image"
		IMAGE=$KSEL
		KNAME=$(basename "$KSEL")
		return
		;;
	6.1 | 6.1.*) meta=linux-image-cloud-arm64 ;;
	6.12 | 6.12.*) meta=linux-image-6.12-cloud-arm64 ;;
	*) die "HWBP_EMU_KERNEL=$KSEL: use 6.1, 6.12 or a path to an Image" ;;
	esac
	key=${HWBP_EMU_KPKG:-$meta}
	kdir=$CACHE/kernel-$key
	IMAGE=$kdir/Image
	[ "${HWBP_EMU_REFRESH:-0}" != 1 ] || rm -rf "$kdir"
	if [ ! -s "$IMAGE" ]; then
		apt_arm64_update
		pkg=${HWBP_EMU_KPKG:-}
		if [ -z "$pkg" ]; then
			# The ABI name changes with each update: ask the meta package.
			pkg=$(apt_arm64 apt-cache depends "$meta" 2>/dev/null |
				awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
			[ -n "$pkg" ] || die "cannot resolve $meta in the arm64 index"
		fi
		say "downloading $pkg"
		tmp=$(mktemp -d "$CACHE/dl.XXXXXX")
		(cd "$tmp" && apt_arm64 apt-get download "$pkg") >>"$CACHE/apt-arm64.log" 2>&1 ||
			{ rm -rf "$tmp"; tail -n 20 "$CACHE/apt-arm64.log" >&2; die "cannot download $pkg"; }
		dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp" ./boot ||
			{ rm -rf "$tmp"; die "cannot unpack $pkg"; }
		vmlinuz=$(find "$tmp/boot" -name 'vmlinuz-*' | head -n 1)
		[ -n "$vmlinuz" ] || { rm -rf "$tmp"; die "$pkg has no /boot/vmlinuz-*"; }
		mkdir -p "$kdir"
		cp "$tmp"/boot/config-* "$kdir/config"
		# arm64 vmlinuz is a raw Image, gzip-compressed in some releases.
		if gzip -t "$vmlinuz" 2>/dev/null; then
			gzip -dc "$vmlinuz" >"$IMAGE.new"
		else
			cp "$vmlinuz" "$IMAGE.new"
		fi
		basename "$vmlinuz" | sed 's/^vmlinuz-//' >"$kdir/release"
		mv "$IMAGE.new" "$IMAGE"
		rm -rf "$tmp"
	fi
	KNAME=linux-$(cat "$kdir/release")
}

# ------------------------------------------------------------------ vminit
vminit()
{
	local sum

	[ -r "$SELF_DIR/vminit.c" ] || die "$SELF_DIR/vminit.c is missing"
	sum=$(sha256sum "$SELF_DIR/vminit.c" | cut -c1-16)
	VMINIT=$CACHE/vminit-$sum
	[ -x "$VMINIT" ] && return
	say "building vminit"
	"$XCC" -static -O2 -Wall -Wextra -o "$VMINIT.new" "$SELF_DIR/vminit.c" ||
		die "cannot build vminit.c"
	mv "$VMINIT.new" "$VMINIT"
}

setup()
{
	exec 9>"$CACHE/.lock"
	flock 9		# one setup at a time per cache; runs go on in parallel
	host_packages
	kernel
	vminit
	exec 9>&-
}

if [ "$MODE" = setup ]; then
	setup
	say "ready: $KNAME ($IMAGE), $VMINIT"
	exit 0
fi

# ------------------------------------------------------------ the test list
BUILD=$1
shift
[ -d "$BUILD" ] || die "$BUILD: no such build directory"
BUILD=$(cd "$BUILD" && pwd)
LOG=${HWBP_EMU_LOG:-$BUILD/emu-$TAG.log}

# Print "yes" if $1 is an aarch64 ELF executable, else what it is.
elf_aarch64()
{
	local h

	h=$(od -An -tx1 -N20 "$1" 2>/dev/null | tr -d ' \n')
	case "$h" in
	7f454c4602*b700) echo yes ;;
	7f454c46*) echo "an ELF file for another machine" ;;
	*) echo "not an ELF file" ;;
	esac
}

PROGS=()
if [ $# -gt 0 ]; then
	for t in "$@"; do
		[ -f "$BUILD/tests/hw/$t" ] || die "$BUILD/tests/hw/$t: no such test"
		PROGS+=("$BUILD/tests/hw/$t")
	done
elif [ -d "$BUILD/tests/hw" ]; then
	for f in "$BUILD"/tests/hw/*; do
		case "$f" in *.*) continue ;; esac
		[ -f "$f" ] && [ -x "$f" ] && PROGS+=("$f")
	done
fi
HWBP_BIN=""
[ -x "$BUILD/hwbp" ] && HWBP_BIN=$BUILD/hwbp
[ ${#PROGS[@]} -gt 0 ] || [ -n "$HWBP_BIN" ] ||
	die "$BUILD has neither tests/hw/* programs nor hwbp"

setup

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hwbp-arm64-lane.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ROOT=$WORK/root
mkdir -p "$ROOT/hwbp/tests/hw"
cp "$VMINIT" "$ROOT/init"
NONCE=HWBP$(od -An -tx1 -N6 /dev/urandom | tr -d ' \n')
echo "$NONCE" >"$ROOT/hwbp/nonce"
: >"$WORK/kinds"
: >"$ROOT/hwbp/list"
HOSTRES=()	# host-side results: "not ok<TAB>why" or "ok<TAB>why # SKIP ..."
DYNAMIC=0

add_prog()	# NAME KIND PATH [ARG...]
{
	local name=$1 kind=$2

	shift 2
	printf '%s\t%s\n' "$name" "$kind" >>"$WORK/kinds"
	(IFS=$'\t'; printf '%s\t%s\t%s\n' "$name" "$TEST_TIMEOUT" "$*") >>"$ROOT/hwbp/list"
}

is_dynamic()
{
	aarch64-linux-gnu-readelf -l "$1" 2>/dev/null | grep -q 'program interpreter'
}

for f in "${PROGS[@]}"; do
	name=$(basename "$f")
	what=$(elf_aarch64 "$f")
	if [ "$what" != yes ]; then
		HOSTRES+=("not ok	$name: $what, not an aarch64 program")
		continue
	fi
	is_dynamic "$f" && DYNAMIC=1
	cp "$f" "$ROOT/hwbp/tests/hw/$name"
	add_prog "$name" tap "/hwbp/tests/hw/$name"
done
if [ -n "$HWBP_BIN" ]; then
	what=$(elf_aarch64 "$HWBP_BIN")
	if [ "$what" != yes ]; then
		HOSTRES+=("not ok	hwbp info: hwbp is $what, not an aarch64 program")
	else
		is_dynamic "$HWBP_BIN" && DYNAMIC=1
		cp "$HWBP_BIN" "$ROOT/hwbp/hwbp"
		add_prog "hwbp info" cmd /hwbp/hwbp info
		add_prog "hwbp info --json" json /hwbp/hwbp info --json
	fi
else
	HOSTRES+=("ok	hwbp info # SKIP no hwbp in $BUILD")
fi
if [ -d "$BUILD/tests/targets" ]; then
	mkdir -p "$ROOT/hwbp/tests/targets"
	find "$BUILD/tests/targets" -maxdepth 1 -type f -perm -u+x -exec cp {} "$ROOT/hwbp/tests/targets/" \;
fi
if [ "$DYNAMIC" = 1 ]; then
	say "dynamically linked programs: adding the cross C library"
	mkdir -p "$ROOT/lib/aarch64-linux-gnu"
	cp -a /usr/aarch64-linux-gnu/lib/*.so* "$ROOT/lib/aarch64-linux-gnu/"
	ln -s aarch64-linux-gnu/ld-linux-aarch64.so.1 "$ROOT/lib/ld-linux-aarch64.so.1"
fi
{
	[ -z "${HWBP_REQUIRE_HW+x}" ] || echo "HWBP_REQUIRE_HW=$HWBP_REQUIRE_HW"
	for kv in ${HWBP_EMU_ENV:-}; do echo "$kv"; done
} >"$ROOT/hwbp/env"
(cd "$ROOT" && find . -print0 | cpio -o -0 -H newc -R 0:0 --quiet) | gzip -1 >"$WORK/initrd.gz"

# ------------------------------------------------------------ guest to TAP
# Reads the console; knows programs only by the nonce-carrying markers, so
# boot messages and kernel noise are never taken for results.
read -r -d '' TAP_AWK <<'EOF' || true
function out(s) { print s; fflush() }
function result(ok, desc) {
	n++
	if (!ok)
		fails++
	out((ok ? "ok " : "not ok ") n " - " desc)
}
function comment(s) { out("# " s) }
function status_text(s) {
	if (s ~ /^exit=/)
		return "exited with status " substr(s, 6)
	if (s ~ /^signal=/)
		return "killed by signal " substr(s, 8)
	if (s ~ /^timeout=/)
		return "timed out after " substr(s, 9) " s"
	return "could not be run (" s ")"
}
function json_ok(file,    line, any) {
	any = 0
	close(file)
	while ((getline line < file) > 0) {
		if (line ~ /^[ \t]*$/)
			continue
		if (line !~ /^[ \t]*\{.*\}[ \t]*$/)
			return 0
		any = 1
	}
	close(file)
	if (!any)
		return 0
	return jsoncheck == "" || system(jsoncheck " " file " >/dev/null 2>&1") == 0
}
function finish_prog(status,    desc, ok) {
	if (kind == "tap") {
		if (status != "exit=0" && !(status ~ /^exit=/ && pfails > 0 && plan == nres))
			result(0, tag ": " prog ": " status_text(status))
		else if (status == "exit=0" && plan < 0)
			result(0, tag ": " prog ": no TAP plan")
		else if (status == "exit=0" && plan != nres && !(plan == 0 && nres == 0))
			result(0, tag ": " prog ": planned " plan " tests, ran " nres)
	} else {
		ok = status == "exit=0"
		desc = tag ": " prog
		if (!ok)
			desc = desc ": " status_text(status)
		else if (kind == "json" && !json_ok(jsonfile)) {
			ok = 0
			desc = desc ": output is not JSON Lines"
		}
		result(ok, desc)
	}
	prog = ""
}
function tap_line(line,    notok, rest, num, desc, dir, i, ok) {
	notok = substr(line, 1, 6) == "not ok"
	rest = substr(line, notok ? 7 : 3)
	if (rest != "" && rest !~ /^[ \t#]/)
		return 0
	sub(/^[ \t]*[0-9]*/, "", rest)
	sub(/^[ \t]*-?[ \t]*/, "", rest)
	desc = rest
	dir = ""
	i = index(rest, "#")
	if (i > 0) {
		desc = substr(rest, 1, i - 1)
		dir = substr(rest, i)
	}
	sub(/[ \t]+$/, "", desc)
	ok = !notok || toupper(dir) ~ /^# *TODO/
	if (!ok)
		pfails++
	nres++
	desc = tag ": " prog (desc != "" ? ": " desc : "")
	result(ok, desc (dir != "" ? " " dir : ""))
	return 1
}
BEGIN {
	n = fails = done = 0
	prog = ""
	while ((getline l < kindsfile) > 0) {
		split(l, f, "\t")
		kinds[f[1]] = f[2]
	}
	close(kindsfile)
	nhost = 0
	while ((getline l < hostfile) > 0)
		if (l != "")
			hostres[++nhost] = l
	close(hostfile)
	B = "@@" nonce "-"
}
{
	line = $0
	if (line ~ /watchdog: BUG: soft lockup/)
		lockup = 1
	if (index(line, B) == 1) {
		m = substr(line, length(B) + 1)
		sub(/@@.*$/, "", m)
		rest = substr(line, length(B) + length(m) + 4)	# after "@@ "
		if (m ~ /^BEGIN /) {
			if (prog != "")
				finish_prog("error=restarted")
			prog = substr(m, 7)
			kind = kinds[prog]
			plan = -1
			nres = pfails = 0
			if (kind == "json") {
				printf "" > jsonfile
				close(jsonfile)
			}
			next
		}
		if (m ~ /^END /) {
			status = m
			sub(/^.* /, "", status)
			if (prog != "")
				finish_prog(status)
			next
		}
		if (m == "KMSG") {
			gsub(/\\x0a/, "\n# kernel: ", rest)	# /dev/kmsg escapes newlines
			comment("kernel: " rest)
			next
		}
		if (m ~ /^DONE /) {
			done = 1
			next
		}
		if (m ~ /^HOST /) {
			host = substr(m, 6)
			next
		}
		if (m ~ /^ERROR /) {
			result(0, tag " lane: " substr(m, 7))
			next
		}
	}
	if (prog == "") {
		tail[++ntail % 40] = line
		next
	}
	if (kind == "tap") {
		if (line ~ /^(not )?ok/ && tap_line(line))
			next
		if (line ~ /^1\.\.[0-9]+/) {
			plan = line
			sub(/^1\.\./, "", plan)
			sub(/[^0-9].*$/, "", plan)
			plan += 0
			if (plan == 0 && line ~ /#/)
				result(1, tag ": " prog " " substr(line, index(line, "#")))
			next
		}
		if (line ~ /^Bail out!/) {
			result(0, tag ": " prog ": " line)
			next
		}
		if (line == "")
			next
		if (line ~ /^#/) {
			sub(/^#[ \t]*/, "", line)
			comment(prog ": " line)
		} else
			comment(prog "| " line)
		next
	}
	if (kind == "json")
		print line >> jsonfile
	if (line != "")
		comment(prog "| " line)
}
END {
	if (prog != "")
		result(0, tag ": " prog ": did not finish (the VM stopped)")
	if (!done) {
		why = host ~ /^qemu=124/ ? "timed out after " timeout " s" : \
		      host ~ /^qemu=/ ? "qemu exit status " substr(host, 6) : "no end marker"
		result(0, tag " lane: VM ended without a verdict (" why ")")
		for (i = ntail - 39; i <= ntail; i++)
			if (i > 0)
				print "console: " tail[i % 40] > "/dev/stderr"
	}
	for (i = 1; i <= nhost; i++) {
		split(hostres[i], f, "\t")
		result(f[1] == "ok", tag ": " f[2])
	}
	if (n == 0)
		result(0, tag " lane: no test results")
	if (lockup)
		comment("the guest kernel locked up (watchdog: soft lockup, a kernel fault, " \
			"not a test verdict)")
	out("1.." n)
	exit fails > 0
}
EOF

JSONCHECK=""
command -v python3 >/dev/null &&
	JSONCHECK="python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1]) if l.strip()]'"
printf '%s\n' ${HOSTRES[@]+"${HOSTRES[@]}"} >"$WORK/host"

say "booting $KNAME, -cpu $CPU -smp $SMP -m $MEM, $(wc -l <"$ROOT/hwbp/list") programs"
echo "# $TAG lane: $KNAME, qemu-system-aarch64 -M virt -cpu $CPU -smp $SMP -m $MEM"
REPORTED=1
start=$SECONDS
set +e
{
	timeout -k 10 "$TIMEOUT" qemu-system-aarch64 -M virt -cpu "$CPU" -smp "$SMP" -m "$MEM" \
		-nic none -display none -serial stdio -monitor none -no-reboot \
		-kernel "$IMAGE" -initrd "$WORK/initrd.gz" \
		-append "console=ttyAMA0 panic=-1 softlockup_panic=1 quiet ${HWBP_EMU_APPEND:-}" </dev/null 2>&1
	echo "@@$NONCE-HOST qemu=$?@@"
} | tr -d '\r' | tee "$LOG" |
	awk -v nonce="$NONCE" -v tag="$TAG" -v timeout="$TIMEOUT" -v kindsfile="$WORK/kinds" \
		-v hostfile="$WORK/host" -v jsonfile="$WORK/json.out" -v jsoncheck="$JSONCHECK" \
		"$TAP_AWK"
rc=${PIPESTATUS[3]}
set -e
say "VM run took $((SECONDS - start)) s, console log in $LOG"
exit "$rc"

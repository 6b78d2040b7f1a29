# apt.bash - sourced by tests/emu/x86-lane.sh, arm64-lane.sh and
# loong64-sysroot.sh: their cache directory, the host packages they need, and apt for a foreign architecture with a
# private state, so that the host's dpkg database and architecture list
# stay as they are. The caller defines say() and die().

# emu_usage STATUS: the lane script's header comment as its help, then exit.
emu_usage()
{
	sed -n '4,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
	exit "$1"
}

# emu_mode ARG: MODE=setup for --setup, the help for -h/--help, a usage
# error (2) for no argument or another option; else MODE stays (run).
emu_mode()
{
	# shellcheck disable=SC2034 # MODE is the calling lane's
	case "$1" in
	--setup) MODE=setup ;;
	-h | --help) emu_usage 0 ;;
	"" | -*) MODE=usage; emu_usage 2 >&2 ;;
	esac
}

# emu_cache: CACHE, the cache every lane shares: HWBP_EMU_CACHE, else
# /var/cache/hwbp-emu, or ~/.cache/hwbp-emu where that is not writable.
emu_cache()
{
	CACHE=${HWBP_EMU_CACHE:-/var/cache/hwbp-emu}
	if ! mkdir -p "$CACHE" 2>/dev/null || [ ! -w "$CACHE" ]; then
		[ -z "${HWBP_EMU_CACHE:-}" ] || die "cache dir $CACHE is not writable"
		CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/hwbp-emu
		mkdir -p "$CACHE" || die "cannot create $CACHE"
	fi
}

# emu_install_missing LOG PKG...: apt-get install PKG... on the host (none:
# nothing to do); HWBP_EMU_NO_APT=1 refuses instead.
emu_install_missing()
{
	local log=$1
	shift
	[ $# -eq 0 ] && return 0
	[ "${HWBP_EMU_NO_APT:-0}" != 1 ] || die "missing host packages: $*"
	say "installing $*"
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get update -q && apt-get install -y -q --no-install-recommends "$@"; } >"$log" 2>&1 ||
		{ tail -n 20 "$log" >&2; die "apt-get install $* failed"; }
}

# emu_apt ARCH TOOL ARG...: apt-get or apt-cache for ARCH with the state,
# cache and sources under $APT_DIR.
emu_apt()
{
	local arch=$1 tool=$2
	shift 2
	"$tool" -q -o APT::Architecture="$arch" -o APT::Architectures::="$arch" \
		-o Dir::State="$APT_DIR/state" -o Dir::State::status="$APT_DIR/state/status" \
		-o Dir::Cache="$APT_DIR/cache" -o Dir::Etc::SourceList="$APT_DIR/sources.list" \
		-o Dir::Etc::SourceParts="$APT_DIR/none" -o Dir::Etc::Preferences="$APT_DIR/none/x" \
		-o Dir::Etc::PreferencesParts="$APT_DIR/none" -o Acquire::Languages=none \
		-o APT::Sandbox::User=root "$@"
}

# emu_debian_mirrors: print the host's Debian mirror and security mirror
# URIs ("MAIN SECURITY"); fail without a Debian mirror.
emu_debian_mirrors()
{
	local uris u main="" sec=""

	uris=$({
		grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{ for (i = 2; i <= NF; i++) print $i }'
		grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
			awk '{ for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; break } }'
	} | sort -u) || true
	for u in $uris; do
		u=${u%/}
		case "$u" in
		*/debian-security) sec=$u ;;
		*/debian) main=$u ;;
		esac
	done
	[ -n "$main" ] || return 1
	echo "$main ${sec:-${main%/debian}/debian-security}"
}

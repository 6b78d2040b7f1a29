// SPDX-License-Identifier: MIT
/*
 * probe.c - what this machine and user can do (hwbp info)
 *
 * Everything here is found by trying it: slot counts come from the kernel
 * (perf events opened until ENOSPC, or the regsets' dbg_info), and each
 * backend arms a real watchpoint in a throwaway child. The probes are the
 * backends' own (lib/backend/probe_perf.c, probe_ptrace.c, through
 * hwbp_sys); this file asks them, caches the verdicts and fills the info.
 *
 * hwbp_host_debug_check() asks the question every count of 0 depends on:
 * does this machine deliver debug exceptions at all? Some hypervisors never
 * deliver a debug-register #DB (DESIGN.md, "Facts already checked"), and
 * there every watch counts nothing. It shares the probes of hwbp info: the
 * ptrace probe as it is, the perf probe's attribute and verdict, written
 * by the calling thread instead of a child.
 */
#include "api.h"
#include "planner.h"
#include "probe.h"
#include "sys.h"

#include <hwbp/hwbp.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/probe.h"

static int read_int_file(const char *path, int dflt)
{
	FILE *f = fopen(path, "r");
	int v = dflt;

	if (!f)
		return dflt;
	if (fscanf(f, "%d", &v) != 1)
		v = dflt;
	fclose(f);
	return v;
}

static uint64_t cap_effective(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long caps = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return caps;
}

/* --- does this machine deliver debug exceptions? ------------------------ */

static void check_set(struct hwbp_debug_check *out, enum hwbp_debug_verdict v,
		      enum hwbp_backend_kind via, int err)
{
	out->delivered = v;
	out->via = via;
	out->err = err;
}

/*
 * perf: a counting breakpoint on a word of the calling thread (pid 0,
 * any CPU), written PROBE_WRITES times. A count of some but not all is
 * what a machine that loses one #DB in millions shows now and then
 * (tests/lostdb.h): one more try tells it from one that loses them all.
 */
static void check_perf(struct hwbp_debug_check *out)
{
	uint64_t count = 0;

	for (int attempt = 0; attempt < 2; attempt++) {
		int err = hwbp_perf_probe_self(&count);

		if (err) {
			check_set(out, HWBP_DEBUG_UNKNOWN, HWBP_BACKEND_AUTO, err);
			snprintf(out->reason, sizeof(out->reason), "perf_event_open: %s",
				 strerror(-err));
			return;
		}
		if (count == 0 || count == HWBP_PROBE_WRITES)
			break;
	}
	check_set(out, count == HWBP_PROBE_WRITES ? HWBP_DEBUG_DELIVERED : HWBP_DEBUG_NOT_DELIVERED,
		  HWBP_BACKEND_PERF, count == HWBP_PROBE_WRITES ? 0 : -EIO);
	hwbp_perf_count_reason(out->reason, sizeof(out->reason), count);
}

/* ptrace: hwbp info's probe, in a child of its own. */
static void check_ptrace(struct hwbp_debug_check *out)
{
	struct hwbp_host_info hi;

	memset(&hi, 0, sizeof(hi));
	hi.sz = sizeof(hi);
	hwbp_ptrace_probe(&hi);
	if (hi.ptrace.usable) {
		check_set(out, HWBP_DEBUG_DELIVERED, HWBP_BACKEND_PTRACE, 0);
		snprintf(out->reason, sizeof(out->reason), "%s", HWBP_PTRACE_PROBE_TRAPPED);
	} else if (hi.ptrace.err == -EIO) {
		check_set(out, HWBP_DEBUG_NOT_DELIVERED, HWBP_BACKEND_PTRACE, -EIO);
		snprintf(out->reason, sizeof(out->reason), "%s", hi.ptrace.reason);
	} else {
		check_set(out, HWBP_DEBUG_UNKNOWN, HWBP_BACKEND_AUTO, hi.ptrace.err);
		snprintf(out->reason, sizeof(out->reason), "ptrace: %.240s", hi.ptrace.reason);
	}
}

/* Each check once per process (hwbp.h); AUTO is made of the two. */
static struct hwbp_debug_check db_perf, db_ptrace;
static pthread_once_t db_perf_once = PTHREAD_ONCE_INIT, db_ptrace_once = PTHREAD_ONCE_INIT;

static void db_perf_init(void)
{
	check_perf(&db_perf);
}

static void db_ptrace_init(void)
{
	check_ptrace(&db_ptrace);
}

static void debug_check(enum hwbp_backend_kind backend, struct hwbp_debug_check *out, bool cached)
{
	struct hwbp_debug_check pt;

	if (backend != HWBP_BACKEND_PTRACE) {
		if (cached) {
			pthread_once(&db_perf_once, db_perf_init);
			*out = db_perf;
		} else {
			check_perf(out);
		}
		if (backend == HWBP_BACKEND_PERF || out->delivered != HWBP_DEBUG_UNKNOWN)
			return;
	}
	if (cached) {
		pthread_once(&db_ptrace_once, db_ptrace_init);
		pt = db_ptrace;
	} else {
		check_ptrace(&pt);
	}
	if (backend == HWBP_BACKEND_AUTO && pt.delivered == HWBP_DEBUG_UNKNOWN) {
		/* Neither could arm its probe: say why for both. */
		char perf[120];

		snprintf(perf, sizeof(perf), "%.119s", out->reason);
		snprintf(out->reason, sizeof(out->reason), "%s; %.120s", perf, pt.reason);
		return;
	}
	*out = pt;
}

/* See probe.h. */
int hwbp_probe_debug_check(enum hwbp_backend_kind backend, struct hwbp_debug_check *out)
{
	if (!out || (backend != HWBP_BACKEND_AUTO && backend != HWBP_BACKEND_PERF &&
		     backend != HWBP_BACKEND_PTRACE))
		return -EINVAL;
	debug_check(backend, out, false);
	return 0;
}

/* See hwbp.h. */
HWBP_API int hwbp_host_debug_check(enum hwbp_backend_kind backend, struct hwbp_debug_check *out)
{
	if (!out || (backend != HWBP_BACKEND_AUTO && backend != HWBP_BACKEND_PERF &&
		     backend != HWBP_BACKEND_PTRACE))
		return -EINVAL;
	debug_check(backend, out, true);
	return 0;
}

/* --- hwbp info ------------------------------------------------------------ */

/* The struct as libhwbp 0.1 had it: everything before @debug. */
#define HOST_INFO_SZ_0_1 offsetof(struct hwbp_host_info, debug)

/* See hwbp.h. */
HWBP_API int hwbp_host_probe(struct hwbp_host_info *out)
{
	struct hwbp_host_info hi;
	uint64_t caps;

	if (!out || out->sz < HOST_INFO_SZ_0_1)
		return -EINVAL;
	memset(&hi, 0, sizeof(hi));
	hi.sz = out->sz;
	hi.arch = hwbp_arch_host();
	hi.nwatch = hi.nbreak = -1;
	hi.shared_slots = hwbp_planner_shared(hi.arch);
	hi.perf_event_paranoid = read_int_file("/proc/sys/kernel/perf_event_paranoid", -100);
	hi.ptrace_scope = read_int_file("/proc/sys/kernel/yama/ptrace_scope", -1);
	caps = cap_effective();
	hi.root = geteuid() == 0;
	hi.cap_sys_ptrace = caps >> 19 & 1;
	hi.cap_sys_admin = caps >> 21 & 1;
	hi.cap_perfmon = caps >> 38 & 1;

	hwbp_perf_probe(&hi);
	hwbp_ptrace_probe(&hi);

	if (hi.nwatch < 0 && hi.perf.usable) {
		hi.nwatch = hwbp_perf_count_slots(HWBP_WRITE);
		hi.nbreak = hi.shared_slots ? hi.nwatch : hwbp_perf_count_slots(HWBP_EXEC);
		if (hi.nwatch >= 0)
			hi.slots_from = "perf";
	}
	if (hi.nwatch < 0 && hi.arch == HWBP_ARCH_X86_64) {
		/* DR0-DR3: the architecture has exactly four (SDM 17.2). */
		hi.nwatch = hi.nbreak = 4;
		hi.slots_from = "architecture";
	}
	if (!hi.slots_from)
		hi.slots_from = "unknown";
	debug_check(HWBP_BACKEND_AUTO, &hi.debug, true);
	memcpy(out, &hi, hi.sz < sizeof(hi) ? hi.sz : sizeof(hi));
	return 0;
}

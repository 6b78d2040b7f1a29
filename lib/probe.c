// SPDX-License-Identifier: MIT
/*
 * probe.c - what this machine and user can do (hwbp info)
 *
 * Everything here is found by trying it: slot counts come from the kernel
 * (perf events opened until ENOSPC, or the regsets' dbg_info), and each
 * backend arms a real watchpoint in a throwaway child.
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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>

#include "backend/probe.h"

#define PROBE_WRITES 3


/* Written by the calling thread under hwbp_host_debug_check()'s breakpoint. */
static volatile uint64_t probe_word;

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

/* A descriptor, or a negative errno. */
static int perf_open(struct perf_event_attr *attr, pid_t pid)
{
	return hwbp_sys.perf_event_open(attr, pid, -1, -1, 0);
}

static void bp_attr(struct perf_event_attr *a, uint64_t addr, uint64_t len, unsigned int type)
{
	memset(a, 0, sizeof(*a));
	a->type = PERF_TYPE_BREAKPOINT;
	a->size = sizeof(*a);
	a->bp_type = type;
	a->bp_addr = addr;
	a->bp_len = len;
	a->sample_period = 1;
	a->exclude_kernel = 1;
	a->exclude_hv = 1;
}

static void perf_why(struct hwbp_backend_status *st, int err, int paranoid)
{
	char what[80];

	snprintf(what, sizeof(what), "perf_event_open: %s", strerror(-err));
	if (err == -EACCES || err == -EPERM) {
		snprintf(st->why, sizeof(st->why),
			 "%s (perf_event_paranoid is %d; run as root, grant CAP_PERFMON, "
			 "or use --backend ptrace)", what, paranoid);
		st->usable = false;
		st->err = err;
	} else if (err == -ENOENT || err == -EOPNOTSUPP) {
		hwbp_probe_why(st, err, "%s (this kernel or CPU has no breakpoint PMU)", what);
	} else if (err == -ENOSPC) {
		hwbp_probe_why(st, err, "%s (every debug register is taken)", what);
	} else {
		hwbp_probe_why(st, err, "%s", what);
	}
}

/* What a counting breakpoint that saw COUNT of PROBE_WRITES writes says:
 * the reason of both perf probes. */
static void count_reason(char *buf, size_t len, uint64_t count)
{
	snprintf(buf, len, "a perf counting breakpoint counted %llu of %d writes to a watched word",
		 (unsigned long long)count, PROBE_WRITES);
}

/* perf: a child stops itself, we open a W watch on its variable, let it
 * write PROBE_WRITES times, and read the count. */
static void probe_perf(struct hwbp_host_info *hi)
{
	struct hwbp_backend_status *st = &hi->perf;
	struct perf_event_attr a;
	uint64_t count = 0;
	int status, err, fd;
	pid_t pid;

	pid = fork();
	if (pid < 0) {
		hwbp_probe_why(st, -errno, "fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		raise(SIGSTOP);
		for (int i = 0; i < PROBE_WRITES; i++)
			hwbp_probe_target = (uint64_t)i + 1;
		_exit(0);
	}
	err = hwbp_probe_wait(pid, &status, WUNTRACED);
	if (err || !WIFSTOPPED(status)) {
		hwbp_probe_reap(pid);
		hwbp_probe_why(st, err ? err : -ECHILD, "probe child did not stop%s", "");
		return;
	}
	bp_attr(&a, (uint64_t)(uintptr_t)&hwbp_probe_target, 8, HW_BREAKPOINT_W);
	fd = perf_open(&a, pid);
	if (fd < 0) {
		hwbp_probe_reap(pid);
		perf_why(st, fd, hi->perf_event_paranoid);
		return;
	}
	kill(pid, SIGCONT);
	err = hwbp_probe_wait(pid, &status, 0);
	if (err) {
		hwbp_probe_reap(pid);
		hwbp_sys.close(fd);
		hwbp_probe_why(st, err, "probe child did not finish%s", "");
		return;
	}
	if (hwbp_sys.read(fd, &count, sizeof(count)) != (ssize_t)sizeof(count))
		count = 0;
	hwbp_sys.close(fd);
	if (count != PROBE_WRITES) {
		st->usable = false;
		st->err = -EIO;
		count_reason(st->why, sizeof(st->why), count);
		return;
	}
	st->usable = true;
	st->err = 0;
	st->why[0] = '\0';
}

/* Slot counts by perf: open events on ourselves until the kernel says
 * ENOSPC (x86-64: 4, shared by both kinds). Returns -1 if perf refuses. */
static int count_perf_slots(unsigned int type)
{
	int fds[HWBP_SLOTS_MAX + 1];
	struct perf_event_attr a;
	int n = 0, result, last = 0;
	uint64_t addr = (uint64_t)(uintptr_t)&hwbp_probe_target;

	if (type == HW_BREAKPOINT_X)
		addr = (uint64_t)(uintptr_t)&count_perf_slots;
	for (; n <= HWBP_SLOTS_MAX; n++) {
		bp_attr(&a, addr, type == HW_BREAKPOINT_X ? sizeof(long) : 8, type);
		a.disabled = 1;
		fds[n] = perf_open(&a, 0);
		if (fds[n] < 0) {
			last = fds[n];
			break;
		}
	}
	result = (n <= HWBP_SLOTS_MAX && last == -ENOSPC) ? n : -1;
	while (n-- > 0)
		hwbp_sys.close(fds[n]);
	return result;
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
 * perf: a counting breakpoint on probe_word in the calling thread (pid 0,
 * any CPU), written PROBE_WRITES times. A count of some but not all is
 * what a machine that loses one #DB in millions shows now and then
 * (tests/lostdb.h): one more try tells it from one that loses them all.
 */
static void check_perf(struct hwbp_debug_check *out)
{
	struct perf_event_attr a;
	uint64_t count = 0;
	int fd;

	for (int attempt = 0; attempt < 2; attempt++) {
		bp_attr(&a, (uint64_t)(uintptr_t)&probe_word, 8, HW_BREAKPOINT_W);
		a.sample_period = 0;	/* a counter: nothing to sample */
		fd = perf_open(&a, 0);
		if (fd < 0) {
			check_set(out, HWBP_DEBUG_UNKNOWN, HWBP_BACKEND_AUTO, fd);
			snprintf(out->reason, sizeof(out->reason), "perf_event_open: %s",
				 strerror(-fd));
			return;
		}
		/* Enabled at open: the breakpoint is in a debug register of
		 * this CPU before perf_event_open() returns, and follows the
		 * thread if it migrates. */
		for (int i = 0; i < PROBE_WRITES; i++)
			probe_word = (uint64_t)i + 1;
		if (hwbp_sys.read(fd, &count, sizeof(count)) != (ssize_t)sizeof(count))
			count = 0;
		hwbp_sys.close(fd);
		if (count == 0 || count == PROBE_WRITES)
			break;
	}
	check_set(out, count == PROBE_WRITES ? HWBP_DEBUG_DELIVERED : HWBP_DEBUG_NOT_DELIVERED,
		  HWBP_BACKEND_PERF, count == PROBE_WRITES ? 0 : -EIO);
	count_reason(out->reason, sizeof(out->reason), count);
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
		snprintf(out->reason, sizeof(out->reason), "%s", hi.ptrace.why);
	} else {
		check_set(out, HWBP_DEBUG_UNKNOWN, HWBP_BACKEND_AUTO, hi.ptrace.err);
		snprintf(out->reason, sizeof(out->reason), "ptrace: %.240s", hi.ptrace.why);
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

	probe_perf(&hi);
	hwbp_ptrace_probe(&hi);

	if (hi.nwatch < 0 && hi.perf.usable) {
		hi.nwatch = count_perf_slots(HW_BREAKPOINT_W);
		hi.nbreak = hi.shared_slots ? hi.nwatch : count_perf_slots(HW_BREAKPOINT_X);
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

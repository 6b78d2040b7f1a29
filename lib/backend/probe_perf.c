// SPDX-License-Identifier: MIT
/*
 * probe_perf.c - the perf backend's own probes, for hwbp info and
 * hwbp_host_debug_check() (lib/probe.c): a counting breakpoint on a child's
 * variable, on a word of the calling thread, and slot counts by opening
 * events until ENOSPC. Through hwbp_sys, so that a unit test can fake
 * perf_event_open's refusal or the count it reads.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hwbp/hwbp.h>

#include "backend/probe.h"
#include "sys.h"

/* Written by the calling thread under hwbp_host_debug_check()'s breakpoint. */
static volatile uint64_t probe_word;

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
		snprintf(st->reason, sizeof(st->reason),
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

/* What a counting breakpoint that saw COUNT of HWBP_PROBE_WRITES writes says:
 * the reason of both perf probes. */
void hwbp_perf_count_reason(char *buf, size_t len, uint64_t count)
{
	snprintf(buf, len, "a perf counting breakpoint counted %llu of %d writes to a watched word",
		 (unsigned long long)count, HWBP_PROBE_WRITES);
}

/* perf: a child stops itself, we open a W watch on its variable, let it
 * write HWBP_PROBE_WRITES times, and read the count. */
void hwbp_perf_probe(struct hwbp_host_info *hi)
{
	struct hwbp_backend_status *st = &hi->perf;
	struct perf_event_attr a;
	uint64_t count = 0;
	int status, err, fd;
	pid_t pid;

	pid = hwbp_probe_fork(st);
	if (pid < 0)
		return;
	if (pid == 0) {
		raise(SIGSTOP);
		for (int i = 0; i < HWBP_PROBE_WRITES; i++)
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
	if (count != HWBP_PROBE_WRITES) {
		st->usable = false;
		st->err = -EIO;
		hwbp_perf_count_reason(st->reason, sizeof(st->reason), count);
		return;
	}
	st->usable = true;
	st->err = 0;
	st->reason[0] = '\0';
}

/* Slot counts by perf: open events on ourselves until the kernel says
 * ENOSPC (x86-64: 4, shared by both kinds). Returns -1 if perf refuses. */
int hwbp_perf_count_slots(enum hwbp_access access)
{
	int fds[HWBP_SLOTS_MAX + 1];
	struct perf_event_attr a;
	int n = 0, result, last = 0;
	uint64_t addr = (uint64_t)(uintptr_t)&hwbp_probe_target;

	unsigned int type = access == HWBP_EXEC ? HW_BREAKPOINT_X : HW_BREAKPOINT_W;

	if (type == HW_BREAKPOINT_X)
		addr = (uint64_t)(uintptr_t)&hwbp_perf_count_slots;
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

/* See probe.h. */
int hwbp_perf_probe_self(uint64_t *count)
{
	struct perf_event_attr a;
	int fd;

	*count = 0;
	bp_attr(&a, (uint64_t)(uintptr_t)&probe_word, 8, HW_BREAKPOINT_W);
	a.sample_period = 0;	/* a counter: nothing to sample */
	fd = perf_open(&a, 0);
	if (fd < 0)
		return fd;
	/* Enabled at open: the breakpoint is in a debug register of this CPU
	 * before perf_event_open() returns, and follows the thread if it
	 * migrates. */
	for (int i = 0; i < HWBP_PROBE_WRITES; i++)
		probe_word = (uint64_t)i + 1;
	if (hwbp_sys.read(fd, count, sizeof(*count)) != (ssize_t)sizeof(*count))
		*count = 0;
	hwbp_sys.close(fd);
	return 0;
}

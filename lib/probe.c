// SPDX-License-Identifier: MIT
/*
 * probe.c - what this machine and user can do (hwbp info)
 *
 * Everything here is found by trying it: slot counts come from the kernel
 * (perf events opened until ENOSPC, or the regsets' dbg_info), and each
 * backend arms a real watchpoint in a throwaway child.
 */
#include "api.h"

#include <hwbp/hwbp.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <elf.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>

#include "backend/hwdebug.h"

#define PROBE_WRITES 3

/* Written by the probe children; its address is the same in parent and
 * child after fork(). */
static volatile uint64_t hwbp_probe_target;

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

static long perf_open(struct perf_event_attr *attr, pid_t pid)
{
	return syscall(SYS_perf_event_open, attr, pid, -1, -1, PERF_FLAG_FD_CLOEXEC);
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

/* Wait for PID with a deadline; 0 and *STATUS, or -ETIMEDOUT. */
static int wait_child(pid_t pid, int *status, int flags)
{
	for (int i = 0; i < 2000; i++) {
		pid_t r = waitpid(pid, status, flags | WNOHANG);

		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	return -ETIMEDOUT;
}

static void reap(pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

static void set_why(struct hwbp_backend_status *st, int err, const char *fmt, const char *arg)
{
	st->usable = false;
	st->err = err;
	snprintf(st->why, sizeof(st->why), fmt, arg);
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
		set_why(st, err, "%s (this kernel or CPU has no breakpoint PMU)", what);
	} else if (err == -ENOSPC) {
		set_why(st, err, "%s (every debug register is taken)", what);
	} else {
		set_why(st, err, "%s", what);
	}
}

/* perf: a child stops itself, we open a W watch on its variable, let it
 * write PROBE_WRITES times, and read the count. */
static void probe_perf(struct hwbp_host_info *hi)
{
	struct hwbp_backend_status *st = &hi->perf;
	struct perf_event_attr a;
	uint64_t count = 0;
	int status, err;
	long fd;
	pid_t pid;

	pid = fork();
	if (pid < 0) {
		set_why(st, -errno, "fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		raise(SIGSTOP);
		for (int i = 0; i < PROBE_WRITES; i++)
			hwbp_probe_target = (uint64_t)i + 1;
		_exit(0);
	}
	err = wait_child(pid, &status, WUNTRACED);
	if (err || !WIFSTOPPED(status)) {
		reap(pid);
		set_why(st, err ? err : -ECHILD, "probe child did not stop%s", "");
		return;
	}
	bp_attr(&a, (uint64_t)(uintptr_t)&hwbp_probe_target, 8, HW_BREAKPOINT_W);
	fd = perf_open(&a, pid);
	if (fd < 0) {
		err = -errno;
		reap(pid);
		perf_why(st, err, hi->perf_event_paranoid);
		return;
	}
	kill(pid, SIGCONT);
	err = wait_child(pid, &status, 0);
	if (err) {
		reap(pid);
		close((int)fd);
		set_why(st, err, "probe child did not finish%s", "");
		return;
	}
	if (read((int)fd, &count, sizeof(count)) != (ssize_t)sizeof(count))
		count = 0;
	close((int)fd);
	if (count != PROBE_WRITES) {
		char msg[64];

		snprintf(msg, sizeof(msg), "%llu of %d", (unsigned long long)count, PROBE_WRITES);
		set_why(st, -EIO, "a perf watchpoint counted %s writes", msg);
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
	long fds[HWBP_SLOTS_MAX + 1];
	struct perf_event_attr a;
	int n = 0, result;
	uint64_t addr = (uint64_t)(uintptr_t)&hwbp_probe_target;

	if (type == HW_BREAKPOINT_X)
		addr = (uint64_t)(uintptr_t)&count_perf_slots;
	for (; n <= HWBP_SLOTS_MAX; n++) {
		bp_attr(&a, addr, type == HW_BREAKPOINT_X ? sizeof(long) : 8, type);
		a.disabled = 1;
		fds[n] = perf_open(&a, 0);
		if (fds[n] < 0)
			break;
	}
	result = (n <= HWBP_SLOTS_MAX && errno == ENOSPC) ? n : -1;
	while (n-- > 0)
		close((int)fds[n]);
	return result;
}

#if defined(__x86_64__)
static int ptrace_arm(pid_t pid, struct hwbp_host_info *hi)
{
	struct hwbp_plan plan;
	struct hwbp_regs regs;
	uint64_t dr0 = 0, dr7 = 0;
	int err;

	err = hwbp_arch_plan(HWBP_ARCH_X86_64, (uint64_t)(uintptr_t)&hwbp_probe_target, 8,
			     HWBP_WRITE, NULL, &plan);
	if (!err) {
		hwbp_regs_init(&regs, HWBP_ARCH_X86_64);
		err = hwbp_arch_encode(&regs, plan.slots, plan.nslots);
	}
	if (err)
		return err;
	hwbp_regs_get(&regs, "dr0", &dr0);
	hwbp_regs_get(&regs, "dr7", &dr7);
	/* DR7 last: the kernel checks each address against the slot's current
	 * length (ARCH.md 1.4). */
	if (ptrace(PTRACE_POKEUSER, pid, offsetof(struct user, u_debugreg[0]), (void *)dr0) ||
	    ptrace(PTRACE_POKEUSER, pid, offsetof(struct user, u_debugreg[7]), (void *)dr7))
		return -errno;
	(void)hi;
	return 0;
}
#elif defined(__aarch64__) || defined(__loongarch64)
#if defined(__aarch64__)
#define PROBE_ARCH HWBP_ARCH_ARM64
#define PROBE_REG_ADDR "wvr0"
#define PROBE_REG_CTRL "wcr0"
#else
#define PROBE_ARCH HWBP_ARCH_LOONGARCH64
#define PROBE_REG_ADDR "db0addr"
#define PROBE_REG_CTRL "db0ctrl"
#endif
#define PROBE_NT_WATCH HWDEBUG_NT_WATCH
#define PROBE_NT_BREAK HWDEBUG_NT_BREAK

static int dbg_info(pid_t pid, int nt, struct hwdebug_state *d)
{
	struct iovec iov = { d, sizeof(*d) };

	memset(d, 0, sizeof(*d));
	if (ptrace(PTRACE_GETREGSET, pid, (void *)(long)nt, &iov))
		return -errno;
	return 0;
}

static int ptrace_arm(pid_t pid, struct hwbp_host_info *hi)
{
	struct hwdebug_state w, b;
	struct hwbp_plan plan;
	struct hwbp_regs regs;
	uint64_t addr = 0, ctrl = 0;
	struct iovec iov;
	int err;

	err = dbg_info(pid, PROBE_NT_WATCH, &w);
	if (!err)
		err = dbg_info(pid, PROBE_NT_BREAK, &b);
	if (err)
		return err;
	hi->nwatch = (int)(w.dbg_info & 0xff);
	hi->nbreak = (int)(b.dbg_info & 0xff);
#if defined(__aarch64__)
	hi->debug_arch = (w.dbg_info >> 8) & 0xff;
#endif
	hi->slots_from = "dbg_info";
	if (hi->nwatch < 1)
		return -ENOSPC;
	err = hwbp_arch_plan(PROBE_ARCH, (uint64_t)(uintptr_t)&hwbp_probe_target, 8, HWBP_WRITE,
			     NULL, &plan);
	if (!err) {
		hwbp_regs_init(&regs, PROBE_ARCH);
		err = hwbp_arch_encode(&regs, plan.slots, plan.nslots);
	}
	if (err)
		return err;
	hwbp_regs_get(&regs, PROBE_REG_ADDR, &addr);
	hwbp_regs_get(&regs, PROBE_REG_CTRL, &ctrl);
	memset(&w.regs, 0, sizeof(w.regs));
	w.regs[0].addr = addr;
	w.regs[0].ctrl = (uint32_t)ctrl;
	/* Only as many entries as the CPU has slots (ARCH.md 2.4). */
	iov.iov_base = &w;
	iov.iov_len = offsetof(struct hwdebug_state, regs) + sizeof(w.regs[0]);
	if (ptrace(PTRACE_SETREGSET, pid, (void *)(long)PROBE_NT_WATCH, &iov))
		return -errno;
	return 0;
}
#else
static int ptrace_arm(pid_t pid, struct hwbp_host_info *hi)
{
	(void)pid;
	(void)hi;
	return -EOPNOTSUPP;
}
#endif

/* ptrace: a traced child stops itself, we arm a W watch on its variable
 * through the debug registers, and wait for the SIGTRAP of its write. */
static void probe_ptrace(struct hwbp_host_info *hi)
{
	struct hwbp_backend_status *st = &hi->ptrace;
	siginfo_t si;
	int status, err;
	pid_t pid;

	pid = fork();
	if (pid < 0) {
		set_why(st, -errno, "fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
			_exit(3);
		raise(SIGSTOP);
		hwbp_probe_target = 42;
		_exit(0);
	}
	err = wait_child(pid, &status, 0);
	if (err || !WIFSTOPPED(status)) {
		reap(pid);
		if (!err && WIFEXITED(status) && WEXITSTATUS(status) == 3)
			set_why(st, -EPERM,
				"PTRACE_TRACEME refused%s (Yama ptrace_scope 3 forbids ptrace)", "");
		else
			set_why(st, err ? err : -ECHILD, "probe child did not stop%s", "");
		return;
	}
	err = ptrace_arm(pid, hi);
	if (err) {
		reap(pid);
		set_why(st, err, "cannot set a debug register: %s", strerror(-err));
		return;
	}
	if (ptrace(PTRACE_CONT, pid, NULL, NULL)) {
		err = -errno;
		reap(pid);
		set_why(st, err, "PTRACE_CONT: %s", strerror(-err));
		return;
	}
	err = wait_child(pid, &status, 0);
	if (err || !WIFSTOPPED(status) || WSTOPSIG(status) != SIGTRAP ||
	    ptrace(PTRACE_GETSIGINFO, pid, NULL, &si) || si.si_code != TRAP_HWBKPT) {
		reap(pid);
		set_why(st, -EIO, "the watched write did not trap%s", "");
		return;
	}
	/* Leave nothing armed: the child dies here. */
	reap(pid);
	st->usable = true;
	st->err = 0;
	st->why[0] = '\0';
}

/* See hwbp.h. */
HWBP_API int hwbp_host_probe(struct hwbp_host_info *out)
{
	struct hwbp_host_info hi;
	uint64_t caps;

	if (!out || out->sz < sizeof(hi))
		return -EINVAL;
	memset(&hi, 0, sizeof(hi));
	hi.sz = sizeof(hi);
	hi.arch = hwbp_arch_host();
	hi.nwatch = hi.nbreak = -1;
	hi.shared_slots = hi.arch == HWBP_ARCH_X86_64;
	hi.perf_event_paranoid = read_int_file("/proc/sys/kernel/perf_event_paranoid", -100);
	hi.ptrace_scope = read_int_file("/proc/sys/kernel/yama/ptrace_scope", -1);
	caps = cap_effective();
	hi.root = geteuid() == 0;
	hi.cap_sys_ptrace = caps >> 19 & 1;
	hi.cap_sys_admin = caps >> 21 & 1;
	hi.cap_perfmon = caps >> 38 & 1;

	probe_perf(&hi);
	probe_ptrace(&hi);

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
	*out = hi;
	return 0;
}

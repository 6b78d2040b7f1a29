// SPDX-License-Identifier: MIT
/*
 * probe_ptrace.c - the ptrace backend's own probe, for hwbp info and
 * hwbp_host_debug_check() (lib/probe.c): a traced child stops itself, a
 * write watch is armed on its variable through the debug registers, and
 * its write must stop it with SIGTRAP (TRAP_HWBKPT). A child that writes
 * and exits, or stops for anything but the watch, gives -EIO: the machine
 * did not deliver the debug exception. On arm64 and LoongArch the slot
 * counts come from the regsets' dbg_info on the way. Through hwbp_sys.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hwbp/hwbp.h>

#include "backend/hwdebug.h"
#include "backend/probe.h"
#include "sys.h"

volatile uint64_t hwbp_probe_target;

static long pt(int req, pid_t pid, uint64_t addr, void *data)
{
	return hwbp_sys.ptrace(req, pid, (void *)(uintptr_t)addr, data);
}

/* See probe.h. */
int hwbp_probe_wait(pid_t pid, int *status, int flags)
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

/* See probe.h. */
pid_t hwbp_probe_fork(struct hwbp_backend_status *st)
{
	pid_t pid = fork();

	if (pid < 0)
		hwbp_probe_why(st, -errno, "fork: %s", strerror(errno));
	return pid;
}

/* See probe.h. */
void hwbp_probe_reap(pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

/* See probe.h. */
void hwbp_probe_why(struct hwbp_backend_status *st, int err, const char *fmt, const char *arg)
{
	st->usable = false;
	st->err = err;
	snprintf(st->reason, sizeof(st->reason), fmt, arg);
}

#if defined(__x86_64__)
static int ptrace_arm(pid_t pid, struct hwbp_host_info *hi)
{
	HWBP_OPTS(hwbp_plan, plan);
	struct hwbp_regs regs;
	uint64_t dr0 = 0, dr7 = 0;
	int err;

	err = hwbp_arch_plan(HWBP_ARCH_X86_64, (uint64_t)(uintptr_t)&hwbp_probe_target, 8,
			     HWBP_WRITE, NULL, &plan);
	if (!err) {
		hwbp_regs_init(&regs, sizeof(regs), HWBP_ARCH_X86_64);
		err = hwbp_arch_encode(&regs, plan.slots, plan.nslots);
	}
	if (err)
		return err;
	hwbp_regs_get(&regs, "dr0", &dr0);
	hwbp_regs_get(&regs, "dr7", &dr7);
	/* DR7 last: the kernel checks each address against the slot's current
	 * length (ARCH.md 1.4). */
	err = (int)pt(PTRACE_POKEUSER, pid, offsetof(struct user, u_debugreg[0]), (void *)dr0);
	if (!err)
		err = (int)pt(PTRACE_POKEUSER, pid, offsetof(struct user, u_debugreg[7]),
			      (void *)dr7);
	(void)hi;
	return err;
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
	return (int)pt(PTRACE_GETREGSET, pid, (uint64_t)nt, &iov);
}

static int ptrace_arm(pid_t pid, struct hwbp_host_info *hi)
{
	struct hwdebug_state w, b;
	HWBP_OPTS(hwbp_plan, plan);
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
		hwbp_regs_init(&regs, sizeof(regs), PROBE_ARCH);
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
	return (int)pt(PTRACE_SETREGSET, pid, PROBE_NT_WATCH, &iov);
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
 * through the debug registers, and wait for the SIGTRAP of its write.
 * A child that writes and exits, or stops for anything but the watch, gives
 * -EIO: the machine did not deliver the debug exception. */
void hwbp_ptrace_probe(struct hwbp_host_info *hi)
{
	struct hwbp_backend_status *st = &hi->ptrace;
	siginfo_t si;
	int status, err;
	pid_t pid;

	pid = hwbp_probe_fork(st);
	if (pid < 0)
		return;
	if (pid == 0) {
		if (pt(PTRACE_TRACEME, 0, 0, NULL))
			_exit(3);
		raise(SIGSTOP);
		hwbp_probe_target = 42;
		_exit(0);
	}
	err = hwbp_probe_wait(pid, &status, 0);
	if (err || !WIFSTOPPED(status)) {
		hwbp_probe_reap(pid);
		if (!err && WIFEXITED(status) && WEXITSTATUS(status) == 3)
			hwbp_probe_why(st, -EPERM,
				"PTRACE_TRACEME refused%s (Yama ptrace_scope 3 forbids ptrace)", "");
		else
			hwbp_probe_why(st, err ? err : -ECHILD, "probe child did not stop%s", "");
		return;
	}
	err = ptrace_arm(pid, hi);
	if (err) {
		hwbp_probe_reap(pid);
		hwbp_probe_why(st, err, "cannot set a debug register: %s", strerror(-err));
		return;
	}
	err = (int)pt(PTRACE_CONT, pid, 0, NULL);
	if (err) {
		hwbp_probe_reap(pid);
		hwbp_probe_why(st, err, "PTRACE_CONT: %s", strerror(-err));
		return;
	}
	err = hwbp_probe_wait(pid, &status, 0);
	if (err) {
		hwbp_probe_reap(pid);
		hwbp_probe_why(st, err, "probe child neither trapped nor ended: %s", strerror(-err));
		return;
	}
	if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGTRAP ||
	    pt(PTRACE_GETSIGINFO, pid, 0, &si) || si.si_code != TRAP_HWBKPT) {
		hwbp_probe_reap(pid);
		hwbp_probe_why(st, -EIO, "%s", HWBP_PTRACE_PROBE_MISSED);
		return;
	}
	/* Leave nothing armed: the child dies here. */
	hwbp_probe_reap(pid);
	st->usable = true;
	st->err = 0;
	st->reason[0] = '\0';
}


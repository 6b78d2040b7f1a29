// SPDX-License-Identifier: MIT
/* tracee.c - the ptrace steps libhwbp's ptrace users share (tracee.h) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "backend/tracee.h"

#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>

#include <hwbp/hwbp.h>

#include "api.h"
#include "arch/swbreak.h"
#include "sys.h"

static long pt(int req, pid_t tid, uint64_t addr, void *data)
{
	return hwbp_sys.ptrace(req, tid, (void *)(uintptr_t)addr, data);
}

bool hwbp_ptrace_is_stop_sig(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

bool hwbp_ptrace_trap_queued(pid_t tid)
{
	struct __ptrace_peeksiginfo_args arg = { .off = 0, .flags = 0, .nr = 8 }; /* TID's own queue */
	siginfo_t si[8];
	long n = pt(PTRACE_PEEKSIGINFO, tid, (uint64_t)(uintptr_t)&arg, si);

	for (long i = 0; i < n && i < 8; i++)
		if (si[i].si_signo == SIGTRAP)
			return true;
	return false;
}

ssize_t hwbp_ptrace_tasks(pid_t pid, pid_t **tids, size_t *cap)
{
	for (;;) {
		ssize_t n = hwbp_sys.list_tasks(pid, *tids, *cap);
		size_t c = *cap ? *cap : 256;
		pid_t *t;

		if (n < 0 || (*tids && (size_t)n <= *cap))
			return n;
		/* More threads than room (or no room yet): list again. */
		while (c < (size_t)n)
			c *= 2;
		t = realloc(*tids, c * sizeof(*t));
		if (!t)
			return -ENOMEM;
		*tids = t;
		*cap = c;
	}
}

pid_t hwbp_ptrace_tracer(pid_t pid)
{
	char path[64], buf[2048];
	const char *p;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (hwbp_sys.read_file(path, buf, sizeof(buf)) <= 0 || !(p = strstr(buf, "TracerPid:")))
		return -1;
	return (pid_t)atoi(p + 10);
}

#if defined(__x86_64__)
int hwbp_ptrace_pc(pid_t tid, uint64_t *pc)
{
	struct user_regs_struct r;
	int err = (int)pt(PTRACE_GETREGS, tid, 0, &r);

	if (!err)
		*pc = r.rip;
	return err;
}

int hwbp_ptrace_set_pc(pid_t tid, uint64_t pc)
{
	struct user_regs_struct r;
	int err = (int)pt(PTRACE_GETREGS, tid, 0, &r);

	if (err)
		return err;
	r.rip = pc;
	return (int)pt(PTRACE_SETREGS, tid, 0, &r);
}
#elif defined(__aarch64__) || defined(__loongarch64)
/* struct user_pt_regs: arm64 x0..x30, sp, pc; LoongArch r0..r31, orig_a0,
 * csr_era (the pc), csr_badv, reserved[10] */
#if defined(__aarch64__)
#define PC_WORD 32
#else
#define PC_WORD 33
#endif
#define REGS_WORDS 48

static int regs_io(pid_t tid, uint64_t *r, size_t *len, int req)
{
	struct iovec iov = { r, *len };
	int err = (int)pt(req, tid, NT_PRSTATUS, &iov);

	if (!err)
		*len = iov.iov_len;
	return err;
}

int hwbp_ptrace_pc(pid_t tid, uint64_t *pc)
{
	uint64_t r[REGS_WORDS] = { 0 };
	size_t len = sizeof(r);
	int err = regs_io(tid, r, &len, PTRACE_GETREGSET);

	if (!err)
		*pc = r[PC_WORD];
	return err;
}

int hwbp_ptrace_set_pc(pid_t tid, uint64_t pc)
{
	uint64_t r[REGS_WORDS] = { 0 };
	size_t len = sizeof(r);
	int err = regs_io(tid, r, &len, PTRACE_GETREGSET);

	if (err)
		return err;
	r[PC_WORD] = pc;
	return regs_io(tid, r, &len, PTRACE_SETREGSET);
}
#else
int hwbp_ptrace_pc(pid_t tid, uint64_t *pc)
{
	(void)tid;
	(void)pc;
	return -EOPNOTSUPP;
}

int hwbp_ptrace_set_pc(pid_t tid, uint64_t pc)
{
	(void)tid;
	(void)pc;
	return -EOPNOTSUPP;
}
#endif

int hwbp_ptrace_trap_plant(struct hwbp_ptrace_trap *tr, pid_t tid, uint64_t addr)
{
	uint64_t word = 0, orig;
	int err;

	memset(tr, 0, sizeof(*tr));
	/* (the raw system call stores the word at DATA) */
	err = (int)pt(PTRACE_PEEKTEXT, tid, addr, &word);
	if (err)
		return err;
	orig = word;
	if (hwbp_arch_swbreak_splice(hwbp_arch_host(), &word, 0, NULL))
		return -EOPNOTSUPP;
	err = (int)pt(PTRACE_POKETEXT, tid, addr, (void *)(uintptr_t)word);
	if (err)
		return err;
	tr->addr = addr;
	tr->saved = (long)orig;
	tr->planted = true;
	return 0;
}

void hwbp_ptrace_trap_remove(struct hwbp_ptrace_trap *tr, pid_t tid)
{
	if (!tr->planted)
		return;
	pt(PTRACE_POKETEXT, tid, tr->addr, (void *)(uintptr_t)tr->saved);
	tr->planted = false;
}

bool hwbp_ptrace_trap_hit(const struct hwbp_ptrace_trap *tr, pid_t tid)
{
	uint64_t pc = 0;

	if (!tr->planted || hwbp_ptrace_pc(tid, &pc) ||
	    hwbp_arch_swbreak_addr(hwbp_arch_host(), pc) != tr->addr)
		return false;
	return !hwbp_ptrace_set_pc(tid, tr->addr);
}

/* See hwbp.h. */
HWBP_API pid_t hwbp_process_tracer(pid_t pid)
{
	return hwbp_ptrace_tracer(pid);
}

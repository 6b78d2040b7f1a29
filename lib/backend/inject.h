/* SPDX-License-Identifier: MIT */
/*
 * inject.h - a stopped tracee's registers, and a system call run inside it
 *
 * The guard backend changes page protections in the target the only way
 * Linux allows: the target itself calls mprotect(2). A stopped thread is
 * made to run one system call instruction followed by a breakpoint
 * instruction, written over its pc for the moment (every thread of the
 * process is stopped meanwhile, so no other runs them), and is then put
 * back exactly as it was, its own interrupted system call included.
 */
#ifndef HWBP_BACKEND_INJECT_H
#define HWBP_BACKEND_INJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#if defined(__x86_64__)
#include <sys/user.h>
#endif

/* A stopped thread's general registers, in the kernel's layout. */
struct hwbp_tregs {
	union {
		uint64_t w[48];
#if defined(__x86_64__)
		struct user_regs_struct u;
#endif
	};
	size_t len;		/* bytes the kernel gave (regset layouts) */
	long sysno;		/* arm64: NT_ARM_SYSTEM_CALL */
};

int hwbp_tregs_get(pid_t tid, struct hwbp_tregs *r);
int hwbp_tregs_set(pid_t tid, const struct hwbp_tregs *r);
uint64_t hwbp_tregs_pc(const struct hwbp_tregs *r);
void hwbp_tregs_set_pc(struct hwbp_tregs *r, uint64_t pc);
uint64_t hwbp_tregs_sp(const struct hwbp_tregs *r);

/* The thread pointer (x86-64 fs_base, arm64 TPIDR_EL0, LoongArch $tp), 0 if unknown. */
uint64_t hwbp_tregs_tp(pid_t tid, const struct hwbp_tregs *r);

/* System call argument I (0-5) at a system call stop; set it. */
uint64_t hwbp_tregs_arg(const struct hwbp_tregs *r, unsigned int i);
void hwbp_tregs_set_arg(struct hwbp_tregs *r, unsigned int i, uint64_t v);

/* The registers in perf's numbering (asm/perf_regs.h) into ALL (40). */
void hwbp_tregs_perf(const struct hwbp_tregs *r, uint64_t all[40]);

/*
 * hwbp_inject_syscall() - run system call NR with ARGS in the stopped
 * thread TID of a process whose every thread is stopped
 * @at_entry: TID is at a system-call-entry stop: its own call is run
 *            again after (its pc moved back to the call instruction)
 * @ret:      the call's return value (a negative errno on failure)
 * @sig:      a signal for the thread that came meanwhile, to pass on (0: none)
 *
 * Return: 0, or a negative errno if the thread could not be made to run
 * the call (it is then as it was, unless it is gone: -ESRCH).
 */
int hwbp_inject_syscall(pid_t tid, bool at_entry, long nr, const uint64_t args[6], int64_t *ret,
			int *sig);

/*
 * hwbp_inject_to_call() - run the stopped thread TID to its next system
 * call stop: the exit of the call it is in, or the entry of the next one
 * (a call interrupted inside the kernel restarts into its entry stop).
 * Signals that come meanwhile go to *SIG (the first; 0: none).
 * Return: 0 or a negative errno.
 */
int hwbp_inject_to_call(pid_t tid, int *sig);

#endif /* HWBP_BACKEND_INJECT_H */

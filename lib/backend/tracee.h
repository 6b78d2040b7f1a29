/* SPDX-License-Identifier: MIT */
/*
 * tracee.h - what every ptrace user in libhwbp does to a traced thread
 *
 * One home for the small ptrace steps the ptrace backend (ptrace.c), the
 * launcher (launch.c) and the dynamic linker follower (dl.c) share: the
 * job-control signals, a SIGTRAP still queued behind an interrupt stop,
 * the TracerPid of a process, a stopped thread's pc, and planting a
 * software breakpoint. All reach the kernel through hwbp_sys.
 */
#ifndef HWBP_BACKEND_TRACEE_H
#define HWBP_BACKEND_TRACEE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Is SIG one that stops a process (a group-stop under ptrace)? */
bool hwbp_ptrace_is_stop_sig(int sig);

/* Is a SIGTRAP queued for the stopped thread TID, not delivered yet? */
bool hwbp_ptrace_trap_queued(pid_t tid);

/*
 * hwbp_ptrace_tasks() - the thread ids of PID, in *TIDS (room for *CAP,
 * grown as needed: a process may have any number of threads; the caller
 * frees *TIDS). Return: how many, or a negative errno.
 */
ssize_t hwbp_ptrace_tasks(pid_t pid, pid_t **tids, size_t *cap);

/* The TracerPid of PID: 0 when untraced, -1 when it cannot be read. */
pid_t hwbp_ptrace_tracer(pid_t pid);

/*
 * hwbp_ptrace_pc() / hwbp_ptrace_set_pc() - the pc of the stopped thread
 * TID. Return: 0 or a negative errno (-EOPNOTSUPP on an arch this file
 * does not know).
 */
int hwbp_ptrace_pc(pid_t tid, uint64_t *pc);
int hwbp_ptrace_set_pc(pid_t tid, uint64_t pc);

/*
 * A software breakpoint planted in a traced process's code: the word that
 * holds it as it was, to put back.
 */
struct hwbp_ptrace_trap {
	uint64_t addr;
	long saved;
	bool planted;
};

/*
 * hwbp_ptrace_trap_plant() - write this arch's breakpoint instruction at
 * ADDR through the stopped thread TID. Return: 0, -EOPNOTSUPP, or a
 * negative errno from ptrace.
 */
int hwbp_ptrace_trap_plant(struct hwbp_ptrace_trap *tr, pid_t tid, uint64_t addr);

/* Put the original word back (if planted); never fails loudly. */
void hwbp_ptrace_trap_remove(struct hwbp_ptrace_trap *tr, pid_t tid);

/*
 * hwbp_ptrace_trap_hit() - did the stopped thread TID, stopped by a
 * SIGTRAP, stop on TR? If so its pc is set back to the breakpoint's
 * address (where the original instruction runs once removed).
 */
bool hwbp_ptrace_trap_hit(const struct hwbp_ptrace_trap *tr, pid_t tid);

#endif /* HWBP_BACKEND_TRACEE_H */

/* SPDX-License-Identifier: MIT */
/* launch.h - start a command stopped at its first instruction */
#ifndef HWBP_CLI_LAUNCH_H
#define HWBP_CLI_LAUNCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cli.h"

/*
 * launch_stopped() - fork and exec ARGV (PATH searched), traced, stopped
 * right after the exec before any of its instructions ran
 *
 * Return: 0 and *PIDP (the caller is its tracer and parent); -ENOENT when
 * the command is not found, another negative errno when it cannot be run.
 */
int launch_stopped(char *const argv[], pid_t *pidp);

/* The exit status hwbp takes over from a waitpid() STATUS (128+N for a signal). */
int launch_exit_status(int status);

/* Report a launch_stopped() failure for CMD; returns the exit status 126/127. */
int launch_start_error(const char *cmd, int err);

/*
 * launch_until_libs() - let a launched command (stopped, traced) run until
 * the dynamic linker calls DL_DEBUG_STATE (it has just mapped libraries,
 * before their constructors) or the program reaches ENTRY (every library
 * it links is loaded). Its own signals are passed on.
 *
 * Return: 0 stopped at DL_DEBUG_STATE, 1 stopped at ENTRY, -ESRCH if it
 * ended on the way, another negative errno (-EOPNOTSUPP on an arch without
 * software breakpoints here).
 */
int launch_until_libs(pid_t pid, uint64_t dl_debug_state, uint64_t entry);

/* launch_entry() - the program's entry point (AT_ENTRY), or 0. */
uint64_t launch_entry(pid_t pid);

/*
 * Following a launched command's dlopen() calls: a software breakpoint on
 * the dynamic linker's _dl_debug_state, which it calls once a library is
 * mapped and before its constructors run. hwbp stays the tracer of every
 * thread meanwhile (PTRACE_O_TRACECLONE), passes signals on, keeps
 * group-stops stopped (PTRACE_LISTEN), and detaches when asked.
 */
struct launch_libs {
	pid_t pid;
	uint64_t brk;			/* _dl_debug_state */
	long saved;			/* the word the trap replaced */
	bool planted;
	pid_t held;			/* thread stopped on the trap, or 0 */
};

/*
 * launch_libs_start() - plant the trap in PID (stopped, seized by the
 * caller) and set the options; the caller then lets it run with
 * PTRACE_CONT. Return: 0 or a negative errno (-EOPNOTSUPP: no software
 * breakpoint on this arch).
 */
int launch_libs_start(struct launch_libs *ll, pid_t pid, uint64_t dl_debug_state);

/*
 * launch_libs_poll() - take the ptrace events that are waiting, without
 * blocking. Return: 0 nothing to do; 1 a thread is held on the trap (a
 * library was mapped: arm, then launch_libs_step()); 2 the process ended
 * (*STATUS); 3 it called exec (the trap is gone: launch_libs_stop()).
 */
int launch_libs_poll(struct launch_libs *ll, int *status);

/* launch_libs_step() - run the held thread over the trap and on. */
void launch_libs_step(struct launch_libs *ll);

/* launch_libs_stop() - remove the trap and detach every thread. */
void launch_libs_stop(struct launch_libs *ll);

#endif /* HWBP_CLI_LAUNCH_H */

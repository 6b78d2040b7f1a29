/* SPDX-License-Identifier: MIT */
/* launch.h - start a command stopped at its first instruction */
#ifndef HWBP_CLI_LAUNCH_H
#define HWBP_CLI_LAUNCH_H

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

#endif /* HWBP_CLI_LAUNCH_H */

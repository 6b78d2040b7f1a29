/* SPDX-License-Identifier: MIT */
/* launch.h - start a command stopped at its first instruction */
#ifndef HWBP_CLI_LAUNCH_H
#define HWBP_CLI_LAUNCH_H

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

#endif /* HWBP_CLI_LAUNCH_H */

/* SPDX-License-Identifier: MIT */
/*
 * launch.h - a launched command's status, as env(1) and timeout(1) give it
 * (the launching itself is libhwbp's: hwbp_launch(), hwbp_dl_follow())
 */
#ifndef HWBP_CLI_LAUNCH_H
#define HWBP_CLI_LAUNCH_H

#include "cli.h"

/* The exit status hwbp takes over from a waitpid() STATUS (128+N for a signal). */
int launch_exit_status(int status);

/* Report a hwbp_launch() failure for CMD; returns the exit status 126/127. */
int launch_start_error(const char *cmd, int err);

#endif /* HWBP_CLI_LAUNCH_H */

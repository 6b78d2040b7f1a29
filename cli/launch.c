// SPDX-License-Identifier: MIT
/*
 * launch.c - hand a launched command's status back as env(1) and timeout(1)
 * do: its own exit status, 128+N for a signal, 126/127 when it cannot run
 */
#include "launch.h"

#include <errno.h>
#include <string.h>
#include <sys/wait.h>

/* See launch.h. */
int launch_exit_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return CLI_CMD_HWBP_FAIL;
}

/* See launch.h. */
int launch_start_error(const char *cmd, int err)
{
	if (err == -ENOENT) {
		cli_error("check the name, or give its path", "command not found: '%s'", cmd);
		return CLI_CMD_NOTFOUND;
	}
	if (err == -EACCES || err == -ENOEXEC || err == -EPERM) {
		cli_error("check that it is an executable file and that you may run it",
			  "cannot run command '%s': %s", cmd, strerror(-err));
		return CLI_CMD_NOEXEC;
	}
	cli_error(NULL, "cannot start command '%s': %s", cmd, strerror(-err));
	return CLI_CMD_NOEXEC;
}

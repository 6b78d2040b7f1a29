// SPDX-License-Identifier: MIT
/*
 * launch.c - start "-- COMMAND" stopped at its first instruction, and hand
 * its status back as env(1) and timeout(1) do
 *
 * The child asks to be traced and execs COMMAND; the kernel stops it with
 * SIGTRAP right after the exec, before any instruction of the new program
 * (or of its dynamic linker) runs. There hwbp reads where the program was
 * loaded, arms its watchpoints, and lets it go.
 */
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

/* See launch.h. */
int launch_stopped(char *const argv[], pid_t *pidp)
{
	int pfd[2], status, child_err = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		close(pfd[0]);
		close(pfd[1]);
		return err;
	}
	if (pid == 0) {
		int err;

		close(pfd[0]);
		/* hwbp's own signal dispositions are not the command's. */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL)) {
			err = errno;
			if (write(pfd[1], &err, sizeof(err)) < 0)
				_exit(CLI_CMD_HWBP_FAIL);
			_exit(CLI_CMD_HWBP_FAIL);
		}
		execvp(argv[0], argv);
		err = errno;
		/* The pipe closes on a successful exec, so the parent reads
		 * either nothing (started) or why it could not start. */
		if (write(pfd[1], &err, sizeof(err)) < 0)
			_exit(CLI_CMD_NOEXEC);
		_exit(err == ENOENT ? CLI_CMD_NOTFOUND : CLI_CMD_NOEXEC);
	}
	close(pfd[1]);
	do
		n = read(pfd[0], &child_err, sizeof(child_err));
	while (n < 0 && errno == EINTR);
	close(pfd[0]);
	if (n == (ssize_t)sizeof(child_err)) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		return child_err == ENOENT ? -ENOENT : -child_err;
	}
	/* The exec stop: SIGTRAP, delivered after the new image is mapped. */
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGTRAP) {
		if (WIFSTOPPED(status))
			kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		return -ECHILD;
	}
	*pidp = pid;
	return 0;
}

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

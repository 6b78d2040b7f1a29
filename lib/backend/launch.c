// SPDX-License-Identifier: MIT
/*
 * launch.c - start a command held at its first instruction, and run it on
 * to its libraries (hwbp_launch*(), hwbp.h)
 *
 * The child waits on a pipe until the caller has seized it (PTRACE_SEIZE
 * with PTRACE_O_TRACEEXEC), then execs; the kernel stops it right after
 * the exec, before any instruction of the new program or of its dynamic
 * linker. Seizing rather than PTRACE_TRACEME keeps group-stops visible, so
 * job control works. A second pipe, closed by a successful exec, carries
 * the exec's errno back otherwise.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hwbp/hwbp.h>

#include "api.h"
#include "backend/tracee.h"
#include "sys.h"

#define EXEC_STOP (SIGTRAP | (PTRACE_EVENT_EXEC << 8))

static long pt(int req, pid_t tid, uint64_t addr, void *data)
{
	return hwbp_sys.ptrace(req, tid, (void *)(uintptr_t)addr, data);
}

static void reap(pid_t pid, int flags)
{
	int status;

	while (hwbp_sys.waitpid(pid, &status, flags) == -EINTR)
		;
}

/* The child: wait for the go byte on GO, exec, or write errno to ERR. */
static void child_exec(char *const argv[], int go, int errfd)
{
	char c = 0;
	int err;

	/* The caller's own handlers (a tool's SIGINT) are reset by the
	 * exec; what it ignores would be kept: not the command's. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	if (read(go, &c, 1) != 1 || c != 1)
		_exit(127);
	execvp(argv[0], argv);
	err = errno;
	if (write(errfd, &err, sizeof(err)) < 0)
		_exit(126);
	_exit(err == ENOENT ? 127 : 126);
}

/* Wait for PID's exec stop; a signal that came first is kept for it. */
static int wait_exec_stop(pid_t pid)
{
	int status;

	for (;;) {
		pid_t r;

		while ((r = hwbp_sys.waitpid(pid, &status, 0)) < 0)
			if (r != -EINTR)
				return r;
		if (!WIFSTOPPED(status) || status >> 8 == EXEC_STOP)
			break;
		if (pt(PTRACE_CONT, pid, 0, (void *)(long)(status >> 16 ? 0 : WSTOPSIG(status))))
			break;
	}
	if (WIFSTOPPED(status) && status >> 8 == EXEC_STOP)
		return 0;
	if (WIFSTOPPED(status))
		hwbp_sys.kill(pid, SIGKILL);
	reap(pid, 0);
	return -ECHILD;
}

/* See hwbp.h. */
HWBP_API int hwbp_launch(char *const argv[], pid_t *pidp)
{
	int efd[2], gfd[2], child_err = 0, err;
	char go = 1;
	ssize_t n;
	pid_t pid;

	if (!argv || !argv[0] || !pidp)
		return -EINVAL;
	if (pipe2(efd, O_CLOEXEC))
		return -errno;
	if (pipe2(gfd, O_CLOEXEC)) {
		err = -errno;
		close(efd[0]);
		close(efd[1]);
		return err;
	}
	pid = fork();
	if (pid == 0)
		child_exec(argv, gfd[0], efd[1]);
	err = pid < 0 ? -errno : 0;
	close(efd[1]);
	close(gfd[0]);
	if (!err)
		err = (int)pt(PTRACE_SEIZE, pid, 0, (void *)(long)PTRACE_O_TRACEEXEC);
	if (!err && write(gfd[1], &go, 1) != 1)
		err = -errno;
	close(gfd[1]);	/* without the go byte, the child exits */
	if (err) {
		close(efd[0]);
		if (pid > 0) {
			hwbp_sys.kill(pid, SIGKILL);
			reap(pid, __WALL);
		}
		return err;
	}
	do
		n = read(efd[0], &child_err, sizeof(child_err));
	while (n < 0 && errno == EINTR);
	close(efd[0]);
	if (n == (ssize_t)sizeof(child_err)) {
		reap(pid, 0);
		return -child_err;
	}
	err = wait_exec_stop(pid);
	if (err)
		return err;
	*pidp = pid;
	return 0;
}

/* See hwbp.h. */
HWBP_API int hwbp_launch_release(pid_t pid)
{
	return (int)pt(PTRACE_DETACH, pid, 0, NULL);
}

/* See hwbp.h. */
HWBP_API int hwbp_launch_entry(pid_t pid, uint64_t *entry)
{
	char path[64];
	uint64_t av[128];	/* auxv: about 22 pairs */
	ssize_t n;

	if (!entry)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/auxv", (int)pid);
	n = hwbp_sys.read_file(path, (char *)av, sizeof(av));
	if (n < 0)
		return (int)n;
	for (size_t i = 0; i + 1 < (size_t)n / sizeof(av[0]) && av[i]; i += 2) {
		if (av[i] == 9 /* AT_ENTRY */) {
			*entry = av[i + 1];
			return 0;
		}
	}
	return -ENOENT;
}

/* Run PID on (passing its signals) until it stops on one of TRAPS. */
static int run_to_trap(pid_t pid, const struct hwbp_ptrace_trap *traps, int n, int *which)
{
	int status, sig = 0;

	for (;;) {
		long err = pt(PTRACE_CONT, pid, 0, (void *)(long)sig);
		pid_t r;

		if (err)
			return (int)err;
		while ((r = hwbp_sys.waitpid(pid, &status, 0)) == -EINTR)
			;
		if (r < 0)
			return r;
		if (!WIFSTOPPED(status))
			return -ESRCH;	/* it ended on the way */
		sig = status >> 16 ? 0 : WSTOPSIG(status);	/* an event: no signal */
		if (sig != SIGTRAP)
			continue;	/* its own signal: passed on */
		sig = 0;
		for (int i = 0; i < n; i++) {
			if (hwbp_ptrace_trap_hit(&traps[i], pid)) {
				*which = i;
				return 0;
			}
		}
	}
}

/* See hwbp.h. */
HWBP_API int hwbp_launch_run_to_libs(pid_t pid, uint64_t dl_debug_state, uint64_t entry)
{
	uint64_t at[2] = { dl_debug_state, entry };
	struct hwbp_ptrace_trap traps[2] = { 0 };
	int status, err = 0, which = -1;
	uint64_t pc = 0;

	/* Standing on one of the stops: step off it before planting. */
	err = hwbp_ptrace_pc(pid, &pc);
	if (err)
		return err;
	if ((pc == at[0] || pc == at[1]) &&
	    (pt(PTRACE_SINGLESTEP, pid, 0, NULL) || hwbp_sys.waitpid(pid, &status, 0) != pid ||
	     !WIFSTOPPED(status)))
		return -ECHILD;
	for (int i = 0; i < 2 && !err; i++)
		if (at[i] && !(i == 1 && at[1] == at[0]))
			err = hwbp_ptrace_trap_plant(&traps[i], pid, at[i]);
	if (!err)
		err = run_to_trap(pid, traps, 2, &which);
	if (err != -ESRCH)
		for (int i = 0; i < 2; i++)
			hwbp_ptrace_trap_remove(&traps[i], pid);
	if (err)
		return err;
	return which == 1 ? 1 : 0;
}

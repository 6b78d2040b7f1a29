/* SPDX-License-Identifier: MIT */
/*
 * hwchild.h - a child process for the stop-mode tests (hw_ptrace.c,
 * hw_guard.c) to watch: forked with two pipes, it waits for a byte on
 * "go" before each step of its workload and reports on "res"
 */
#ifndef HWBP_TESTS_HWCHILD_H
#define HWBP_TESTS_HWCHILD_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static inline uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int c_go = -1, c_res = -1;	/* in a child: its ends of the pipes */

/* In the child: wait for the next byte on "go" (exit 100 without one). */
static inline void go_wait(void)
{
	char c;

	if (read(c_go, &c, 1) != 1)
		_exit(100);
}

/* In the child: report N bytes at P (exit 101 if they cannot be). */
static inline void res_put(const void *p, size_t n)
{
	if (write(c_res, p, n) != (ssize_t)n)
		_exit(101);
}

struct child {
	pid_t pid;
	int go;		/* write a byte: the workload starts */
	int res;	/* what the child reports */
};

/* Fork a child that runs FN(ARG) and exits 0, killed by SIGALRM after ALARM_S. */
static inline bool child_start(struct child *ch, void (*fn)(long), long arg,
			       unsigned int alarm_s)
{
	int go[2], res[2];

	if (pipe(go))
		return false;
	if (pipe(res)) {
		close(go[0]);
		close(go[1]);
		return false;
	}
	fflush(stdout);
	ch->pid = fork();
	if (ch->pid == 0) {
		close(go[1]);
		close(res[0]);
		c_go = go[0];
		c_res = res[1];
		alarm(alarm_s);
		fn(arg);
		_exit(0);
	}
	close(go[0]);
	close(res[1]);
	ch->go = go[1];
	ch->res = res[0];
	if (ch->pid < 0) {
		close(ch->go);
		close(ch->res);
		return false;
	}
	return true;
}

/* Release N steps of the child's workload; false if it cannot be told. */
static inline bool child_go(struct child *ch, unsigned int n)
{
	while (n--)
		if (write(ch->go, "g", 1) != 1)
			return false;
	return true;
}

static inline bool child_read(struct child *ch, void *p, size_t n)
{
	return read(ch->res, p, n) == (ssize_t)n;
}

/* Close the pipes; a child the session did not reap is killed and waited. */
static inline void child_end(struct child *ch, bool reaped)
{
	close(ch->go);
	close(ch->res);
	if (!reaped) {
		kill(ch->pid, SIGKILL);
		waitpid(ch->pid, NULL, 0);
	}
}

#endif /* HWBP_TESTS_HWCHILD_H */

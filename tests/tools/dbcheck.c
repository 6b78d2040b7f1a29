// SPDX-License-Identifier: MIT
/*
 * dbcheck.c - does this machine deliver debug exceptions? (the host check
 * of tools/run-tests)
 *
 *   dbcheck         exit 0: a perf counting breakpoint counted every one of
 *                   1000 writes to a watched word, and a ptrace write watch
 *                   stopped a child at its write;
 *                   exit 1: armed, and the writes were not all counted (or
 *                   the child was not stopped): one line on stdout,
 *                   "this machine does not deliver debug exceptions: WHY";
 *                   exit 2: neither could be armed (no breakpoint PMU,
 *                   perf_event_paranoid, ptrace refused): why, on stdout
 *
 * Independent of libhwbp: the runner must not trust the code it tests to
 * decide which tests run. A machine that loses one #DB in millions now and
 * then (tests/lostdb.h) is tried once more before it is called one that
 * does not deliver.
 */
#include <errno.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lostdb.h"
#include "rawbp.h"

#define WRITES 1000

static volatile uint64_t word;

/* perf: 1 when every write counted, 0 when armed and not, -errno else;
 * WHY says what was seen. */
static int check_perf(char *why, size_t len)
{
	uint64_t count = 0;
	long fd;

	for (int attempt = 0; attempt < 2; attempt++) {
		fd = rawbp_open(&word);
		if (fd < 0) {
			int err = errno;

			snprintf(why, len, "perf_event_open(PERF_TYPE_BREAKPOINT): %s", strerror(err));
			return -err;
		}
		for (int i = 0; i < WRITES; i++)
			word = (uint64_t)i + 1;
		if (read((int)fd, &count, sizeof(count)) != (ssize_t)sizeof(count))
			count = 0;
		close((int)fd);
		if (count == WRITES)
			break;
	}
	snprintf(why, len, "a perf counting breakpoint counted %llu of %d writes",
		 (unsigned long long)count, WRITES);
	return count == WRITES;
}

#if defined(__x86_64__)
/* ptrace: a traced child stops itself, DR0/DR7 watch its word for writes,
 * and it must stop with TRAP_HWBKPT at the write. Same returns. */
static int check_ptrace(char *why, size_t len)
{
	size_t dr = offsetof(struct user, u_debugreg);
	int status, r;
	siginfo_t si;
	pid_t pid;

	pid = fork();
	if (pid < 0) {
		snprintf(why, len, "fork: %s", strerror(errno));
		return -errno;
	}
	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
			_exit(3);
		raise(SIGSTOP);
		word = 42;
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status)) {
		snprintf(why, len, "ptrace: the child did not stop for its tracer");
		r = -EPERM;
		goto out;
	}
	if (ptrace(PTRACE_POKEUSER, pid, (void *)dr, (void *)&word) ||
	    /* DR7: L0, R/W0 = 01 (writes), LEN0 = 11 (8 bytes) */
	    ptrace(PTRACE_POKEUSER, pid, (void *)(dr + 7 * sizeof(long)),
		   (void *)(uintptr_t)(1UL | 1UL << 16 | 3UL << 18))) {
		r = -errno;
		snprintf(why, len, "ptrace(PTRACE_POKEUSER, DR0/DR7): %s", strerror(errno));
		goto out;
	}
	ptrace(PTRACE_CONT, pid, NULL, NULL);
	if (waitpid(pid, &status, 0) == pid && WIFSTOPPED(status) && WSTOPSIG(status) == SIGTRAP &&
	    !ptrace(PTRACE_GETSIGINFO, pid, NULL, &si) && si.si_code == TRAP_HWBKPT) {
		snprintf(why, len, "a ptrace DR7 write watch stopped a child at its write");
		r = 1;
	} else {
		snprintf(why, len, "a ptrace DR7 write watch did not stop a child at its write");
		r = 0;
	}
out:
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return r;
}
#else
static int check_ptrace(char *why, size_t len)
{
	snprintf(why, len, "ptrace: not checked on this architecture");
	return 1;
}
#endif

int main(void)
{
	char pw[160], tw[160];
	int p, t;

	lostdb_catch();
	p = check_perf(pw, sizeof(pw));
	t = check_ptrace(tw, sizeof(tw));
	if (p == 0 || t == 0) {
		printf("this machine does not deliver debug exceptions: %s; %s\n", pw, tw);
		return 1;
	}
	if (p < 0 && t < 0) {
		printf("cannot tell whether this machine delivers debug exceptions: %s; %s\n", pw, tw);
		return 2;
	}
	printf("debug exceptions are delivered: %s; %s\n", pw, tw);
	return 0;
}

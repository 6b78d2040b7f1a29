/* SPDX-License-Identifier: MIT */
/*
 * lostdb.h - tell a debug exception the machine lost from a test failure
 *
 * Some hypervisors now and then deliver a data breakpoint's #DB with DR6
 * empty; Linux takes an empty DR6 in user mode for an icebp and sends
 * SIGTRAP with si_code TRAP_BRKPT instead of counting a hit (bench/README.md).
 * lostdb_catch() installs a SIGTRAP handler that says so on stderr and lets
 * the program run on (its counts are then one short: tools/run-tests runs a
 * failed test again when it sees the line). Any other SIGTRAP kills the
 * program as it would have without the handler. x86-64 only: there an int3
 * gives SI_KERNEL, so TRAP_BRKPT means this. Include it after the feature
 * macros that give siginfo_t (_GNU_SOURCE or _POSIX_C_SOURCE).
 */
#ifndef HWBP_TESTS_LOSTDB_H
#define HWBP_TESTS_LOSTDB_H

#include <signal.h>
#include <string.h>
#include <unistd.h>

#ifndef TRAP_BRKPT
#define TRAP_BRKPT 1	/* asm-generic/siginfo.h */
#endif

#define LOSTDB_LINE "# the machine lost a debug exception (SIGTRAP, si_code TRAP_BRKPT: DR6 empty)\n"

#if defined(__x86_64__)
static void lostdb_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (si->si_code == TRAP_BRKPT) {
		ssize_t r = write(STDERR_FILENO, LOSTDB_LINE, sizeof(LOSTDB_LINE) - 1);

		(void)r;
		return;
	}
	signal(sig, SIG_DFL);
	raise(sig);
}
#endif

static inline void lostdb_catch(void)
{
#if defined(__x86_64__)
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = lostdb_handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGTRAP, &sa, NULL);
#endif
}

#endif

// SPDX-License-Identifier: MIT
/*
 * dr6probe.c - is DR6 exact when several watchpoints match one access?
 *
 *   dr6probe --expect exact|fault   TAP: two cases; with "fault" each
 *                                   passes when the fault is seen
 *   dr6probe --reason               exit 0 and one line when DR6 is not
 *                                   exact (the reason the tests that need
 *                                   it skip); exit 1 when it is; exit 2
 *                                   when no breakpoint can be armed or
 *                                   none counts (no debug exceptions)
 *
 * A CPU sets in DR6 the hit flag of every armed debug register whose
 * condition an access meets, and Linux counts a hit on each of them
 * (arch/x86/kernel/hw_breakpoint.c). QEMU's x86 TCG stops at the first
 * armed watchpoint that matches and leaves the others' flags stale: two
 * perf breakpoints on one word written 10 times count 10 and 0; with words
 * A and B armed, writes to A then B then A count B's flag again for A's
 * later writes. The cases:
 *   1. two write watches on one word, 10 writes: want 10 and 10
 *   2. watches on words A and B, writes A x5, B x10, A x3: want 8 and 10
 */
#include <errno.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rawbp.h"

static volatile uint64_t wa, wb;

static uint64_t count(long fd)
{
	uint64_t c = 0;

	if (read((int)fd, &c, sizeof(c)) != (ssize_t)sizeof(c))
		c = 0;
	close((int)fd);
	return c;
}

/* Counts of the two cases, or -1 with errno. */
static int probe(uint64_t c[4])
{
	long f1 = rawbp_open(&wa), f2 = rawbp_open(&wa);

	if (f1 < 0 || f2 < 0)
		return -1;
	for (int i = 0; i < 10; i++)
		wa = (uint64_t)i;
	c[0] = count(f1);
	c[1] = count(f2);
	f1 = rawbp_open(&wa);
	f2 = rawbp_open(&wb);
	if (f1 < 0 || f2 < 0)
		return -1;
	for (int i = 0; i < 5; i++)
		wa = (uint64_t)i;
	for (int i = 0; i < 10; i++)
		wb = (uint64_t)i;
	for (int i = 0; i < 3; i++)
		wa = (uint64_t)i;
	c[2] = count(f1);
	c[3] = count(f2);
	return 0;
}

int main(int argc, char **argv)
{
	int reason = argc == 2 && !strcmp(argv[1], "--reason");
	int fault = argc == 3 && !strcmp(argv[1], "--expect") && !strcmp(argv[2], "fault");
	uint64_t c[4];
	char why[200];
	int exact1, exact2;

	if (!reason && !(argc == 3 && !strcmp(argv[1], "--expect") &&
			 (fault || !strcmp(argv[2], "exact")))) {
		fprintf(stderr, "usage: dr6probe --expect exact|fault | --reason\n");
		return 2;
	}
	if (probe(c)) {
		printf(reason ? "cannot probe DR6: perf_event_open: %s\n" :
				"1..0 # SKIP cannot probe DR6: perf_event_open: %s\n",
		       strerror(errno));
		return 2;
	}
	exact1 = c[0] == 10 && c[1] == 10;
	exact2 = c[2] == 8 && c[3] == 10;
	snprintf(why, sizeof(why),
		 "DR6 holds one hit flag per access: two watches on one word count %llu and %llu of 10 writes",
		 (unsigned long long)c[0], (unsigned long long)c[1]);
	if (!c[0] && !c[1] && !c[2] && !c[3]) {
		if (!reason)
			puts("1..0 # SKIP cannot probe DR6: no watch counted a write (no debug exceptions here)");
		return 2;
	}
	if (reason) {
		if (exact1 && exact2)
			return 1;
		puts(why);
		return 0;
	}
	printf("%s 1 - two write watches on one word, 10 writes: %llu and %llu, exact is 10 and 10%s\n",
	       exact1 != fault ? "ok" : "not ok", (unsigned long long)c[0],
	       (unsigned long long)c[1],
	       fault ? (exact1 ? " (DR6 is exact here: the exact-DR6 skips can go)"
			       : " (the DR6 fault, as expected)") : "");
	printf("%s 2 - watches on A and B, writes A x5, B x10, A x3: A %llu, B %llu, exact is 8 and 10%s\n",
	       exact2 != fault ? "ok" : "not ok", (unsigned long long)c[2],
	       (unsigned long long)c[3],
	       fault ? (exact2 ? " (DR6 is exact here: the exact-DR6 skips can go)"
			       : " (the DR6 fault, as expected)") : "");
	puts("1..2");
	return exact1 != fault && exact2 != fault ? 0 : 1;
}

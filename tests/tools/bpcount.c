// SPDX-License-Identifier: MIT
/*
 * bpcount.c - how many of N watched writes does a perf breakpoint count?
 *
 *   bpcount [N]     arm a counting write breakpoint (user space only) on
 *                   one of our own words, write it N times (default 100),
 *                   print "COUNT of N" and exit 0; or print the errno's
 *                   name ("EACCES", "EPERM", else the number and its
 *                   text) and exit 2 when perf refuses the breakpoint
 *
 * An independent look at what hwbp_host_debug_check() decides: a machine
 * that delivers debug exceptions counts N of N (tests/cli/hostcheck.sh
 * compares), one whose hypervisor drops them 0. It uses neither libhwbp nor
 * its headers, and more writes than the library's probe. A debug exception
 * lost with DR6 empty (tests/lostdb.h) is said on stderr, not fatal.
 */
#include <errno.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rawbp.h"

#include "../lostdb.h"

static volatile uint64_t word;

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100;
	uint64_t count = 0;
	long fd;
	int err;

	if (n < 1 || n > 100000000) {
		fprintf(stderr, "usage: bpcount [N]   (1 <= N <= 100000000)\n");
		return 2;
	}
	fd = rawbp_open(&word);
	if (fd < 0) {
		err = errno;
		if (err == EACCES)
			puts("EACCES");
		else if (err == EPERM)
			puts("EPERM");
		else
			printf("%d %s\n", err, strerror(err));
		return 2;
	}
	lostdb_catch();
	for (long i = 0; i < n; i++)
		word = (uint64_t)i;
	if (read((int)fd, &count, sizeof(count)) != (ssize_t)sizeof(count)) {
		printf("read: %s\n", strerror(errno));
		return 2;
	}
	close((int)fd);
	printf("%llu of %ld\n", (unsigned long long)count, n);
	return 0;
}

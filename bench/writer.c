// SPDX-License-Identifier: MIT
/*
 * writer.c - the workload of bench/cli: one thread writes a global 8-byte
 * variable N times in a tight loop, and nothing else
 *
 *   writer N          write `watched` N times
 *   writer N count    the same under a bare perf breakpoint in counting mode
 *                     on `watched`, opened by the program itself (the floor);
 *                     prints "count C" at the end
 *
 * Built without PIE (see the Makefile), so that `watched` has the fixed
 * address nm shows, which perf's and bpftrace's mem:ADDR events need.
 */
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

volatile uint64_t watched __attribute__((aligned(8)));

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 0;
	int count = argc > 2 && !strcmp(argv[2], "count");
	struct perf_event_attr a;
	uint64_t c = 0;
	int fd = -1;

	if (count) {
		memset(&a, 0, sizeof(a));
		a.type = PERF_TYPE_BREAKPOINT;
		a.size = sizeof(a);
		a.bp_type = HW_BREAKPOINT_W;
		a.bp_addr = (uintptr_t)&watched;
		a.bp_len = HW_BREAKPOINT_LEN_8;
		a.exclude_kernel = 1;
		a.exclude_hv = 1;
		fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
		if (fd < 0) {
			perror("writer: perf_event_open");
			return 1;
		}
	}
	for (unsigned long i = 0; i < n; i++)
		watched = i;
	if (count) {
		if (read(fd, &c, sizeof(c)) != sizeof(c)) {
			perror("writer: read");
			return 1;
		}
		printf("count %llu\n", (unsigned long long)c);
	}
	return 0;
}

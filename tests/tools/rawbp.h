/* SPDX-License-Identifier: MIT */
/*
 * rawbp.h - the one perf breakpoint the test tools arm without libhwbp: an
 * 8-byte write watch on a word of the calling thread, user space only,
 * counting from perf_event_open() on. The tools that decide what the test
 * suite trusts must not use the code it tests.
 */
#ifndef HWBP_TESTS_RAWBP_H
#define HWBP_TESTS_RAWBP_H

#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* A descriptor, or -1 with errno. */
static inline long rawbp_open(volatile uint64_t *word)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_BREAKPOINT;
	a.size = sizeof(a);
	a.bp_type = HW_BREAKPOINT_W;
	a.bp_addr = (uint64_t)(uintptr_t)word;
	a.bp_len = HW_BREAKPOINT_LEN_8;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	return syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

#endif /* HWBP_TESTS_RAWBP_H */

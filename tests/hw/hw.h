/* SPDX-License-Identifier: MIT */
/*
 * hw.h - shared helpers for the tests that arm real debug registers
 *
 * TAP output, a probe that decides whether the machine can run them (a perf
 * breakpoint on ourselves), skips that turn into failures under
 * HWBP_REQUIRE_HW=1, tests left out under valgrind, and stores that the
 * compiler cannot merge or drop.
 */
#ifndef HWBP_TESTS_HW_H
#define HWBP_TESTS_HW_H

#include <errno.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <hwbp/hwbp.h>

#include "../lostdb.h"

static int hw_n;
static int hw_failed;

static inline void hw_plan(int n, unsigned int alarm_s)
{
	printf("1..%d\n", n);
	fflush(stdout);
	alarm(alarm_s);
	lostdb_catch();
}

static inline bool hw_require(void)
{
	const char *e = getenv("HWBP_REQUIRE_HW");

	return e && !strcmp(e, "1");
}

/*
 * hw_valgrind() - does this program run under valgrind? tools/run-tests
 * sets HWBP_TEST_VALGRIND=1 in its valgrind suite. There the tests that
 * cannot work are left out of the plan (not skipped: they run natively and
 * under ASan), and long loops are cut down.
 */
static inline bool hw_valgrind(void)
{
	const char *e = getenv("HWBP_TEST_VALGRIND");

	return e && !strcmp(e, "1");
}

/* A test this run does not plan, and why: a TAP comment the runner shows. */
static inline void hw_left_out(const char *name, const char *why)
{
	printf("# not under valgrind: %s: %s\n", name, why);
	fflush(stdout);
}

/* ok N - name; returns COND */
static inline bool hw_ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++hw_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		hw_failed++;
	return cond;
}

/* A skip; "not ok" under HWBP_REQUIRE_HW=1. */
static inline void hw_skip(const char *name, const char *why)
{
	if (hw_require()) {
		printf("not ok %d - %s (skipped under HWBP_REQUIRE_HW=1: %s)\n", ++hw_n, name, why);
		hw_failed++;
	} else {
		printf("ok %d - %s # SKIP %s\n", ++hw_n, name, why);
	}
	fflush(stdout);
}

/*
 * hw_needs_exact_dr6() - skip NAME where DR6 is not exact: returns true
 * (and prints the skip) when HWBP_DR6_INEXACT is set, as the x86 lane sets
 * it from tests/tools/dr6probe (QEMU's TCG flags only the first watchpoint
 * that matches an access). For a test whose verdict needs several
 * watchpoints to match one access; the skip stands under HWBP_REQUIRE_HW=1
 * too, and tools/run-tests counts it and looks for the test's pass
 * natively or in the arm64 lane.
 */
static inline bool hw_needs_exact_dr6(const char *name)
{
	const char *why = getenv("HWBP_DR6_INEXACT");

	if (!why || !*why)
		return false;
	printf("ok %d - %s # SKIP needs exact DR6: %s\n", ++hw_n, name, why);
	fflush(stdout);
	return true;
}

static inline void hw_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static volatile uint64_t hw_probe_word;

/*
 * hw_probe() - can this process arm a perf breakpoint on itself? Reads the
 * paranoid level for the reason. Return: NULL if yes, else why not.
 */
static inline const char *hw_probe(void)
{
	struct perf_event_attr a;
	int fd, paranoid = -100;
	FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");

	if (f) {
		if (fscanf(f, "%d", &paranoid) != 1)
			paranoid = -100;
		fclose(f);
	}
	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_BREAKPOINT;
	a.size = sizeof(a);
	a.bp_type = HW_BREAKPOINT_W;
	a.bp_addr = (uintptr_t)&hw_probe_word;
	a.bp_len = 8;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
	if (fd < 0) {
		static char why[160];

		snprintf(why, sizeof(why), "no perf breakpoint here (%s, perf_event_paranoid %d)",
			 strerror(errno), paranoid);
		return why;
	}
	close(fd);
	return NULL;
}

/* Skip the N remaining tests with REASON (or fail them under REQUIRE). */
static inline void hw_skip_rest(int total, const char *reason)
{
	while (hw_n < total)
		hw_skip("hardware test", reason);
}

static inline int hw_done(void)
{
	return hw_failed ? 1 : 0;
}

/* Stores of exactly 1, 2, 4 or 8 bytes that the compiler must emit. */
static inline void hw_store(volatile void *p, unsigned int size, uint64_t v)
{
	switch (size) {
	case 1:
		*(volatile uint8_t *)p = (uint8_t)v;
		break;
	case 2:
		*(volatile uint16_t *)p = (uint16_t)v;
		break;
	case 4:
		*(volatile uint32_t *)p = (uint32_t)v;
		break;
	default:
		*(volatile uint64_t *)p = v;
		break;
	}
}

static inline uint64_t hw_load(const volatile void *p)
{
	return *(const volatile uint8_t *)p;
}

static inline pid_t hw_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

#endif /* HWBP_TESTS_HW_H */

// SPDX-License-Identifier: MIT
/*
 * test_probe.c - hwbp_host_debug_check() and hwbp_host_probe()'s size rule
 *
 * The verdict logic against a faked hwbp_sys (a perf breakpoint that counts
 * what the test says, or is refused); the real, cached check against an
 * independent perf count of the test's own, from several threads at once;
 * and hwbp_host_probe() writing no more than a caller's struct holds. Runs
 * on any machine: one that delivers debug exceptions and one that does not
 * both give a verdict, and the test checks it is the right one.
 */
#include <errno.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include <hwbp/hwbp.h>

#include "../lostdb.h"
#include "probe.h"
#include "sys.h"

/* --- a faked perf breakpoint ---------------------------------------------- */

#define FAKE_FD 1000

static struct {
	int open_err;			/* perf_event_open fails with it, if set */
	unsigned int slots;		/* if set: disabled breakpoints beyond it get ENOSPC */
	uint64_t counts[2];		/* what each open's read gives */
	unsigned int opens, reads, closes;
	struct perf_event_attr attr;	/* the last request */
	pid_t pid;
	int cpu;
} fp;

static int fake_perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd,
				unsigned long flags)
{
	(void)group_fd;
	(void)flags;
	fp.attr = *attr;
	fp.pid = pid;
	fp.cpu = cpu;
	if (fp.open_err)
		return fp.open_err;
	if (fp.slots && attr->disabled && fp.opens - fp.closes >= fp.slots)
		return -ENOSPC;
	fp.opens++;
	return FAKE_FD;
}

static ssize_t fake_read(int fd, void *buf, size_t n)
{
	if (fd != FAKE_FD)
		return hwbp_sys_real.read(fd, buf, n);
	assert_int_equal(n, sizeof(uint64_t));
	memcpy(buf, &fp.counts[fp.reads < 2 ? fp.reads : 1], sizeof(uint64_t));
	fp.reads++;
	return (ssize_t)n;
}

static int fake_close(int fd)
{
	if (fd != FAKE_FD)
		return hwbp_sys_real.close(fd);
	fp.closes++;
	return 0;
}

static int fake_setup(void **state)
{
	(void)state;
	memset(&fp, 0, sizeof(fp));
	hwbp_sys.perf_event_open = fake_perf_event_open;
	hwbp_sys.read = fake_read;
	hwbp_sys.close = fake_close;
	return 0;
}

static int fake_teardown(void **state)
{
	(void)state;
	hwbp_sys = hwbp_sys_real;
	return 0;
}

static void test_check_bad_input_leaves_out_untouched(void **state)
{
	struct hwbp_debug_check dc;

	(void)state;
	memset(&dc, 0x5a, sizeof(dc));
	assert_int_equal(hwbp_host_debug_check(HWBP_BACKEND_AUTO, NULL), -EINVAL);
	assert_int_equal(hwbp_host_debug_check((enum hwbp_backend_kind)7, &dc), -EINVAL);
	assert_int_equal(hwbp_probe_debug_check((enum hwbp_backend_kind)-1, &dc), -EINVAL);
	for (size_t i = 0; i < sizeof(dc); i++)
		assert_int_equal(((unsigned char *)&dc)[i], 0x5a);
}

static void test_check_perf_counts_every_write_delivered(void **state)
{
	struct hwbp_debug_check dc;

	(void)state;
	fp.counts[0] = 3;
	assert_int_equal(hwbp_probe_debug_check(HWBP_BACKEND_PERF, &dc), 0);
	assert_int_equal(dc.delivered, HWBP_DEBUG_DELIVERED);
	assert_int_equal(dc.via, HWBP_BACKEND_PERF);
	assert_int_equal(dc.err, 0);
	assert_string_equal(dc.reason,
			    "a perf counting breakpoint counted 3 of 3 writes to a watched word");
	/* The request: a user-space write breakpoint on 8 bytes of this
	 * process, on the calling thread, counting only. */
	assert_int_equal(fp.opens, 1);
	assert_int_equal(fp.closes, 1);
	assert_int_equal(fp.attr.type, PERF_TYPE_BREAKPOINT);
	assert_int_equal(fp.attr.bp_type, HW_BREAKPOINT_W);
	assert_int_equal(fp.attr.bp_len, HW_BREAKPOINT_LEN_8);
	assert_true(fp.attr.exclude_kernel);
	assert_int_equal(fp.attr.sample_period, 0);
	assert_false(fp.attr.disabled);
	assert_int_equal(fp.pid, 0);
	assert_int_equal(fp.cpu, -1);
}

static void test_check_perf_counts_none_not_delivered(void **state)
{
	struct hwbp_debug_check dc;

	(void)state;
	fp.counts[0] = 0;
	assert_int_equal(hwbp_probe_debug_check(HWBP_BACKEND_AUTO, &dc), 0);
	assert_int_equal(dc.delivered, HWBP_DEBUG_NOT_DELIVERED);
	assert_int_equal(dc.via, HWBP_BACKEND_PERF);
	assert_int_equal(dc.err, -EIO);
	assert_string_equal(dc.reason,
			    "a perf counting breakpoint counted 0 of 3 writes to a watched word");
	/* None at all is not tried again: no machine loses three in a row by chance. */
	assert_int_equal(fp.opens, 1);
	assert_int_equal(fp.closes, 1);
}

static void test_check_perf_one_lost_tries_again(void **state)
{
	struct hwbp_debug_check dc;

	(void)state;
	fp.counts[0] = 2;
	fp.counts[1] = 3;
	assert_int_equal(hwbp_probe_debug_check(HWBP_BACKEND_PERF, &dc), 0);
	assert_int_equal(dc.delivered, HWBP_DEBUG_DELIVERED);
	assert_int_equal(fp.opens, 2);
	assert_int_equal(fp.closes, 2);
}

static void test_check_perf_some_lost_twice_not_delivered(void **state)
{
	struct hwbp_debug_check dc;

	(void)state;
	fp.counts[0] = 1;
	fp.counts[1] = 1;
	assert_int_equal(hwbp_probe_debug_check(HWBP_BACKEND_PERF, &dc), 0);
	assert_int_equal(dc.delivered, HWBP_DEBUG_NOT_DELIVERED);
	assert_string_equal(dc.reason,
			    "a perf counting breakpoint counted 1 of 3 writes to a watched word");
	assert_int_equal(fp.opens, 2);
}

static void test_check_perf_refused_is_unknown(void **state)
{
	struct hwbp_debug_check dc;

	(void)state;
	fp.open_err = -EACCES;
	assert_int_equal(hwbp_probe_debug_check(HWBP_BACKEND_PERF, &dc), 0);
	assert_int_equal(dc.delivered, HWBP_DEBUG_UNKNOWN);
	assert_int_equal(dc.via, HWBP_BACKEND_AUTO);
	assert_int_equal(dc.err, -EACCES);
	assert_string_equal(dc.reason, "perf_event_open: Permission denied");
}

/* AUTO where perf is refused: the real ptrace probe decides, in a child. */
static void test_check_auto_falls_back_to_ptrace(void **state)
{
	struct hwbp_debug_check dc, pt;

	(void)state;
	fp.open_err = -EOPNOTSUPP;
	assert_int_equal(hwbp_probe_debug_check(HWBP_BACKEND_AUTO, &dc), 0);
	hwbp_sys = hwbp_sys_real;
	assert_int_equal(hwbp_probe_debug_check(HWBP_BACKEND_PTRACE, &pt), 0);
	if (pt.delivered == HWBP_DEBUG_UNKNOWN) {
		/* ptrace cannot arm here either: both reasons are given. */
		assert_int_equal(dc.delivered, HWBP_DEBUG_UNKNOWN);
		assert_non_null(strstr(dc.reason, "perf_event_open: "));
		assert_non_null(strstr(dc.reason, "; ptrace: "));
		return;
	}
	assert_int_equal(dc.via, HWBP_BACKEND_PTRACE);
	assert_int_equal(dc.delivered, pt.delivered);
	assert_string_equal(dc.reason, pt.reason);
	assert_string_equal(dc.reason, dc.delivered == HWBP_DEBUG_DELIVERED ?
				       "a ptrace watchpoint stopped a child at its watched write" :
				       "a ptrace watchpoint did not stop a child at its watched write");
	assert_int_equal(dc.err, dc.delivered == HWBP_DEBUG_DELIVERED ? 0 : -EIO);
}

/* --- the real check, cached ------------------------------------------------ */

static volatile uint64_t raw_word;

/* The test's own look: a raw perf counting breakpoint, 50 writes. Returns
 * the count, or -1 when perf refuses. */
static long raw_count(void)
{
	struct perf_event_attr a;
	uint64_t count = 0;
	long fd;

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_BREAKPOINT;
	a.size = sizeof(a);
	a.bp_type = HW_BREAKPOINT_W;
	a.bp_addr = (uint64_t)(uintptr_t)&raw_word;
	a.bp_len = HW_BREAKPOINT_LEN_8;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	fd = syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -1;
	for (int i = 0; i < 50; i++)
		raw_word = (uint64_t)i;
	if (read((int)fd, &count, sizeof(count)) != (ssize_t)sizeof(count))
		count = 0;
	close((int)fd);
	return (long)count;
}

#define NTHREADS 4

static pthread_barrier_t start;

struct checker {
	struct hwbp_debug_check dc;
	int ret;
};

/* No cmocka assertion here: they may fail only on the test's thread. */
static void *check_thread(void *arg)
{
	struct checker *c = arg;

	pthread_barrier_wait(&start);
	c->ret = hwbp_host_debug_check(HWBP_BACKEND_PERF, &c->dc);
	return NULL;
}

/* First in the run, so that the threads race for the first check. */
static void test_check_once_for_all_threads_and_right(void **state)
{
	struct checker c[NTHREADS];
	struct hwbp_debug_check again, *dc;
	pthread_t t[NTHREADS];
	long raw;

	(void)state;
	memset(c, 0, sizeof(c));
	dc = &c[0].dc;
	assert_int_equal(pthread_barrier_init(&start, NULL, NTHREADS), 0);
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, check_thread, &c[i]), 0);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&start);
	for (int i = 0; i < NTHREADS; i++) {
		assert_int_equal(c[i].ret, 0);
		assert_memory_equal(dc, &c[i].dc, sizeof(*dc));
	}
	assert_int_equal(hwbp_host_debug_check(HWBP_BACKEND_PERF, &again), 0);
	assert_memory_equal(dc, &again, sizeof(again));
	assert_true(dc->reason[0] != '\0');
	raw = raw_count();
	print_message("# debug exceptions: verdict %d (%s); a raw perf count: %ld of 50\n",
		      (int)dc->delivered, dc->reason, raw);
	if (raw < 0) {
		/* perf refused: the check could not arm it either. */
		assert_int_equal(dc->delivered, HWBP_DEBUG_UNKNOWN);
		return;
	}
	assert_int_equal(dc->via, HWBP_BACKEND_PERF);
	assert_int_equal(dc->delivered, raw > 0 ? HWBP_DEBUG_DELIVERED : HWBP_DEBUG_NOT_DELIVERED);
}

/* The cache is the check's result: faking perf afterwards changes nothing. */
static void test_check_cached_ignores_later_faults(void **state)
{
	struct hwbp_debug_check before, after;

	(void)state;
	assert_int_equal(hwbp_host_debug_check(HWBP_BACKEND_PERF, &before), 0);
	fake_setup(NULL);
	fp.open_err = -EACCES;
	assert_int_equal(hwbp_host_debug_check(HWBP_BACKEND_PERF, &after), 0);
	fake_teardown(NULL);
	assert_int_equal(fp.opens, 0);
	assert_memory_equal(&before, &after, sizeof(after));
}

/* --- hwbp_host_probe(): no more than out->sz bytes ------------------------- */

struct padded {
	struct hwbp_host_info hi;
	unsigned char tail[64];
};

static bool all_bytes(const void *p, size_t n, unsigned char c)
{
	for (size_t i = 0; i < n; i++)
		if (((const unsigned char *)p)[i] != c)
			return false;
	return true;
}

static void test_probe_old_struct_gets_what_it_knows(void **state)
{
	size_t old = offsetof(struct hwbp_host_info, debug);
	struct padded p;

	(void)state;
	memset(&p, 0xa5, sizeof(p));
	p.hi.sz = old;
	assert_int_equal(hwbp_host_probe(&p.hi), 0);
	assert_int_equal(p.hi.sz, old);
	assert_int_equal(p.hi.arch, hwbp_arch_host());
	assert_non_null(p.hi.slots_from);
	assert_true(p.hi.perf.usable || p.hi.perf.reason[0]);
	/* Nothing past the 0.1 struct: not @debug, not the caller's next bytes. */
	assert_true(all_bytes((char *)&p + old, sizeof(p) - old, 0xa5));
}

static void test_probe_new_struct_gets_the_verdict(void **state)
{
	struct hwbp_debug_check dc;
	struct padded p;

	(void)state;
	memset(&p, 0xa5, sizeof(p));
	p.hi.sz = sizeof(p.hi);
	assert_int_equal(hwbp_host_probe(&p.hi), 0);
	assert_int_equal(p.hi.sz, sizeof(p.hi));
	assert_int_equal(hwbp_host_debug_check(HWBP_BACKEND_AUTO, &dc), 0);
	assert_memory_equal(&p.hi.debug, &dc, sizeof(dc));
	assert_true(all_bytes(p.tail, sizeof(p.tail), 0xa5));
}

static void test_probe_newer_struct_keeps_its_size(void **state)
{
	struct padded p;

	(void)state;
	memset(&p, 0xa5, sizeof(p));
	p.hi.sz = sizeof(p);
	assert_int_equal(hwbp_host_probe(&p.hi), 0);
	assert_int_equal(p.hi.sz, sizeof(p));
	assert_true(all_bytes(p.tail, sizeof(p.tail), 0xa5));
}

static void test_probe_too_small_refused(void **state)
{
	struct padded p;

	(void)state;
	memset(&p, 0xa5, sizeof(p));
	p.hi.sz = offsetof(struct hwbp_host_info, debug) - 1;
	assert_int_equal(hwbp_host_probe(&p.hi), -EINVAL);
	assert_true(all_bytes((char *)&p + sizeof(size_t), sizeof(p) - sizeof(size_t), 0xa5));
	assert_int_equal(hwbp_host_probe(NULL), -EINVAL);
}

/*
 * x86-64 takes its slot count from the kernel: a faked perf that refuses a
 * third breakpoint must be reported as 2 slots counted by perf, not as the
 * architecture's 4. (arm64 and LoongArch read dbg_info through ptrace.)
 */
static void test_probe_reports_the_kernels_slot_count(void **state)
{
	struct hwbp_debug_check dc;
	struct padded p;

	(void)state;
	if (hwbp_arch_host() != HWBP_ARCH_X86_64) {
		skip();
		return;
	}
	/* The verdict is cached before perf is faked: it stays the real one. */
	assert_int_equal(hwbp_host_debug_check(HWBP_BACKEND_AUTO, &dc), 0);
	fake_setup(NULL);
	fp.slots = 2;
	fp.counts[0] = fp.counts[1] = 3;	/* PROBE_WRITES: perf works */
	memset(&p, 0, sizeof(p));
	p.hi.sz = sizeof(p.hi);
	assert_int_equal(hwbp_host_probe(&p.hi), 0);
	fake_teardown(NULL);
	assert_true(p.hi.perf.usable);
	assert_string_equal(p.hi.slots_from, "perf");
	assert_int_equal(p.hi.nwatch, 2);
	assert_int_equal(p.hi.nbreak, 2);
	assert_true(p.hi.shared_slots);
	assert_int_equal(fp.opens, fp.closes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_once_for_all_threads_and_right),
		cmocka_unit_test(test_check_bad_input_leaves_out_untouched),
		cmocka_unit_test_setup_teardown(test_check_perf_counts_every_write_delivered,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_check_perf_counts_none_not_delivered,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_check_perf_one_lost_tries_again, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_check_perf_some_lost_twice_not_delivered,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_check_perf_refused_is_unknown, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_check_auto_falls_back_to_ptrace, fake_setup,
						fake_teardown),
		cmocka_unit_test(test_check_cached_ignores_later_faults),
		cmocka_unit_test(test_probe_old_struct_gets_what_it_knows),
		cmocka_unit_test(test_probe_new_struct_gets_the_verdict),
		cmocka_unit_test(test_probe_newer_struct_keeps_its_size),
		cmocka_unit_test(test_probe_too_small_refused),
		cmocka_unit_test(test_probe_reports_the_kernels_slot_count),
	};

	/* A debug exception lost with DR6 empty comes as SIGTRAP: say so
	 * (tools/run-tests runs the program again) rather than die of it. */
	lostdb_catch();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

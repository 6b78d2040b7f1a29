// SPDX-License-Identifier: MIT
/*
 * hw_counts.c - exact counts on real debug registers
 *
 * For lengths 1, 2, 4 and 8 at every alignment inside an 8-byte word, and
 * for write, read/write and execute: a byte-by-byte sweep over the watched
 * range and its neighbours must give exactly one hit per byte inside (two
 * for rw: a load and a store) and none outside. Then ranges that are
 * unaligned or longer than 8 bytes, split over several slots, and a
 * range that needs more slots than the CPU has.
 */
#include "hw.h"

#include <sys/mman.h>

#define NTESTS 11

/* 64 bytes at a 64-byte boundary; the watched ranges start at byte 16. */
static volatile uint8_t area[64] __attribute__((aligned(64)));

#if defined(__x86_64__)
/* A run of 16 one-byte instructions: every byte starts an instruction. */
extern const char hw_sled[];
void hw_sled_run(void);
__asm__(".text\n"
	".globl hw_sled_run\n"
	".type hw_sled_run, @function\n"
	"hw_sled_run:\n"
	".globl hw_sled\n"
	"hw_sled:\n"
	".rept 16\n"
	"nop\n"
	".endr\n"
	"ret\n"
	".size hw_sled_run, .-hw_sled_run\n");
#endif

static int count_one(uint64_t addr, uint64_t len, enum hwbp_access acc, void (*run)(void),
		     uint64_t *hits, unsigned int *nslots)
{
	HWBP_OPTS(hwbp_session_opts, o, .target = HWBP_TARGET_THREAD);
	struct hwbp_session *s;
	struct hwbp_point *pt = NULL;
	HWBP_OPTS(hwbp_plan, pl);
	int err;

	err = hwbp_session_open(&o, &s);
	if (err)
		return err;
	err = hwbp_point_add(s, addr, len, acc, NULL, &pt);
	if (!err)
		err = hwbp_session_apply(s);
	if (!err) {
		run();
		err = hwbp_point_count(pt, hits);
		if (!err && nslots && !hwbp_point_plan(pt, &pl))
			*nslots = pl.nslots;
	}
	hwbp_session_close(s);
	return err;
}

/* Store to every byte of area[8..40) one at a time; load each too when rw. */
static bool sweep_rw;

static void sweep(void)
{
	for (unsigned int i = 8; i < 40; i++) {
		if (sweep_rw)
			(void)hw_load(&area[i]);
		hw_store(&area[i], 1, i);
	}
}

#if defined(__x86_64__)
static void sled_twice(void)
{
	hw_sled_run();
	hw_sled_run();
}
#endif

static void test_data(enum hwbp_access acc, const char *name)
{
	static const unsigned int lens[] = { 1, 2, 4, 8 };
	char bad[256] = "";
	unsigned int cases = 0;

	sweep_rw = acc == HWBP_RW;
	for (unsigned int l = 0; l < 4; l++) {
		for (unsigned int off = 0; off < 8; off++) {
			uint64_t hits = 0, want = lens[l] * (sweep_rw ? 2 : 1);
			int err = count_one((uintptr_t)&area[16 + off], lens[l], acc, sweep, &hits,
					    NULL);

			cases++;
			if (err || hits != want) {
				size_t n = strlen(bad);

				snprintf(bad + n, sizeof(bad) - n, " len%u@+%u:%s%llu", lens[l], off,
					 err ? strerror(-err) : "",
					 (unsigned long long)hits);
			}
		}
	}
	hw_ok(!bad[0], "%s: lengths 1,2,4,8 at every alignment, %u cases, each byte inside "
		"counted once%s, outside never%s%s", name, cases, sweep_rw ? " per load and store" : "",
	      bad[0] ? ": wrong:" : "", bad);
}

#if defined(__x86_64__)
static void test_exec(void)
{
	static const unsigned int lens[] = { 1, 2, 4 };
	char bad[256] = "";
	unsigned int cases = 0;

	for (unsigned int l = 0; l < 3; l++) {
		for (unsigned int off = 0; off + lens[l] <= 16 && off < 8; off++) {
			uint64_t hits = 0, want = 2 * lens[l];
			int err = count_one((uintptr_t)hw_sled + off, lens[l], HWBP_EXEC,
					    sled_twice, &hits, NULL);

			cases++;
			if (err || hits != want) {
				size_t n = strlen(bad);

				snprintf(bad + n, sizeof(bad) - n, " len%u@+%u:%s%llu", lens[l], off,
					 err ? strerror(-err) : "", (unsigned long long)hits);
			}
		}
	}
	hw_ok(!bad[0], "x: instruction ranges of 1, 2, 4 bytes at 8 offsets, %u cases, "
		"each instruction start counted per run%s%s", cases, bad[0] ? ": wrong:" : "",
	      bad);
}

static void test_exec_too_long(void)
{
	uint64_t hits = 0;
	int err = count_one((uintptr_t)hw_sled, 8, HWBP_EXEC, sled_twice, &hits, NULL);

	hw_ok(err == -ENOSPC, "x: 8 instruction starts need 8 slots: refused with ENOSPC (%d)",
	      err);
}
#else
/* CPUs with 4-byte instructions: a breakpoint on a function's first
 * instruction counts its calls. */
__attribute__((noinline, used)) void hw_fn(void)
{
	__asm__ volatile("" ::: "memory");
}

static void call_fn_7(void)
{
	for (int i = 0; i < 7; i++)
		hw_fn();
}

static void test_exec(void)
{
	uint64_t hits = 0;
	int err = count_one((uintptr_t)hw_fn, 4, HWBP_EXEC, call_fn_7, &hits, NULL);

	hw_ok(!err && hits == 7, "x: a breakpoint on a function counts its 7 calls (%llu, err %d)",
	      (unsigned long long)hits, err);
}

static void test_exec_too_long(void)
{
	uint64_t hits = 0;
	/* 4 * 17 bytes: 17 instruction starts, more than any CPU has. */
	int err = count_one((uintptr_t)hw_fn & ~(uintptr_t)3, 4 * 17, HWBP_EXEC, call_fn_7, &hits,
			    NULL);

	hw_ok(err == -ENOSPC, "x: 17 instruction starts are refused with ENOSPC (%d)", err);
}
#endif

static void test_range(uint64_t off, uint64_t len, unsigned int want_slots)
{
	uint64_t hits = 0;
	unsigned int nslots = 0;
	int err;

	HWBP_OPTS(hwbp_plan, plan);

	/* WANT_SLOTS is x86-64's count; other CPUs split differently (arm64
	 * takes any bytes inside one 8-byte word): ask the planner. */
	if (hwbp_arch_host() != HWBP_ARCH_X86_64 &&
	    !hwbp_arch_plan(hwbp_arch_host(), (uintptr_t)&area[off], len, HWBP_WRITE, NULL, &plan))
		want_slots = plan.nslots;
	sweep_rw = false;
	err = count_one((uintptr_t)&area[off], len, HWBP_WRITE, sweep, &hits, &nslots);
	hw_ok(!err && hits == len && nslots == want_slots,
	      "w: %llu bytes at offset %llu: %u slots, %llu hits of %llu bytes (err %d)",
	      (unsigned long long)len, (unsigned long long)off % 8, nslots,
	      (unsigned long long)hits, (unsigned long long)len, err);
}

static void test_wide_store(void)
{
	/* 0x..3/6 = 1@+3, 4@+4, 1@+8: each piece fires for its own bytes. */
	uint64_t hits = 0;
	int err;

	sweep_rw = false;
	err = count_one((uintptr_t)&area[19], 6, HWBP_WRITE, sweep, &hits, NULL);
	hw_ok(!err && hits == 6, "w: 0x..3/6 split 1+4+1, byte sweep counts 6 (%llu)",
	      (unsigned long long)hits);
}

int main(void)
{
	/* valgrind runs the code it translated into its own cache: the CPU
	 * never fetches from the program's addresses, so execute breakpoints
	 * never fire there (0 hits). */
	bool no_exec = hw_valgrind();
	int ntests = NTESTS - no_exec;
	const char *why;

	hw_plan(ntests, 120);
	why = hw_probe();
	if (why) {
		hw_skip_rest(ntests, why);
		return hw_done();
	}
	test_data(HWBP_WRITE, "w");
	test_data(HWBP_RW, "rw");
	if (no_exec)
		hw_left_out("x: instruction counts", "code runs from valgrind's translation "
			    "cache, never from the watched addresses, so execute breakpoints "
			    "never fire");
	else
		test_exec();
	test_exec_too_long();
	test_range(16 + 3, 13, 3);	/* 1@3 4@4 8@8 */
	test_range(16, 16, 2);		/* two 8-byte slots */
	test_range(16, 24, 3);
	test_range(16 + 1, 9, 4);	/* 1@1 2@2 4@4 2@8 */
	test_range(16 + 6, 4, 2);	/* 2@6 2@8 */
	test_wide_store();
	{
		/* A read-only request on x86 is armed read/write: the plan says so. */
		HWBP_OPTS(hwbp_session_opts, o, .target = HWBP_TARGET_THREAD);
		struct hwbp_session *s = NULL;
		struct hwbp_point *pt;
		HWBP_OPTS(hwbp_plan, pl);
		int err = hwbp_session_open(&o, &s);

		if (!err)
			err = hwbp_point_add(s, (uintptr_t)&area[16], 8, HWBP_READ, NULL, &pt);
		if (!err)
			err = hwbp_session_plan(s);
		if (!err)
			err = hwbp_point_plan(pt, &pl);
		if (hwbp_arch_host() == HWBP_ARCH_X86_64)
			hw_ok(!err && pl.access == HWBP_RW && (pl.flags & HWBP_PLAN_WIDER_ACCESS),
			      "r on x86-64 is planned as rw with HWBP_PLAN_WIDER_ACCESS");
		else
			hw_ok(!err && pl.access == HWBP_READ && !(pl.flags & HWBP_PLAN_WIDER_ACCESS),
			      "r is planned as a read-only watchpoint");
		hwbp_session_close(s);
	}
	return hw_done();
}

// SPDX-License-Identifier: MIT
/*
 * test_planner.c - the slot planner (lib/planner.c) on the pools of all
 * three architectures, on any host: sharing of identical pieces, one
 * shared pool (x86-64) against separate watch and break pools (arm64,
 * LoongArch), requests longer than any CPU counted with the others, and
 * index picking.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "planner.h"

/* Plans of REQS (addr, len, access) on ARCH, counted against POOL. */
struct req {
	uint64_t addr, len;
	enum hwbp_access access;
};

static int count(enum hwbp_arch arch, const struct req *reqs, size_t n,
		 struct hwbp_planner_pool pool, struct hwbp_planner_need *need)
{
	static struct hwbp_plan plans[16];
	const struct hwbp_plan *ptr[16];

	assert_true(n <= 16);
	for (size_t i = 0; i < n; i++) {
		int err = hwbp_planner_split(arch, reqs[i].addr, reqs[i].len, reqs[i].access,
					     &plans[i]);

		assert_true(err == 0 || err == -ENOSPC);
		ptr[i] = &plans[i];
	}
	return hwbp_planner_count(ptr, n, &pool, need);
}

static const struct hwbp_planner_pool x86_pool = { 4, 4, true };
static const struct hwbp_planner_pool arm64_pool = { 4, 6, false };
static const struct hwbp_planner_pool la_pool = { 8, 8, false };

static void test_shared_pieces_count_once(void **state)
{
	/* w 0x1000/8, w 0x1004/4, and w 0x1000/8 again: 2 slots */
	const struct req r[] = {
		{ 0x1000, 8, HWBP_WRITE }, { 0x1004, 4, HWBP_WRITE }, { 0x1000, 8, HWBP_WRITE },
	};
	struct hwbp_planner_need need;

	(void)state;
	assert_int_equal(count(HWBP_ARCH_X86_64, r, 3, x86_pool, &need), 0);
	assert_int_equal(need.need_watch, 2);
	assert_int_equal(need.need_break, 0);
	assert_int_equal(need.free_watch, 4);
	assert_true(need.shared);
	/* arm64: 0x1000/8 is one doubleword; 0x1004/4 is another slot (its
	 * byte mask differs), the third shares the first */
	assert_int_equal(count(HWBP_ARCH_ARM64, r, 3, arm64_pool, &need), 0);
	assert_int_equal(need.need_watch, 2);
}

static void test_one_pool_or_two(void **state)
{
	/* 4 data words and 4 instructions: 8 of x86's shared 4, but 4 + 4 of
	 * arm64's 4 + 6 and LoongArch's 8 + 8 */
	const struct req r[] = {
		{ 0x1000, 8, HWBP_WRITE }, { 0x1008, 8, HWBP_WRITE }, { 0x1010, 8, HWBP_WRITE },
		{ 0x1018, 8, HWBP_WRITE }, { 0x400000, 1, HWBP_EXEC }, { 0x400010, 1, HWBP_EXEC },
		{ 0x400020, 1, HWBP_EXEC }, { 0x400030, 1, HWBP_EXEC },
	};
	struct hwbp_planner_need need;

	(void)state;
	assert_int_equal(count(HWBP_ARCH_X86_64, r, 8, x86_pool, &need), -ENOSPC);
	assert_int_equal(need.need_watch + need.need_break, 8);
	assert_int_equal(need.free_watch, 4);
	assert_int_equal(count(HWBP_ARCH_ARM64, r, 8, arm64_pool, &need), 0);
	assert_int_equal(need.need_watch, 4);
	assert_int_equal(need.need_break, 4);
	assert_int_equal(need.free_break, 6);
	assert_false(need.shared);
	assert_int_equal(count(HWBP_ARCH_LOONGARCH64, r, 8, la_pool, &need), 0);
	/* a fifth data word: arm64 runs out of watchpoints with breakpoints
	 * to spare, and says which */
	{
		const struct req r5[] = {
			{ 0x1000, 40, HWBP_WRITE }, { 0x400000, 1, HWBP_EXEC },
		};

		assert_int_equal(count(HWBP_ARCH_ARM64, r5, 2, arm64_pool, &need), -ENOSPC);
		assert_int_equal(need.need_watch, 5);
		assert_int_equal(need.need_break, 1);
		assert_int_equal(need.free_watch, 4);
		assert_int_equal(need.free_break, 6);
		assert_int_equal(count(HWBP_ARCH_LOONGARCH64, r5, 2, la_pool, &need), 0);
	}
}

static void test_too_long_counted_with_others(void **state)
{
	/* five 8-byte variables and a 4 KiB buffer: 5 + 512 on x86-64 */
	const struct req r[] = {
		{ 0x1000, 8, HWBP_WRITE }, { 0x1008, 8, HWBP_WRITE }, { 0x1010, 8, HWBP_WRITE },
		{ 0x1018, 8, HWBP_WRITE }, { 0x1020, 8, HWBP_WRITE }, { 0x2000, 4096, HWBP_WRITE },
	};
	struct hwbp_plan pl;
	struct hwbp_planner_need need;

	(void)state;
	assert_int_equal(hwbp_planner_split(HWBP_ARCH_X86_64, 0x2000, 4096, HWBP_WRITE, &pl),
			 -ENOSPC);
	assert_int_equal(pl.nslots, 0);
	assert_int_equal(pl.need_watch, 512);
	assert_int_equal(count(HWBP_ARCH_X86_64, r, 6, x86_pool, &need), -ENOSPC);
	assert_true(need.too_long);
	assert_int_equal(need.need_watch, 517);
	assert_int_equal(need.free_watch, 4);
	/* LoongArch, same request: 8-byte pieces too, 517 of 8 */
	assert_int_equal(count(HWBP_ARCH_LOONGARCH64, r, 6, la_pool, &need), -ENOSPC);
	assert_int_equal(need.need_watch, 517);
	assert_int_equal(need.free_watch, 8);
}

static void test_split_flags(void **state)
{
	struct hwbp_plan pl;

	(void)state;
	/* x86-64 has no read-only watchpoint: armed rw, said so */
	assert_int_equal(hwbp_planner_split(HWBP_ARCH_X86_64, 0x1000, 4, HWBP_READ, &pl), 0);
	assert_int_equal(pl.access, HWBP_RW);
	assert_int_equal(pl.flags, HWBP_PLAN_WIDER_ACCESS);
	assert_int_equal(hwbp_planner_split(HWBP_ARCH_ARM64, 0x1000, 4, HWBP_READ, &pl), 0);
	assert_int_equal(pl.flags, 0);
	/* arm64 exec x:0x1000/2 is the whole instruction at 0x1000 */
	assert_int_equal(hwbp_planner_split(HWBP_ARCH_ARM64, 0x1000, 2, HWBP_EXEC, &pl), 0);
	assert_int_equal(pl.nslots, 1);
	assert_int_equal(pl.len, 4);
	assert_int_equal(pl.flags, HWBP_PLAN_WIDER_RANGE);
	/* no instruction starts at 0x1001 on arm64 or LoongArch */
	assert_int_equal(hwbp_planner_split(HWBP_ARCH_ARM64, 0x1001, 1, HWBP_EXEC, &pl), -EINVAL);
	assert_int_equal(hwbp_planner_split(HWBP_ARCH_LOONGARCH64, 0x1002, 1, HWBP_EXEC, &pl),
			 -EINVAL);
	assert_int_equal(hwbp_planner_split(HWBP_ARCH_X86_64, 0x1001, 1, HWBP_EXEC, &pl), 0);
	assert_int_equal(hwbp_planner_split(HWBP_ARCH_NONE, 0x1000, 1, HWBP_WRITE, &pl), -EINVAL);
}

static void test_index_and_shared(void **state)
{
	unsigned int idx = 99;

	(void)state;
	assert_int_equal(hwbp_planner_index(0xau, &idx), 0);
	assert_int_equal(idx, 1);
	assert_int_equal(hwbp_planner_index(0x80000000u, &idx), 0);
	assert_int_equal(idx, 31);
	idx = 99;
	assert_int_equal(hwbp_planner_index(0, &idx), -ENOSPC);
	assert_int_equal(idx, 99);
	assert_true(hwbp_planner_shared(HWBP_ARCH_X86_64));
	assert_false(hwbp_planner_shared(HWBP_ARCH_ARM64));
	assert_false(hwbp_planner_shared(HWBP_ARCH_LOONGARCH64));
	assert_false(hwbp_planner_shared(HWBP_ARCH_NONE));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_pieces_count_once),
		cmocka_unit_test(test_one_pool_or_two),
		cmocka_unit_test(test_too_long_counted_with_others),
		cmocka_unit_test(test_split_flags),
		cmocka_unit_test(test_index_and_shared),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

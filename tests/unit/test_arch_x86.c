// SPDX-License-Identifier: MIT
/*
 * test_arch_x86.c - x86-64 arch layer: ARCH.md 1.6 vectors, planner examples
 *
 * Not arch-layer vectors, so not here: X6/X7 as encodings (the kernel's own
 * per-CPU DR7 with Gn and GE; hwbp encodes the tracer's L-style DR7, and X6/X7
 * appear below as decode inputs), X8-X13 and X16/X17/X19 (perf and ptrace
 * errno, ordering and rollback: tests/hw), XH8 (kernel-mode access: the hit
 * model only models user accesses).
 */
#include "arch_vectors.h"

#define X86 HWBP_ARCH_X86_64

static const struct av_encode_row encode_rows[] = {
	{ "test_x86_X1_w_len1_in_slot0", X86, AV_WI(0, 0x1000, 1, HWBP_WRITE),
	  { { "dr0", 0x1000 }, { "dr7", 0x00010001 } } },
	{ "test_x86_X2_rw_len2_in_slot1", X86, AV_WI(1, 0x2002, 2, HWBP_RW),
	  { { "dr1", 0x2002 }, { "dr7", 0x00700004 } } },
	{ "test_x86_X3_w_len4_in_slot2", X86, AV_WI(2, 0x3004, 4, HWBP_WRITE),
	  { { "dr2", 0x3004 }, { "dr7", 0x0D000010 } } },
	{ "test_x86_X4_rw_len8_in_slot3", X86, AV_WI(3, 0x4008, 8, HWBP_RW),
	  { { "dr3", 0x4008 }, { "dr7", 0xB0000040 } } },
	{ "test_x86_X5_exec_in_slot0", X86, AV_BI(0, 0x401136, 1),
	  { { "dr0", 0x401136 }, { "dr7", 0x00000001 } } },
};

static const struct av_decode_row decode_rows[] = {
	{ "test_x86_X6_kernel_dr7_g0_ge_bit10_decodes_w4_slot0", X86,
	  { { "dr0", 0x1000 }, { "dr7", 0x000D0602 } }, 1,
	  { AV_WI(0, 0x1000, 4, HWBP_WRITE) } },
	{ "test_x86_X7_kernel_dr7_decodes_rw8_slot2", X86,
	  { { "dr2", 0x2008 }, { "dr7", 0x0B000220 } }, 1,
	  { AV_WI(2, 0x2008, 8, HWBP_RW) } },
	{ "test_x86_X18_gd_le_ignored_slot0_w4_slot1_exec", X86,
	  { { "dr0", 0x1000 }, { "dr1", 0x401000 }, { "dr7", 0x000D2105 } }, 2,
	  { AV_WI(0, 0x1000, 4, HWBP_WRITE), AV_BI(1, 0x401000, 1) } },
	{ "test_x86_disabled_slot_with_io_fields_is_ignored", X86,
	  { { "dr0", 0x1003 }, { "dr7", 0x000E0000 } }, 0, { { 0 } } },
	{ "test_x86_all_four_slots_in_index_order", X86,
	  { { "dr0", 0x10 }, { "dr1", 0x20 }, { "dr2", 0x30 }, { "dr3", 0x40 },
	    { "dr7", 0xB0DF0055 } }, 4,
	  { AV_WI(0, 0x10, 4, HWBP_RW), AV_WI(1, 0x20, 4, HWBP_WRITE), AV_BI(2, 0x30, 1),
	    AV_WI(3, 0x40, 8, HWBP_RW) } },
	{ "test_x86_unset_registers_decode_to_no_slot", X86, { { NULL, 0 } }, 0, { { 0 } } },
};

static const struct av_reject_row reject_rows[] = {
	{ "test_x86_X14_rw10_io_rejected", X86, { { "dr7", 0x00020001 } }, "dr7" },
	{ "test_x86_X15_exec_with_len11_rejected", X86, { { "dr7", 0x000C0001 } }, "dr7" },
	{ "test_x86_X9_w4_at_a_plus_2_rejected", X86,
	  { { "dr0", 0x1002 }, { "dr7", 0x000D0001 } }, "dr0" },
	{ "test_x86_len8_misaligned_in_slot3_rejected", X86,
	  { { "dr3", 0x1004 }, { "dr7", 0xB0000080 } }, "dr3" },
};

#define X86_W4_DR0 { "dr0", 0x1000 }, { "dr7", 0x000D0001 }

static const struct av_hit_row hit_rows[] = {
	{ "test_x86_XH1_write_last_byte_fires", X86, { X86_W4_DR0 },
	  0x1003, 1, HWBP_WRITE, 0, 0x1, 0 },
	{ "test_x86_XH2_write_after_range_does_not_fire", X86, { X86_W4_DR0 },
	  0x1004, 1, HWBP_WRITE, 0, 0, 0 },
	{ "test_x86_XH3_8byte_write_overlapping_first_byte_fires", X86, { X86_W4_DR0 },
	  0x0FFC, 8, HWBP_WRITE, 0, 0x1, 0 },
	{ "test_x86_XH4_read_of_write_slot_does_not_fire", X86, { X86_W4_DR0 },
	  0x1000, 8, HWBP_READ, 0, 0, 0 },
	{ "test_x86_XH5_rw_slot_fires_on_2byte_read", X86,
	  { { "dr0", 0x1000 }, { "dr7", 0x000F0001 } }, 0x1001, 2, HWBP_READ, 0, 0x1, 0 },
	{ "test_x86_XH6_exec_at_dr0_fires", X86, { { "dr0", 0x401000 }, { "dr7", 0x1 } },
	  0x401000, 0, HWBP_EXEC, 0, 0, 0x1 },
	{ "test_x86_XH7_exec_when_dr0_is_second_byte_does_not_fire", X86,
	  { { "dr0", 0x401000 }, { "dr7", 0x1 } }, 0x400FFF, 0, HWBP_EXEC, 0, 0, 0 },
	{ "test_x86_rmw_access_fires_write_slot", X86, { X86_W4_DR0 },
	  0x1002, 2, HWBP_RW, 0, 0x1, 0 },
	{ "test_x86_fetch_does_not_fire_data_slot", X86, { X86_W4_DR0 },
	  0x1000, 0, HWBP_EXEC, 0, 0, 0 },
	{ "test_x86_data_access_does_not_fire_exec_slot", X86,
	  { { "dr0", 0x401000 }, { "dr7", 0x1 } }, 0x401000, 1, HWBP_RW, 0, 0, 0 },
	{ "test_x86_16byte_access_ending_before_range_does_not_fire", X86, { X86_W4_DR0 },
	  0x0FF0, 16, HWBP_WRITE, 0, 0, 0 },
	{ "test_x86_global_enable_alone_fires_slot3", X86,
	  { { "dr3", 0x2000 }, { "dr7", 0x50000080 } }, 0x2001, 1, HWBP_WRITE, 0, 0x8, 0 },
	{ "test_x86_two_slots_fire_together", X86,
	  { { "dr0", 0x1000 }, { "dr1", 0x1004 }, { "dr7", 0x00DD0005 } },
	  0x1002, 4, HWBP_WRITE, 0, 0x3, 0 },
};

static const struct hwbp_pool pool_1010 = { .watch = 0xa, .brk = 0 };
static const struct hwbp_pool pool_none = { .watch = 0, .brk = 0xf };

static const struct av_plan_row plan_rows[] = {
	{ "test_x86_w_0x1003_len6_is_1_4_1_in_slots_0_1_2", X86, 0x1003, 6, HWBP_WRITE, NULL, 0,
	  0x1003, 6, HWBP_WRITE, 0, 3,
	  { AV_WI(0, 0x1003, 1, HWBP_WRITE), AV_WI(1, 0x1004, 4, HWBP_WRITE),
	    AV_WI(2, 0x1008, 1, HWBP_WRITE) },
	  3, 0, 4, 4 },
	{ "test_x86_r_0x1000_len8_is_one_rw_slot_wider_access", X86, 0x1000, 8, HWBP_READ, NULL,
	  0, 0x1000, 8, HWBP_RW, HWBP_PLAN_WIDER_ACCESS, 1,
	  { AV_WI(0, 0x1000, 8, HWBP_RW) }, 1, 0, 4, 4 },
	{ "test_x86_x_len1_is_one_break_slot_of_len1", X86, 0x401136, 1, HWBP_EXEC, NULL, 0,
	  0x401136, 1, HWBP_EXEC, 0, 1, { AV_BI(0, 0x401136, 1) }, 0, 1, 4, 4 },
	{ "test_x86_x_len3_is_three_break_slots", X86, 0x401135, 3, HWBP_EXEC, NULL, 0,
	  0x401135, 3, HWBP_EXEC, 0, 3,
	  { AV_BI(0, 0x401135, 1), AV_BI(1, 0x401136, 1), AV_BI(2, 0x401137, 1) }, 0, 3, 4, 4 },
	{ "test_x86_w_len16_aligned_is_two_len8_slots", X86, 0x2000, 16, HWBP_RW, NULL, 0,
	  0x2000, 16, HWBP_RW, 0, 2,
	  { AV_WI(0, 0x2000, 8, HWBP_RW), AV_WI(1, 0x2008, 8, HWBP_RW) }, 2, 0, 4, 4 },
	{ "test_x86_slots_take_lowest_free_indexes_1_and_3", X86, 0x1006, 4, HWBP_WRITE,
	  &pool_1010, 0, 0x1006, 4, HWBP_WRITE, 0, 2,
	  { AV_WI(1, 0x1006, 2, HWBP_WRITE), AV_WI(3, 0x1008, 2, HWBP_WRITE) }, 2, 0, 2, 2 },
	{ "test_x86_X13_no_free_slot_is_enospc", X86, 0x1000, 1, HWBP_WRITE, &pool_none,
	  -ENOSPC, 0, 0, 0, 0, 0, { { 0 } }, 1, 0, 0, 0 },
	{ "test_x86_w_0x1001_len16_needs_5_of_4_enospc", X86, 0x1001, 16, HWBP_WRITE, NULL,
	  -ENOSPC, 0, 0, 0, 0, 0, { { 0 } }, 5, 0, 4, 4 },
	{ "test_x86_x_len5_needs_5_break_slots_enospc", X86, 0x1000, 5, HWBP_EXEC, NULL,
	  -ENOSPC, 0, 0, 0, 0, 0, { { 0 } }, 0, 5, 4, 4 },
	{ "test_x86_huge_len_refused_with_saturated_need", X86, 0, 1ull << 40, HWBP_WRITE, NULL,
	  -ENOSPC, 0, 0, 0, 0, 0, { { 0 } }, UINT_MAX, 0, 4, 4 },
	{ "test_x86_huge_len_needing_few_billion_slots", X86, 0x1000, 8ull << 32, HWBP_WRITE,
	  NULL, -ENOSPC, 0, 0, 0, 0, 0, { { 0 } }, UINT_MAX, 0, 4, 4 },
	{ "test_x86_last_doubleword_of_address_space_fits", X86, 0xFFFFFFFFFFFFFFF8ull, 8,
	  HWBP_WRITE, NULL, 0, 0xFFFFFFFFFFFFFFF8ull, 8, HWBP_WRITE, 0, 1,
	  { AV_WI(0, 0xFFFFFFFFFFFFFFF8ull, 8, HWBP_WRITE) }, 1, 0, 4, 4 },
	AV_PLAN_ERR("test_x86_len0_is_einval", X86, 0x1000, 0, HWBP_WRITE, -EINVAL),
	AV_PLAN_ERR("test_x86_wrapping_range_is_einval", X86, 0xFFFFFFFFFFFFFFF8ull, 9,
		    HWBP_WRITE, -EINVAL),
	AV_PLAN_ERR("test_x86_access_0_is_einval", X86, 0x1000, 1, (enum hwbp_access)0, -EINVAL),
	AV_PLAN_ERR("test_x86_access_5_is_einval", X86, 0x1000, 1, (enum hwbp_access)5, -EINVAL),
	AV_PLAN_ERR("test_arch_none_is_eopnotsupp", HWBP_ARCH_NONE, 0x1000, 1, HWBP_WRITE,
		    -EOPNOTSUPP),
};

static void test_x86_encode_refuses_what_dr7_cannot_hold(void **state)
{
	static const struct hwbp_slot bad[] = {
		AV_WI(0, 0x1000, 4, HWBP_READ),		/* no read-only watch (X8) */
		AV_WI(0, 0x1002, 4, HWBP_WRITE),	/* misaligned (X9) */
		AV_WI(0, 0x1000, 3, HWBP_WRITE),	/* no LEN for 3 (X10) */
		AV_WI(0, 0x1000, 16, HWBP_WRITE),
		AV_WI(4, 0x1000, 1, HWBP_WRITE),	/* only dr0..dr3 */
		AV_BI(0, 0x401000, 8),			/* exec needs LEN=00 */
		{ .type = HWBP_SLOT_BREAK, .index = 0, .addr = 0x1000, .len = 1,
		  .access = HWBP_WRITE },
		{ .type = HWBP_SLOT_WATCH, .index = 0, .addr = 0x1000, .len = 1,
		  .access = HWBP_EXEC },
	};
	struct hwbp_regs regs, before;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct hwbp_slot two[2] = { AV_WI(1, 0x2000, 8, HWBP_RW), bad[i] };

		hwbp_regs_init(&regs, sizeof(regs), X86);
		assert_int_equal(hwbp_regs_set(&regs, "dr7", 0x2000), 0);
		before = regs;
		assert_int_equal(hwbp_arch_encode(&regs, two, 2), -EINVAL);
		/* The good first slot was not written either. */
		assert_memory_equal(&regs, &before, sizeof(regs));
	}
}

static void test_x86_encode_keeps_other_dr7_fields(void **state)
{
	struct hwbp_regs regs;
	struct hwbp_slot s0 = AV_WI(0, 0x1000, 1, HWBP_WRITE);
	struct hwbp_slot s2 = AV_WI(2, 0x3004, 4, HWBP_WRITE);
	struct hwbp_slot s0x = AV_BI(0, 0x401000, 1);

	(void)state;
	hwbp_regs_init(&regs, sizeof(regs), X86);
	/* GD, as a caller left it. */
	assert_int_equal(hwbp_regs_set(&regs, "dr7", 0x2000), 0);
	assert_int_equal(hwbp_arch_encode(&regs, &s0, 1), 0);
	assert_int_equal(hwbp_arch_encode(&regs, &s2, 1), 0);
	assert_int_equal(av_reg(&regs, "dr7"), 0x2000 | 0x00010001 | 0x0D000010);
	/* Re-encoding slot 0 replaces its fields only. */
	assert_int_equal(hwbp_arch_encode(&regs, &s0x, 1), 0);
	assert_int_equal(av_reg(&regs, "dr7"), 0x2000 | 0x00000001 | 0x0D000010);
	assert_int_equal(av_reg(&regs, "dr0"), 0x401000);
	/* Encoding nothing is fine and changes nothing. */
	assert_int_equal(hwbp_arch_encode(&regs, NULL, 0), 0);
	assert_int_equal(hwbp_regs_get(&regs, "dr6", NULL), -ENODATA);
}

static void test_x86_plan_encode_decode_round_trip_w_0x1003_len6(void **state)
{
	HWBP_OPTS(hwbp_plan, p);
	struct hwbp_regs regs;
	struct hwbp_slot back[8];
	unsigned int n = 0;

	(void)state;
	assert_int_equal(hwbp_arch_plan(X86, 0x1003, 6, HWBP_WRITE, NULL, &p), 0);
	hwbp_regs_init(&regs, sizeof(regs), X86);
	assert_int_equal(hwbp_arch_encode(&regs, p.slots, p.nslots), 0);
	/* Slots 0, 1, 2: W len1, W len4, W len1 -> nibbles 1, D, 1 and L0-L2. */
	assert_int_equal(av_reg(&regs, "dr7"), 0x01D10015);
	assert_int_equal(av_reg(&regs, "dr0"), 0x1003);
	assert_int_equal(av_reg(&regs, "dr1"), 0x1004);
	assert_int_equal(av_reg(&regs, "dr2"), 0x1008);
	assert_int_equal(hwbp_arch_decode(&regs, back, 8, &n), 0);
	assert_int_equal(n, 3);
	for (unsigned int i = 0; i < n; i++)
		av_slot_equal(&back[i], &p.slots[i]);
	/* Too little room: -ENOSPC, n untouched. */
	n = 77;
	assert_int_equal(hwbp_arch_decode(&regs, back, 2, &n), -ENOSPC);
	assert_int_equal(n, 77);
}

int main(void)
{
	static struct av_suite s;

	AV_ADD_ROWS(&s, encode_rows, av_test_encode);
	AV_ADD_ROWS(&s, decode_rows, av_test_decode);
	AV_ADD_ROWS(&s, reject_rows, av_test_reject);
	AV_ADD_ROWS(&s, hit_rows, av_test_hit);
	AV_ADD_ROWS(&s, plan_rows, av_test_plan);
	av_add(&s, "test_x86_encode_refuses_what_dr7_cannot_hold",
	       test_x86_encode_refuses_what_dr7_cannot_hold, NULL);
	av_add(&s, "test_x86_encode_keeps_other_dr7_fields",
	       test_x86_encode_keeps_other_dr7_fields, NULL);
	av_add(&s, "test_x86_plan_encode_decode_round_trip_w_0x1003_len6",
	       test_x86_plan_encode_decode_round_trip_w_0x1003_len6, NULL);
	return av_run(&s, "arch_x86");
}

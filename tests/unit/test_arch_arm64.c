// SPDX-License-Identifier: MIT
/*
 * test_arch_arm64.c - arm64 arch layer: ARCH.md 2.6 vectors, planner examples
 *
 * Not arch-layer vectors, so not here: A6/A7 as kernel outcomes (silent
 * truncation or -EINVAL depending on the kernel; hwbp splits the range
 * instead, see the plan rows), A13/A14 (dbg_info and regset length: the
 * ptrace backend), AH6 (DC ZVA writes a whole cache-line block, more than
 * the model's 16-byte accesses). A8's "bp_len 8 forced to 4" and A12's
 * "BAS 0x3 silently widened" are kernel fix-ups: hwbp encodes len 4 and
 * rejects BAS 0x3.
 */
#include "arch_vectors.h"

#define A64 HWBP_ARCH_ARM64

static const struct av_encode_row encode_rows[] = {
	{ "test_arm64_A1_w_len4_at_0x1000_wcr_0x1f5", A64, AV_WI(0, 0x1000, 4, HWBP_WRITE),
	  { { "wvr0", 0x1000 }, { "wcr0", 0x1F5 } } },
	{ "test_arm64_A2_rw_len1_at_0x1003_bas_0x08", A64, AV_WI(1, 0x1003, 1, HWBP_RW),
	  { { "wvr1", 0x1000 }, { "wcr1", 0x11D } } },
	{ "test_arm64_A3_w_len2_at_0x1006_bas_0xc0", A64, AV_WI(2, 0x1006, 2, HWBP_WRITE),
	  { { "wvr2", 0x1000 }, { "wcr2", 0x1815 } } },
	{ "test_arm64_A4_r_len8_read_only_lsc_01", A64, AV_WI(3, 0x1000, 8, HWBP_READ),
	  { { "wvr3", 0x1000 }, { "wcr3", 0x1FED } } },
	{ "test_arm64_A5_w_len3_at_0x1002_bas_0x1c", A64, AV_WI(4, 0x1002, 3, HWBP_WRITE),
	  { { "wvr4", 0x1000 }, { "wcr4", 0x395 } } },
	{ "test_arm64_A5_rw_len3_at_0x1002_wcr_0x39d", A64, AV_WI(15, 0x1002, 3, HWBP_RW),
	  { { "wvr15", 0x1000 }, { "wcr15", 0x39D } } },
	{ "test_arm64_A8_exec_at_0x400580_bcr_0x1e5", A64, AV_BI(0, 0x400580, 4),
	  { { "bvr0", 0x400580 }, { "bcr0", 0x1E5 } } },
	{ "test_arm64_A9_w_len4_at_0x1004_wcr_0x1e15", A64, AV_WI(0, 0x1004, 4, HWBP_WRITE),
	  { { "wvr0", 0x1000 }, { "wcr0", 0x1E15 } } },
	{ "test_arm64_exec_in_slot15", A64, AV_BI(15, 0x7ffc, 4),
	  { { "bvr15", 0x7ffc }, { "bcr15", 0x1E5 } } },
};

static const struct av_decode_row decode_rows[] = {
	{ "test_arm64_A9_readback_decodes_w4_at_0x1004", A64,
	  { { "wvr0", 0x1000 }, { "wcr0", 0x1E15 } }, 1, { AV_WI(0, 0x1004, 4, HWBP_WRITE) } },
	{ "test_arm64_mask3_bas_ff_is_8_byte_block", A64,
	  { { "wvr2", 0x2000 }, { "wcr2", 0x03001FF5 } }, 1, { AV_WI(2, 0x2000, 8, HWBP_WRITE) } },
	{ "test_arm64_mask5_is_32_byte_block", A64,
	  { { "wvr0", 0x2020 }, { "wcr0", 0x05001FFD } }, 1, { AV_WI(0, 0x2020, 32, HWBP_RW) } },
	{ "test_arm64_watchpoints_before_breakpoints", A64,
	  { { "bvr0", 0x400000 }, { "bcr0", 0x1E5 }, { "wvr5", 0x1000 }, { "wcr5", 0x11D } }, 2,
	  { AV_WI(5, 0x1003, 1, HWBP_RW), AV_BI(0, 0x400000, 4) } },
	{ "test_arm64_disabled_slots_with_reserved_fields_are_ignored", A64,
	  { { "wcr0", 0x010000A4 }, { "bcr1", 0x64 }, { "wvr0", 0x1003 } }, 0, { { 0 } } },
	{ "test_arm64_word_aligned_wvr_with_low_bas", A64,
	  { { "wvr0", 0x1004 }, { "wcr0", 0x0D5 } }, 1, { AV_WI(0, 0x1005, 2, HWBP_WRITE) } },
};

static const struct av_reject_row reject_rows[] = {
	{ "test_arm64_A10_enabled_watch_with_lsc_00_rejected", A64,
	  { { "wvr0", 0x1000 }, { "wcr0", 0x1E5 } }, "wcr0" },
	{ "test_arm64_A11_noncontiguous_bas_0x05_rejected", A64,
	  { { "wvr1", 0x1000 }, { "wcr1", 0xB5 } }, "wcr1" },
	{ "test_arm64_mask1_reserved", A64, { { "wcr0", 0x01001FF5 } }, "wcr0" },
	{ "test_arm64_mask2_reserved", A64, { { "wcr3", 0x02001FF5 } }, "wcr3" },
	{ "test_arm64_mask3_with_bas_0x0f_rejected", A64, { { "wcr0", 0x030001F5 } }, "wcr0" },
	{ "test_arm64_mask4_wvr_not_block_aligned_rejected", A64,
	  { { "wvr0", 0x2008 }, { "wcr0", 0x04001FF5 } }, "wvr0" },
	{ "test_arm64_A12_bcr_bas_0x3_t32_rejected", A64,
	  { { "bvr0", 0x400000 }, { "bcr0", 0x65 } }, "bcr0" },
	{ "test_arm64_bcr_bas_0xc_t32_rejected", A64,
	  { { "bvr2", 0x400000 }, { "bcr2", 0x185 } }, "bcr2" },
	{ "test_arm64_bcr_load_type_rejected", A64, { { "bcr0", 0x1ED } }, "bcr0" },
	{ "test_arm64_bvr_misaligned_rejected", A64,
	  { { "bvr0", 0x400582 }, { "bcr0", 0x1E5 } }, "bvr0" },
	{ "test_arm64_wvr_res0_bits_rejected", A64,
	  { { "wvr0", 0x1002 }, { "wcr0", 0x3F5 } }, "wvr0" },
	{ "test_arm64_word_aligned_wvr_with_high_bas_rejected", A64,
	  { { "wvr0", 0x1004 }, { "wcr0", 0x1FF5 } }, "wvr0" },
	{ "test_arm64_linked_watchpoint_rejected", A64,
	  { { "wcr0", 0x00101FF5 } }, "wcr0" },
};

#define A64_W4 { "wvr0", 0x1000 }, { "wcr0", 0x1F5 }

static const struct av_hit_row hit_rows[] = {
	{ "test_arm64_AH1_strb_at_0x1003_fires", A64, { A64_W4 },
	  0x1003, 1, HWBP_WRITE, 0, 0x1, 0 },
	{ "test_arm64_AH2_strb_at_0x1004_does_not_fire", A64, { A64_W4 },
	  0x1004, 1, HWBP_WRITE, 0, 0, 0 },
	{ "test_arm64_AH3_str_x_8_bytes_fires", A64, { A64_W4 },
	  0x1000, 8, HWBP_WRITE, 0, 0x1, 0 },
	{ "test_arm64_AH4_stp_16_bytes_at_0xff8_fires", A64, { A64_W4 },
	  0x0FF8, 16, HWBP_WRITE, 0, 0x1, 0 },
	{ "test_arm64_AH5_ldr_on_store_watch_does_not_fire", A64, { A64_W4 },
	  0x1000, 8, HWBP_READ, 0, 0, 0 },
	{ "test_arm64_rmw_fires_store_watch", A64, { A64_W4 }, 0x1000, 4, HWBP_RW, 0, 0x1, 0 },
	{ "test_arm64_A4_load_watch_fires_on_load", A64, { { "wvr1", 0x1000 }, { "wcr1", 0x1FED } },
	  0x1007, 1, HWBP_READ, 0, 0x2, 0 },
	{ "test_arm64_A4_load_watch_ignores_store", A64, { { "wvr1", 0x1000 }, { "wcr1", 0x1FED } },
	  0x1007, 1, HWBP_WRITE, 0, 0, 0 },
	{ "test_arm64_rmw_fires_load_watch", A64, { { "wvr1", 0x1000 }, { "wcr1", 0x1FED } },
	  0x1007, 1, HWBP_RW, 0, 0x2, 0 },
	{ "test_arm64_A9_bas_0xf0_misses_low_half", A64, { { "wvr0", 0x1000 }, { "wcr0", 0x1E15 } },
	  0x1000, 4, HWBP_WRITE, 0, 0, 0 },
	{ "test_arm64_A9_bas_0xf0_fires_high_half", A64, { { "wvr0", 0x1000 }, { "wcr0", 0x1E15 } },
	  0x1003, 2, HWBP_WRITE, 0, 0x1, 0 },
	{ "test_arm64_mask5_fires_at_last_byte_of_block", A64,
	  { { "wvr0", 0x2020 }, { "wcr0", 0x05001FFD } }, 0x203F, 1, HWBP_READ, 0, 0x1, 0 },
	{ "test_arm64_mask5_misses_next_block", A64,
	  { { "wvr0", 0x2020 }, { "wcr0", 0x05001FFD } }, 0x2040, 1, HWBP_READ, 0, 0, 0 },
	{ "test_arm64_el1_only_watch_misses_el0_access", A64,
	  { { "wvr0", 0x1000 }, { "wcr0", 0x1F3 } }, 0x1000, 1, HWBP_WRITE, 0, 0, 0 },
	{ "test_arm64_exec_at_bvr_fires", A64, { { "bvr3", 0x400580 }, { "bcr3", 0x1E5 } },
	  0x400580, 0, HWBP_EXEC, 0, 0, 0x8 },
	{ "test_arm64_exec_next_instruction_does_not_fire", A64,
	  { { "bvr3", 0x400580 }, { "bcr3", 0x1E5 } }, 0x400584, 0, HWBP_EXEC, 0, 0, 0 },
	{ "test_arm64_load_at_bvr_does_not_fire_breakpoint", A64,
	  { { "bvr3", 0x400580 }, { "bcr3", 0x1E5 } }, 0x400580, 4, HWBP_READ, 0, 0, 0 },
};

static const struct hwbp_pool pool_high = { .watch = 0xfff0, .brk = 0x8000 };
static const struct hwbp_pool pool_all = { .watch = 0xffff, .brk = 0xffff };

static const struct av_plan_row plan_rows[] = {
	{ "test_arm64_w_0x1006_len4_is_two_slots_of_2", A64, 0x1006, 4, HWBP_WRITE, NULL, 0,
	  0x1006, 4, HWBP_WRITE, 0, 2,
	  { AV_WI(0, 0x1006, 2, HWBP_WRITE), AV_WI(1, 0x1008, 2, HWBP_WRITE) }, 2, 0, 4, 6 },
	{ "test_arm64_A7_w_0x1004_len8_is_two_slots_of_4", A64, 0x1004, 8, HWBP_WRITE, NULL, 0,
	  0x1004, 8, HWBP_WRITE, 0, 2,
	  { AV_WI(0, 0x1004, 4, HWBP_WRITE), AV_WI(1, 0x1008, 4, HWBP_WRITE) }, 2, 0, 4, 6 },
	{ "test_arm64_w_0x1001_len6_is_one_slot", A64, 0x1001, 6, HWBP_WRITE, NULL, 0,
	  0x1001, 6, HWBP_WRITE, 0, 1, { AV_WI(0, 0x1001, 6, HWBP_WRITE) }, 1, 0, 4, 6 },
	{ "test_arm64_r_0x1000_len8_is_read_only", A64, 0x1000, 8, HWBP_READ, NULL, 0,
	  0x1000, 8, HWBP_READ, 0, 1, { AV_WI(0, 0x1000, 8, HWBP_READ) }, 1, 0, 4, 6 },
	AV_PLAN_ERR("test_arm64_x_0x1002_no_insn_starts_there_einval", A64, 0x1002, 4, HWBP_EXEC,
		    -EINVAL),
	{ "test_arm64_x_0x1000_len8_is_two_words", A64, 0x1000, 8, HWBP_EXEC, NULL, 0,
	  0x1000, 8, HWBP_EXEC, 0, 2,
	  { AV_BI(0, 0x1000, 4), AV_BI(1, 0x1004, 4) }, 0, 2, 4, 6 },
	{ "test_arm64_x_0x400580_len4_is_exact", A64, 0x400580, 4, HWBP_EXEC, NULL, 0,
	  0x400580, 4, HWBP_EXEC, 0, 1, { AV_BI(0, 0x400580, 4) }, 0, 1, 4, 6 },
	{ "test_arm64_x_len1_widens_to_granule_4", A64, 0x400580, 1, HWBP_EXEC, NULL, 0,
	  0x400580, 4, HWBP_EXEC, HWBP_PLAN_WIDER_RANGE, 1, { AV_BI(0, 0x400580, 4) },
	  0, 1, 4, 6 },
	AV_PLAN_ERR("test_arm64_x_0x400581_len1_is_einval", A64, 0x400581, 1, HWBP_EXEC, -EINVAL),
	{ "test_arm64_lowest_free_index_of_each_pool", A64, 0x1000, 16, HWBP_RW, &pool_high, 0,
	  0x1000, 16, HWBP_RW, 0, 2,
	  { AV_WI(4, 0x1000, 8, HWBP_RW), AV_WI(5, 0x1008, 8, HWBP_RW) }, 2, 0, 12, 1 },
	{ "test_arm64_break_pool_is_separate", A64, 0x400000, 4, HWBP_EXEC, &pool_high, 0,
	  0x400000, 4, HWBP_EXEC, 0, 1, { AV_BI(15, 0x400000, 4) }, 0, 1, 12, 1 },
	{ "test_arm64_w_len40_needs_5_of_4_default_enospc", A64, 0x1000, 40, HWBP_WRITE, NULL,
	  -ENOSPC, 0, 0, 0, 0, 0, { { 0 } }, 5, 0, 4, 6 },
	{ "test_arm64_x_len28_needs_7_of_6_default_enospc", A64, 0x1000, 28, HWBP_EXEC, NULL,
	  -ENOSPC, 0, 0, 0, 0, 0, { { 0 } }, 0, 7, 4, 6 },
	{ "test_arm64_w_len129_unaligned_needs_17_of_16_enospc", A64, 0x1007, 129, HWBP_WRITE,
	  &pool_all, -ENOSPC, 0, 0, 0, 0, 0, { { 0 } }, 17, 0, 16, 16 },
	{ "test_arm64_huge_len_refused_quickly", A64, 0x1000, 1ull << 62, HWBP_READ, NULL,
	  -ENOSPC, 0, 0, 0, 0, 0, { { 0 } }, UINT_MAX, 0, 4, 6 },
	AV_PLAN_ERR("test_arm64_len0_is_einval", A64, 0x1000, 0, HWBP_WRITE, -EINVAL),
	AV_PLAN_ERR("test_arm64_wrapping_range_is_einval", A64, 0xFFFFFFFFFFFFFFFFull, 2,
		    HWBP_EXEC, -EINVAL),
};

static void test_arm64_encode_refuses_what_wcr_cannot_hold(void **state)
{
	static const struct hwbp_slot bad[] = {
		AV_WI(0, 0x1006, 4, HWBP_WRITE),	/* A6: crosses the doubleword */
		AV_WI(0, 0x1004, 8, HWBP_WRITE),	/* A7 */
		AV_WI(0, 0x1000, 9, HWBP_WRITE),
		AV_WI(0, 0x1000, 0, HWBP_WRITE),
		AV_WI(16, 0x1000, 1, HWBP_WRITE),
		AV_BI(0, 0x400582, 4),			/* misaligned instruction */
		AV_BI(0, 0x400580, 8),			/* A8's bp_len 8 */
		AV_BI(0, 0x400580, 2),			/* T32 halfword */
		{ .type = HWBP_SLOT_WATCH, .index = 0, .addr = 0x1000, .len = 4,
		  .access = HWBP_EXEC },		/* A10 */
	};
	struct hwbp_regs regs, before;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		hwbp_regs_init(&regs, sizeof(regs), A64);
		before = regs;
		assert_int_equal(hwbp_arch_encode(&regs, &bad[i], 1), -EINVAL);
		assert_memory_equal(&regs, &before, sizeof(regs));
	}
}

static void test_arm64_plan_0x1006_len4_encodes_bas_0xc0_and_0x03(void **state)
{
	HWBP_OPTS(hwbp_plan, p);
	struct hwbp_regs regs;
	struct hwbp_slot back[8];
	unsigned int n = 0;

	(void)state;
	assert_int_equal(hwbp_arch_plan(A64, 0x1006, 4, HWBP_WRITE, NULL, &p), 0);
	hwbp_regs_init(&regs, sizeof(regs), A64);
	assert_int_equal(hwbp_arch_encode(&regs, p.slots, p.nslots), 0);
	assert_int_equal(av_reg(&regs, "wvr0"), 0x1000);
	assert_int_equal(av_reg(&regs, "wcr0"), 0x1815);
	assert_int_equal(av_reg(&regs, "wvr1"), 0x1008);
	assert_int_equal(av_reg(&regs, "wcr1"), 0x075);
	assert_int_equal(hwbp_arch_decode(&regs, back, 8, &n), 0);
	assert_int_equal(n, 2);
	av_slot_equal(&back[0], &p.slots[0]);
	av_slot_equal(&back[1], &p.slots[1]);
}

int main(void)
{
	static struct av_suite s;

	AV_ADD_ROWS(&s, encode_rows, av_test_encode);
	AV_ADD_ROWS(&s, decode_rows, av_test_decode);
	AV_ADD_ROWS(&s, reject_rows, av_test_reject);
	AV_ADD_ROWS(&s, hit_rows, av_test_hit);
	AV_ADD_ROWS(&s, plan_rows, av_test_plan);
	av_add(&s, "test_arm64_encode_refuses_what_wcr_cannot_hold",
	       test_arm64_encode_refuses_what_wcr_cannot_hold, NULL);
	av_add(&s, "test_arm64_plan_0x1006_len4_encodes_bas_0xc0_and_0x03",
	       test_arm64_plan_0x1006_len4_encodes_bas_0xc0_and_0x03, NULL);
	return av_run(&s, "arch_arm64");
}

// SPDX-License-Identifier: MIT
/*
 * test_arch_loongarch.c - LoongArch arch layer: ARCH.md 3.6 vectors
 *
 * The hit vectors LH1-LH8 run in both readings of the manual's address
 * compare (3.2): the default doubleword-granular one and HWBP_HIT_LA_LITERAL.
 * LH9 is the LoadEn/StoreEn filter. LH10 is about a kernel-mode access, which
 * the model (user-mode accesses only) cannot make; its mirror image is here
 * instead: a slot enabled only for PLV0 does not fire on a user access.
 *
 * Not arch-layer vectors, so not here: L8 (the kernel drops a ptrace mask),
 * L10's read-back address, L11 (kernel address refused by ptrace), L12/L13
 * (regset length and slot reservation): the ptrace backend's business. L9 and
 * L10's read-back ctrl values (no PLV bit) are decode rows: no slot enabled.
 */
#include "arch_vectors.h"

#define LA HWBP_ARCH_LOONGARCH64
#define LIT HWBP_HIT_LA_LITERAL

static const struct av_encode_row encode_rows[] = {
	{ "test_la_L1_w_len4_ctrl_0x610_mask_0", LA, AV_WI(0, 0x1004, 4, HWBP_WRITE),
	  { { "db0addr", 0x1004 }, { "db0mask", 0 }, { "db0ctrl", 0x610 } } },
	{ "test_la_L2_rw_len8_ctrl_0x310", LA, AV_WI(1, 0x2000, 8, HWBP_RW),
	  { { "db1addr", 0x2000 }, { "db1mask", 0 }, { "db1ctrl", 0x310 } } },
	{ "test_la_L3_r_len1_ctrl_0xd10", LA, AV_WI(2, 0x3003, 1, HWBP_READ),
	  { { "db2addr", 0x3003 }, { "db2ctrl", 0xD10 } } },
	{ "test_la_L4_w_len2_ctrl_0xa10", LA, AV_WI(7, 0x4002, 2, HWBP_WRITE),
	  { { "db7addr", 0x4002 }, { "db7ctrl", 0xA10 } } },
	{ "test_la_L5_rw_len1_ctrl_0xf10_in_slot13", LA, AV_WI(13, 0x5007, 1, HWBP_RW),
	  { { "db13addr", 0x5007 }, { "db13mask", 0 }, { "db13ctrl", 0xF10 } } },
	{ "test_la_L6_exec_ibctrl_0x10_mask_0", LA, AV_BI(0, 0x120000A2C, 4),
	  { { "ib0addr", 0x120000A2C }, { "ib0mask", 0 }, { "ib0ctrl", 0x10 } } },
};

static const struct av_decode_row decode_rows[] = {
	{ "test_la_L9_ctrl_0x600_without_plv_is_disabled", LA,
	  { { "db0addr", 0x1000 }, { "db0ctrl", 0x600 } }, 0, { { 0 } } },
	{ "test_la_L10_readback_ibctrl_0x400_is_disabled", LA,
	  { { "ib0addr", 0x120000A2C }, { "ib0ctrl", 0x400 } }, 0, { { 0 } } },
	{ "test_la_LH6_mask_7_is_8_byte_range", LA,
	  { { "db0addr", 0x1000 }, { "db0mask", 7 }, { "db0ctrl", 0x210 } }, 1,
	  { AV_WI(0, 0x1000, 8, HWBP_WRITE) } },
	{ "test_la_mask_0xfff_ignores_address_bits", LA,
	  { { "db3addr", 0x5123 }, { "db3mask", 0xFFF }, { "db3ctrl", 0x310 } }, 1,
	  { AV_WI(3, 0x5000, 0x1000, HWBP_RW) } },
	{ "test_la_fetch_mask_0xf_is_16_byte_range", LA,
	  { { "ib2addr", 0x400010 }, { "ib2mask", 0xF }, { "ib2ctrl", 0x10 } }, 1,
	  { AV_BI(2, 0x400010, 16) } },
	{ "test_la_plv0_only_slot_is_enabled", LA,
	  { { "db0addr", 0x1004 }, { "db0ctrl", 0x602 } }, 1,
	  { AV_WI(0, 0x1004, 4, HWBP_WRITE) } },
	{ "test_la_db_slots_before_ib_slots", LA,
	  { { "ib0addr", 0x400000 }, { "ib0ctrl", 0x10 }, { "db9addr", 0x1000 },
	    { "db9ctrl", 0x110 } }, 2,
	  { AV_WI(9, 0x1000, 8, HWBP_READ), AV_BI(0, 0x400000, 4) } },
};

static const struct av_reject_row reject_rows[] = {
	{ "test_la_enabled_db_without_load_or_store_rejected", LA,
	  { { "db0addr", 0x1000 }, { "db0ctrl", 0x410 } }, "db0ctrl" },
	{ "test_la_dmonly_rejected", LA, { { "db1addr", 0x1000 }, { "db1ctrl", 0x611 } },
	  "db1ctrl" },
	{ "test_la_lcl_asid_compare_rejected", LA, { { "db0ctrl", 0x690 } }, "db0ctrl" },
	{ "test_la_virtualization_bits_rejected", LA, { { "ib4ctrl", 0x30 } }, "ib4ctrl" },
	{ "test_la_reserved_ctrl_bits_rejected", LA, { { "db0ctrl", 0x1310 } }, "db0ctrl" },
	{ "test_la_db_addr_misaligned_for_size_rejected", LA,
	  { { "db0addr", 0x1002 }, { "db0ctrl", 0x610 } }, "db0addr" },
	{ "test_la_L8_mask_0xff_with_size_4_rejected", LA,
	  { { "db0addr", 0x1000 }, { "db0mask", 0xFF }, { "db0ctrl", 0x610 } }, "db0ctrl" },
	{ "test_la_mask_not_low_bits_rejected", LA,
	  { { "db0mask", 0x100 }, { "db0ctrl", 0x310 } }, "db0mask" },
	{ "test_la_mask_3_below_doubleword_rejected", LA,
	  { { "db0mask", 3 }, { "db0ctrl", 0x310 } }, "db0mask" },
	{ "test_la_ib_addr_misaligned_rejected", LA,
	  { { "ib1addr", 0x120000A2E }, { "ib1ctrl", 0x10 } }, "ib1addr" },
};

/* Watches of LH1-LH8, armed for loads and stores so only the compare decides. */
#define LH_W4_1004 { "db0addr", 0x1004 }, { "db0ctrl", 0x710 }
#define LH_W8_1000 { "db0addr", 0x1000 }, { "db0ctrl", 0x310 }
#define LH_W8_1000_M7 { "db0addr", 0x1000 }, { "db0mask", 7 }, { "db0ctrl", 0x310 }
#define LH_W2_1006 { "db0addr", 0x1006 }, { "db0ctrl", 0xB10 }
#define LH_W1_1003 { "db0addr", 0x1003 }, { "db0ctrl", 0xF10 }

static const struct av_hit_row hit_rows[] = {
	{ "test_la_LH1_ldw_0x1004_on_w4_0x1004_dword_yes", LA, { LH_W4_1004 },
	  0x1004, 4, HWBP_READ, 0, 0x1, 0 },
	{ "test_la_LH1_ldw_0x1004_on_w4_0x1004_literal_yes", LA, { LH_W4_1004 },
	  0x1004, 4, HWBP_READ, LIT, 0x1, 0 },
	{ "test_la_LH2_ldd_0x1000_on_w4_0x1004_dword_yes", LA, { LH_W4_1004 },
	  0x1000, 8, HWBP_READ, 0, 0x1, 0 },
	{ "test_la_LH2_ldd_0x1000_on_w4_0x1004_literal_no", LA, { LH_W4_1004 },
	  0x1000, 8, HWBP_READ, LIT, 0, 0 },
	{ "test_la_LH3_ldb_0x1005_on_w4_0x1004_dword_yes", LA, { LH_W4_1004 },
	  0x1005, 1, HWBP_READ, 0, 0x1, 0 },
	{ "test_la_LH3_ldb_0x1005_on_w4_0x1004_literal_no", LA, { LH_W4_1004 },
	  0x1005, 1, HWBP_READ, LIT, 0, 0 },
	{ "test_la_LH4_ldw_0x1000_on_w4_0x1004_dword_no", LA, { LH_W4_1004 },
	  0x1000, 4, HWBP_READ, 0, 0, 0 },
	{ "test_la_LH4_ldw_0x1000_on_w4_0x1004_literal_no", LA, { LH_W4_1004 },
	  0x1000, 4, HWBP_READ, LIT, 0, 0 },
	{ "test_la_LH5_stb_0x1003_on_w8_0x1000_dword_yes", LA, { LH_W8_1000 },
	  0x1003, 1, HWBP_WRITE, 0, 0x1, 0 },
	{ "test_la_LH5_stb_0x1003_on_w8_0x1000_literal_no", LA, { LH_W8_1000 },
	  0x1003, 1, HWBP_WRITE, LIT, 0, 0 },
	{ "test_la_LH6_stb_0x1003_on_w8_mask7_dword_yes", LA, { LH_W8_1000_M7 },
	  0x1003, 1, HWBP_WRITE, 0, 0x1, 0 },
	{ "test_la_LH6_stb_0x1003_on_w8_mask7_literal_yes", LA, { LH_W8_1000_M7 },
	  0x1003, 1, HWBP_WRITE, LIT, 0x1, 0 },
	{ "test_la_LH7_sth_0x1006_on_w2_0x1006_dword_yes", LA, { LH_W2_1006 },
	  0x1006, 2, HWBP_WRITE, 0, 0x1, 0 },
	{ "test_la_LH7_sth_0x1006_on_w2_0x1006_literal_yes", LA, { LH_W2_1006 },
	  0x1006, 2, HWBP_WRITE, LIT, 0x1, 0 },
	{ "test_la_LH8_ldh_0x1002_on_w1_0x1003_dword_yes", LA, { LH_W1_1003 },
	  0x1002, 2, HWBP_READ, 0, 0x1, 0 },
	{ "test_la_LH8_ldh_0x1002_on_w1_0x1003_literal_no", LA, { LH_W1_1003 },
	  0x1002, 2, HWBP_READ, LIT, 0, 0 },
	{ "test_la_LH9_store_on_loaden_only_dword_no", LA,
	  { { "db0addr", 0x1004 }, { "db0ctrl", 0x510 } }, 0x1004, 4, HWBP_WRITE, 0, 0, 0 },
	{ "test_la_LH9_store_on_loaden_only_literal_no", LA,
	  { { "db0addr", 0x1004 }, { "db0ctrl", 0x510 } }, 0x1004, 4, HWBP_WRITE, LIT, 0, 0 },
	{ "test_la_LH9_load_on_loaden_only_fires", LA,
	  { { "db0addr", 0x1004 }, { "db0ctrl", 0x510 } }, 0x1004, 4, HWBP_READ, 0, 0x1, 0 },
	{ "test_la_rmw_fires_loaden_only_slot", LA,
	  { { "db0addr", 0x1004 }, { "db0ctrl", 0x510 } }, 0x1004, 4, HWBP_RW, 0, 0x1, 0 },
	{ "test_la_LH10_plv0_only_slot_misses_user_access", LA,
	  { { "db0addr", 0x1004 }, { "db0ctrl", 0x702 } }, 0x1004, 4, HWBP_RW, 0, 0, 0 },
	{ "test_la_rmw_fires_storeen_only_slot", LA,
	  { { "db0addr", 0x1004 }, { "db0ctrl", 0x610 } }, 0x1004, 4, HWBP_RW, 0, 0x1, 0 },
	{ "test_la_16_byte_store_across_doublewords_fires", LA,
	  { { "db5addr", 0x1004 }, { "db5ctrl", 0x610 } }, 0x0FFC, 16, HWBP_WRITE, 0, 0x20, 0 },
	{ "test_la_unaligned_store_touching_next_dword_only_first_byte", LA,
	  { { "db0addr", 0x1008 }, { "db0ctrl", 0xF10 } }, 0x1007, 2, HWBP_WRITE, 0, 0x1, 0 },
	{ "test_la_unaligned_store_ending_before_watch_no", LA,
	  { { "db0addr", 0x1009 }, { "db0ctrl", 0xF10 } }, 0x1007, 2, HWBP_WRITE, 0, 0, 0 },
	{ "test_la_mask_0xfff_fires_anywhere_in_page", LA,
	  { { "db3addr", 0x5000 }, { "db3mask", 0xFFF }, { "db3ctrl", 0x310 } },
	  0x5ABC, 1, HWBP_READ, LIT, 0x8, 0 },
	{ "test_la_mask_0xfff_misses_next_page", LA,
	  { { "db3addr", 0x5000 }, { "db3mask", 0xFFF }, { "db3ctrl", 0x310 } },
	  0x6000, 1, HWBP_READ, 0, 0, 0 },
	{ "test_la_L6_fetch_at_ibaddr_fires_dword", LA,
	  { { "ib1addr", 0x120000A2C }, { "ib1ctrl", 0x10 } }, 0x120000A2C, 0, HWBP_EXEC, 0, 0,
	  0x2 },
	{ "test_la_L6_fetch_at_ibaddr_fires_literal", LA,
	  { { "ib1addr", 0x120000A2C }, { "ib1ctrl", 0x10 } }, 0x120000A2C, 0, HWBP_EXEC, LIT, 0,
	  0x2 },
	{ "test_la_fetch_next_instruction_does_not_fire", LA,
	  { { "ib1addr", 0x120000A2C }, { "ib1ctrl", 0x10 } }, 0x120000A30, 0, HWBP_EXEC, 0, 0,
	  0 },
	{ "test_la_fetch_mask_0xf_fires_on_fourth_instruction", LA,
	  { { "ib2addr", 0x400010 }, { "ib2mask", 0xF }, { "ib2ctrl", 0x10 } },
	  0x40001C, 0, HWBP_EXEC, LIT, 0, 0x4 },
	{ "test_la_load_at_ibaddr_does_not_fire_fetch_slot", LA,
	  { { "ib1addr", 0x120000A2C }, { "ib1ctrl", 0x10 } }, 0x120000A2C, 4, HWBP_READ, 0, 0,
	  0 },
};

static const struct hwbp_pool pool_13 = { .watch = 1u << 13, .brk = 1u << 13 };
static const struct hwbp_pool pool_14 = { .watch = 1u << 14, .brk = 0 };

static const struct av_plan_row plan_rows[] = {
	AV_PLAN_ERR("test_la_L6_x_0x120000a2e_no_insn_starts_there_einval", LA, 0x120000A2E, 1,
		    HWBP_EXEC, -EINVAL),
	{ "test_la_x_0x120000a2c_len1_widens_to_the_insn", LA, 0x120000A2C, 1, HWBP_EXEC, NULL,
	  0, 0x120000A2C, 4, HWBP_EXEC, HWBP_PLAN_WIDER_RANGE, 1, { AV_BI(0, 0x120000A2C, 4) },
	  0, 1, 8, 8 },
	{ "test_la_L7_w_len3_is_2_then_1", LA, 0x1000, 3, HWBP_WRITE, NULL, 0,
	  0x1000, 3, HWBP_WRITE, 0, 2,
	  { AV_WI(0, 0x1000, 2, HWBP_WRITE), AV_WI(1, 0x1002, 1, HWBP_WRITE) }, 2, 0, 8, 8 },
	{ "test_la_w_0x1003_len6_is_1_4_1", LA, 0x1003, 6, HWBP_WRITE, NULL, 0,
	  0x1003, 6, HWBP_WRITE, 0, 3,
	  { AV_WI(0, 0x1003, 1, HWBP_WRITE), AV_WI(1, 0x1004, 4, HWBP_WRITE),
	    AV_WI(2, 0x1008, 1, HWBP_WRITE) }, 3, 0, 8, 8 },
	{ "test_la_r_0x1000_len8_is_read_only", LA, 0x1000, 8, HWBP_READ, NULL, 0,
	  0x1000, 8, HWBP_READ, 0, 1, { AV_WI(0, 0x1000, 8, HWBP_READ) }, 1, 0, 8, 8 },
	{ "test_la_w_0x1004_len4_is_not_split", LA, 0x1004, 4, HWBP_WRITE, NULL, 0,
	  0x1004, 4, HWBP_WRITE, 0, 1, { AV_WI(0, 0x1004, 4, HWBP_WRITE) }, 1, 0, 8, 8 },
	{ "test_la_index_13_is_usable", LA, 0x1000, 4, HWBP_RW, &pool_13, 0,
	  0x1000, 4, HWBP_RW, 0, 1, { AV_WI(13, 0x1000, 4, HWBP_RW) }, 1, 0, 1, 1 },
	{ "test_la_index_14_does_not_exist_enospc", LA, 0x1000, 4, HWBP_RW, &pool_14, -ENOSPC,
	  0, 0, 0, 0, 0, { { 0 } }, 1, 0, 0, 0 },
	{ "test_la_w_len72_needs_9_of_8_default_enospc", LA, 0x1000, 72, HWBP_WRITE, NULL,
	  -ENOSPC, 0, 0, 0, 0, 0, { { 0 } }, 9, 0, 8, 8 },
	{ "test_la_x_len36_needs_9_of_8_default_enospc", LA, 0x1000, 36, HWBP_EXEC, NULL,
	  -ENOSPC, 0, 0, 0, 0, 0, { { 0 } }, 0, 9, 8, 8 },
	AV_PLAN_ERR("test_la_len0_is_einval", LA, 0x1000, 0, HWBP_READ, -EINVAL),
};

static void test_la_encode_refuses_unaligned_and_bad_slots(void **state)
{
	static const struct hwbp_slot bad[] = {
		AV_WI(0, 0x1000, 3, HWBP_WRITE),	/* L7 */
		AV_WI(0, 0x1002, 4, HWBP_WRITE),	/* only naturally aligned pieces */
		AV_WI(0, 0x1004, 8, HWBP_WRITE),
		AV_WI(14, 0x1000, 1, HWBP_WRITE),
		AV_BI(0, 0x120000A2E, 4),
		AV_BI(14, 0x120000A2C, 4),
		AV_BI(0, 0x120000A2C, 1),
	};
	struct hwbp_regs regs, before;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		hwbp_regs_init(&regs, sizeof(regs), LA);
		before = regs;
		assert_int_equal(hwbp_arch_encode(&regs, &bad[i], 1), -EINVAL);
		assert_memory_equal(&regs, &before, sizeof(regs));
	}
}

int main(void)
{
	static struct av_suite s;

	AV_ADD_ROWS(&s, encode_rows, av_test_encode);
	AV_ADD_ROWS(&s, decode_rows, av_test_decode);
	AV_ADD_ROWS(&s, reject_rows, av_test_reject);
	AV_ADD_ROWS(&s, hit_rows, av_test_hit);
	AV_ADD_ROWS(&s, plan_rows, av_test_plan);
	av_add(&s, "test_la_encode_refuses_unaligned_and_bad_slots",
	       test_la_encode_refuses_unaligned_and_bad_slots, NULL);
	return av_run(&s, "arch_loongarch");
}

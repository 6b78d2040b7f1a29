// SPDX-License-Identifier: MIT
/*
 * test_arch_swbreak.c - the software breakpoint instructions of the three
 * architectures (lib/arch/swbreak.c), on any host: bytes, pc after the
 * trap, and splicing into a word read with PTRACE_PEEKTEXT.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "arch/swbreak.h"

/* Each row: arch, len, bytes, insn, alignment, pc after the trap. */
static const struct {
	enum hwbp_arch arch;
	unsigned int len;
	uint8_t bytes[4];
	uint32_t insn;
	unsigned int align, pc_after;
} rows[] = {
	{ HWBP_ARCH_X86_64, 1, { 0xcc }, 0xcc, 1, 1 },			/* int3 */
	{ HWBP_ARCH_ARM64, 4, { 0x00, 0x00, 0x20, 0xd4 }, 0xd4200000, 4, 0 },	/* brk #0 */
	{ HWBP_ARCH_LOONGARCH64, 4, { 0x04, 0x00, 0x2a, 0x00 }, 0x002a0004, 4, 0 }, /* break 4 */
};

static void test_swbreak_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct hwbp_arch_swbreak *b = hwbp_arch_swbreak(rows[i].arch);
		uint32_t le = 0;

		assert_non_null(b);
		assert_int_equal(b->len, rows[i].len);
		assert_memory_equal(b->bytes, rows[i].bytes, rows[i].len);
		assert_int_equal(b->insn, rows[i].insn);
		assert_int_equal(b->align, rows[i].align);
		assert_int_equal(b->pc_after, rows[i].pc_after);
		for (unsigned int k = 0; k < b->len; k++)
			le |= (uint32_t)b->bytes[k] << (8 * k);
		assert_int_equal(le, b->insn);	/* little endian on all three */
	}
	assert_null(hwbp_arch_swbreak(HWBP_ARCH_NONE));
	assert_null(hwbp_arch_swbreak((enum hwbp_arch)99));
}

static void test_swbreak_pc_after_trap(void **state)
{
	(void)state;
	assert_int_equal(hwbp_arch_swbreak_addr(HWBP_ARCH_X86_64, 0x401137), 0x401136);
	assert_int_equal(hwbp_arch_swbreak_addr(HWBP_ARCH_ARM64, 0x400a2c), 0x400a2c);
	assert_int_equal(hwbp_arch_swbreak_addr(HWBP_ARCH_LOONGARCH64, 0x120000a2c),
			 0x120000a2c);
	assert_int_equal(hwbp_arch_swbreak_addr(HWBP_ARCH_NONE, 0x1000), 0x1000);
}

static void test_swbreak_splice(void **state)
{
	uint64_t w = 0x8877665544332211;
	uint32_t saved = 0;

	(void)state;
	assert_int_equal(hwbp_arch_swbreak_splice(HWBP_ARCH_X86_64, &w, 0, &saved), 0);
	assert_int_equal(w, 0x88776655443322cc);
	assert_int_equal(saved, 0x11);
	assert_int_equal(hwbp_arch_swbreak_splice(HWBP_ARCH_X86_64, &w, 7, &saved), 0);
	assert_int_equal(w, 0xcc776655443322cc);
	assert_int_equal(saved, 0x88);

	w = 0x8877665544332211;
	assert_int_equal(hwbp_arch_swbreak_splice(HWBP_ARCH_ARM64, &w, 4, &saved), 0);
	assert_int_equal(w, 0xd420000044332211);
	assert_int_equal(saved, 0x88776655);
	assert_int_equal(hwbp_arch_swbreak_splice(HWBP_ARCH_LOONGARCH64, &w, 0, NULL), 0);
	assert_int_equal(w, 0xd4200000002a0004);

	/* no room, or no arch: the word and SAVED are untouched */
	saved = 7;
	assert_int_equal(hwbp_arch_swbreak_splice(HWBP_ARCH_ARM64, &w, 5, &saved), -EINVAL);
	assert_int_equal(hwbp_arch_swbreak_splice(HWBP_ARCH_X86_64, &w, 8, &saved), -EINVAL);
	assert_int_equal(hwbp_arch_swbreak_splice(HWBP_ARCH_NONE, &w, 0, &saved), -EINVAL);
	assert_int_equal(w, 0xd4200000002a0004);
	assert_int_equal(saved, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_swbreak_table),
		cmocka_unit_test(test_swbreak_pc_after_trap),
		cmocka_unit_test(test_swbreak_splice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

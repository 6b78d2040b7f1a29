// SPDX-License-Identifier: MIT
/*
 * swbreak.c - software breakpoint instructions (see swbreak.h)
 *
 * x86-64: int3, 0xcc (Intel SDM Vol. 2A, "INT n/INTO/INT3/INT1"). It is a
 *   trap: the kernel reports SIGTRAP with regs->ip one past it
 *   (arch/x86/kernel/traps.c do_int3_user()), so a debugger sets the ip back
 *   by 1, as gdb's decr_pc_after_break of 1 on x86 does.
 * arm64: BRK #imm16, 0xd4200000 | imm16 << 5 (Arm ARM, A64 instruction "BRK"). We use
 *   BRK #0, the one gdb and lldb insert (lldb DNBArchImplARM64.cpp
 *   g_arm64_breakpoint_opcode). The kernel keeps its own immediates
 *   (arch/arm64/include/asm/brk-imm.h: 0x004 kprobes, 0x005 uprobes, 0x006
 *   kprobe single step, 0x100 fault, 0x400-0x7ff kgdb, 0x800 BUG/WARN,
 *   0x9xx KASAN, 0x55xx UBSAN, 0x8xxx CFI); UPROBES_BRK_IMM (0x005) is the
 *   one it checks in user space. Any other EL0 BRK gets SIGTRAP TRAP_BRKPT
 *   with the pc at the BRK, not past it (arch/arm64/kernel/debug-monitors.c:
 *   brk_handler(), do_el0_brk64() in newer trees, both send_user_sigtrap()).
 * LoongArch: BREAK code, 0x002a0000 | code: 15 bits, as do_bp() reads them
 *   (opcode & 0x7fff; asm/uprobes.h: 0x002a000c is "break 12"). We use
 *   code 4, BRK_USERBP "User bp (used by debuggers)" of
 *   arch/loongarch/include/uapi/asm/break.h (5 is BRK_SSTEPBP, 10-13 are
 *   kprobes' and uprobes'). do_bp() in arch/loongarch/kernel/traps.c sends
 *   it SIGTRAP TRAP_BRKPT with si_addr and era at the BREAK itself.
 */
#include <errno.h>

#include "arch/swbreak.h"

static const struct hwbp_arch_swbreak swbreak_x86 = {
	.bytes = { 0xcc }, .len = 1, .align = 1, .pc_after = 1, .insn = 0xcc,
};

static const struct hwbp_arch_swbreak swbreak_arm64 = {
	.bytes = { 0x00, 0x00, 0x20, 0xd4 }, .len = 4, .align = 4, .pc_after = 0,
	.insn = 0xd4200000u | 0u << 5,		/* BRK #0 */
};

static const struct hwbp_arch_swbreak swbreak_loongarch = {
	.bytes = { 0x04, 0x00, 0x2a, 0x00 }, .len = 4, .align = 4, .pc_after = 0,
	.insn = 0x002a0000u | 4u,		/* BREAK 4, BRK_USERBP */
};

/* See swbreak.h. */
const struct hwbp_arch_swbreak *hwbp_arch_swbreak(enum hwbp_arch arch)
{
	switch (arch) {
	case HWBP_ARCH_X86_64:
		return &swbreak_x86;
	case HWBP_ARCH_ARM64:
		return &swbreak_arm64;
	case HWBP_ARCH_LOONGARCH64:
		return &swbreak_loongarch;
	case HWBP_ARCH_NONE:
		break;
	}
	return NULL;
}

/* See swbreak.h. */
uint64_t hwbp_arch_swbreak_addr(enum hwbp_arch arch, uint64_t pc)
{
	const struct hwbp_arch_swbreak *b = hwbp_arch_swbreak(arch);

	return b ? pc - b->pc_after : pc;
}

/* See swbreak.h. */
int hwbp_arch_swbreak_splice(enum hwbp_arch arch, uint64_t *word, unsigned int off,
			     uint32_t *saved)
{
	const struct hwbp_arch_swbreak *b = hwbp_arch_swbreak(arch);
	uint64_t w, old = 0;

	if (!b || off > 8 || b->len > 8 - off)
		return -EINVAL;
	w = *word;
	for (unsigned int i = 0; i < b->len; i++) {
		unsigned int shift = 8 * (off + i);

		old |= ((w >> shift) & 0xff) << (8 * i);
		w &= ~(0xffull << shift);
		w |= (uint64_t)b->bytes[i] << shift;
	}
	*word = w;
	if (saved)
		*saved = (uint32_t)old;
	return 0;
}

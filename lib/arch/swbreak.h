/* SPDX-License-Identifier: MIT */
/*
 * swbreak.h - software breakpoint instructions, per architecture
 *
 * Where no debug register is free or none works (the guard backend), an
 * execute watch is a trap instruction written over the watched one. This
 * is the pure part: the instruction's bytes, where it may go, and where the
 * pc is when the trap is reported. Like the rest of lib/arch/, every
 * architecture is built and tested on every host.
 */
#ifndef HWBP_ARCH_SWBREAK_H
#define HWBP_ARCH_SWBREAK_H

#include <stdint.h>

#include <hwbp/hwbp.h>

/*
 * One architecture's breakpoint instruction.
 * @bytes, @len: the instruction as it sits in memory (all three are
 *               little endian), @len bytes of @bytes
 * @align:       the alignment an instruction address has (1 on x86-64)
 * @pc_after:    how far past the breakpoint's address the pc is when the
 *               tracer sees the SIGTRAP (x86-64: 1, int3 is a trap; arm64
 *               and LoongArch: 0, the pc is at the instruction)
 * @insn:        the same instruction as an integer (@len bytes)
 */
struct hwbp_arch_swbreak {
	uint8_t bytes[4];
	unsigned int len;
	unsigned int align;
	unsigned int pc_after;
	uint32_t insn;
};

/*
 * hwbp_arch_swbreak() - the breakpoint instruction of ARCH
 *
 * Return: the description, or NULL for HWBP_ARCH_NONE and values outside
 * the enum. Static data: never freed, thread-safe.
 */
const struct hwbp_arch_swbreak *hwbp_arch_swbreak(enum hwbp_arch arch);

/*
 * hwbp_arch_swbreak_addr() - the breakpoint's address, from the pc the
 * trap reports on ARCH (PC minus @pc_after); PC unchanged for an unknown ARCH
 */
uint64_t hwbp_arch_swbreak_addr(enum hwbp_arch arch, uint64_t pc);

/*
 * hwbp_arch_swbreak_splice() - WORD (8 bytes read at an address A, little
 * endian, as PTRACE_PEEKTEXT gives them) with ARCH's breakpoint written at
 * byte OFF, i.e. at address A + OFF
 * @saved: if not NULL, gets the original bytes replaced (as an integer)
 *
 * Return: 0, or -EINVAL for an unknown ARCH or OFF + len > 8. *SAVED and
 * the word are then untouched.
 */
int hwbp_arch_swbreak_splice(enum hwbp_arch arch, uint64_t *word, unsigned int off,
			     uint32_t *saved);

#endif /* HWBP_ARCH_SWBREAK_H */

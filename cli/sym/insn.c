// SPDX-License-Identifier: MIT
/*
 * insn.c - what an instruction did to memory, through Capstone; the only
 * file that includes Capstone headers
 *
 * Pure decoding: works for x86-64 and arm64 code on any host.
 */
#include <capstone/capstone.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sym/sym.h"

/* perf register numbers, arch/x86/include/uapi/asm/perf_regs.h */
enum {
	PERF_X86_AX = 0,
	PERF_X86_BX = 1,
	PERF_X86_CX = 2,
	PERF_X86_DX = 3,
	PERF_X86_SI = 4,
	PERF_X86_DI = 5,
	PERF_X86_BP = 6,
	PERF_X86_SP = 7,
	PERF_X86_IP = 8,
	PERF_X86_R8 = 16,
};

/* arch/arm64/include/uapi/asm/perf_regs.h: X0..X30 = 0..30, SP = 31, PC = 32 */
enum {
	PERF_ARM64_SP = 31,
	PERF_ARM64_PC = 32,
};

#define NO_REG (-1)
#define ZERO_REG (-2)	/* arm64 wzr/xzr: reads as 0 */

/* Map a Capstone x86 general-purpose register of any width to its perf number. */
static int x86_perf_reg(unsigned int reg, unsigned int *shift)
{
	static const struct {
		unsigned int r64, r32, r16, r8, r8h;
		int perf;
	} gpr[] = {
		{ X86_REG_RAX, X86_REG_EAX, X86_REG_AX, X86_REG_AL, X86_REG_AH, PERF_X86_AX },
		{ X86_REG_RBX, X86_REG_EBX, X86_REG_BX, X86_REG_BL, X86_REG_BH, PERF_X86_BX },
		{ X86_REG_RCX, X86_REG_ECX, X86_REG_CX, X86_REG_CL, X86_REG_CH, PERF_X86_CX },
		{ X86_REG_RDX, X86_REG_EDX, X86_REG_DX, X86_REG_DL, X86_REG_DH, PERF_X86_DX },
		{ X86_REG_RSI, X86_REG_ESI, X86_REG_SI, X86_REG_SIL, 0, PERF_X86_SI },
		{ X86_REG_RDI, X86_REG_EDI, X86_REG_DI, X86_REG_DIL, 0, PERF_X86_DI },
		{ X86_REG_RBP, X86_REG_EBP, X86_REG_BP, X86_REG_BPL, 0, PERF_X86_BP },
		{ X86_REG_RSP, X86_REG_ESP, X86_REG_SP, X86_REG_SPL, 0, PERF_X86_SP },
		{ X86_REG_R8, X86_REG_R8D, X86_REG_R8W, X86_REG_R8B, 0, PERF_X86_R8 + 0 },
		{ X86_REG_R9, X86_REG_R9D, X86_REG_R9W, X86_REG_R9B, 0, PERF_X86_R8 + 1 },
		{ X86_REG_R10, X86_REG_R10D, X86_REG_R10W, X86_REG_R10B, 0, PERF_X86_R8 + 2 },
		{ X86_REG_R11, X86_REG_R11D, X86_REG_R11W, X86_REG_R11B, 0, PERF_X86_R8 + 3 },
		{ X86_REG_R12, X86_REG_R12D, X86_REG_R12W, X86_REG_R12B, 0, PERF_X86_R8 + 4 },
		{ X86_REG_R13, X86_REG_R13D, X86_REG_R13W, X86_REG_R13B, 0, PERF_X86_R8 + 5 },
		{ X86_REG_R14, X86_REG_R14D, X86_REG_R14W, X86_REG_R14B, 0, PERF_X86_R8 + 6 },
		{ X86_REG_R15, X86_REG_R15D, X86_REG_R15W, X86_REG_R15B, 0, PERF_X86_R8 + 7 },
	};
	size_t i;

	*shift = 0;
	if (reg == X86_REG_INVALID)
		return NO_REG;
	for (i = 0; i < sizeof(gpr) / sizeof(gpr[0]); i++) {
		if (reg == gpr[i].r64 || reg == gpr[i].r32 || reg == gpr[i].r16 ||
		    reg == gpr[i].r8)
			return gpr[i].perf;
		if (gpr[i].r8h && reg == gpr[i].r8h) {
			*shift = 8;
			return gpr[i].perf;
		}
	}
	if (reg == X86_REG_RIP || reg == X86_REG_EIP)
		return PERF_X86_IP;
	return NO_REG;
}

/* Capstone arm64 register to perf number; ZERO_REG for wzr/xzr, NO_REG for others. */
static int arm64_perf_reg(unsigned int reg, unsigned int *width)
{
	*width = 8;
	if (reg >= ARM64_REG_X0 && reg <= ARM64_REG_X28)
		return (int)(reg - ARM64_REG_X0);
	if (reg == ARM64_REG_X29 || reg == ARM64_REG_X30)
		return reg == ARM64_REG_X29 ? 29 : 30;
	if (reg == ARM64_REG_SP)
		return PERF_ARM64_SP;
	if (reg == ARM64_REG_XZR)
		return ZERO_REG;
	*width = 4;
	if (reg >= ARM64_REG_W0 && reg <= ARM64_REG_W30)
		return (int)(reg - ARM64_REG_W0);
	if (reg == ARM64_REG_WSP)
		return PERF_ARM64_SP;
	if (reg == ARM64_REG_WZR)
		return ZERO_REG;
	*width = 0;
	return NO_REG;
}

static enum hwbp_access to_access(uint8_t ac)
{
	switch (ac & (CS_AC_READ | CS_AC_WRITE)) {
	case CS_AC_READ:
		return HWBP_READ;
	case CS_AC_WRITE:
		return HWBP_WRITE;
	case CS_AC_READ | CS_AC_WRITE:
		return HWBP_RW;
	default:
		return 0;
	}
}

static void init_mem(struct hwbp_sym_mem *m)
{
	memset(m, 0, sizeof(*m));
	m->base = NO_REG;
	m->index = NO_REG;
	m->scale = 1;
}

/* Instructions with a memory operand that do not access memory. */
static bool x86_no_access(unsigned int id)
{
	switch (id) {
	case X86_INS_LEA:
	case X86_INS_NOP:
	case X86_INS_PREFETCH:
	case X86_INS_PREFETCHNTA:
	case X86_INS_PREFETCHT0:
	case X86_INS_PREFETCHT1:
	case X86_INS_PREFETCHT2:
	case X86_INS_PREFETCHW:
		return true;
	default:
		return false;
	}
}

/*
 * x86: Capstone 4.0.2 gives each memory operand's access ("mov [rip+x], rax"
 * W, "add qword [rip+x], 1" RW, "mov rcx, [rbx+8]" R). The value written is
 * known for plain moves and stos, whose source registers are unchanged after
 * the access; for RMW, xchg, cmpxchg or vector sources it is not.
 */
static void x86_fill(const cs_insn *ci, struct hwbp_sym_insn *out)
{
	const cs_x86 *x = &ci->detail->x86;
	int src = -1;
	unsigned int i;

	for (i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];
		struct hwbp_sym_mem *m;
		unsigned int shift;

		if (op->type != X86_OP_MEM) {
			if (src < 0 && (op->type == X86_OP_REG || op->type == X86_OP_IMM) &&
			    !(op->access & CS_AC_WRITE))
				src = (int)i;
			continue;
		}
		if (x86_no_access(ci->id) || !to_access(op->access) ||
		    out->nmem >= HWBP_SYM_MEM_MAX)
			continue;
		m = &out->mem[out->nmem++];
		init_mem(m);
		m->access = to_access(op->access);
		m->size = op->size;
		m->disp = op->mem.disp;
		m->segment = op->mem.segment == X86_REG_FS || op->mem.segment == X86_REG_GS;
		if (op->mem.base == X86_REG_RIP || op->mem.base == X86_REG_EIP)
			m->pc_rel = true;
		else
			m->base = x86_perf_reg(op->mem.base, &shift);
		m->index = x86_perf_reg(op->mem.index, &shift);
		m->scale = op->mem.scale > 0 ? (unsigned int)op->mem.scale : 1;
		out->access |= m->access;
	}
	if (out->nmem != 1 || out->mem[0].access != HWBP_WRITE)
		return;
	switch (ci->id) {
	case X86_INS_MOV:
	case X86_INS_MOVABS:
	case X86_INS_MOVNTI:
		break;
	case X86_INS_STOSB:
	case X86_INS_STOSW:
	case X86_INS_STOSD:
	case X86_INS_STOSQ:
		out->value_src = HWBP_SYM_VALUE_REG;
		out->reg = PERF_X86_AX;
		return;
	default:
		return;
	}
	if (src < 0)
		return;
	if (x->operands[src].type == X86_OP_IMM) {
		out->value_src = HWBP_SYM_VALUE_IMM;
		out->imm = x->operands[src].imm;
	} else {
		int r = x86_perf_reg(x->operands[src].reg, &out->reg_shift);

		if (r < 0 || r == PERF_X86_IP)
			return;
		out->value_src = HWBP_SYM_VALUE_REG;
		out->reg = r;
	}
	/* mov changes no flag and no register: the store is all it does. */
	out->plain = true;
}

/* arm64: bytes per register of a load/store, from the mnemonic and register. */
static unsigned int arm64_reg_bytes(unsigned int reg)
{
	if (reg >= ARM64_REG_B0 && reg <= ARM64_REG_B31)
		return 1;
	if (reg >= ARM64_REG_H0 && reg <= ARM64_REG_H31)
		return 2;
	if (reg >= ARM64_REG_S0 && reg <= ARM64_REG_S31)
		return 4;
	if (reg >= ARM64_REG_D0 && reg <= ARM64_REG_D31)
		return 8;
	if (reg >= ARM64_REG_Q0 && reg <= ARM64_REG_Q31)
		return 16;
	if ((reg >= ARM64_REG_W0 && reg <= ARM64_REG_W30) || reg == ARM64_REG_WZR)
		return 4;
	if ((reg >= ARM64_REG_X0 && reg <= ARM64_REG_X28) || reg == ARM64_REG_X29 ||
	    reg == ARM64_REG_X30 || reg == ARM64_REG_XZR)
		return 8;
	return 0;
}

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * arm64: Capstone 4's per-operand access flags are not filled for every
 * load and store, so the direction comes from the mnemonic: ld* read, st*
 * write, atomics (ldadd, swp, cas, ...) both. Example: "str w1, [x0, #8]"
 * W 4 bytes at x0 + 8, value from w1 (perf reg 1); "ldp x2, x3, [sp]" R 16.
 */
static void arm64_fill(const cs_insn *ci, struct hwbp_sym_insn *out)
{
	static const char *const atomics[] = {
		"ldadd", "ldclr", "ldeor", "ldset", "ldsmax", "ldsmin", "ldumax", "ldumin",
		"stadd", "stclr", "steor", "stset", "stsmax", "stsmin", "stumax", "stumin",
		"swp", "cas",
	};
	const cs_arm64 *a = &ci->detail->arm64;
	const char *mn = ci->mnemonic;
	enum hwbp_access acc = 0;
	unsigned int i, nregs = 0, rbytes = 0, width;
	int first_reg = NO_REG, mem_i = -1;
	struct hwbp_sym_mem *m;
	bool ea_known;
	size_t k;

	for (k = 0; k < sizeof(atomics) / sizeof(atomics[0]); k++) {
		if (starts(mn, atomics[k]))
			acc = HWBP_RW;
	}
	if (!acc && starts(mn, "ld"))
		acc = HWBP_READ;
	else if (!acc && starts(mn, "st"))
		acc = HWBP_WRITE;
	if (!acc)
		return;
	for (i = 0; i < a->op_count; i++) {
		const cs_arm64_op *op = &a->operands[i];

		if (op->type == ARM64_OP_MEM && mem_i < 0) {
			mem_i = (int)i;
		} else if (op->type == ARM64_OP_REG && mem_i < 0) {
			if (!rbytes)
				rbytes = arm64_reg_bytes(op->reg);
			if (nregs++ == 0)
				first_reg = arm64_perf_reg(op->reg, &width);
		}
	}
	if (mem_i < 0)
		return;
	/* Exclusive stores (stxr ws, wt, [xn]) name the status register first. */
	if (starts(mn, "stxr") || starts(mn, "stlxr") || starts(mn, "stxp") ||
	    starts(mn, "stlxp")) {
		nregs--;
		first_reg = NO_REG;
		rbytes = arm64_reg_bytes(a->operands[1].reg);
	}
	m = &out->mem[out->nmem++];
	init_mem(m);
	m->access = acc;
	m->base = arm64_perf_reg(a->operands[mem_i].mem.base, &width);
	m->index = arm64_perf_reg(a->operands[mem_i].mem.index, &width);
	/* A 32-bit index is sign- or zero-extended ([x0, w1, sxtw #2]):
	 * hwbp_sym_insn_ea() adds the whole register, so the address is
	 * only known for a 64-bit one. */
	ea_known = m->index < 0 || (width == 8 && (a->operands[mem_i].ext == ARM64_EXT_INVALID ||
						   a->operands[mem_i].ext == ARM64_EXT_UXTX ||
						   a->operands[mem_i].ext == ARM64_EXT_SXTX));
	m->disp = a->operands[mem_i].mem.disp;
	if (m->index >= 0 && a->operands[mem_i].shift.type == ARM64_SFT_LSL)
		m->scale = 1u << a->operands[mem_i].shift.value;
	m->pre_post_index = a->writeback;
	{
		size_t n = strlen(mn);
		char last = n ? mn[n - 1] : '\0';

		/* ldrb, strh, ldrsw, ldaddb, swph, ...: the suffix says the size. */
		if (n >= 2 && strcmp(mn + n - 2, "sw") == 0)
			m->size = 4;
		else if (last == 'b')
			m->size = 1;
		else if (last == 'h')
			m->size = 2;
		else
			m->size = rbytes;
	}
	if (starts(mn, "ldp") || starts(mn, "stp") || starts(mn, "ldnp") || starts(mn, "stnp") ||
	    starts(mn, "ldxp") || starts(mn, "ldaxp") || starts(mn, "stxp") || starts(mn, "stlxp"))
		m->size = 2 * (starts(mn, "ldpsw") ? 4 : rbytes);
	if (starts(mn, "ld1") || starts(mn, "st1") || starts(mn, "ld2") || starts(mn, "st2") ||
	    starts(mn, "ld3") || starts(mn, "st3") || starts(mn, "ld4") || starts(mn, "st4"))
		m->size = 0;	/* vector structure: depends on the arrangement */
	out->access = acc;
	if (acc != HWBP_WRITE || nregs != 1 || !(starts(mn, "str") || starts(mn, "stur") ||
						 starts(mn, "stlr")))
		return;
	if (first_reg == ZERO_REG) {
		out->value_src = HWBP_SYM_VALUE_IMM;
		out->imm = 0;
	} else if (first_reg >= 0) {	/* a general register; SIMD ones map to NO_REG */
		out->value_src = HWBP_SYM_VALUE_REG;
		out->reg = first_reg;
	} else {
		return;
	}
	/* str/stur/stlr change nothing but memory, unless they write the
	 * base back (pre- and post-index). */
	out->plain = !m->pre_post_index && ea_known;
}

/* The Capstone handle of each decodable arch, opened once (cs_open()
 * builds tables: a tenth of a guard hit's price if done per decode), and
 * its instruction buffer; freed at exit. The command decodes from one
 * thread. */
static struct {
	bool open;
	csh h;
	cs_insn *ci;
} cs_cache[2];

static void close_cs(void)
{
	for (size_t i = 0; i < sizeof(cs_cache) / sizeof(cs_cache[0]); i++) {
		if (!cs_cache[i].open)
			continue;
		cs_free(cs_cache[i].ci, 1);
		cs_close(&cs_cache[i].h);
		cs_cache[i].open = false;
	}
}

/* A Capstone handle for ARCH with details on, and its instruction buffer
 * for cs_disasm_iter(); both kept for the next call. */
static int open_cs(enum hwbp_arch arch, csh *h, cs_insn **ci)
{
	static bool registered;
	unsigned int slot;
	cs_arch ca;
	cs_mode mode;

	switch (arch) {
	case HWBP_ARCH_X86_64:
		ca = CS_ARCH_X86;
		mode = CS_MODE_64;
		slot = 0;
		break;
	case HWBP_ARCH_ARM64:
		ca = CS_ARCH_ARM64;
		mode = CS_MODE_LITTLE_ENDIAN;
		slot = 1;
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (cs_cache[slot].open) {
		*h = cs_cache[slot].h;
		*ci = cs_cache[slot].ci;
		return 0;
	}
	if (!cs_support((int)ca))
		return -EOPNOTSUPP;
	if (cs_open(ca, mode, h) != CS_ERR_OK)
		return -ENOMEM;
	cs_option(*h, CS_OPT_DETAIL, CS_OPT_ON);
	*ci = cs_malloc(*h);
	if (!*ci) {
		cs_close(h);
		return -ENOMEM;
	}
	if (!registered)
		registered = !atexit(close_cs);
	cs_cache[slot].open = true;
	cs_cache[slot].h = *h;
	cs_cache[slot].ci = *ci;
	return 0;
}

static void fill(enum hwbp_arch arch, const cs_insn *ci, struct hwbp_sym_insn *out)
{
	memset(out, 0, sizeof(*out));
	out->arch = arch;
	out->addr = ci->address;
	out->len = ci->size;
	out->reg = NO_REG;
	snprintf(out->text, sizeof(out->text), "%s%s%s", ci->mnemonic, ci->op_str[0] ? " " : "",
		 ci->op_str);
	if (arch == HWBP_ARCH_X86_64)
		x86_fill(ci, out);
	else
		arm64_fill(ci, out);
}

/* See sym.h. */
int hwbp_sym_insn_decode(enum hwbp_arch arch, const void *code, size_t len, uint64_t addr,
			 struct hwbp_sym_insn *out)
{
	const uint8_t *p = code;
	cs_insn *ci;
	csh h;
	int err;

	if (!code || !len || !out)
		return -EINVAL;
	err = open_cs(arch, &h, &ci);
	if (err)
		return err;
	if (cs_disasm_iter(h, &p, &len, &addr, ci))
		fill(arch, ci, out);
	else
		err = -EINVAL;
	return err;
}

/* See sym.h. */
int hwbp_sym_insn_before_buf(enum hwbp_arch arch, const void *code, size_t len, uint64_t start,
			     uint64_t ip_after, struct hwbp_sym_insn *out)
{
	const uint8_t *p = code;
	uint64_t addr = start;
	cs_insn *ci;
	csh h;
	int err;

	if (!code || !out)
		return -EINVAL;
	if (ip_after <= start || ip_after - start > len)
		return -ENOENT;
	err = open_cs(arch, &h, &ci);
	if (err)
		return err;
	err = -ENOENT;
	/* cs_disasm_iter advances p, len and addr past each instruction it decodes. */
	while (addr < ip_after && cs_disasm_iter(h, &p, &len, &addr, ci)) {
		if (addr == ip_after) {
			fill(arch, ci, out);
			err = 0;
			break;
		}
	}
	return err;
}

static int reg_value(int reg, const uint64_t *regs, unsigned int nregs, uint64_t *v)
{
	if (reg == ZERO_REG) {
		*v = 0;
		return 0;
	}
	if (reg < 0 || (unsigned int)reg >= nregs)
		return -EINVAL;
	*v = regs[reg];
	return 0;
}

/* See sym.h. */
int hwbp_sym_insn_ea(const struct hwbp_sym_insn *insn, unsigned int i, const uint64_t *regs,
		     unsigned int nregs, uint64_t *ea)
{
	const struct hwbp_sym_mem *m;
	uint64_t a = 0, v;

	if (!insn || !ea || i >= insn->nmem || (!regs && nregs))
		return -EINVAL;
	m = &insn->mem[i];
	if (m->segment)
		return -EOPNOTSUPP;
	if (m->pc_rel) {
		a = insn->addr + insn->len;
	} else if (m->base != NO_REG) {
		if (reg_value(m->base, regs, nregs, &v))
			return -EINVAL;
		a = v;
	}
	if (m->index != NO_REG) {
		if (reg_value(m->index, regs, nregs, &v))
			return -EINVAL;
		a += v * m->scale;
	}
	*ea = a + (uint64_t)m->disp;
	return 0;
}

/* See sym.h. */
int hwbp_sym_insn_value(const struct hwbp_sym_insn *insn, const uint64_t *regs,
			unsigned int nregs, uint64_t *value)
{
	unsigned int size;
	uint64_t v;

	if (!insn || !value)
		return -EINVAL;
	if (insn->value_src == HWBP_SYM_VALUE_UNKNOWN || insn->nmem != 1)
		return -ENODATA;
	size = insn->mem[0].size;
	if (insn->value_src == HWBP_SYM_VALUE_IMM) {
		v = (uint64_t)insn->imm;
	} else {
		if (!regs || reg_value(insn->reg, regs, nregs, &v))
			return -EINVAL;
		v >>= insn->reg_shift;
	}
	if (size && size < 8)
		v &= (UINT64_C(1) << (8 * size)) - 1;
	*value = v;
	return 0;
}

/* Whether the decoder may write field F of struct hwbp_insn O: the
 * library sets sz to the size it knows. */
#define INSN_HAS(o, f) ((o)->sz >= offsetof(struct hwbp_insn, f) + sizeof((o)->f))

/* See sym.h. */
int hwbp_sym_guard_decode(const void *code, size_t len, uint64_t ip, const uint64_t *regs,
			  unsigned int nr_regs, uint64_t fault_addr, struct hwbp_insn *out,
			  void *arg)
{
	const enum hwbp_arch *archp = arg;
	enum hwbp_arch arch = archp && *archp != HWBP_ARCH_NONE ? *archp : hwbp_arch_host();
	const struct hwbp_sym_mem *m = NULL;
	struct hwbp_sym_insn in;
	uint64_t addr = 0, value = 0;
	bool exact = false, store;
	int err;

	if (!out || out->sz < offsetof(struct hwbp_insn, len) + sizeof(out->len))
		return -EINVAL;
	err = hwbp_sym_insn_decode(arch, code, len, ip, &in);
	if (err)
		return err;
	for (unsigned int i = 0; i < in.nmem; i++) {
		uint64_t ea;

		if (hwbp_sym_insn_ea(&in, i, regs, regs ? nr_regs : 0, &ea) || !in.mem[i].size)
			continue;
		if (fault_addr >= ea && fault_addr - ea < in.mem[i].size) {
			m = &in.mem[i];
			addr = ea;
			exact = true;
			break;
		}
	}
	/* fs:/gs: (thread-local data): the segment base is not in the
	 * registers, but an instruction with one memory operand faulted on
	 * that one. */
	if (!m && in.nmem == 1 && in.mem[0].segment) {
		m = &in.mem[0];
		addr = fault_addr;
	}
	if (!m)
		return -ENOENT;
	if (!m->size)
		return -ENODATA;
	store = exact && in.plain && in.nmem == 1 && m->access == HWBP_WRITE && !m->segment &&
		!m->pre_post_index && m->size <= 8 &&
		!hwbp_sym_insn_value(&in, regs, regs ? nr_regs : 0, &value);
	out->len = in.len;
	if (INSN_HAS(out, access))
		out->access = m->access;
	if (INSN_HAS(out, addr))
		out->addr = addr;
	if (INSN_HAS(out, size))
		out->size = m->size;
	if (INSN_HAS(out, store))
		out->store = store && INSN_HAS(out, value);
	if (INSN_HAS(out, value))
		out->value = store ? value : 0;
	return 0;
}

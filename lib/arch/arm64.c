// SPDX-License-Identifier: MIT
/*
 * arm64.c - AArch64 DBGWVR/DBGWCR watchpoints and DBGBVR/DBGBCR breakpoints
 *
 * Register values are in the layout of the kernel's ptrace regsets
 * (struct user_hwdebug_state, NT_ARM_HW_WATCH / NT_ARM_HW_BREAK), which for
 * EL0 slots equals what the kernel programs: ARCH.md sections 2.1-2.4,
 * Arm Cortex-A76 TRM D2.2/D2.4.
 *
 * A watchpoint watches the bytes {WVR + i : BAS bit i} of one aligned
 * doubleword, so any contiguous run of bytes inside one aligned 8-byte word
 * fits one slot; loads and stores are told apart (LSC), so read-only
 * watching is exact. A breakpoint matches the 4-byte instruction at BVR.
 * Watchpoints and breakpoints have separate pools.
 */
#include <errno.h>

#include "arch/arch.h"

#define ARM64_NSLOTS 16

enum {
	ARM64_WVR = 0,		/* wvr0..wvr15 */
	ARM64_WCR = 16,		/* wcr0..wcr15 */
	ARM64_BVR = 32,		/* bvr0..bvr15 */
	ARM64_BCR = 48,		/* bcr0..bcr15 */
	ARM64_NREGS = 64,
};

#define R16(p) p "0", p "1", p "2", p "3", p "4", p "5", p "6", p "7", \
	p "8", p "9", p "10", p "11", p "12", p "13", p "14", p "15"

static const char *const arm64_regs[ARM64_NREGS] = {
	R16("wvr"), R16("wcr"), R16("bvr"), R16("bcr"),
};

/* Control register fields (DBGWCR/DBGBCR; ptrace ctrl). */
#define ARM64_CTRL_E		0x1u
#define ARM64_PRIV_EL0		2u	/* PAC/PMC = 0b10: EL0 only, as Linux sets */
#define ARM64_BCR_A64		0x1e5u	/* E, EL0, BAS = 0xF */

static inline unsigned int ctrl_priv(uint64_t c)
{
	return (c >> 1) & 3;
}

static inline unsigned int wcr_lsc(uint64_t c)
{
	return (c >> 3) & 3;
}

static inline unsigned int wcr_bas(uint64_t c)
{
	return (c >> 5) & 0xff;
}

static inline unsigned int wcr_mask(uint64_t c)
{
	return (c >> 24) & 0x1f;
}

static inline bool bas_contiguous(unsigned int bas)
{
	unsigned int run = bas >> __builtin_ctz(bas);

	return (run & (run + 1)) == 0;
}

/*
 * One slot per aligned doubleword touched.
 * arm64, 0x1006 length 4: 2 slots, 0x1006-0x1007 and 0x1008-0x1009.
 */
static uint64_t arm64_split_data(uint64_t addr, uint64_t len, enum hwbp_access armed,
				 struct hwbp_slot *out, unsigned int max)
{
	uint64_t last = hwbp_arch_last(addr, len);
	uint64_t need = (last >> 3) - (addr >> 3) + 1;

	for (uint64_t i = 0; i < need && i < max; i++) {
		uint64_t word = (addr & ~7ull) + i * 8;
		uint64_t start = i ? word : addr;
		uint64_t end = (word | 7) < last ? (word | 7) : last;

		out[i] = (struct hwbp_slot){
			.type = HWBP_SLOT_WATCH,
			.addr = start,
			.len = (uint32_t)(end - start + 1),
			.access = armed,
		};
	}
	return need;
}

static int arm64_check(const struct hwbp_slot *s)
{
	if (s->index >= ARM64_NSLOTS)
		return -EINVAL;
	switch (s->type) {
	case HWBP_SLOT_BREAK:
		return s->access == HWBP_EXEC && s->len == 4 && !(s->addr & 3) ? 0 : -EINVAL;
	case HWBP_SLOT_WATCH:
		if (!hwbp_arch_is_data(s->access) || s->len < 1 || s->len > 8)
			return -EINVAL;
		/* BAS is 8 bits: the bytes must stay inside one doubleword. */
		return (s->addr & 7) + s->len <= 8 ? 0 : -EINVAL;
	}
	return -EINVAL;
}

/*
 * Watch: WVR = address aligned down to 8, the offset goes into BAS, as GDB
 * and the kernel do. W len 2 at 0x1006: wvr = 0x1000, wcr = 0x1815
 * (E, EL0, LSC store, BAS 0xC0). Break: bcr = 0x1e5.
 */
static void arm64_encode(struct hwbp_regs *regs, const struct hwbp_slot *s)
{
	unsigned int i = s->index;

	if (s->type == HWBP_SLOT_BREAK) {
		hwbp_arch_reg_put(regs, ARM64_BVR + i, s->addr);
		hwbp_arch_reg_put(regs, ARM64_BCR + i, ARM64_BCR_A64);
	} else {
		uint64_t bas = ((1u << s->len) - 1) << (s->addr & 7);
		uint64_t lsc = (uint64_t)s->access;	/* R = 01, W = 10, RW = 11 */

		hwbp_arch_reg_put(regs, ARM64_WVR + i, s->addr & ~7ull);
		hwbp_arch_reg_put(regs, ARM64_WCR + i,
				  ARM64_CTRL_E | (ARM64_PRIV_EL0 << 1) | (lsc << 3) | (bas << 5));
	}
}

static int arm64_decode(const struct hwbp_regs *regs, struct hwbp_slot *out, unsigned int max,
			unsigned int *n, char *why, size_t whylen)
{
	unsigned int count = 0;

	for (unsigned int i = 0; i < ARM64_NSLOTS; i++) {
		uint64_t wcr = hwbp_arch_reg(regs, ARM64_WCR + i);
		uint64_t wvr = hwbp_arch_reg(regs, ARM64_WVR + i);
		unsigned int lsc = wcr_lsc(wcr), bas = wcr_bas(wcr), mask = wcr_mask(wcr);
		struct hwbp_slot s = { .type = HWBP_SLOT_WATCH, .index = i };

		if (!(wcr & ARM64_CTRL_E))
			continue;
		if (!lsc) {
			hwbp_arch_why(why, whylen,
				      "wcr%u: LSC=00 on an enabled watchpoint is reserved", i);
			return -EINVAL;
		}
		if (!bas || !bas_contiguous(bas)) {
			hwbp_arch_why(why, whylen,
				      "wcr%u: BAS=0x%02x is not a contiguous run of bytes", i, bas);
			return -EINVAL;
		}
		if (mask == 1 || mask == 2) {
			hwbp_arch_why(why, whylen, "wcr%u: MASK=%u is reserved", i, mask);
			return -EINVAL;
		}
		if (mask && bas != 0xff) {
			hwbp_arch_why(why, whylen, "wcr%u: MASK=%u needs BAS=0xff, not 0x%02x",
				      i, mask, bas);
			return -EINVAL;
		}
		if (wcr & HWBP_BIT(20)) {
			hwbp_arch_why(why, whylen,
				      "wcr%u: linked watchpoints (WT=1) are not supported", i);
			return -EINVAL;
		}
		if (mask) {
			if (wvr & (HWBP_BIT(mask) - 1)) {
				hwbp_arch_why(why, whylen,
					      "wvr%u: 0x%llx has address bits below MASK=%u set",
					      i, (unsigned long long)wvr, mask);
				return -EINVAL;
			}
			s.addr = wvr;
			s.len = (uint32_t)HWBP_BIT(mask);
		} else {
			if (wvr & 3) {
				hwbp_arch_why(why, whylen, "wvr%u: 0x%llx has RES0 bits 1:0 set",
					      i, (unsigned long long)wvr);
				return -EINVAL;
			}
			/* WVR[2] = 1 (deprecated) leaves only BAS[3:0] usable. */
			if ((wvr & 4) && (bas & 0xf0)) {
				hwbp_arch_why(why, whylen,
					      "wvr%u: 0x%llx is word aligned, wcr%u BAS=0x%02x reaches past it",
					      i, (unsigned long long)wvr, i, bas);
				return -EINVAL;
			}
			s.addr = wvr + (unsigned int)__builtin_ctz(bas);
			s.len = (uint32_t)__builtin_popcount(bas);
		}
		s.access = (enum hwbp_access)lsc;
		if (count >= max) {
			hwbp_arch_why(why, whylen, "more than %u slots enabled", max);
			return -ENOSPC;
		}
		out[count++] = s;
	}

	for (unsigned int i = 0; i < ARM64_NSLOTS; i++) {
		uint64_t bcr = hwbp_arch_reg(regs, ARM64_BCR + i);
		uint64_t bvr = hwbp_arch_reg(regs, ARM64_BVR + i);
		unsigned int bas = (bcr >> 5) & 0xf, bt = (bcr >> 20) & 0xf;

		if (!(bcr & ARM64_CTRL_E))
			continue;
		if ((bcr >> 3) & 3) {
			hwbp_arch_why(why, whylen,
				      "bcr%u: type bits 4:3 are %u, not 0 (execute)", i,
				      (unsigned int)((bcr >> 3) & 3));
			return -EINVAL;
		}
		if (bas != 0xf) {
			hwbp_arch_why(why, whylen,
				      "bcr%u: BAS=0x%x is not 0xf (0x3/0xc are T32 halfwords)",
				      i, bas);
			return -EINVAL;
		}
		if (bt) {
			hwbp_arch_why(why, whylen,
				      "bcr%u: BT=0x%x (linked/context/mismatch) is not supported",
				      i, bt);
			return -EINVAL;
		}
		if (bvr & 3) {
			hwbp_arch_why(why, whylen, "bvr%u: 0x%llx has RES0 bits 1:0 set", i,
				      (unsigned long long)bvr);
			return -EINVAL;
		}
		if (count >= max) {
			hwbp_arch_why(why, whylen, "more than %u slots enabled", max);
			return -ENOSPC;
		}
		out[count++] = (struct hwbp_slot){
			.type = HWBP_SLOT_BREAK,
			.index = i,
			.addr = bvr,
			.len = 4,
			.access = HWBP_EXEC,
		};
	}
	*n = count;
	return 0;
}

/*
 * The access is made at EL0, so a slot fires only if its PAC/PMC includes
 * EL0. A watchpoint fires when any accessed byte is in {WVR + i : BAS bit i}
 * (or, with MASK = m, in the 2^m-byte block at WVR) and LSC matches the
 * access (a read-modify-write is a load and a store). A breakpoint fires on
 * the instruction at pc with pc & ~3 == BVR.
 */
static void arm64_hits(const struct hwbp_regs *regs, uint64_t addr, unsigned int size,
		       enum hwbp_access kind, unsigned int flags, struct hwbp_hitset *out)
{
	uint64_t last = hwbp_arch_last(addr, size);

	(void)flags;
	for (unsigned int i = 0; i < ARM64_NSLOTS; i++) {
		uint64_t wcr = hwbp_arch_reg(regs, ARM64_WCR + i);
		uint64_t wvr = hwbp_arch_reg(regs, ARM64_WVR + i);
		unsigned int lsc = wcr_lsc(wcr), bas = wcr_bas(wcr), mask = wcr_mask(wcr);
		bool hit = false;

		if (!(wcr & ARM64_CTRL_E) || !(ctrl_priv(wcr) & ARM64_PRIV_EL0))
			continue;
		if (!hwbp_arch_kind_matches(kind, lsc & 1, lsc & 2))
			continue;
		if (mask) {
			uint64_t block = wvr & ~(HWBP_BIT(mask) - 1);

			hit = hwbp_arch_overlap(addr, last, block, block + (HWBP_BIT(mask) - 1));
		} else {
			for (unsigned int b = 0; b < 8 && !hit; b++) {
				uint64_t byte = (wvr & ~3ull) + b;

				hit = (bas & (1u << b)) && byte >= addr && byte <= last;
			}
		}
		if (hit)
			out->watch |= (uint32_t)HWBP_BIT(i);
	}

	if (kind != HWBP_EXEC)
		return;
	for (unsigned int i = 0; i < ARM64_NSLOTS; i++) {
		uint64_t bcr = hwbp_arch_reg(regs, ARM64_BCR + i);
		uint64_t bvr = hwbp_arch_reg(regs, ARM64_BVR + i);

		if (!(bcr & ARM64_CTRL_E) || !(ctrl_priv(bcr) & ARM64_PRIV_EL0))
			continue;
		if ((addr & ~3ull) == bvr)
			out->brk |= (uint32_t)HWBP_BIT(i);
	}
}

const struct hwbp_arch_ops hwbp_arm64_ops = {
	.arch = HWBP_ARCH_ARM64,
	.name = "arm64",
	.nwatch = ARM64_NSLOTS,
	.nbreak = ARM64_NSLOTS,
	.shared = false,
	.granule = 4,
	.has_read = true,
	/* 4 watch + 6 break: Cortex-A35/A53/A76 (ARCH.md 2.1). */
	.pool = { .watch = 0xf, .brk = 0x3f },
	.regs = arm64_regs,
	.nregs = ARM64_NREGS,
	.split_data = arm64_split_data,
	.check = arm64_check,
	.encode = arm64_encode,
	.decode = arm64_decode,
	.hits = arm64_hits,
};

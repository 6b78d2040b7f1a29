// SPDX-License-Identifier: MIT
/*
 * loongarch.c - LoongArch load/store (DB) and fetch (IB) watchpoints
 *
 * Register values are in the layout of the kernel's ptrace regsets
 * (struct user_watch_state_v2: addr, mask, ctrl per slot) with the ctrl the
 * kernel programs into MWPnCFG3/FWPnCFG3: LoongArch Reference Manual Vol. 1
 * "Control and status registers related to watchpoints"; ARCH.md section 3.
 *
 * DBnCTRL: bit 0 DMOnly, bits 1-4 PLV0-PLV3, 7 LCL, 8 LoadEn, 9 StoreEn,
 * 11:10 Size (00 = 8 bytes, 01 = 4, 10 = 2, 11 = 1). A load/store slot only
 * watches a naturally aligned piece (the bytemask table), and Linux does not
 * align data addresses, so the planner makes every piece aligned to its
 * length. A fetch slot matches one 4-byte instruction. Separate pools, at
 * most 14 of each (8 on the first CPUs).
 */
#include <errno.h>

#include "arch/arch.h"

#define LA_NSLOTS 14

enum {
	LA_DBADDR = 0,		/* db0addr..db13addr */
	LA_DBMASK = 14,
	LA_DBCTRL = 28,
	LA_IBADDR = 42,
	LA_IBMASK = 56,
	LA_IBCTRL = 70,
	LA_NREGS = 84,
};

#define R14(p, s) p "0" s, p "1" s, p "2" s, p "3" s, p "4" s, p "5" s, p "6" s, \
	p "7" s, p "8" s, p "9" s, p "10" s, p "11" s, p "12" s, p "13" s

static const char *const la_regs[LA_NREGS] = {
	R14("db", "addr"), R14("db", "mask"), R14("db", "ctrl"),
	R14("ib", "addr"), R14("ib", "mask"), R14("ib", "ctrl"),
};

#define LA_CTRL_DMONLY	0x1u
#define LA_CTRL_PLV	0x1eu	/* PLV0..PLV3: any of them enables the slot */
#define LA_CTRL_PLV3	0x10u	/* user mode; what Linux sets for user addresses */
#define LA_CTRL_VIRT	0x60u
#define LA_CTRL_LCL	0x80u
#define LA_CTRL_LOAD	0x100u
#define LA_CTRL_STORE	0x200u
#define LA_CTRL_KNOWN	0xfffu

static inline uint32_t la_size_len(uint64_t ctrl)
{
	return 8u >> ((ctrl >> 10) & 3);	/* 00 = 8, 01 = 4, 10 = 2, 11 = 1 */
}

static unsigned int la_len_code(uint32_t len)
{
	switch (len) {
	case 1:
		return 3;
	case 2:
		return 2;
	case 4:
		return 1;
	default:
		return 0;
	}
}

static uint64_t la_split_data(uint64_t addr, uint64_t len, enum hwbp_access armed,
			      struct hwbp_slot *out, unsigned int max)
{
	return hwbp_arch_split_aligned(addr, len, armed, out, max);
}

static int la_check(const struct hwbp_slot *s)
{
	if (s->index >= LA_NSLOTS)
		return -EINVAL;
	switch (s->type) {
	case HWBP_SLOT_BREAK:
		return s->access == HWBP_EXEC && s->len == 4 && !(s->addr & 3) ? 0 : -EINVAL;
	case HWBP_SLOT_WATCH:
		if (!hwbp_arch_is_data(s->access))
			return -EINVAL;
		if (s->len != 1 && s->len != 2 && s->len != 4 && s->len != 8)
			return -EINVAL;
		return (s->addr % s->len) ? -EINVAL : 0;
	}
	return -EINVAL;
}

/*
 * As Linux programs a user slot: mask 0, PLV3. W len 4: dbNctrl = 0x610
 * (Size 01, StoreEn, PLV3); fetch: ibNctrl = 0x10.
 */
static void la_encode(struct hwbp_regs *regs, const struct hwbp_slot *s)
{
	unsigned int i = s->index;

	if (s->type == HWBP_SLOT_BREAK) {
		hwbp_arch_reg_put(regs, LA_IBADDR + i, s->addr);
		hwbp_arch_reg_put(regs, LA_IBMASK + i, 0);
		hwbp_arch_reg_put(regs, LA_IBCTRL + i, LA_CTRL_PLV3);
	} else {
		uint64_t type = (uint64_t)s->access;	/* LoadEn = R, StoreEn = W */

		hwbp_arch_reg_put(regs, LA_DBADDR + i, s->addr);
		hwbp_arch_reg_put(regs, LA_DBMASK + i, 0);
		uint64_t size = la_len_code(s->len);

		hwbp_arch_reg_put(regs, LA_DBCTRL + i, (size << 10) | (type << 8) | LA_CTRL_PLV3);
	}
}

/* Reject the ctrl bits the model does not follow (DMOnly, virtualization, ASID). */
static int la_ctrl_supported(uint64_t ctrl, uint64_t known, const char *kind, unsigned int i,
			     char *why, size_t whylen)
{
	if (ctrl & ~known) {
		hwbp_arch_why(why, whylen, "%s%uctrl: reserved bits 0x%llx set", kind, i,
			      (unsigned long long)(ctrl & ~known));
		return -EINVAL;
	}
	if (ctrl & LA_CTRL_DMONLY) {
		hwbp_arch_why(why, whylen, "%s%uctrl: DMOnly (debug mode only) is not supported",
			      kind, i);
		return -EINVAL;
	}
	if (ctrl & LA_CTRL_VIRT) {
		hwbp_arch_why(why, whylen, "%s%uctrl: bits 6:5 (virtualization) are not supported",
			      kind, i);
		return -EINVAL;
	}
	if (ctrl & LA_CTRL_LCL) {
		hwbp_arch_why(why, whylen, "%s%uctrl: LCL (ASID compare) is not supported",
			      kind, i);
		return -EINVAL;
	}
	return 0;
}

/*
 * A nonzero mask drops low address bits from the compare: the slot covers
 * the aligned block of mask + 1 bytes. Only a run of low bits that spans at
 * least MIN + 1 bytes is a range.
 */
static int la_mask_range(uint64_t mask, uint64_t min, const char *kind, unsigned int i,
			 char *why, size_t whylen)
{
	if (mask & (mask + 1)) {
		hwbp_arch_why(why, whylen, "%s%umask: 0x%llx is not a run of low bits",
			      kind, i, (unsigned long long)mask);
		return -EINVAL;
	}
	if (mask < min || mask > 0x7fffffff) {
		hwbp_arch_why(why, whylen,
			      "%s%umask: 0x%llx is not a block of 0x%llx to 2 GiB bytes",
			      kind, i, (unsigned long long)mask, (unsigned long long)min + 1);
		return -EINVAL;
	}
	return 0;
}

static int la_decode(const struct hwbp_regs *regs, struct hwbp_slot *out, unsigned int max,
		     unsigned int *n, char *why, size_t whylen)
{
	unsigned int count = 0;

	for (unsigned int i = 0; i < LA_NSLOTS; i++) {
		uint64_t ctrl = hwbp_arch_reg(regs, LA_DBCTRL + i);
		uint64_t mask = hwbp_arch_reg(regs, LA_DBMASK + i);
		uint64_t addr = hwbp_arch_reg(regs, LA_DBADDR + i);
		unsigned int type = (ctrl >> 8) & 3;
		struct hwbp_slot s = { .type = HWBP_SLOT_WATCH, .index = i };
		int err;

		if (!(ctrl & LA_CTRL_PLV))
			continue;
		err = la_ctrl_supported(ctrl, LA_CTRL_KNOWN, "db", i, why, whylen);
		if (err)
			return err;
		if (!type) {
			hwbp_arch_why(why, whylen,
				      "db%uctrl: enabled with neither LoadEn nor StoreEn", i);
			return -EINVAL;
		}
		if (mask) {
			err = la_mask_range(mask, 7, "db", i, why, whylen);
			if (err)
				return err;
			if (la_size_len(ctrl) != 8) {
				hwbp_arch_why(why, whylen,
					      "db%uctrl: a mask range needs Size=00 (8 bytes), not %u",
					      i, (unsigned int)la_size_len(ctrl));
				return -EINVAL;
			}
			s.addr = addr & ~mask;
			s.len = (uint32_t)(mask + 1);
		} else {
			s.addr = addr;
			s.len = la_size_len(ctrl);
			if (addr % s.len) {
				hwbp_arch_why(why, whylen,
					      "db%uaddr: 0x%llx is not aligned to its size %u",
					      i, (unsigned long long)addr, (unsigned int)s.len);
				return -EINVAL;
			}
		}
		s.access = (enum hwbp_access)type;
		if (count >= max) {
			hwbp_arch_why(why, whylen, "more than %u slots enabled", max);
			return -ENOSPC;
		}
		out[count++] = s;
	}

	for (unsigned int i = 0; i < LA_NSLOTS; i++) {
		uint64_t ctrl = hwbp_arch_reg(regs, LA_IBCTRL + i);
		uint64_t mask = hwbp_arch_reg(regs, LA_IBMASK + i);
		uint64_t addr = hwbp_arch_reg(regs, LA_IBADDR + i);
		struct hwbp_slot s = { .type = HWBP_SLOT_BREAK, .index = i, .access = HWBP_EXEC };
		int err;

		if (!(ctrl & LA_CTRL_PLV))
			continue;
		/* Bits 11:8 mean nothing for fetch; the kernel reads back 0x400. */
		err = la_ctrl_supported(ctrl, LA_CTRL_KNOWN, "ib", i, why, whylen);
		if (err)
			return err;
		if (mask) {
			err = la_mask_range(mask, 3, "ib", i, why, whylen);
			if (err)
				return err;
			s.addr = addr & ~mask;
			s.len = (uint32_t)(mask + 1);
		} else {
			if (addr & 3) {
				hwbp_arch_why(why, whylen,
					      "ib%uaddr: 0x%llx is not 4-byte aligned", i,
					      (unsigned long long)addr);
				return -EINVAL;
			}
			s.addr = addr;
			s.len = 4;
		}
		if (count >= max) {
			hwbp_arch_why(why, whylen, "more than %u slots enabled", max);
			return -ENOSPC;
		}
		out[count++] = s;
	}
	*n = count;
	return 0;
}

/*
 * Bytes of the slot's doubleword that do NOT take part, by Size and
 * VAddr[2:0] (manual, MWPnCFG3): 8 B: 0x00; 4 B: 0xF0 for v < 4, else 0x0F;
 * 2 B: 0xFC/0xF3/0xCF/0x3F by v[2:1]; 1 B: ~(1 << v).
 */
static unsigned int la_bytemask(uint64_t ctrl, uint64_t vaddr)
{
	unsigned int v = vaddr & 7;

	switch (la_size_len(ctrl)) {
	case 4:
		return v < 4 ? 0xf0 : 0x0f;
	case 2:
		return ~(0x3u << (v & 6)) & 0xff;
	case 1:
		return ~(1u << v) & 0xff;
	default:
		return 0x00;
	}
}

/*
 * Bytes an access touches within its doubleword (mbyten). For the naturally
 * aligned sizes the manual's table: byte 1 << a, halfword 0x03/0x0C/0x30/0xC0
 * by a[2:1], word 0x0F/0xF0, doubleword 0xFF. Other accesses (unaligned, or
 * sizes the table lacks) are modelled as the set of bytes they touch, after
 * the caller split them at the doubleword boundary.
 */
static unsigned int la_mbyten(uint64_t maddr, unsigned int size)
{
	unsigned int a = maddr & 7;

	if ((size == 1 || size == 2 || size == 4 || size == 8) && !(maddr % size)) {
		switch (size) {
		case 1:
			return 1u << a;
		case 2:
			return 0x3u << (a & 6);
		case 4:
			return 0xfu << (a & 4);
		default:
			return 0xff;
		}
	}
	return ((1u << size) - 1) << a;
}

/*
 * The manual's algorithm (ARCH.md 3.2) for a user-mode (PLV3) access, CRMD.WE
 * set, no ASID compare: LoadEn/StoreEn against the access, then the address
 * compare, then (~bytemask & mbyten) != 0. The address compare with Mask = 0
 * is ambiguous in the manual: the default compares doublewords (address bits
 * 2:0 ignored, as the byte tables suggest); HWBP_HIT_LA_LITERAL compares
 * every bit not in Mask. Fetch: (pc & ~Mask) == (VAddr & ~Mask), in the
 * default mode with the low two bits ignored as well.
 */
static void la_hits(const struct hwbp_regs *regs, uint64_t addr, unsigned int size,
		    enum hwbp_access kind, unsigned int flags, struct hwbp_hitset *out)
{
	bool literal = flags & HWBP_HIT_LA_LITERAL;
	uint64_t last = hwbp_arch_last(addr, size);

	if (kind == HWBP_EXEC) {
		uint64_t low = literal ? 0 : 3;

		for (unsigned int i = 0; i < LA_NSLOTS; i++) {
			uint64_t ctrl = hwbp_arch_reg(regs, LA_IBCTRL + i);
			uint64_t ign = hwbp_arch_reg(regs, LA_IBMASK + i) | low;

			if (!(ctrl & LA_CTRL_PLV3))
				continue;
			if ((addr & ~ign) == (hwbp_arch_reg(regs, LA_IBADDR + i) & ~ign))
				out->brk |= (uint32_t)HWBP_BIT(i);
		}
		return;
	}

	for (unsigned int i = 0; i < LA_NSLOTS; i++) {
		uint64_t ctrl = hwbp_arch_reg(regs, LA_DBCTRL + i);
		uint64_t vaddr = hwbp_arch_reg(regs, LA_DBADDR + i);
		uint64_t ign = hwbp_arch_reg(regs, LA_DBMASK + i) | (literal ? 0 : 7);
		unsigned int bytemask = la_bytemask(ctrl, vaddr);
		uint64_t p = addr;

		if (!(ctrl & LA_CTRL_PLV3))
			continue;
		if (!hwbp_arch_kind_matches(kind, ctrl & LA_CTRL_LOAD, ctrl & LA_CTRL_STORE))
			continue;
		/* One piece per doubleword the access touches (at most 3 for 16 bytes). */
		for (;;) {
			uint64_t end = (p | 7) < last ? (p | 7) : last;
			unsigned int mbyten = la_mbyten(p, (unsigned int)(end - p + 1));

			if ((p & ~ign) == (vaddr & ~ign) && (~bytemask & mbyten & 0xff)) {
				out->watch |= (uint32_t)HWBP_BIT(i);
				break;
			}
			if (end == last)
				break;
			p = end + 1;
		}
	}
}

const struct hwbp_arch_ops hwbp_loongarch_ops = {
	.arch = HWBP_ARCH_LOONGARCH64,
	.name = "loongarch64",
	.nwatch = LA_NSLOTS,
	.nbreak = LA_NSLOTS,
	.shared = false,
	.granule = 4,
	.has_read = true,
	/* 8 + 8: the first CPUs (3A5000); 14 + 14 since v6.14 on newer ones. */
	.pool = { .watch = 0xff, .brk = 0xff },
	.regs = la_regs,
	.nregs = LA_NREGS,
	.split_data = la_split_data,
	.check = la_check,
	.encode = la_encode,
	.decode = la_decode,
	.hits = la_hits,
};

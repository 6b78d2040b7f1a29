// SPDX-License-Identifier: MIT
/*
 * x86.c - x86-64 debug registers DR0-DR3, DR6, DR7
 *
 * Intel SDM Vol. 3B §17.2.4 (DR7 layout) and §17.2.5 (breakpoint field
 * recognition); ARCH.md section 1. Four slots shared by breakpoints and
 * watchpoints. A data slot watches 1, 2, 4 or 8 bytes aligned to their
 * length and traps on writes (R/W=01) or reads and writes (R/W=11): there is
 * no read-only watchpoint. An instruction slot (R/W=00, LEN=00) traps when
 * an instruction starts at DRn exactly.
 */
#include <errno.h>

#include "arch/arch.h"

enum {
	X86_DR0 = 0,	/* dr0..dr3 at 0..3 */
	X86_DR6 = 4,
	X86_DR7 = 5,
	X86_NREGS,
	X86_NSLOTS = 4,
};

static const char *const x86_regs[X86_NREGS] = {
	"dr0", "dr1", "dr2", "dr3", "dr6", "dr7",
};

/* DR7 R/Wn values (SDM §17.2.4). */
enum {
	X86_RW_EXEC = 0,
	X86_RW_WRITE = 1,
	X86_RW_IO = 2,		/* only with CR4.DE; not a memory watch */
	X86_RW_RW = 3,
};

/* DR7 LENn: 00 = 1 byte, 01 = 2, 11 = 4, 10 = 8. */
static const uint32_t x86_len_of[4] = { 1, 2, 8, 4 };

static unsigned int x86_len_bits(uint32_t len)
{
	switch (len) {
	case 1:
		return 0;
	case 2:
		return 1;
	case 4:
		return 3;
	case 8:
		return 2;
	}
	return 4;
}

static inline unsigned int dr7_enabled(uint64_t dr7, unsigned int n)
{
	return (dr7 >> (2 * n)) & 3;	/* Ln | Gn */
}

static inline unsigned int dr7_rw(uint64_t dr7, unsigned int n)
{
	return (dr7 >> (16 + 4 * n)) & 3;
}

static inline unsigned int dr7_len(uint64_t dr7, unsigned int n)
{
	return (dr7 >> (18 + 4 * n)) & 3;
}

static uint64_t x86_split_data(uint64_t addr, uint64_t len, enum hwbp_access armed,
			       struct hwbp_slot *out, unsigned int max)
{
	return hwbp_arch_split_aligned(addr, len, armed, out, max);
}

static int x86_check(const struct hwbp_slot *s)
{
	if (s->index >= X86_NSLOTS)
		return -EINVAL;
	switch (s->type) {
	case HWBP_SLOT_BREAK:
		/* An instruction slot needs LEN=00: 1 byte (SDM §17.2.5). */
		return s->access == HWBP_EXEC && s->len == 1 ? 0 : -EINVAL;
	case HWBP_SLOT_WATCH:
		if (s->access != HWBP_WRITE && s->access != HWBP_RW)
			return -EINVAL;
		if (x86_len_bits(s->len) > 3 || s->addr % s->len)
			return -EINVAL;
		return 0;
	}
	return -EINVAL;
}

/*
 * DR7 in "L style", as a tracer writes it: Ln, R/Wn and LENn only (no Gn,
 * no GE, no fixed bit 10). Slot 2, W, len 4: dr7 = 0x0D000010.
 */
static void x86_encode(struct hwbp_regs *regs, const struct hwbp_slot *s)
{
	unsigned int n = s->index;
	uint64_t dr7 = hwbp_arch_reg(regs, X86_DR7);
	uint64_t rw, len;

	if (s->type == HWBP_SLOT_BREAK) {
		rw = X86_RW_EXEC;
		len = 0;
	} else {
		rw = s->access == HWBP_WRITE ? X86_RW_WRITE : X86_RW_RW;
		len = x86_len_bits(s->len);
	}
	dr7 &= ~((3ull << (2 * n)) | (0xfull << (16 + 4 * n)));
	dr7 |= HWBP_BIT(2 * n) | (rw << (16 + 4 * n)) | (len << (18 + 4 * n));
	hwbp_arch_reg_put(regs, X86_DR0 + n, s->addr);
	hwbp_arch_reg_put(regs, X86_DR7, dr7);
}

static int x86_decode(const struct hwbp_regs *regs, struct hwbp_slot *out, unsigned int max,
		      unsigned int *n, char *why, size_t whylen)
{
	uint64_t dr7 = hwbp_arch_reg(regs, X86_DR7);
	unsigned int count = 0;

	for (unsigned int i = 0; i < X86_NSLOTS; i++) {
		unsigned int rw = dr7_rw(dr7, i), lenb = dr7_len(dr7, i);
		uint64_t addr = hwbp_arch_reg(regs, X86_DR0 + i);
		struct hwbp_slot s = { .index = i, .addr = addr };

		if (!dr7_enabled(dr7, i))
			continue;
		if (rw == X86_RW_IO) {
			hwbp_arch_why(why, whylen, "dr7: slot %u has R/W=10 (I/O breakpoint)", i);
			return -EINVAL;
		}
		if (rw == X86_RW_EXEC) {
			if (lenb) {
				hwbp_arch_why(why, whylen,
					      "dr7: slot %u is an instruction slot with LEN=%u%u, not 00",
					      i, lenb >> 1, lenb & 1);
				return -EINVAL;
			}
			s.type = HWBP_SLOT_BREAK;
			s.len = 1;
			s.access = HWBP_EXEC;
		} else {
			s.type = HWBP_SLOT_WATCH;
			s.len = x86_len_of[lenb];
			s.access = rw == X86_RW_WRITE ? HWBP_WRITE : HWBP_RW;
			if (addr % s.len) {
				hwbp_arch_why(why, whylen,
					      "dr%u: 0x%llx is not aligned to its length %u",
					      i, (unsigned long long)addr, (unsigned int)s.len);
				return -EINVAL;
			}
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
 * SDM §17.2.5: a data slot fires when any byte of the access lies in
 * [DRn, DRn+LEN); R/W=01 only on writes (a read-modify-write writes), R/W=11
 * on reads and writes. An instruction slot fires when an instruction starts
 * at DRn (its first prefix byte), never on a data access.
 */
static void x86_hits(const struct hwbp_regs *regs, uint64_t addr, unsigned int size,
		     enum hwbp_access kind, unsigned int flags, struct hwbp_hitset *out)
{
	uint64_t dr7 = hwbp_arch_reg(regs, X86_DR7);
	uint64_t last = hwbp_arch_last(addr, size);

	(void)flags;
	for (unsigned int i = 0; i < X86_NSLOTS; i++) {
		unsigned int rw = dr7_rw(dr7, i);
		uint64_t dr = hwbp_arch_reg(regs, X86_DR0 + i);
		uint32_t len = x86_len_of[dr7_len(dr7, i)];

		if (!dr7_enabled(dr7, i))
			continue;
		if (rw == X86_RW_EXEC) {
			if (kind == HWBP_EXEC && addr == dr)
				out->brk |= (uint32_t)HWBP_BIT(i);
			continue;
		}
		if (!hwbp_arch_kind_matches(kind, rw == X86_RW_RW, true))
			continue;
		if (hwbp_arch_overlap(addr, last, dr, hwbp_arch_last(dr, len)))
			out->watch |= (uint32_t)HWBP_BIT(i);
	}
}

const struct hwbp_arch_ops hwbp_x86_ops = {
	.arch = HWBP_ARCH_X86_64,
	.name = "x86_64",
	.nwatch = X86_NSLOTS,
	.nbreak = X86_NSLOTS,
	.shared = true,
	.granule = 1,
	.has_read = false,
	.pool = { .watch = 0xf, .brk = 0xf },
	.regs = x86_regs,
	.nregs = X86_NREGS,
	.split_data = x86_split_data,
	.check = x86_check,
	.encode = x86_encode,
	.decode = x86_decode,
	.hits = x86_hits,
};

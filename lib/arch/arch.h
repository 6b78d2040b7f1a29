/* SPDX-License-Identifier: MIT */
/*
 * arch.h - the arch layer's internal seam
 *
 * Each architecture fills one const struct hwbp_arch_ops in its own file
 * (x86.c, arm64.c, loongarch.c). arch.c holds what they share: the public
 * entry points of hwbp.h's arch part, argument checks, slot assignment from
 * a pool, the register name tables and the instruction-granule split.
 *
 * Everything here is pure: no system call, no allocation, no host #ifdef
 * (hwbp_arch_host() in arch.c is the one exception), so every architecture
 * is built and tested on every host.
 */
#ifndef HWBP_ARCH_ARCH_H
#define HWBP_ARCH_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hwbp/hwbp.h>

#ifndef HWBP_BIT
#define HWBP_BIT(n) (1ull << (n))
#endif

/*
 * One architecture.
 * @arch, @name:    enum value and hwbp_arch_name() string
 * @nwatch:         watchpoint slot indexes (x86-64: the shared pool)
 * @nbreak:         breakpoint slot indexes (x86-64: equal to @nwatch)
 * @shared:         one pool for both slot types (only struct hwbp_pool.watch
 *                  is read)
 * @granule:        bytes of one breakpoint slot, a power of two
 * @has_read:       read-only watchpoints exist (else a read is armed RW)
 * @pool:           hwbp_arch_pool()
 * @regs, @nregs:   register names by position in struct hwbp_regs.val
 * @split_data:     pieces of a data request, lowest address first, each a
 *                  slot without an index; writes at most MAX of them and
 *                  returns how many the request needs (may exceed MAX, and
 *                  is computed without walking huge ranges)
 * @check:          0 if the arch can hold SLOT, else -EINVAL
 * @encode:         write SLOT (already checked) into REGS
 * @decode:         the enabled slots, in slot order; -EINVAL with WHY for a
 *                  reserved or unsupported encoding, -ENOSPC beyond MAX
 * @hits:           the hardware's match rules applied to the raw register
 *                  values (already accepted by @decode); arguments checked
 */
struct hwbp_arch_ops {
	enum hwbp_arch arch;
	const char *name;
	unsigned int nwatch;
	unsigned int nbreak;
	bool shared;
	uint32_t granule;
	bool has_read;
	struct hwbp_pool pool;
	const char *const *regs;
	unsigned int nregs;
	uint64_t (*split_data)(uint64_t addr, uint64_t len, enum hwbp_access armed,
			       struct hwbp_slot *out, unsigned int max);
	int (*check)(const struct hwbp_slot *slot);
	void (*encode)(struct hwbp_regs *regs, const struct hwbp_slot *slot);
	int (*decode)(const struct hwbp_regs *regs, struct hwbp_slot *out, unsigned int max,
		      unsigned int *n, char *why, size_t whylen);
	void (*hits)(const struct hwbp_regs *regs, uint64_t addr, unsigned int size,
		     enum hwbp_access kind, unsigned int flags, struct hwbp_hitset *out);
};

extern const struct hwbp_arch_ops hwbp_x86_ops;
extern const struct hwbp_arch_ops hwbp_arm64_ops;
extern const struct hwbp_arch_ops hwbp_loongarch_ops;

/*
 * hwbp_arch_ops_get() - the ops of ARCH, or NULL for HWBP_ARCH_NONE and
 * values outside the enum.
 */
const struct hwbp_arch_ops *hwbp_arch_ops_get(enum hwbp_arch arch);

/*
 * hwbp_arch_split() - the pieces a request needs, before any pool is looked at
 * @arch, @addr, @len, @access: as for hwbp_arch_plan() (checked by the caller:
 *          len >= 1, access in the enum, no wrap)
 * @out:    room for MAX pieces: slots with index 0, the armed access (a read
 *          on x86-64 is armed HWBP_RW), lowest address first
 *
 * Used by hwbp_arch_plan(), and by tests that look at splits larger than a
 * CPU's pool.
 *
 * Return: the number of pieces needed; only the first MAX are written.
 * 0 for an unknown ARCH, and for an HWBP_EXEC ADDR at which no instruction
 * can start (arm64 and LoongArch: not 4-byte aligned).
 */
uint64_t hwbp_arch_split(enum hwbp_arch arch, uint64_t addr, uint64_t len,
			 enum hwbp_access access, struct hwbp_slot *out, unsigned int max);

/*
 * hwbp_arch_split_aligned() - pieces of 1, 2, 4 or 8 bytes, each aligned to
 * its length, that tile [ADDR, ADDR+LEN) exactly (x86-64 and LoongArch)
 *
 * x86, 0x1003 length 6: 3 pieces, 1 byte @0x1003, 4 @0x1004, 1 @0x1008.
 * Taking the largest aligned piece that fits at each step is optimal.
 *
 * Return: pieces needed; at most MAX written (see struct hwbp_arch_ops).
 */
uint64_t hwbp_arch_split_aligned(uint64_t addr, uint64_t len, enum hwbp_access armed,
				 struct hwbp_slot *out, unsigned int max);

/*
 * The ops of REGS's architecture when REGS is usable: not NULL, a known
 * architecture, and regs->sz with room for all of its registers; else NULL.
 */
const struct hwbp_arch_ops *hwbp_arch_regs_ops(const struct hwbp_regs *regs);

/* Write a one-line reason into WHY (if WHY and WHYLEN), printf style. */
void hwbp_arch_why(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Value at position POS of REGS; registers not set read as 0. */
static inline uint64_t hwbp_arch_reg(const struct hwbp_regs *regs, unsigned int pos)
{
	if (regs->set[pos / 64] & HWBP_BIT(pos % 64))
		return regs->val[pos];
	return 0;
}

/* Set position POS of REGS to VAL and mark it set. */
static inline void hwbp_arch_reg_put(struct hwbp_regs *regs, unsigned int pos, uint64_t val)
{
	regs->val[pos] = val;
	regs->set[pos / 64] |= HWBP_BIT(pos % 64);
}

/* Last byte of [ADDR, ADDR+LEN), LEN >= 1 and no wrap assumed. */
static inline uint64_t hwbp_arch_last(uint64_t addr, uint64_t len)
{
	return addr + (len - 1);
}

/* Do [A, A_LAST] and [B, B_LAST] share a byte? */
static inline bool hwbp_arch_overlap(uint64_t a, uint64_t a_last, uint64_t b, uint64_t b_last)
{
	return a <= b_last && b <= a_last;
}

/* Is ACCESS one of HWBP_READ, HWBP_WRITE, HWBP_RW? */
static inline bool hwbp_arch_is_data(enum hwbp_access access)
{
	return access == HWBP_READ || access == HWBP_WRITE || access == HWBP_RW;
}

/*
 * Does an access of KIND match a slot armed for loads (LOAD) and/or stores
 * (STORE)? A read-modify-write access is both a load and a store.
 */
static inline bool hwbp_arch_kind_matches(enum hwbp_access kind, bool load, bool store)
{
	switch (kind) {
	case HWBP_READ:
		return load;
	case HWBP_WRITE:
		return store;
	case HWBP_RW:
		return load || store;
	default:
		return false;
	}
}

#endif /* HWBP_ARCH_ARCH_H */

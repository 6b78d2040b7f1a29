// SPDX-License-Identifier: MIT
/*
 * arch.c - the arch layer's public entry points, shared by all architectures
 *
 * Splitting a request into pieces is each architecture's (split_data) or
 * shared (exec: instruction granules); what the pieces make of a pool is
 * the planner's (lib/planner.c, also hwbp_arch_plan()). Encode, decode and
 * the hit model check their arguments here and hand the work to the
 * architecture's ops.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "arch/arch.h"

#define HWBP_STR_(x) #x
#define HWBP_STR(x) HWBP_STR_(x)

/* See hwbp.h. */
HWBP_API const char *hwbp_version(void)
{
	return HWBP_STR(HWBP_VERSION_MAJOR) "." HWBP_STR(HWBP_VERSION_MINOR) "."
		HWBP_STR(HWBP_VERSION_PATCH);
}

/* See hwbp.h. */
HWBP_API const char *hwbp_access_name(enum hwbp_access access)
{
	switch (access) {
	case HWBP_READ:
		return "r";
	case HWBP_WRITE:
		return "w";
	case HWBP_RW:
		return "rw";
	case HWBP_EXEC:
		return "x";
	}
	return NULL;
}

const struct hwbp_arch_ops *hwbp_arch_ops_get(enum hwbp_arch arch)
{
	switch (arch) {
	case HWBP_ARCH_X86_64:
		return &hwbp_x86_ops;
	case HWBP_ARCH_ARM64:
		return &hwbp_arm64_ops;
	case HWBP_ARCH_LOONGARCH64:
		return &hwbp_loongarch_ops;
	case HWBP_ARCH_NONE:
		break;
	}
	return NULL;
}

/* See hwbp.h. */
HWBP_API const char *hwbp_arch_name(enum hwbp_arch arch)
{
	const struct hwbp_arch_ops *ops = hwbp_arch_ops_get(arch);

	return ops ? ops->name : NULL;
}

/* See hwbp.h. */
HWBP_API enum hwbp_arch hwbp_arch_from_name(const char *name)
{
	static const struct {
		const char *name;
		enum hwbp_arch arch;
	} names[] = {
		{ "x86_64", HWBP_ARCH_X86_64 },
		{ "x86-64", HWBP_ARCH_X86_64 },
		{ "amd64", HWBP_ARCH_X86_64 },
		{ "arm64", HWBP_ARCH_ARM64 },
		{ "aarch64", HWBP_ARCH_ARM64 },
		{ "loongarch64", HWBP_ARCH_LOONGARCH64 },
		{ "loong64", HWBP_ARCH_LOONGARCH64 },
	};

	if (!name)
		return HWBP_ARCH_NONE;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(name, names[i].name))
			return names[i].arch;
	return HWBP_ARCH_NONE;
}

/*
 * See hwbp.h. The only host check in the arch layer: everything else works
 * for every architecture on every host.
 */
HWBP_API enum hwbp_arch hwbp_arch_host(void)
{
#if defined(__x86_64__)
	return HWBP_ARCH_X86_64;
#elif defined(__aarch64__)
	return HWBP_ARCH_ARM64;
#elif defined(__loongarch64)
	return HWBP_ARCH_LOONGARCH64;
#else
	return HWBP_ARCH_NONE;
#endif
}

/* See hwbp.h. */
HWBP_API struct hwbp_pool hwbp_arch_pool(enum hwbp_arch arch)
{
	const struct hwbp_arch_ops *ops = hwbp_arch_ops_get(arch);
	struct hwbp_pool none = { 0, 0 };

	return ops ? ops->pool : none;
}

void hwbp_arch_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (!why || !whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/*
 * Breakpoint pieces: one slot per GRANULE-aligned block that holds a byte of
 * the range, since an instruction may start at any granule in it.
 * arm64, x:0x1000/8: 2 slots, 0x1000 and 0x1004; x:0x1000/2: 1 slot, the
 * whole instruction at 0x1000. An ADDR off the granule (arm64, LoongArch:
 * 4) is no instruction start, so nothing could ever match it: 0 pieces,
 * refused rather than widened to the instructions around it.
 */
static uint64_t split_exec(uint32_t granule, uint64_t addr, uint64_t len,
			   struct hwbp_slot *out, unsigned int max)
{
	uint64_t start = addr & ~(uint64_t)(granule - 1);
	uint64_t last = hwbp_arch_last(addr, len) | (granule - 1);
	uint64_t need = (last - start) / granule + 1;

	if (start != addr)
		return 0;

	for (uint64_t i = 0; i < need && i < max; i++) {
		out[i] = (struct hwbp_slot){
			.type = HWBP_SLOT_BREAK,
			.addr = start + i * granule,
			.len = granule,
			.access = HWBP_EXEC,
		};
	}
	return need;
}

/* Largest of 8, 4, 2, 1 that is aligned at P and no longer than R. */
static uint32_t aligned_piece(uint64_t p, uint64_t r)
{
	uint32_t s = 8;

	while (s > 1 && ((p & (s - 1)) || s > r))
		s >>= 1;
	return s;
}

uint64_t hwbp_arch_split_aligned(uint64_t addr, uint64_t len, enum hwbp_access armed,
				 struct hwbp_slot *out, unsigned int max)
{
	uint64_t need = 0, p = addr, r = len, mid;
	struct hwbp_slot piece = { .type = HWBP_SLOT_WATCH, .access = armed };

	/* Head: at most 3 pieces (1, 2, 4) until P is 8-aligned. */
	while (r && (p & 7)) {
		piece.addr = p;
		piece.len = aligned_piece(p, r);
		if (need < max)
			out[need] = piece;
		need++;
		p += piece.len;
		r -= piece.len;
	}
	/* Middle: whole doublewords, counted without walking them. */
	mid = r / 8;
	for (uint64_t i = 0; i < mid && need + i < max; i++) {
		piece.addr = p + i * 8;
		piece.len = 8;
		out[need + i] = piece;
	}
	need += mid;
	p += mid * 8;
	r -= mid * 8;
	/* Tail: at most 3 pieces (4, 2, 1). */
	while (r) {
		piece.addr = p;
		piece.len = aligned_piece(p, r);
		if (need < max)
			out[need] = piece;
		need++;
		p += piece.len;
		r -= piece.len;
	}
	return need;
}

uint64_t hwbp_arch_split(enum hwbp_arch arch, uint64_t addr, uint64_t len,
			 enum hwbp_access access, struct hwbp_slot *out, unsigned int max)
{
	const struct hwbp_arch_ops *ops = hwbp_arch_ops_get(arch);

	if (!ops)
		return 0;
	if (access == HWBP_EXEC)
		return split_exec(ops->granule, addr, len, out, max);
	if (access == HWBP_READ && !ops->has_read)
		access = HWBP_RW;
	return ops->split_data(addr, len, access, out, max);
}

_Static_assert(HWBP_REGS_MAX <= 64 * sizeof(((struct hwbp_regs *)0)->set) /
		       sizeof(uint64_t),
	       "struct hwbp_regs.set has a bit for every register");

/* Bytes of struct hwbp_regs that hold every register of OPS's architecture. */
static size_t regs_need(const struct hwbp_arch_ops *ops)
{
	return offsetof(struct hwbp_regs, val) + ops->nregs * sizeof(uint64_t);
}

const struct hwbp_arch_ops *hwbp_arch_regs_ops(const struct hwbp_regs *regs)
{
	const struct hwbp_arch_ops *ops;

	if (!regs)
		return NULL;
	ops = hwbp_arch_ops_get(regs->arch);
	if (!ops || regs->sz < regs_need(ops))
		return NULL;
	return ops;
}

/* See hwbp.h. */
HWBP_API int hwbp_regs_init(struct hwbp_regs *regs, size_t sz, enum hwbp_arch arch)
{
	const struct hwbp_arch_ops *ops = hwbp_arch_ops_get(arch);

	if (!regs || !ops || sz < regs_need(ops))
		return -EINVAL;
	memset(regs, 0, sz);
	regs->sz = sz;
	regs->arch = arch;
	return 0;
}

/* See hwbp.h. */
HWBP_API int hwbp_regs_lookup(enum hwbp_arch arch, const char *name, unsigned int *pos)
{
	const struct hwbp_arch_ops *ops = hwbp_arch_ops_get(arch);

	if (!ops || !name)
		return -ENOENT;
	for (unsigned int i = 0; i < ops->nregs; i++) {
		if (!strcasecmp(name, ops->regs[i])) {
			if (pos)
				*pos = i;
			return 0;
		}
	}
	return -ENOENT;
}

/* See hwbp.h. */
HWBP_API const char *hwbp_regs_name(enum hwbp_arch arch, unsigned int pos)
{
	const struct hwbp_arch_ops *ops = hwbp_arch_ops_get(arch);

	if (!ops || pos >= ops->nregs)
		return NULL;
	return ops->regs[pos];
}

/* Position of register NAME in usable REGS: 0, -EINVAL or -ENOENT. */
static int regs_pos(const struct hwbp_regs *regs, const char *name, unsigned int *pos)
{
	if (!hwbp_arch_regs_ops(regs))
		return -EINVAL;
	return hwbp_regs_lookup(regs->arch, name, pos);
}

/* See hwbp.h. */
HWBP_API int hwbp_regs_set(struct hwbp_regs *regs, const char *name, uint64_t value)
{
	unsigned int pos;
	int err = regs_pos(regs, name, &pos);

	if (err)
		return err;
	hwbp_arch_reg_put(regs, pos, value);
	return 0;
}

/* See hwbp.h. */
HWBP_API int hwbp_regs_get(const struct hwbp_regs *regs, const char *name, uint64_t *value)
{
	unsigned int pos;
	int err = regs_pos(regs, name, &pos);

	if (err)
		return err;
	if (!(regs->set[pos / 64] & HWBP_BIT(pos % 64)))
		return -ENODATA;
	if (value)
		*value = regs->val[pos];
	return 0;
}

/* See hwbp.h. */
HWBP_API int hwbp_arch_encode(struct hwbp_regs *regs, const struct hwbp_slot *slots,
			      unsigned int n)
{
	const struct hwbp_arch_ops *ops = hwbp_arch_regs_ops(regs);

	if (!ops || (n && !slots))
		return -EINVAL;
	/* Check every slot first, so that a refusal leaves REGS unchanged. */
	for (unsigned int i = 0; i < n; i++)
		if (ops->check(&slots[i]))
			return -EINVAL;
	for (unsigned int i = 0; i < n; i++)
		ops->encode(regs, &slots[i]);
	return 0;
}

/* See hwbp.h. */
HWBP_API int hwbp_arch_decode(const struct hwbp_regs *regs, struct hwbp_slot *out,
			      unsigned int max, unsigned int *n)
{
	const struct hwbp_arch_ops *ops = hwbp_arch_regs_ops(regs);
	struct hwbp_slot slots[2 * HWBP_SLOTS_MAX];
	unsigned int count = 0;
	int err;

	if (!ops || !n || (max && !out))
		return -EINVAL;
	err = ops->decode(regs, slots, 2 * HWBP_SLOTS_MAX, &count, NULL, 0);
	if (err)
		return err;
	if (count > max)
		return -ENOSPC;
	if (count)
		memcpy(out, slots, count * sizeof(slots[0]));
	*n = count;
	return 0;
}

/* See hwbp.h. */
HWBP_API size_t hwbp_arch_explain(const struct hwbp_regs *regs, char *buf, size_t len)
{
	const struct hwbp_arch_ops *ops = hwbp_arch_regs_ops(regs);
	struct hwbp_slot slots[2 * HWBP_SLOTS_MAX];
	char why[256] = "";
	unsigned int count;
	int n;

	if (!regs)
		snprintf(why, sizeof(why), "no register set");
	else if (!hwbp_arch_ops_get(regs->arch))
		snprintf(why, sizeof(why), "unknown architecture %d", (int)regs->arch);
	else if (!ops)
		snprintf(why, sizeof(why),
			 "the register set's sz (%zu) has no room for the %s registers",
			 regs->sz, hwbp_arch_name(regs->arch));
	else if (ops->decode(regs, slots, 2 * HWBP_SLOTS_MAX, &count, why, sizeof(why)) &&
		 !why[0])
		snprintf(why, sizeof(why), "the %s registers are not valid", ops->name);
	n = snprintf(buf, buf ? len : 0, "%s", why);
	return n > 0 ? (size_t)n : 0;
}

/* See hwbp.h. */
HWBP_API int hwbp_arch_hits(const struct hwbp_regs *regs, uint64_t addr, unsigned int size,
			    enum hwbp_access kind, unsigned int flags, struct hwbp_hitset *out)
{
	const struct hwbp_arch_ops *ops = hwbp_arch_regs_ops(regs);
	struct hwbp_slot slots[2 * HWBP_SLOTS_MAX];
	struct hwbp_hitset hits = { 0, 0 };
	unsigned int n;

	if (!ops || !out || (flags & ~HWBP_HIT_LA_LITERAL))
		return -EINVAL;
	if (kind != HWBP_EXEC) {
		if (!hwbp_arch_is_data(kind) || size < 1 || size > 16)
			return -EINVAL;
		if (hwbp_arch_last(addr, size) < addr)
			return -EINVAL;
	} else {
		size = 1;
	}
	/* The model only runs on register values decode accepts. */
	if (ops->decode(regs, slots, 2 * HWBP_SLOTS_MAX, &n, NULL, 0))
		return -EINVAL;
	ops->hits(regs, addr, size, kind, flags, &hits);
	*out = hits;
	return 0;
}

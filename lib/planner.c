// SPDX-License-Identifier: MIT
/*
 * planner.c - the slot planner (see planner.h)
 *
 * Example, x86-64 (one pool of 4): w:0x1000/8 and w:0x1004/4 need 2 slots,
 * 0x1000/8 and 0x1004/4; a third request w:0x1000/8 shares the first, so
 * the set still needs 2 of 4. arm64 (4 watch + 6 break, separate): a
 * 64-byte struct is 8 watch slots, refused with need_watch 8, free_watch 4,
 * whatever the break pool holds.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "arch/arch.h"
#include "planner.h"

#define PLANNER_PIECES_MAX (2 * HWBP_SLOTS_MAX)	/* room in struct hwbp_plan */

bool hwbp_planner_shared(enum hwbp_arch arch)
{
	const struct hwbp_arch_ops *ops = hwbp_arch_ops_get(arch);

	return ops && ops->shared;
}

static unsigned int clamp_count(uint64_t n)
{
	return n > UINT32_MAX ? UINT32_MAX : (unsigned int)n;
}

/* See planner.h. */
int hwbp_planner_whole(uint64_t addr, uint64_t len, enum hwbp_access access,
		       struct hwbp_plan *out)
{
	memset(out, 0, sizeof(*out));
	out->sz = sizeof(*out);
	if (!len || len > UINT32_MAX)
		return -EINVAL;
	out->nslots = 1;
	out->slots[0] = (struct hwbp_slot){ .type = access == HWBP_EXEC ? HWBP_SLOT_BREAK :
									 HWBP_SLOT_WATCH,
					    .addr = addr, .len = (uint32_t)len, .access = access };
	out->addr = addr;
	out->len = len;
	out->access = access;
	if (access == HWBP_EXEC)
		out->need_break = 1;
	else
		out->need_watch = 1;
	return 0;
}

int hwbp_planner_split(enum hwbp_arch arch, uint64_t addr, uint64_t len,
		       enum hwbp_access access, struct hwbp_plan *out)
{
	struct hwbp_plan *pl = out;
	const struct hwbp_slot *last;
	uint64_t n;

	memset(pl, 0, sizeof(*pl));
	pl->sz = sizeof(*pl);
	n = hwbp_arch_split(arch, addr, len, access, pl->slots, PLANNER_PIECES_MAX);
	if (!n)
		return -EINVAL;
	if (n > PLANNER_PIECES_MAX) {
		/* Longer than any CPU could take: no pieces, only the count,
		 * so that a refusal can say how many it needs. */
		memset(pl->slots, 0, sizeof(pl->slots));
		if (access == HWBP_EXEC)
			pl->need_break = clamp_count(n);
		else
			pl->need_watch = clamp_count(n);
		return -ENOSPC;
	}
	pl->nslots = (unsigned int)n;
	last = &pl->slots[n - 1];
	pl->addr = pl->slots[0].addr;
	pl->len = hwbp_arch_last(last->addr, last->len) - pl->addr + 1;
	pl->access = pl->slots[0].access;
	/* Exec pieces are instruction granules and data pieces the CPU's
	 * lengths: either may cover more than asked. */
	if (pl->addr != addr || pl->len != len)
		pl->flags |= HWBP_PLAN_WIDER_RANGE;
	if (pl->access != access)
		pl->flags |= HWBP_PLAN_WIDER_ACCESS;
	for (unsigned int i = 0; i < pl->nslots; i++) {
		if (pl->slots[i].type == HWBP_SLOT_WATCH)
			pl->need_watch++;
		else
			pl->need_break++;
	}
	return 0;
}

/* The counts of PL, into OUT (whose sz reaches them). */
static void copy_counts(const struct hwbp_plan *pl, struct hwbp_plan *out)
{
	out->need_watch = pl->need_watch;
	out->need_break = pl->need_break;
	out->free_watch = pl->free_watch;
	out->free_break = pl->free_break;
}

int hwbp_planner_copy_out(const struct hwbp_plan *pl, struct hwbp_plan *out, bool counts)
{
	const size_t head = offsetof(struct hwbp_plan, slots);
	size_t room, sz;

	if (!out || out->sz < head)
		return -EINVAL;
	sz = out->sz;
	room = (sz - head) / sizeof(out->slots[0]);
	if (pl->nslots > room) {
		if (counts)
			copy_counts(pl, out);
		return -EOVERFLOW;
	}
	memcpy(out, pl, head + pl->nslots * sizeof(pl->slots[0]));
	out->sz = sz;
	return 0;
}

bool hwbp_planner_same(const struct hwbp_slot *a, const struct hwbp_slot *b)
{
	return a->type == b->type && a->addr == b->addr && a->len == b->len &&
	       a->access == b->access;
}

int hwbp_planner_count(const struct hwbp_plan *const *plans, size_t n,
		       const struct hwbp_planner_pool *pool, struct hwbp_planner_need *out)
{
	const struct hwbp_slot **uniq = NULL;
	size_t nuniq = 0, cap = 0;
	struct hwbp_planner_need need = {
		.free_watch = pool->watch,
		.free_break = pool->shared ? pool->watch : pool->brk,
		.shared = pool->shared,
	};

	for (size_t k = 0; k < n; k++) {
		const struct hwbp_plan *pl = plans[k];

		if (!pl)
			continue;
		if (!pl->nslots) {
			need.need_watch += pl->need_watch;
			need.need_break += pl->need_break;
			need.too_long |= pl->need_watch || pl->need_break;
			continue;
		}
		for (unsigned int i = 0; i < pl->nslots; i++) {
			size_t j;

			for (j = 0; j < nuniq && !hwbp_planner_same(uniq[j], &pl->slots[i]); j++)
				;
			if (j < nuniq)
				continue;
			if (nuniq == cap) {
				size_t ncap = cap ? 2 * cap : 16;
				const struct hwbp_slot **u = realloc(uniq, ncap * sizeof(const struct hwbp_slot *));

				if (!u) {
					free(uniq);
					return -ENOMEM;
				}
				uniq = u;
				cap = ncap;
			}
			uniq[nuniq++] = &pl->slots[i];
			if (pl->slots[i].type == HWBP_SLOT_WATCH)
				need.need_watch++;
			else
				need.need_break++;
		}
	}
	free(uniq);
	*out = need;
	if (need.too_long)
		return -ENOSPC;
	if (need.shared)
		return need.need_watch + need.need_break > need.free_watch ? -ENOSPC : 0;
	return need.need_watch > need.free_watch || need.need_break > need.free_break ? -ENOSPC
										       : 0;
}

int hwbp_planner_index(uint32_t free, unsigned int *idx)
{
	if (!free)
		return -ENOSPC;
	*idx = (unsigned int)__builtin_ctz(free);
	return 0;
}

/* Mask of the slot indexes 0..N-1. */
static uint32_t index_mask(unsigned int n)
{
	return n >= 32 ? UINT32_MAX : (uint32_t)(HWBP_BIT(n) - 1);
}

/* See hwbp.h. */
HWBP_API int hwbp_arch_plan(enum hwbp_arch arch, uint64_t addr, uint64_t len,
			    enum hwbp_access access, const struct hwbp_pool *pool,
			    struct hwbp_plan *out)
{
	const struct hwbp_arch_ops *ops = hwbp_arch_ops_get(arch);
	struct hwbp_plan plan;
	uint32_t wfree, bfree, avail;
	struct hwbp_pool p;
	bool exec = access == HWBP_EXEC;
	int err;

	if (!ops)
		return -EOPNOTSUPP;
	if (!out || out->sz < offsetof(struct hwbp_plan, slots) || !len ||
	    (!exec && !hwbp_arch_is_data(access)))
		return -EINVAL;
	if (hwbp_arch_last(addr, len) < addr)
		return -EINVAL;
	p = pool ? *pool : ops->pool;
	wfree = p.watch & index_mask(ops->nwatch);
	bfree = ops->shared ? wfree : p.brk & index_mask(ops->nbreak);

	err = hwbp_planner_split(arch, addr, len, access, &plan);
	if (err == -EINVAL)
		return err;
	plan.free_watch = (unsigned int)__builtin_popcount(wfree);
	plan.free_break = (unsigned int)__builtin_popcount(bfree);
	/* One request uses one type of slot: data or exec. */
	if (err || (exec ? plan.need_break > plan.free_break : plan.need_watch > plan.free_watch)) {
		copy_counts(&plan, out);
		return -ENOSPC;
	}
	avail = exec ? bfree : wfree;
	for (unsigned int i = 0; i < plan.nslots; i++) {
		if (hwbp_planner_index(avail, &plan.slots[i].index))
			return -ENOSPC;	/* not reached: counted above */
		avail &= avail - 1;
	}
	return hwbp_planner_copy_out(&plan, out, true);
}

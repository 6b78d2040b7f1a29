/* SPDX-License-Identifier: MIT */
/*
 * planner.h - the slot planner: how requests become debug-register slots,
 * for any architecture on any host
 *
 * One place decides what the kernel's debug-register constraints mean for a
 * set of requests: the pieces a range splits into (the arch layer's split),
 * which pieces of different requests are one slot (same type, address,
 * length and access), how many slots of each type the set needs against a
 * pool (one shared pool on x86-64, separate watch and break pools
 * elsewhere), and which hardware index a slot takes. It is pure: no system
 * call, no host #ifdef; the core plans sessions with it, the backends ask
 * it whether the pool is shared and which index is free, and hwbp_arch_plan()
 * is its public face.
 */
#ifndef HWBP_PLANNER_H
#define HWBP_PLANNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hwbp/hwbp.h>

/* Slots a target has for a session: counts, not indexes. */
struct hwbp_planner_pool {
	unsigned int watch;	/* watchpoints (x86-64: the shared pool) */
	unsigned int brk;	/* breakpoints (x86-64: equal to watch) */
	bool shared;		/* one pool serves both types */
};

/* What a set of plans needs of a pool, and what the pool has. */
struct hwbp_planner_need {
	unsigned int need_watch, need_break;	/* distinct slots of each type */
	unsigned int free_watch, free_break;	/* the pool (shared: both the same) */
	bool shared;
	bool too_long;		/* a request needs more slots than any CPU has */
};

/*
 * hwbp_planner_shared() - does ARCH serve watchpoints and breakpoints from
 * one pool (x86-64's four DR0-DR3)? False for an unknown ARCH.
 */
bool hwbp_planner_shared(enum hwbp_arch arch);

/*
 * hwbp_planner_split() - the plan of one request on ARCH, without a pool
 * @out: pieces (index 0), range, access, HWBP_PLAN_* flags and need_*
 *       counts; free_* are left 0
 *
 * Return: 0; -EINVAL for an unknown ARCH or an HWBP_EXEC address no
 * instruction can start at (the caller has checked len, access and wrap);
 * -ENOSPC when the request needs more than HWBP_PIECES_MAX slots, with only
 * the need_* counts filled (UINT_MAX for any larger count).
 */
int hwbp_planner_split(enum hwbp_arch arch, uint64_t addr, uint64_t len,
		       enum hwbp_access access, struct hwbp_plan *out);

/*
 * hwbp_planner_whole() - the plan of one request for a backend without
 * debug registers (the guard backend): one slot of the whole range and
 * access as asked (a break slot for HWBP_EXEC: a software breakpoint at
 * ADDR), index 0.
 *
 * Return: 0; -EINVAL for a length of 0 or above UINT32_MAX.
 */
int hwbp_planner_whole(uint64_t addr, uint64_t len, enum hwbp_access access,
		       struct hwbp_plan *out);

/*
 * hwbp_planner_copy_out() - hand plan PL to a caller's OUT, as the public
 * rules of struct hwbp_plan say: only into the room out->sz gives
 * @counts: on -EOVERFLOW, fill OUT's counts (hwbp_arch_plan()) rather than
 *        leave it untouched (hwbp_point_plan())
 *
 * Return: 0; -EINVAL for a NULL OUT or an out->sz short of @slots;
 * -EOVERFLOW when PL has more slots than that room.
 */
int hwbp_planner_copy_out(const struct hwbp_plan *pl, struct hwbp_plan *out, bool counts);

/* Are A and B one slot: same type, address, length and access (not index)? */
bool hwbp_planner_same(const struct hwbp_slot *a, const struct hwbp_slot *b);

/*
 * hwbp_planner_count() - the distinct slots N plans need together, against
 * POOL. A NULL plan is skipped; a plan with nslots 0 and need_* set (a
 * refused, too long request) adds its counts and sets too_long.
 *
 * Return: 0 if they fit, -ENOSPC if not (OUT filled either way), -ENOMEM.
 */
int hwbp_planner_count(const struct hwbp_plan *const *plans, size_t n,
		       const struct hwbp_planner_pool *pool, struct hwbp_planner_need *out);

/*
 * hwbp_planner_index() - the lowest index set in FREE (a bit mask of free
 * hardware slots), into *IDX
 *
 * Return: 0, or -ENOSPC when FREE is 0.
 */
int hwbp_planner_index(uint32_t free, unsigned int *idx);

#endif /* HWBP_PLANNER_H */

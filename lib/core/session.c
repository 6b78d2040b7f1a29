// SPDX-License-Identifier: MIT
/*
 * session.c - sessions, points, slot sharing, plan and apply
 *
 * A point asks for a range; the arch layer splits it into pieces (slots).
 * Pieces of all points that ask for the same (type, addr, len, access)
 * share one struct hwbp_core_slot, which the backend arms once and which
 * stays armed while any enabled point uses it.
 *
 * Example: points A = w 0x1000/8 and B = w 0x1004/4 on x86-64 need 2 slots:
 * A's one piece 0x1000/8, and B's 0x1004/4. Point C = w 0x1000/8 shares A's
 * slot, so the session still needs 2.
 *
 * Counting: a backend counter counts from install. A point's count is
 * saved + sum over its pieces of (counter now - counter when the point
 * joined the slot), so that points joining a shared slot later, or slots
 * rewritten in place to a new address, count only their own hits.
 *
 * apply() is all or nothing: slots that go away are rewritten in place into
 * slots that come (so a move needs no spare register), the rest are
 * installed; if anything fails, every rewrite is undone and every new
 * install removed before the error is returned. Only then are the old
 * slots that nothing uses any more removed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "arch/arch.h"
#include "core/core.h"
#include "planner.h"

#define HWBP_PIECES_MAX (2 * HWBP_SLOTS_MAX)

struct hwbp_core_slot {
	struct hwbp_slot slot;			/* index is not used (the kernel picks) */
	struct hwbp_bk_slot *bk;		/* NULL while not installed */
	unsigned int refs;			/* pieces of points using it */
	bool enabled;				/* armed in the backend */
	uint64_t origin;			/* counter when it took this request */
	struct hwbp_tally origin_t;
	struct hwbp_core_slot *next;
	/* apply() scratch */
	unsigned int new_refs;
	bool new_enabled;
	bool fresh;				/* created by this apply */
	bool moved;				/* bk handed over to a fresh slot */
	struct hwbp_core_slot *pair;		/* the slot rewritten into this one */
};

struct hwbp_core_piece {
	struct hwbp_core_slot *cs;
	uint64_t base;
	struct hwbp_tally base_t;
};

struct hwbp_point {
	struct hwbp_session *s;
	struct hwbp_point *next;
	char *label;
	void *user;
	bool enabled;
	bool applied;				/* has pieces installed */
	bool pending;				/* n* holds a request not applied yet */
	bool planned;				/* nplan is valid */
	bool dead;				/* removed, kept until close (signal mode) */
	uint64_t addr, len;			/* in force */
	enum hwbp_access access;
	uint64_t naddr, nlen;			/* requested */
	enum hwbp_access naccess;
	struct hwbp_plan plan;
	struct hwbp_plan nplan;
	unsigned int npieces;
	struct hwbp_core_piece pieces[HWBP_PIECES_MAX];
	uint64_t saved;
	struct hwbp_tally saved_t;
	/* apply() scratch */
	struct hwbp_core_slot *npieces_cs[HWBP_PIECES_MAX];
};

struct hwbp_session {
	struct hwbp_session_opts o;
	const struct hwbp_backend *bk;
	struct hwbp_bk *b;
	enum hwbp_arch arch;
	struct hwbp_point *points;
	struct hwbp_core_slot *slots;
	struct hwbp_planner_need need;		/* the last plan's count */
	struct hwbp_backend_host host;		/* what the backend calls back */
	hwbp_hit_fn poll_fn;
	void *poll_arg;
};

static int session_deliver(void *ctx, const void *cookie, struct hwbp_hit *hit);
static void session_notify(void *ctx, const struct hwbp_notify *n);

_Static_assert(sizeof(struct hwbp_session_opts) == 96, "hwbp_session_opts grew: on purpose?");
_Static_assert(sizeof(struct hwbp_point_opts) == 32, "hwbp_point_opts grew: on purpose?");

int hwbp_core_opts_copy(void *dst, size_t dstsz, const void *src)
{
	const unsigned char *p = src;
	size_t sz;

	memset(dst, 0, dstsz);
	if (!src) {
		*(size_t *)dst = dstsz;
		return 0;
	}
	sz = *(const size_t *)src;
	if (sz < sizeof(size_t))
		return -EINVAL;
	for (size_t i = dstsz; i < sz; i++)
		if (p[i])
			return -EINVAL;
	memcpy(dst, src, sz < dstsz ? sz : dstsz);
	*(size_t *)dst = dstsz;
	return 0;
}

static const char *point_name(const struct hwbp_point *pt)
{
	return pt->label;
}

int hwbp_core_session_open(const struct hwbp_session_opts *opts, const struct hwbp_backend *bk,
			   struct hwbp_session **out)
{
	struct hwbp_session *s;
	int err;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	err = hwbp_core_opts_copy(&s->o, sizeof(s->o), opts);
	if (err)
		goto fail;
	err = -EINVAL;
	if (s->o.target > HWBP_TARGET_SYSTEM || s->o.delivery > HWBP_DELIVER_SIGNAL ||
	    s->o.backend > HWBP_BACKEND_GUARD)
		goto fail;
	if ((s->o.target == HWBP_TARGET_PID || s->o.target == HWBP_TARGET_TID) && s->o.pid <= 0)
		goto fail;
	if (s->o.delivery == HWBP_DELIVER_SIGNAL &&
	    ((s->o.target != HWBP_TARGET_SELF && s->o.target != HWBP_TARGET_THREAD) ||
	     !s->o.signal_fn))
		goto fail;
	if (s->o.per_thread && s->o.target == HWBP_TARGET_SYSTEM)
		goto fail;
	if (s->o.sample & ~(HWBP_SAMPLE_REGS | HWBP_SAMPLE_CALLCHAIN | HWBP_SAMPLE_STACK))
		goto fail;
	if (s->o.buffer_pages & (s->o.buffer_pages - 1))
		goto fail;
	if (!s->o.buffer_pages)
		s->o.buffer_pages = 64;
	if (!s->o.sample_stack_user)
		s->o.sample_stack_user = 8192;
	if (s->o.sample_stack_user % 8 || s->o.sample_stack_user >= 65528)
		goto fail;
	s->arch = hwbp_arch_host();
	if (!hwbp_arch_ops_get(s->arch)) {
		err = -EOPNOTSUPP;
		goto fail;
	}
	s->bk = bk;
	s->host = (struct hwbp_backend_host){ .ctx = s, .deliver = session_deliver,
					      .notify = session_notify };
	err = bk->open(&s->o, &s->host, &s->b);
	if (err)
		goto fail;
	*out = s;
	return 0;
fail:
	free(s);
	return err;
}

/* See hwbp.h. */
HWBP_API int hwbp_session_open(const struct hwbp_session_opts *opts, struct hwbp_session **out)
{
	enum hwbp_backend_kind kind = HWBP_BACKEND_AUTO;
	const struct hwbp_backend *bk = &hwbp_perf_backend;

	if (opts && opts->sz > offsetof(struct hwbp_session_opts, backend))
		kind = opts->backend;
	if (kind == HWBP_BACKEND_PTRACE)
		bk = &hwbp_ptrace_backend;
	else if (kind == HWBP_BACKEND_GUARD)
		bk = &hwbp_guard_backend;
	return hwbp_core_session_open(opts, bk, out);
}

/* See hwbp.h. */
HWBP_API int hwbp_session_guard_stats(const struct hwbp_session *s, struct hwbp_guard_stats *out)
{
	struct hwbp_guard_stats st = { .sz = sizeof(st) };
	int err;

	if (!out || out->sz < offsetof(struct hwbp_guard_stats, steps))
		return -EINVAL;
	if (!s->bk->guard_stats)
		return -EOPNOTSUPP;
	err = s->bk->guard_stats(s->b, &st);
	if (err)
		return err;
	st.sz = out->sz < sizeof(st) ? out->sz : sizeof(st);
	memcpy(out, &st, st.sz);
	return 0;
}

/* See hwbp.h. */
HWBP_API const char *hwbp_session_backend(const struct hwbp_session *s)
{
	return s->bk->name;
}

/* See hwbp.h. */
HWBP_API enum hwbp_backend_kind hwbp_session_backend_kind(const struct hwbp_session *s)
{
	return s->bk->kind;
}

static void slot_free(struct hwbp_core_slot *cs)
{
	hwbp_tally_free(&cs->origin_t);
	free(cs);
}

static void point_free(struct hwbp_point *pt)
{
	for (unsigned int i = 0; i < HWBP_PIECES_MAX; i++)
		hwbp_tally_free(&pt->pieces[i].base_t);
	hwbp_tally_free(&pt->saved_t);
	free(pt->label);
	free(pt);
}

/* See hwbp.h. */
HWBP_API void hwbp_session_close(struct hwbp_session *s)
{
	if (!s)
		return;
	/* The backend closes every descriptor first: nothing is armed after this. */
	s->bk->close(s->b);
	while (s->slots) {
		struct hwbp_core_slot *cs = s->slots;

		s->slots = cs->next;
		slot_free(cs);
	}
	while (s->points) {
		struct hwbp_point *pt = s->points;

		s->points = pt->next;
		point_free(pt);
	}
	free(s);
}

/* Is a range a kernel address? (the upper half on x86-64, arm64, LoongArch) */
static bool range_is_kernel(uint64_t addr, uint64_t len)
{
	return ((addr + (len - 1)) >> 63) != 0 || (addr >> 63) != 0;
}

static int check_request(const struct hwbp_session *s, uint64_t addr, uint64_t len,
			 enum hwbp_access access)
{
	if (!len || addr + (len - 1) < addr)
		return -EINVAL;
	if (access != HWBP_READ && access != HWBP_WRITE && access != HWBP_RW &&
	    access != HWBP_EXEC)
		return -EINVAL;
	/* arm64 and LoongArch instructions are 4-byte aligned: an execute
	 * breakpoint anywhere else could never match one. */
	if (access == HWBP_EXEC) {
		const struct hwbp_arch_ops *ops = hwbp_arch_ops_get(s->arch);

		if (ops && ops->granule > 1 && (addr & (ops->granule - 1)))
			return -EINVAL;
	}
	/* Kernel addresses only system-wide, and only with kernel watching on
	 * (the kernel refuses exclude_kernel=1 on one: ARCH.md 1.3). */
	if (range_is_kernel(addr, len) && (s->o.target != HWBP_TARGET_SYSTEM || !s->o.kernel))
		return -EINVAL;
	return 0;
}

/* See hwbp.h. */
HWBP_API int hwbp_point_add(struct hwbp_session *s, uint64_t addr, uint64_t len,
			enum hwbp_access access, const struct hwbp_point_opts *opts,
			struct hwbp_point **out)
{
	struct hwbp_point_opts o;
	struct hwbp_point *pt;
	int err;

	err = check_request(s, addr, len, access);
	if (err)
		return err;
	err = hwbp_core_opts_copy(&o, sizeof(o), opts);
	if (err)
		return err;
	pt = calloc(1, sizeof(*pt));
	if (!pt)
		return -ENOMEM;
	if (o.label) {
		pt->label = strdup(o.label);
	} else {
		char buf[64];

		snprintf(buf, sizeof(buf), "0x%llx/%llu:%s", (unsigned long long)addr,
			 (unsigned long long)len, hwbp_access_name(access));
		pt->label = strdup(buf);
	}
	if (!pt->label) {
		free(pt);
		return -ENOMEM;
	}
	pt->s = s;
	pt->user = o.user;
	pt->enabled = !o.disabled;
	pt->pending = true;
	pt->naddr = addr;
	pt->nlen = len;
	pt->naccess = access;
	/* Publish at the head: a signal handler walking the list sees either
	 * the old head or the complete new point. */
	pt->next = s->points;
	__atomic_store_n(&s->points, pt, __ATOMIC_RELEASE);
	*out = pt;
	return 0;
}

/* See hwbp.h. */
HWBP_API int hwbp_point_modify(struct hwbp_point *pt, uint64_t addr, uint64_t len,
			       enum hwbp_access access)
{
	int err = check_request(pt->s, addr, len, access);

	if (err)
		return err;
	pt->pending = true;
	pt->planned = false;
	pt->naddr = addr;
	pt->nlen = len;
	pt->naccess = access;
	return 0;
}

static int slot_count(struct hwbp_session *s, struct hwbp_core_slot *cs, uint64_t *v)
{
	return s->bk->count(s->b, cs->bk, v);
}

static int slot_threads(struct hwbp_session *s, struct hwbp_core_slot *cs,
			struct hwbp_tally *t)
{
	hwbp_tally_clear(t);
	if (!s->o.per_thread)
		return 0;
	return s->bk->threads(s->b, cs->bk, t);
}

/* Hits of an applied, enabled point since its pieces' bases, into *V and T. */
static int point_live(struct hwbp_point *pt, uint64_t *v, struct hwbp_tally *t)
{
	struct hwbp_session *s = pt->s;
	struct hwbp_tally cur = { 0 };
	int err = 0;

	*v = 0;
	for (unsigned int i = 0; i < pt->npieces && !err; i++) {
		uint64_t c;

		err = slot_count(s, pt->pieces[i].cs, &c);
		if (err)
			break;
		*v += c - pt->pieces[i].base;
		if (t && s->o.per_thread) {
			err = slot_threads(s, pt->pieces[i].cs, &cur);
			if (!err)
				err = hwbp_tally_merge(t, &cur, 1);
			if (!err)
				err = hwbp_tally_merge(t, &pt->pieces[i].base_t, -1);
		}
	}
	hwbp_tally_free(&cur);
	return err;
}

/* Set each piece's base to its slot's counter now. */
static int point_rebase(struct hwbp_point *pt)
{
	for (unsigned int i = 0; i < pt->npieces; i++) {
		struct hwbp_core_piece *pc = &pt->pieces[i];
		int err = slot_count(pt->s, pc->cs, &pc->base);

		if (!err)
			err = slot_threads(pt->s, pc->cs, &pc->base_t);
		if (err)
			return err;
	}
	return 0;
}

/* Arm or disarm the slot as its users want; 0 or the backend's error. */
static int slot_sync_enabled(struct hwbp_session *s, struct hwbp_core_slot *cs)
{
	bool want = false;
	int err;

	for (struct hwbp_point *pt = s->points; pt; pt = pt->next) {
		if (pt->dead || !pt->applied || !pt->enabled)
			continue;
		for (unsigned int i = 0; i < pt->npieces; i++)
			if (pt->pieces[i].cs == cs)
				want = true;
	}
	if (want == cs->enabled)
		return 0;
	err = s->bk->enable(s->b, cs->bk, want);
	if (!err)
		cs->enabled = want;
	return err;
}

static int point_set_enabled(struct hwbp_point *pt, bool on)
{
	struct hwbp_session *s = pt->s;
	uint64_t live;
	int err;

	if (pt->enabled == on)
		return 0;
	if (!pt->applied) {
		pt->enabled = on;
		return 0;
	}
	if (!on) {
		struct hwbp_tally t = { 0 };

		err = point_live(pt, &live, &t);
		if (!err)
			err = hwbp_tally_merge(&pt->saved_t, &t, 1);
		hwbp_tally_free(&t);
		if (err)
			return err;
		pt->saved += live;
	}
	pt->enabled = on;
	for (unsigned int i = 0; i < pt->npieces; i++) {
		err = slot_sync_enabled(s, pt->pieces[i].cs);
		if (err) {
			hwbp_log(HWBP_LOG_ERROR, "point '%s': cannot %s: %s", point_name(pt),
				      on ? "enable" : "disable", strerror(-err));
			pt->enabled = !on;
			for (unsigned int j = 0; j < i; j++)
				slot_sync_enabled(s, pt->pieces[j].cs);
			return err;
		}
	}
	if (on)
		return point_rebase(pt);
	return 0;
}

/* See hwbp.h. */
HWBP_API int hwbp_point_enable(struct hwbp_point *pt)
{
	return point_set_enabled(pt, true);
}

/* See hwbp.h. */
HWBP_API int hwbp_point_disable(struct hwbp_point *pt)
{
	return point_set_enabled(pt, false);
}

static void slot_unlink(struct hwbp_session *s, struct hwbp_core_slot *cs)
{
	for (struct hwbp_core_slot **pp = &s->slots; *pp; pp = &(*pp)->next) {
		if (*pp == cs) {
			*pp = cs->next;
			return;
		}
	}
}

/* See hwbp.h. */
HWBP_API void hwbp_point_remove(struct hwbp_point *pt)
{
	struct hwbp_session *s;

	if (!pt)
		return;
	s = pt->s;
	pt->dead = true;
	for (unsigned int i = 0; i < pt->npieces; i++) {
		struct hwbp_core_slot *cs = pt->pieces[i].cs;

		if (--cs->refs == 0) {
			s->bk->remove(s->b, cs->bk);
			slot_unlink(s, cs);
			slot_free(cs);
		} else if (slot_sync_enabled(s, cs)) {
			hwbp_log(HWBP_LOG_WARN, "point '%s': slot 0x%llx/%u stays armed",
				      point_name(pt), (unsigned long long)cs->slot.addr,
				      cs->slot.len);
		}
		pt->pieces[i].cs = NULL;
	}
	pt->npieces = 0;
	pt->applied = false;
	/* In signal mode a handler on another thread may be reading the list:
	 * keep the memory until hwbp_session_close(). */
	if (s->o.delivery == HWBP_DELIVER_SIGNAL)
		return;
	for (struct hwbp_point **pp = &s->points; *pp; pp = &(*pp)->next) {
		if (*pp == pt) {
			*pp = pt->next;
			break;
		}
	}
	point_free(pt);
}

/* See hwbp.h. */
HWBP_API int hwbp_point_count(struct hwbp_point *pt, uint64_t *hits)
{
	uint64_t live = 0;
	int err = 0;

	if (pt->applied && pt->enabled)
		err = point_live(pt, &live, NULL);
	if (err)
		return err;
	*hits = pt->saved + live;
	return 0;
}

/* See hwbp.h. */
HWBP_API int hwbp_point_threads(struct hwbp_point *pt, struct hwbp_thread_count *out, size_t max,
				size_t *n)
{
	struct hwbp_tally t = { 0 };
	uint64_t live;
	int err;

	if (!pt->s->o.per_thread)
		return -EINVAL;
	err = hwbp_tally_merge(&t, &pt->saved_t, 1);
	if (!err && pt->applied && pt->enabled)
		err = point_live(pt, &live, &t);
	if (!err) {
		size_t k = 0;

		for (size_t i = 0; i < t.n; i++) {
			if (!t.v[i].hits)
				continue;
			if (k < max)
				out[k] = t.v[i];
			k++;
		}
		*n = k;
	}
	hwbp_tally_free(&t);
	return err;
}

/* See hwbp.h. */
HWBP_API int hwbp_point_plan(const struct hwbp_point *pt, struct hwbp_plan *out)
{
	if (pt->pending && pt->planned)
		return hwbp_planner_copy_out(&pt->nplan, out, false);
	if (pt->applied)
		return hwbp_planner_copy_out(&pt->plan, out, false);
	return -ENODATA;
}

/* See hwbp.h. */
HWBP_API const char *hwbp_point_label(const struct hwbp_point *pt)
{
	return pt->label;
}

/* See hwbp.h. */
HWBP_API void *hwbp_point_user(const struct hwbp_point *pt)
{
	return pt->user;
}

/* Plan a point's pending request (the planner splits it for the session's arch). */
static int plan_point(struct hwbp_session *s, struct hwbp_point *pt, struct hwbp_plan *pl)
{
	int err = s->bk->kind == HWBP_BACKEND_GUARD ?
			  hwbp_planner_whole(pt->naddr, pt->nlen, pt->naccess, pl) :
			  hwbp_planner_split(s->arch, pt->naddr, pt->nlen, pt->naccess, pl);

	if (err == -ENOSPC)
		hwbp_log(HWBP_LOG_ERROR,
			      "point '%s': cannot watch 0x%llx/%llu: needs %u debug registers",
			      point_name(pt), (unsigned long long)pt->naddr,
			      (unsigned long long)pt->nlen, pl->need_watch + pl->need_break);
	return err;
}

/* Plan every live point and count, with the planner, the distinct slots
 * the session needs against the backend's pool, into s->need. */
static int plan_all(struct hwbp_session *s)
{
	struct hwbp_planner_pool pool;
	const struct hwbp_plan **plans;
	size_t n = 0;
	int err = 0;

	for (struct hwbp_point *pt = s->points; pt; pt = pt->next)
		n++;
	plans = calloc(n ? n : 1, sizeof(const struct hwbp_plan *));
	if (!plans)
		return -ENOMEM;
	n = 0;
	for (struct hwbp_point *pt = s->points; pt && !err; pt = pt->next) {
		struct hwbp_plan *pl = pt->pending ? &pt->nplan : &pt->plan;

		if (pt->dead)
			continue;
		if (pt->pending) {
			err = plan_point(s, pt, pl);
			pt->planned = !err || err == -ENOSPC;
			/* Too long: counted with the others, for the refusal. */
			if (err == -ENOSPC)
				err = 0;
		}
		plans[n++] = pl;
	}
	s->bk->capacity(s->b, &pool.watch, &pool.brk, &pool.shared);
	if (!err)
		err = hwbp_planner_count(plans, n, &pool, &s->need);
	free(plans);
	if (err == -ENOSPC) {
		if (s->need.shared)
			hwbp_log(HWBP_LOG_ERROR, "session: needs %u debug registers, %u free",
				      s->need.need_watch + s->need.need_break, s->need.free_watch);
		else
			hwbp_log(HWBP_LOG_ERROR,
				      "session: needs %u watchpoint and %u breakpoint registers, "
				      "%u and %u free",
				      s->need.need_watch, s->need.need_break, s->need.free_watch,
				      s->need.free_break);
	}
	/* Record the pool in each plan, for hwbp_point_plan(). */
	for (struct hwbp_point *pt = s->points; pt; pt = pt->next) {
		struct hwbp_plan *pl = pt->pending ? &pt->nplan : &pt->plan;

		pl->free_watch = s->need.free_watch;
		pl->free_break = s->need.free_break;
	}
	return err;
}

/* See hwbp.h. */
HWBP_API int hwbp_session_plan(struct hwbp_session *s)
{
	return plan_all(s);
}

/* See hwbp.h. */
HWBP_API int hwbp_session_need(const struct hwbp_session *s, struct hwbp_need *out)
{
	struct hwbp_need n = {
		.sz = sizeof(n),
		.need_watch = s->need.need_watch,
		.need_break = s->need.need_break,
		.free_watch = s->need.free_watch,
		.free_break = s->need.free_break,
		.shared = s->need.shared,
	};

	if (!out || out->sz < offsetof(struct hwbp_need, need_watch))
		return -EINVAL;
	/* An older caller's smaller struct gets the fields it knows. */
	n.sz = out->sz < sizeof(n) ? out->sz : sizeof(n);
	memcpy(out, &n, n.sz);
	return 0;
}

static struct hwbp_core_slot *slot_find(struct hwbp_core_slot *list, const struct hwbp_slot *sl)
{
	for (struct hwbp_core_slot *cs = list; cs; cs = cs->next)
		if (hwbp_planner_same(&cs->slot, sl))
			return cs;
	return NULL;
}

/* Undo the backend side of an apply that failed. */
static void apply_rollback(struct hwbp_session *s, struct hwbp_core_slot *fresh)
{
	for (struct hwbp_core_slot *cs = fresh; cs; cs = cs->next) {
		if (!cs->bk)
			continue;
		if (cs->pair) {
			struct hwbp_core_slot *old = cs->pair;
			int err = s->bk->modify(s->b, cs->bk, &old->slot, old->enabled, old);

			if (err)
				hwbp_log(HWBP_LOG_ERROR,
					      "slot 0x%llx/%u: cannot restore after a failed "
					      "change: %s",
					      (unsigned long long)old->slot.addr, old->slot.len,
					      strerror(-err));
			old->bk = cs->bk;
			old->moved = false;
		} else {
			s->bk->remove(s->b, cs->bk);
		}
		cs->bk = NULL;
	}
	for (struct hwbp_core_slot *cs = s->slots; cs; cs = cs->next) {
		if (cs->enabled != cs->new_enabled && cs->bk)
			s->bk->enable(s->b, cs->bk, cs->enabled);
	}
}

/*
 * The kernel refused a slot the plan counted on: another user (a debugger)
 * holds some. What is free is then what the kernel has left plus what the
 * session holds already: s->need says so, for hwbp_session_need().
 */
static void log_enospc(struct hwbp_session *s, unsigned int need_watch, unsigned int need_break)
{
	unsigned int fw = 0, fb = 0, hw = 0, hb = 0;
	int err = s->bk->free_slots(s->b, &fw, &fb);

	if (err) {
		hwbp_log(HWBP_LOG_ERROR,
			      "session: the kernel has no free debug register for %u more "
			      "(probing the free ones failed: %s)",
			      need_watch + need_break, strerror(-err));
		return;
	}
	for (const struct hwbp_core_slot *cs = s->slots; cs; cs = cs->next) {
		if (!cs->bk)
			continue;
		if (cs->slot.type == HWBP_SLOT_WATCH || s->need.shared)
			hw++;
		else
			hb++;
	}
	s->need.free_watch = fw + hw;
	s->need.free_break = s->need.shared ? s->need.free_watch : fb + hb;
	if (s->need.shared)
		hwbp_log(HWBP_LOG_ERROR,
			      "session: needs %u more debug registers, %u free in the target "
			      "(another user such as a debugger holds the others)",
			      need_watch + need_break, fw);
	else
		hwbp_log(HWBP_LOG_ERROR,
			      "session: needs %u more watchpoint and %u more breakpoint "
			      "registers, %u and %u free in the target",
			      need_watch, need_break, fw, fb);
}

/* One apply's state: the slots it creates and the counts taken before. */
struct apply {
	struct hwbp_core_slot *fresh, **fresh_tail;
	unsigned int add_watch, add_break;	/* fresh slots not rewritten from old ones */
	uint64_t *pre;				/* per point, in list order */
};

/* Map every piece of every live point to an existing slot or a fresh one. */
static int apply_map(struct hwbp_session *s, struct apply *ap, size_t *npts)
{
	for (struct hwbp_core_slot *cs = s->slots; cs; cs = cs->next) {
		cs->new_refs = 0;
		cs->new_enabled = false;
		cs->fresh = false;
		cs->moved = false;
		cs->pair = NULL;
	}
	*npts = 0;
	for (struct hwbp_point *pt = s->points; pt; pt = pt->next) {
		const struct hwbp_plan *pl = pt->pending ? &pt->nplan : &pt->plan;

		(*npts)++;
		if (pt->dead)
			continue;
		for (unsigned int i = 0; i < pl->nslots; i++) {
			struct hwbp_core_slot *cs = slot_find(s->slots, &pl->slots[i]);

			if (!cs)
				cs = slot_find(ap->fresh, &pl->slots[i]);
			if (!cs) {
				cs = calloc(1, sizeof(*cs));
				if (!cs)
					return -ENOMEM;
				cs->slot = pl->slots[i];
				cs->slot.index = 0;
				cs->fresh = true;
				*ap->fresh_tail = cs;
				ap->fresh_tail = &cs->next;
				if (cs->slot.type == HWBP_SLOT_WATCH)
					ap->add_watch++;
				else
					ap->add_break++;
			}
			cs->new_refs++;
			if (pt->enabled)
				cs->new_enabled = true;
			pt->npieces_cs[i] = cs;
		}
	}
	return 0;
}

/* Counts of the points about to change, read before any slot moves. */
static int apply_read_counts(struct hwbp_session *s, struct apply *ap, size_t npts)
{
	size_t k = 0;

	ap->pre = calloc(npts ? npts : 1, sizeof(*ap->pre));
	if (!ap->pre)
		return -ENOMEM;
	for (struct hwbp_point *pt = s->points; pt; pt = pt->next, k++) {
		if (!pt->dead && pt->pending && pt->applied && pt->enabled) {
			int err = point_live(pt, &ap->pre[k], NULL);

			if (err)
				return err;
		}
	}
	return 0;
}

/* The backend side: slots that go are rewritten in place into slots that
 * come (same type, any on a shared pool), the rest installed, then the
 * enabled states set. On failure the caller rolls back. */
static int apply_backend(struct hwbp_session *s, struct apply *ap)
{
	int err = 0;

	for (struct hwbp_core_slot *nw = ap->fresh; nw; nw = nw->next) {
		struct hwbp_core_slot *old = NULL;

		for (struct hwbp_core_slot *cs = s->slots; cs && !old; cs = cs->next)
			if (!cs->new_refs && !cs->moved && cs->bk &&
			    (s->need.shared || cs->slot.type == nw->slot.type))
				old = cs;
		if (!old)
			break;
		err = slot_count(s, old, &nw->origin);
		if (!err)
			err = slot_threads(s, old, &nw->origin_t);
		if (!err)
			err = s->bk->modify(s->b, old->bk, &nw->slot, nw->new_enabled, nw);
		if (err == -EOPNOTSUPP)
			break;	/* not in place: install below, remove the old one after */
		if (err)
			return err;
		nw->bk = old->bk;
		nw->pair = old;
		nw->enabled = nw->new_enabled;
		old->moved = true;
		if (nw->slot.type == HWBP_SLOT_WATCH)
			ap->add_watch--;
		else
			ap->add_break--;
	}
	for (struct hwbp_core_slot *nw = ap->fresh; nw; nw = nw->next) {
		if (nw->bk)
			continue;
		err = s->bk->install(s->b, &nw->slot, nw->new_enabled, nw, &nw->bk);
		if (err)
			return err;
		nw->enabled = nw->new_enabled;
		nw->origin = 0;
	}
	for (struct hwbp_core_slot *cs = s->slots; cs; cs = cs->next) {
		if (!cs->new_refs || cs->enabled == cs->new_enabled)
			continue;
		err = s->bk->enable(s->b, cs->bk, cs->new_enabled);
		if (err)
			return err;
	}
	return 0;
}

/* Committed: the slot list becomes the fresh slots and the kept ones;
 * nothing here can fail in the backend. */
static void apply_commit_slots(struct hwbp_session *s, struct apply *ap)
{
	for (struct hwbp_core_slot *cs = s->slots; cs; cs = cs->next)
		if (cs->new_refs)
			cs->enabled = cs->new_enabled;
	for (struct hwbp_core_slot **pp = &s->slots; *pp;) {
		struct hwbp_core_slot *cs = *pp;

		if (cs->new_refs) {
			cs->refs = cs->new_refs;
			pp = &cs->next;
			continue;
		}
		if (!cs->moved)
			s->bk->remove(s->b, cs->bk);
		*pp = cs->next;
		/* Pieces of points being changed still point here; they are
		 * re-pointed by apply_commit_points() before anyone reads them. */
		slot_free(cs);
	}
	for (struct hwbp_core_slot *cs = ap->fresh; cs; cs = cs->next) {
		cs->refs = cs->new_refs;
		cs->pair = NULL;
	}
	*ap->fresh_tail = s->slots;
	s->slots = ap->fresh;
	ap->fresh = NULL;
}

/* Committed: each changed point takes its new plan, pieces and bases. */
static void apply_commit_points(struct hwbp_session *s, const struct apply *ap)
{
	size_t k = 0;

	for (struct hwbp_point *pt = s->points; pt; pt = pt->next, k++) {
		if (pt->dead || !pt->pending)
			continue;
		pt->saved += ap->pre[k];
		pt->plan = pt->nplan;
		pt->addr = pt->naddr;
		pt->len = pt->nlen;
		pt->access = pt->naccess;
		pt->npieces = pt->plan.nslots;
		for (unsigned int i = 0; i < pt->npieces; i++) {
			struct hwbp_core_piece *pc = &pt->pieces[i];

			pc->cs = pt->npieces_cs[i];
			if (pc->cs->fresh) {
				pc->base = pc->cs->origin;
				hwbp_tally_clear(&pc->base_t);
				hwbp_tally_merge(&pc->base_t, &pc->cs->origin_t, 1);
			} else if (slot_count(s, pc->cs, &pc->base) ||
				   slot_threads(s, pc->cs, &pc->base_t)) {
				hwbp_log(HWBP_LOG_WARN, "point '%s': cannot read its counter",
					      point_name(pt));
			}
		}
		pt->applied = true;
		pt->pending = false;
		pt->planned = false;
	}
	for (struct hwbp_core_slot *cs = s->slots; cs; cs = cs->next)
		cs->fresh = false;
}

/* See hwbp.h. */
HWBP_API int hwbp_session_apply(struct hwbp_session *s)
{
	struct apply ap = { .fresh = NULL };
	size_t npts;
	int err;

	err = plan_all(s);
	if (err)
		return err;
	ap.fresh_tail = &ap.fresh;
	err = apply_map(s, &ap, &npts);
	if (!err)
		err = apply_read_counts(s, &ap, npts);
	if (!err) {
		err = apply_backend(s, &ap);
		if (err) {
			apply_rollback(s, ap.fresh);
			if (err == -ENOSPC)
				log_enospc(s, ap.add_watch, ap.add_break);
		}
	}
	if (!err) {
		apply_commit_slots(s, &ap);
		apply_commit_points(s, &ap);
	}
	while (ap.fresh) {
		struct hwbp_core_slot *cs = ap.fresh;

		ap.fresh = cs->next;
		slot_free(cs);
	}
	free(ap.pre);
	return err;
}

/* See hwbp.h. */
HWBP_API int hwbp_session_fd(struct hwbp_session *s)
{
	return s->bk->fd(s->b);
}

/* See hwbp.h. */
HWBP_API int hwbp_session_poll(struct hwbp_session *s, int timeout_ms, hwbp_hit_fn fn, void *arg)
{
	int err;

	s->poll_fn = fn;
	s->poll_arg = arg;
	err = s->bk->poll(s->b, timeout_ms);
	s->poll_fn = NULL;
	s->poll_arg = NULL;
	return err;
}

/* See hwbp.h. */
HWBP_API int hwbp_session_lost(struct hwbp_session *s, uint64_t *lost)
{
	return s->bk->lost(s->b, lost);
}

/* The backend's deliver() (struct hwbp_backend_host). */
static int session_deliver(void *ctx, const void *cookie, struct hwbp_hit *hit)
{
	struct hwbp_session *s = ctx;
	struct hwbp_point *pt = __atomic_load_n(&s->points, __ATOMIC_ACQUIRE);

	for (; pt; pt = pt->next) {
		if (pt->dead || !pt->applied || !pt->enabled)
			continue;
		for (unsigned int i = 0; i < pt->npieces; i++) {
			if (pt->pieces[i].cs != cookie)
				continue;
			hit->point = pt;
			hit->piece = i;
			/* A backend that queues hits says what the slot watched
			 * when it fired: the point may have moved since. */
			if (!hit->len) {
				hit->addr = pt->plan.slots[i].addr;
				hit->len = pt->plan.slots[i].len;
				hit->access = pt->plan.slots[i].access;
			}
			if (s->o.delivery == HWBP_DELIVER_SIGNAL) {
				s->o.signal_fn(hit, s->o.signal_arg);
			} else if (s->poll_fn) {
				if (s->poll_fn(hit, s->poll_arg))
					return 1;
			}
		}
	}
	return 0;
}

/* The backend's notify() (struct hwbp_backend_host). */
static void session_notify(void *ctx, const struct hwbp_notify *n)
{
	const struct hwbp_session *s = ctx;

	if (s->o.notify_fn)
		s->o.notify_fn(n, s->o.notify_arg);
}

// SPDX-License-Identifier: MIT
/*
 * plan.c - guarded ranges: which pages to protect, what to refuse, and what
 * a fault means (see plan.h)
 *
 * The wanted protection is computed by a sweep over range boundaries, each
 * range widened to whole pages, and cut again wherever the original
 * protection changes (a mapping's edge, or a committed run's). So a 1 MiB
 * range costs a few steps, not 256 pages or a million bytes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "guard/plan.h"

struct hwbp_guard_range {
	uint64_t addr, len;
	enum hwbp_access access;
	uint64_t cookie;
};

/* Runs, lowest address first, disjoint; adjacent equal runs merged. */
struct runs {
	struct hwbp_guard_run *v;
	size_t n, cap;
};

struct hwbp_guard_set {
	uint64_t page;
	struct hwbp_guard_maps *maps;
	struct hwbp_guard_forbid *forbid;
	size_t nforbid;
	struct hwbp_guard_range *range;
	size_t nrange, caprange;
	struct runs want;	/* what the ranges need */
	struct runs done;	/* what the engine applied (hwbp_guard_set_commit()) */
};

static inline uint64_t page_down(const struct hwbp_guard_set *set, uint64_t a)
{
	return a & ~(set->page - 1);
}

static inline uint64_t run_end(const struct hwbp_guard_run *r)
{
	return r->addr + r->len;
}

static inline uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/*
 * The pages holding [addr, addr+len): [*LO, *HI). False when the last page
 * ends at the top of the address space (no user mapping is there).
 */
static bool range_pages(const struct hwbp_guard_set *set, const struct hwbp_guard_range *r,
			uint64_t *lo, uint64_t *hi)
{
	*lo = page_down(set, r->addr);
	*hi = page_down(set, r->addr + (r->len - 1)) + set->page;
	return *hi != 0;
}

static bool is_data(enum hwbp_access a)
{
	return a == HWBP_READ || a == HWBP_WRITE || a == HWBP_RW;
}

/* Does PROT let the target make an access of KIND? */
static bool prot_allows(unsigned int prot, enum hwbp_access kind)
{
	switch (kind) {
	case HWBP_READ:
		return prot & PROT_READ;
	case HWBP_WRITE:
		return prot & PROT_WRITE;
	case HWBP_RW:
		return (prot & PROT_READ) && (prot & PROT_WRITE);
	default:
		return false;
	}
}

/* Does an access of KIND hit a range watching WATCHED? */
static bool kind_hits(enum hwbp_access watched, enum hwbp_access kind)
{
	if (kind == HWBP_RW || watched == HWBP_RW)
		return true;
	return kind == watched;
}

/* Does the original protection ORIG let the target do some of WATCHED? */
static bool watch_possible(unsigned int orig, enum hwbp_access watched)
{
	if (watched == HWBP_READ)
		return orig & PROT_READ;
	if (watched == HWBP_WRITE)
		return orig & PROT_WRITE;
	return orig & (PROT_READ | PROT_WRITE);
}

/* --- runs -------------------------------------------------------------------- */

static int runs_push(struct runs *rs, uint64_t addr, uint64_t len, unsigned int orig,
		     unsigned int prot)
{
	struct hwbp_guard_run *last = rs->n ? &rs->v[rs->n - 1] : NULL;

	if (last && run_end(last) == addr && last->orig == orig && last->prot == prot) {
		last->len += len;
		return 0;
	}
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? 2 * rs->cap : 16;
		struct hwbp_guard_run *v = realloc(rs->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		rs->v = v;
		rs->cap = cap;
	}
	rs->v[rs->n++] = (struct hwbp_guard_run){ addr, len, orig, prot };
	return 0;
}

static void runs_free(struct runs *rs)
{
	free(rs->v);
	*rs = (struct runs){ 0 };
}

/* A copy of RS into *OUT, with room for exactly its runs. */
static int runs_clone(const struct runs *rs, struct runs *out)
{
	*out = (struct runs){ 0 };
	if (!rs->n)
		return 0;
	out->v = malloc(rs->n * sizeof(*out->v));
	if (!out->v)
		return -ENOMEM;
	memcpy(out->v, rs->v, rs->n * sizeof(*out->v));
	out->n = out->cap = rs->n;
	return 0;
}

/* RS without the pages [LO, HI), into *OUT: runs there are cut at LO and HI. */
static int runs_cut(const struct runs *rs, uint64_t lo, uint64_t hi, struct runs *out)
{
	int err = 0;

	*out = (struct runs){ 0 };
	for (size_t i = 0; i < rs->n && !err; i++) {
		const struct hwbp_guard_run *r = &rs->v[i];
		uint64_t end = run_end(r);

		if (end <= lo || hi <= r->addr) {
			err = runs_push(out, r->addr, r->len, r->orig, r->prot);
			continue;
		}
		if (r->addr < lo)
			err = runs_push(out, r->addr, lo - r->addr, r->orig, r->prot);
		if (!err && hi < end)
			err = runs_push(out, hi, end - hi, r->orig, r->prot);
	}
	if (err)
		runs_free(out);
	return err;
}

/* Index of the first run that ends after ADDR (RS->n if none). */
static size_t runs_lower(const struct runs *rs, uint64_t addr)
{
	size_t lo = 0, hi = rs->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (run_end(&rs->v[mid]) <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const struct hwbp_guard_run *runs_find(const struct runs *rs, uint64_t addr)
{
	size_t i = runs_lower(rs, addr);

	return i < rs->n && rs->v[i].addr <= addr ? &rs->v[i] : NULL;
}

/*
 * Output of the size_t functions: runs merged as they come, counted past
 * MAX, written while there is room.
 */
struct sink {
	struct hwbp_guard_run *out;
	size_t max, n;
	struct hwbp_guard_run last;
	bool held;
};

static void sink_flush(struct sink *s)
{
	if (!s->held)
		return;
	if (s->n < s->max)
		s->out[s->n] = s->last;
	s->n++;
	s->held = false;
}

static void sink_push(struct sink *s, uint64_t addr, uint64_t len, unsigned int orig,
		      unsigned int prot)
{
	if (s->held && run_end(&s->last) == addr && s->last.orig == orig && s->last.prot == prot) {
		s->last.len += len;
		return;
	}
	sink_flush(s);
	s->last = (struct hwbp_guard_run){ addr, len, orig, prot };
	s->held = true;
}

/* --- original protection ------------------------------------------------------ */

/*
 * The original protection from CUR on, in *ORIG, and where it may change:
 * the end of CUR's mapping in MAPS or of its committed run, at most HI.
 * A committed run's recorded original wins over the maps, which show hwbp's
 * own protection. Return: that end, or 0 if CUR is not mapped.
 */
static uint64_t orig_segment(const struct hwbp_guard_set *set, const struct hwbp_guard_maps *maps,
			     uint64_t cur, uint64_t hi, unsigned int *orig)
{
	const struct hwbp_guard_map *m = hwbp_guard_maps_find(maps, cur);
	uint64_t end;
	size_t i;

	if (!m)
		return 0;
	end = min_u64(m->end, hi);
	*orig = m->prot;
	i = runs_lower(&set->done, cur);
	if (i < set->done.n) {
		const struct hwbp_guard_run *r = &set->done.v[i];

		if (r->addr <= cur) {
			*orig = r->orig;
			end = min_u64(end, run_end(r));
		} else {
			end = min_u64(end, r->addr);
		}
	}
	return end;
}

/* --- refusals ----------------------------------------------------------------- */

/*
 * Refuse R because its pages hold [RLO, RHI), which is PREP ("on", "in")
 * WHAT, for REASON: "0x7ffd1000/8 is on the stack of thread 4242: the kernel
 * writes signal frames there", or "... shares page 0x7ffd1000 with ..."
 * when only R's pages, not its bytes, reach that memory.
 */
static int refuse(const struct hwbp_guard_set *set, const struct hwbp_guard_range *r,
		  uint64_t rlo, uint64_t rhi, const char *prep, const char *what,
		  const char *reason, char *why, size_t whylen)
{
	uint64_t last = r->addr + (r->len - 1);

	if (rlo <= last && r->addr < rhi) {
		hwbp_arch_why(why, whylen, "0x%" PRIx64 "/%" PRIu64 " is %s %s: %s", r->addr, r->len,
			  prep, what, reason);
	} else {
		uint64_t lo = page_down(set, r->addr);
		uint64_t page = page_down(set, rlo > lo ? rlo : lo);

		hwbp_arch_why(why, whylen, "0x%" PRIx64 "/%" PRIu64 " shares page 0x%" PRIx64 " with %s: %s",
			  r->addr, r->len, page, what, reason);
	}
	return -EINVAL;
}

/* Refuse R if mapping M, which holds some of R's pages, must not be guarded. */
static int check_map(const struct hwbp_guard_set *set, const struct hwbp_guard_range *r,
		     const struct hwbp_guard_map *m, char *why, size_t whylen)
{
	char what[128];

	switch (m->kind) {
	case HWBP_GUARD_STACK:
		return refuse(set, r, m->start, m->end, "on", m->name,
			      "the kernel writes signal frames there", why, whylen);
	case HWBP_GUARD_VDSO:
		return refuse(set, r, m->start, m->end, "in", m->name,
			      "the kernel's own code page, which hwbp never protects", why,
			      whylen);
	case HWBP_GUARD_VVAR:
		return refuse(set, r, m->start, m->end, "in", m->name,
			      "the kernel updates it (the clocks) without a fault", why, whylen);
	case HWBP_GUARD_VSYSCALL:
		return refuse(set, r, m->start, m->end, "in", m->name,
			      "a fixed kernel page that mprotect cannot change", why, whylen);
	default:
		break;
	}
	if (m->shared) {
		if (*m->name)
			snprintf(what, sizeof(what), "a shared mapping of %s", m->name);
		else
			snprintf(what, sizeof(what), "a shared anonymous mapping");
		return refuse(set, r, m->start, m->end, "in", what,
			      "another process can write it unseen", why, whylen);
	}
	return 0;
}

static int check_forbid(const struct hwbp_guard_set *set, const struct hwbp_guard_range *r,
			const struct hwbp_guard_forbid *f, char *why, size_t whylen)
{
	char what[64];

	switch (f->kind) {
	case HWBP_GUARD_THREAD_STACK:
		snprintf(what, sizeof(what), "the stack of thread %d", f->tid);
		return refuse(set, r, f->addr, f->addr + f->len, "on", what,
			      "the kernel writes signal frames there", why, whylen);
	case HWBP_GUARD_TCB:
		snprintf(what, sizeof(what), "the thread control block of thread %d", f->tid);
		return refuse(set, r, f->addr, f->addr + f->len, "in", what,
			      "the kernel writes the thread id there at exit (CLONE_CHILD_CLEARTID)",
			      why, whylen);
	case HWBP_GUARD_RSEQ:
		snprintf(what, sizeof(what), "the rseq area of thread %d", f->tid);
		return refuse(set, r, f->addr, f->addr + f->len, "in", what,
			      "the kernel writes it at every preemption and migration", why,
			      whylen);
	}
	snprintf(what, sizeof(what), "memory thread %d marked as written by the kernel", f->tid);
	return refuse(set, r, f->addr, f->addr + f->len, "in", what,
		      "the kernel writes it on its own", why, whylen);
}

/* 0 if R may be guarded with MAPS and FORBID, else -EINVAL and WHY. */
static int check_range(const struct hwbp_guard_set *set, const struct hwbp_guard_maps *maps,
		       const struct hwbp_guard_forbid *forbid, size_t nforbid,
		       const struct hwbp_guard_range *r, char *why, size_t whylen)
{
	uint64_t lo, hi;

	if (!r->len || r->addr + (r->len - 1) < r->addr) {
		hwbp_arch_why(why, whylen, "0x%" PRIx64 "/%" PRIu64 ": %s", r->addr, r->len,
			  r->len ? "wraps past the top of the address space" : "length 0");
		return -EINVAL;
	}
	if (!is_data(r->access)) {
		hwbp_arch_why(why, whylen,
			  "0x%" PRIx64 "/%" PRIu64 ": only r, w and rw are guarded by page "
			  "protection (x is a software breakpoint)", r->addr, r->len);
		return -EINVAL;
	}
	if (!range_pages(set, r, &lo, &hi)) {
		hwbp_arch_why(why, whylen, "0x%" PRIx64 "/%" PRIu64 ": its last page ends the address "
			  "space, where no user page is", r->addr, r->len);
		return -EINVAL;
	}
	for (uint64_t cur = lo; cur < hi;) {
		const struct hwbp_guard_map *m = hwbp_guard_maps_find(maps, cur);
		char what[64];
		int err;

		if (!m) {
			snprintf(what, sizeof(what), "unmapped memory at 0x%" PRIx64, cur);
			return refuse(set, r, cur, cur + 1, "in", what, "there is no page to guard",
				      why, whylen);
		}
		err = check_map(set, r, m, why, whylen);
		if (err)
			return err;
		cur = m->end;
	}
	for (size_t i = 0; i < nforbid; i++) {
		const struct hwbp_guard_forbid *f = &forbid[i];

		if (f->len && f->addr < hi && lo < f->addr + f->len) {
			int err = check_forbid(set, r, f, why, whylen);

			if (err)
				return err;
		}
	}
	return 0;
}

/* --- the wanted protection ---------------------------------------------------- */

/* A range's edge, widened to pages: COUNT[CLS] changes by DELTA at POS. */
struct edge {
	uint64_t pos;
	int delta;
	int cls;	/* 0 read, 1 write, 2 read/write */
};

static int edge_cmp(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;

	return (x->pos > y->pos) - (x->pos < y->pos);
}

/*
 * The protection of a page with original ORIG under COUNT[] ranges of each
 * class (see hwbp_guard_set_runs()).
 */
static unsigned int want_prot(unsigned int orig, const long count[3])
{
	if ((count[0] && (orig & PROT_READ)) || (count[2] && (orig & (PROT_READ | PROT_WRITE))))
		return PROT_NONE;
	if ((count[1] || count[2]) && (orig & PROT_WRITE))
		return orig & ~(unsigned int)PROT_WRITE;
	return orig;
}

static int access_cls(enum hwbp_access a)
{
	return a == HWBP_READ ? 0 : a == HWBP_WRITE ? 1 : 2;
}

/* The runs SET's ranges need with MAPS, into OUT (emptied first). */
static int compute_want(const struct hwbp_guard_set *set, const struct hwbp_guard_maps *maps,
			struct runs *out)
{
	size_t ne = 2 * set->nrange, i = 0;
	long count[3] = { 0, 0, 0 };
	struct edge *e;
	int err = 0;

	out->n = 0;
	if (!ne)
		return 0;
	e = malloc(ne * sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (size_t k = 0; k < set->nrange; k++) {
		uint64_t lo, hi;
		int cls = access_cls(set->range[k].access);

		range_pages(set, &set->range[k], &lo, &hi);
		e[2 * k] = (struct edge){ lo, 1, cls };
		e[2 * k + 1] = (struct edge){ hi, -1, cls };
	}
	qsort(e, ne, sizeof(*e), edge_cmp);
	while (i < ne && !err) {
		uint64_t p = e[i].pos, q;

		for (; i < ne && e[i].pos == p; i++)
			count[e[i].cls] += e[i].delta;
		if (i == ne)
			break;
		q = e[i].pos;
		if (!count[0] && !count[1] && !count[2])
			continue;
		for (uint64_t cur = p; cur < q && !err;) {
			unsigned int orig = 0, prot;
			uint64_t end = orig_segment(set, maps, cur, q, &orig);

			if (!end)
				break;	/* not mapped: check_range() refused it */
			prot = want_prot(orig, count);
			if (prot != orig)
				err = runs_push(out, cur, end - cur, orig, prot);
			cur = end;
		}
	}
	free(e);
	return err;
}

/* Recompute SET->want with MAPS; unchanged on failure. */
static int update_want(struct hwbp_guard_set *set, const struct hwbp_guard_maps *maps)
{
	struct runs next = { 0 };
	int err = compute_want(set, maps, &next);

	if (err) {
		runs_free(&next);
		return err;
	}
	runs_free(&set->want);
	set->want = next;
	return 0;
}

/* --- maps -------------------------------------------------------------------- */

/*
 * A copy of MAPS (NULL gives NULL). Each name points into MAPS->names,
 * and names shared after a split stay shared: the storage is copied up to
 * the end of its last name used, and each name keeps its offset in it.
 */
static int maps_clone(const struct hwbp_guard_maps *maps, struct hwbp_guard_maps **out)
{
	struct hwbp_guard_maps *copy;
	size_t size = 1;	/* at least one NUL: every name has one */

	*out = NULL;
	if (!maps)
		return 0;
	for (size_t i = 0; i < maps->n; i++) {
		const char *name = maps->map[i].name;
		size_t end = (size_t)(name - maps->names) + strlen(name) + 1;

		if (end > size)
			size = end;
	}
	copy = calloc(1, sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	if (maps->n) {
		copy->map = malloc(maps->n * sizeof(*copy->map));
		copy->names = malloc(size);
		if (!copy->map || !copy->names) {
			hwbp_guard_maps_free(copy);
			return -ENOMEM;
		}
		memcpy(copy->map, maps->map, maps->n * sizeof(*copy->map));
		memcpy(copy->names, maps->names, size);
		for (size_t i = 0; i < maps->n; i++)
			copy->map[i].name = copy->names + (maps->map[i].name - maps->names);
	}
	copy->n = maps->n;
	*out = copy;
	return 0;
}

/*
 * The mappings of MAPS with [LO, HI) set to PROT, into *OUT and *NOUT: a
 * mapping reaching past LO or HI is split there, as the kernel splits the
 * vma. Only the mapping holding LO and the one holding HI gain a piece, so
 * there are at most two more. A file mapping's pieces keep their own file
 * offset; the kernel shows 0 for anonymous memory, whatever its address.
 */
static int maps_reprotect(const struct hwbp_guard_maps *maps, uint64_t lo, uint64_t hi,
			  unsigned int prot, struct hwbp_guard_map **out, size_t *nout)
{
	struct hwbp_guard_map *v = malloc((maps->n + 2) * sizeof(*v));
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < maps->n; i++) {
		const struct hwbp_guard_map *m = &maps->map[i];
		uint64_t a = m->start > lo ? m->start : lo, b = min_u64(m->end, hi);
		bool file = m->kind == HWBP_GUARD_FILE;

		if (m->end <= lo || hi <= m->start) {
			v[n++] = *m;
			continue;
		}
		if (m->start < lo) {
			v[n] = *m;
			v[n++].end = lo;
		}
		v[n] = *m;
		v[n].start = a;
		v[n].end = b;
		v[n].offset = file ? m->offset + (a - m->start) : m->offset;
		v[n++].prot = prot;
		if (hi < m->end) {
			v[n] = *m;
			v[n].start = hi;
			v[n++].offset = file ? m->offset + (hi - m->start) : m->offset;
		}
	}
	*out = v;
	*nout = n;
	return 0;
}

/* --- the set ------------------------------------------------------------------ */

/* See plan.h. */
int hwbp_guard_set_create(uint64_t page_size, struct hwbp_guard_set **out)
{
	struct hwbp_guard_set *set;

	if (page_size < 4096 || page_size > (1u << 20) || (page_size & (page_size - 1)))
		return -EINVAL;
	set = calloc(1, sizeof(*set));
	if (!set)
		return -ENOMEM;
	set->page = page_size;
	*out = set;
	return 0;
}

/* See plan.h. */
void hwbp_guard_set_destroy(struct hwbp_guard_set *set)
{
	if (!set)
		return;
	hwbp_guard_maps_free(set->maps);
	free(set->forbid);
	free(set->range);
	runs_free(&set->want);
	runs_free(&set->done);
	free(set);
}

/* See plan.h. */
int hwbp_guard_set_clone(const struct hwbp_guard_set *set, struct hwbp_guard_set **out)
{
	struct hwbp_guard_set *copy = calloc(1, sizeof(*copy));

	if (!copy)
		return -ENOMEM;
	copy->page = set->page;
	if (maps_clone(set->maps, &copy->maps))
		goto nomem;
	if (set->nforbid) {
		copy->forbid = malloc(set->nforbid * sizeof(*copy->forbid));
		if (!copy->forbid)
			goto nomem;
		memcpy(copy->forbid, set->forbid, set->nforbid * sizeof(*copy->forbid));
		copy->nforbid = set->nforbid;
	}
	if (set->nrange) {
		copy->range = malloc(set->nrange * sizeof(*copy->range));
		if (!copy->range)
			goto nomem;
		memcpy(copy->range, set->range, set->nrange * sizeof(*copy->range));
		copy->nrange = copy->caprange = set->nrange;
	}
	if (runs_clone(&set->want, &copy->want) || runs_clone(&set->done, &copy->done))
		goto nomem;
	*out = copy;
	return 0;
nomem:
	hwbp_guard_set_destroy(copy);
	return -ENOMEM;
}

/* See plan.h. */
uint64_t hwbp_guard_set_page(const struct hwbp_guard_set *set)
{
	return set->page;
}

/* See plan.h. */
size_t hwbp_guard_set_nranges(const struct hwbp_guard_set *set)
{
	return set->nrange;
}

/* See plan.h. */
int hwbp_guard_set_maps(struct hwbp_guard_set *set, struct hwbp_guard_maps *maps, char *why,
			size_t whylen)
{
	int err;

	for (size_t i = 0; i < maps->n; i++) {
		const struct hwbp_guard_map *m = &maps->map[i];

		if (page_down(set, m->start) != m->start || page_down(set, m->end) != m->end) {
			hwbp_arch_why(why, whylen,
				  "mapping %" PRIx64 "-%" PRIx64 " is not aligned to the page size "
				  "%" PRIu64, m->start, m->end, set->page);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < set->nrange; i++) {
		err = check_range(set, maps, set->forbid, set->nforbid, &set->range[i], why,
				  whylen);
		if (err)
			return err;
	}
	err = update_want(set, maps);
	if (err)
		return err;
	hwbp_guard_maps_free(set->maps);
	set->maps = maps;
	return 0;
}

/* See plan.h. */
int hwbp_guard_set_forbid(struct hwbp_guard_set *set, const struct hwbp_guard_forbid *list,
			  size_t n, char *why, size_t whylen)
{
	struct hwbp_guard_forbid *copy = NULL;
	size_t k = 0;

	if (n) {
		copy = calloc(n, sizeof(*copy));
		if (!copy)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (list[i].len)
			copy[k++] = list[i];
	}
	for (size_t i = 0; i < set->nrange; i++) {
		int err = check_range(set, set->maps, copy, k, &set->range[i], why, whylen);

		if (err) {
			free(copy);
			return err;
		}
	}
	free(set->forbid);
	set->forbid = copy;
	set->nforbid = k;
	return 0;
}

static struct hwbp_guard_range *range_find(const struct hwbp_guard_set *set, uint64_t cookie)
{
	for (size_t i = 0; i < set->nrange; i++) {
		if (set->range[i].cookie == cookie)
			return &set->range[i];
	}
	return NULL;
}

/* See plan.h. */
int hwbp_guard_range_add(struct hwbp_guard_set *set, uint64_t addr, uint64_t len,
			 enum hwbp_access access, uint64_t cookie, char *why, size_t whylen)
{
	const struct hwbp_guard_range r = { addr, len, access, cookie };
	int err;

	if (range_find(set, cookie)) {
		hwbp_arch_why(why, whylen, "0x%" PRIx64 "/%" PRIu64 ": cookie %" PRIu64 " is in use",
			  addr, len, cookie);
		return -EEXIST;
	}
	err = check_range(set, set->maps, set->forbid, set->nforbid, &r, why, whylen);
	if (err)
		return err;
	if (set->nrange == set->caprange) {
		size_t cap = set->caprange ? 2 * set->caprange : 8;
		struct hwbp_guard_range *v = realloc(set->range, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		set->range = v;
		set->caprange = cap;
	}
	set->range[set->nrange++] = r;
	err = update_want(set, set->maps);
	if (err)
		set->nrange--;
	return err;
}

/* See plan.h. */
int hwbp_guard_range_remove(struct hwbp_guard_set *set, uint64_t cookie)
{
	struct hwbp_guard_range *r = range_find(set, cookie);
	struct hwbp_guard_range saved;
	size_t i, tail;
	int err;

	if (!r)
		return -ENOENT;
	i = (size_t)(r - set->range);
	tail = set->nrange - i - 1;
	saved = *r;
	memmove(r, r + 1, tail * sizeof(*r));
	set->nrange--;
	err = update_want(set, set->maps);
	if (err) {
		memmove(r + 1, r, tail * sizeof(*r));
		*r = saved;
		set->nrange++;
	}
	return err;
}

/* See plan.h. */
bool hwbp_guard_range_dormant(const struct hwbp_guard_set *set, uint64_t cookie)
{
	const struct hwbp_guard_range *r = range_find(set, cookie);
	uint64_t lo, hi;

	if (!r)
		return false;
	range_pages(set, r, &lo, &hi);
	for (uint64_t cur = lo; cur < hi;) {
		unsigned int orig = 0;
		uint64_t end = orig_segment(set, set->maps, cur, hi, &orig);

		if (!end)
			break;
		if (watch_possible(orig, r->access))
			return false;
		cur = end;
	}
	return true;
}

/*
 * Everything is built aside first (the split mappings, the cut committed
 * runs, and the wanted runs computed from both through a shallow copy of
 * SET), so that a failed allocation leaves SET as it was.
 */
/* See plan.h. */
int hwbp_guard_set_reprotect(struct hwbp_guard_set *set, uint64_t addr, uint64_t len,
			     unsigned int prot)
{
	const unsigned int known = PROT_READ | PROT_WRITE | PROT_EXEC;
	struct runs done = { 0 }, want = { 0 };
	struct hwbp_guard_map *map = NULL;
	struct hwbp_guard_maps maps = { 0 };
	struct hwbp_guard_set next;
	size_t nmap = 0;
	uint64_t hi;
	int err;

	if (!len || page_down(set, addr) != addr || (prot & ~known) ||
	    len > UINT64_MAX - (set->page - 1))
		return -EINVAL;
	hi = addr + page_down(set, len + (set->page - 1));
	if (hi <= addr)
		return -EINVAL;	/* wraps, or its last page ends the address space */
	if (set->maps) {
		err = maps_reprotect(set->maps, addr, hi, prot, &map, &nmap);
		if (err)
			return err;
		maps = *set->maps;
		maps.map = map;
		maps.n = nmap;
	}
	err = runs_cut(&set->done, addr, hi, &done);
	if (!err) {
		next = *set;
		next.maps = set->maps ? &maps : NULL;
		next.done = done;
		err = compute_want(&next, next.maps, &want);
	}
	if (err) {
		free(map);
		runs_free(&done);
		runs_free(&want);
		return err;
	}
	if (set->maps) {
		free(set->maps->map);
		set->maps->map = map;
		set->maps->n = nmap;
	}
	runs_free(&set->done);
	set->done = done;
	runs_free(&set->want);
	set->want = want;
	return 0;
}

static size_t runs_copy(const struct runs *rs, struct hwbp_guard_run *out, size_t max)
{
	size_t n = min_u64(rs->n, max);

	if (n)
		memcpy(out, rs->v, n * sizeof(*out));
	return rs->n;
}

/* See plan.h. */
size_t hwbp_guard_set_runs(const struct hwbp_guard_set *set, struct hwbp_guard_run *out,
			   size_t max)
{
	return runs_copy(&set->want, out, max);
}

/*
 * A walk over the union of the committed and wanted runs, segment by
 * segment: both are sorted and disjoint, so it is linear in their number.
 */
/* See plan.h. */
size_t hwbp_guard_set_changes(const struct hwbp_guard_set *set, struct hwbp_guard_run *out,
			      size_t max)
{
	const struct runs *d = &set->done, *w = &set->want;
	struct sink s = { .out = out, .max = max };
	size_t i = 0, j = 0;
	uint64_t p = 0;

	for (;;) {
		const struct hwbp_guard_run *a, *b;
		unsigned int orig, from, to;
		uint64_t q = UINT64_MAX;

		while (i < d->n && run_end(&d->v[i]) <= p)
			i++;
		while (j < w->n && run_end(&w->v[j]) <= p)
			j++;
		if (i == d->n && j == w->n)
			break;
		a = i < d->n && d->v[i].addr <= p ? &d->v[i] : NULL;
		b = j < w->n && w->v[j].addr <= p ? &w->v[j] : NULL;
		if (i < d->n)
			q = min_u64(q, a ? run_end(a) : d->v[i].addr);
		if (j < w->n)
			q = min_u64(q, b ? run_end(b) : w->v[j].addr);
		if (a || b) {
			orig = a ? a->orig : b->orig;
			from = a ? a->prot : orig;
			to = b ? b->prot : orig;
			if (from != to)
				sink_push(&s, p, q - p, orig, to);
		}
		p = q;
	}
	sink_flush(&s);
	return s.n;
}

/* See plan.h. */
int hwbp_guard_set_commit(struct hwbp_guard_set *set)
{
	struct runs next = { 0 };

	for (size_t i = 0; i < set->want.n; i++) {
		const struct hwbp_guard_run *r = &set->want.v[i];

		if (runs_push(&next, r->addr, r->len, r->orig, r->prot)) {
			runs_free(&next);
			return -ENOMEM;
		}
	}
	runs_free(&set->done);
	set->done = next;
	return 0;
}

/* See plan.h. */
size_t hwbp_guard_set_restore(const struct hwbp_guard_set *set, struct hwbp_guard_run *out,
			      size_t max)
{
	struct sink s = { .out = out, .max = max };

	for (size_t i = 0; i < set->done.n; i++) {
		const struct hwbp_guard_run *r = &set->done.v[i];

		sink_push(&s, r->addr, r->len, r->orig, r->orig);
	}
	sink_flush(&s);
	return s.n;
}

/* See plan.h. */
int hwbp_guard_set_classify(const struct hwbp_guard_set *set, uint64_t addr, uint64_t size,
			    enum hwbp_access kind, uint64_t *cookies, size_t max,
			    struct hwbp_guard_fault *out)
{
	uint64_t last = addr + (size - 1);
	bool guarded = false;

	if (!size || last < addr || !is_data(kind))
		return -EINVAL;
	out->verdict = HWBP_GUARD_FOREIGN;
	out->nhits = 0;
	if (last == UINT64_MAX)
		return 0;	/* no user page there */
	for (uint64_t cur = addr; cur <= last;) {
		const struct hwbp_guard_run *r;
		unsigned int orig = 0;
		uint64_t end = orig_segment(set, set->maps, cur, last + 1, &orig);

		if (!end || !prot_allows(orig, kind))
			return 0;	/* the target's own fault */
		r = runs_find(&set->done, cur);
		if (r && !prot_allows(r->prot, kind))
			guarded = true;
		cur = end;
	}
	if (!guarded)
		return 0;
	for (size_t i = 0; i < set->nrange; i++) {
		const struct hwbp_guard_range *g = &set->range[i];

		if (g->addr <= last && addr <= g->addr + (g->len - 1) && kind_hits(g->access, kind)) {
			if (out->nhits < max)
				cookies[out->nhits] = g->cookie;
			out->nhits++;
		}
	}
	out->verdict = out->nhits ? HWBP_GUARD_HIT : HWBP_GUARD_STEP;
	return 0;
}

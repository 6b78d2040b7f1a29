// SPDX-License-Identifier: MIT
/*
 * tally.c - per-thread counts, kept ordered by tid
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tally.h"

int hwbp_tally_add(struct hwbp_tally *t, int32_t tid, uint64_t hits)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (t->v[mid].tid < tid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < t->n && t->v[lo].tid == tid) {
		t->v[lo].hits += hits;
		return 0;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		struct hwbp_thread_count *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	memmove(&t->v[lo + 1], &t->v[lo], (t->n - lo) * sizeof(*t->v));
	t->v[lo].tid = tid;
	t->v[lo].hits = hits;
	t->n++;
	return 0;
}

int hwbp_tally_merge(struct hwbp_tally *t, const struct hwbp_tally *from, int sign)
{
	for (size_t i = 0; i < from->n; i++) {
		uint64_t h = from->v[i].hits;
		int err = hwbp_tally_add(t, from->v[i].tid, sign < 0 ? (uint64_t)0 - h : h);

		if (err)
			return err;
	}
	return 0;
}

void hwbp_tally_clear(struct hwbp_tally *t)
{
	t->n = 0;
}

void hwbp_tally_free(struct hwbp_tally *t)
{
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

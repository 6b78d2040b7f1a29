// SPDX-License-Identifier: MIT
/*
 * order.c - hit lines in time order: each CPU has its own ring buffer, so
 * the records of one drain are held and sorted before they are printed
 */
#include "watch_int.h"

#include <stdlib.h>

/* See watch_int.h. */
void watch_batch_add(struct watch *w, uint64_t time_ns, size_t off)
{
	if (w->nbatch == w->batch_cap) {
		size_t cap = w->batch_cap ? 2 * w->batch_cap : 256;
		struct watch_line *b = realloc(w->batch, cap * sizeof(*b));

		if (!b) {
			/* Out of memory: print it now, out of order if need be. */
			fwrite(w->lines.data + off, 1, w->lines.len - off, w->out);
			w->lines.len = off;
			return;
		}
		w->batch = b;
		w->batch_cap = cap;
	}
	w->batch[w->nbatch] = (struct watch_line){ time_ns, w->nbatch, off, w->lines.len - off };
	w->nbatch++;
}

static int line_cmp(const void *a, const void *b)
{
	const struct watch_line *x = a, *y = b;

	if (x->time_ns != y->time_ns)
		return x->time_ns < y->time_ns ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* See watch_int.h. */
void watch_batch_flush(struct watch *w, uint64_t before)
{
	size_t n = 0, k = 0, run_off = 0, run_len = 0;
	struct text keep = { 0 };

	if (!w->nbatch)
		return;
	qsort(w->batch, w->nbatch, sizeof(*w->batch), line_cmp);
	/* Lines that lie one after the other in w->lines (one CPU's, or
	 * hits already in time order) go out in one write. */
	for (; n < w->nbatch && w->batch[n].time_ns < before; n++) {
		const struct watch_line *l = &w->batch[n];

		if (run_len && l->off == run_off + run_len) {
			run_len += l->len;
			continue;
		}
		if (run_len)
			fwrite(w->lines.data + run_off, 1, run_len, w->out);
		run_off = l->off;
		run_len = l->len;
	}
	if (run_len)
		fwrite(w->lines.data + run_off, 1, run_len, w->out);
	for (size_t i = n; i < w->nbatch; i++)
		text_put(&keep, w->lines.data + w->batch[i].off, w->batch[i].len);
	if (keep.failed) {
		/* Out of memory: print the rest now rather than lose it. */
		for (size_t i = n; i < w->nbatch; i++)
			fwrite(w->lines.data + w->batch[i].off, 1, w->batch[i].len, w->out);
		n = w->nbatch;
		text_free(&keep);
	}
	for (size_t i = n, off = 0; i < w->nbatch; i++) {
		size_t len = w->batch[i].len;

		w->batch[k] = w->batch[i];
		w->batch[k].seq = k;
		w->batch[k].off = off;
		off += len;
		k++;
	}
	w->nbatch = k;
	if (k) {
		text_free(&w->lines);
		w->lines = keep;
	} else {
		text_clear(&w->lines);	/* its memory serves the next drain */
	}
	if (n)
		fflush(w->out);
}

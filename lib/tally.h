/* SPDX-License-Identifier: MIT */
/*
 * tally.h - counts per thread, ordered by tid: what the core and the
 * backends hand each other for hwbp_point_threads()
 */
#ifndef HWBP_TALLY_H
#define HWBP_TALLY_H

#include <stddef.h>
#include <stdint.h>

#include <hwbp/hwbp.h>

/* Counts per thread, ordered by tid. */
struct hwbp_tally {
	size_t n;
	size_t cap;
	struct hwbp_thread_count *v;
};

/* Add HITS to TID's row (creating it). Return: 0 or -ENOMEM. */
int hwbp_tally_add(struct hwbp_tally *t, int32_t tid, uint64_t hits);

/* Add (SIGN 1) or subtract (SIGN -1) every row of FROM to/from T. */
int hwbp_tally_merge(struct hwbp_tally *t, const struct hwbp_tally *from, int sign);

/* Drop every row; keep the memory. */
void hwbp_tally_clear(struct hwbp_tally *t);

/* Free the rows. */
void hwbp_tally_free(struct hwbp_tally *t);

#endif /* HWBP_TALLY_H */

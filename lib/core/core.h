/* SPDX-License-Identifier: MIT */
/*
 * core.h - sessions, points and slot sharing (internal interface)
 *
 * The core keeps what the caller wants (points) and the distinct slots that
 * serve them (struct hwbp_core_slot, shared with a reference count), plans
 * changes with the arch layer and commits them through a backend all or
 * nothing. It makes no system call itself.
 */
#ifndef HWBP_CORE_CORE_H
#define HWBP_CORE_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hwbp/hwbp.h>

#include "backend/backend.h"

/* Counts per thread, ordered by tid. */
struct hwbp_core_tally {
	size_t n;
	size_t cap;
	struct hwbp_thread_count *v;
};

/* Add HITS to TID's row (creating it). Return: 0 or -ENOMEM. */
int hwbp_core_tally_add(struct hwbp_core_tally *t, int32_t tid, uint64_t hits);

/* Add (SIGN 1) or subtract (SIGN -1) every row of FROM to/from T. */
int hwbp_core_tally_merge(struct hwbp_core_tally *t, const struct hwbp_core_tally *from, int sign);

/* Drop every row; keep the memory. */
void hwbp_core_tally_clear(struct hwbp_core_tally *t);

/* Free the rows. */
void hwbp_core_tally_free(struct hwbp_core_tally *t);

/*
 * hwbp_core_session_open() - hwbp_session_open() with a given backend
 * (unit tests pass a fake one)
 */
int hwbp_core_session_open(const struct hwbp_session_opts *opts, const struct hwbp_backend *bk,
			   struct hwbp_session **out);

/*
 * hwbp_core_deliver() - a backend reports one hit of the slot whose
 * install COOKIE was given. HIT carries everything but point and piece,
 * which are filled here for each enabled point using the slot, and addr,
 * len and access, filled from the point's plan unless the backend set len
 * (a backend that queues hits sets them as the slot was when it fired:
 * the point may have moved since). Async-signal-safe (signal mode calls it from the SIGTRAP handler).
 *
 * Return: 0 to go on, non-zero if the caller's callback asked to stop.
 */
int hwbp_core_deliver(struct hwbp_session *s, const void *cookie, struct hwbp_hit *hit);

/* hwbp_core_notify() - hand a notification to the session's notify_fn. */
void hwbp_core_notify(struct hwbp_session *s, const struct hwbp_notify *n);

/*
 * hwbp_core_log() - one log line through the hwbp_set_log() callback.
 * The default callback (sys.c) prints errors and warnings to stderr.
 */
void hwbp_core_log(enum hwbp_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * hwbp_core_opts_copy() - copy a caller's opts struct of SRC->sz bytes into
 * DST of DSTSZ bytes (zeroed, then the common prefix copied, sz set to
 * DSTSZ)
 *
 * Return: 0; -EINVAL if a byte past DSTSZ in SRC is not zero, or SRC's sz
 * is smaller than sizeof(size_t).
 */
int hwbp_core_opts_copy(void *dst, size_t dstsz, const void *src);

#endif /* HWBP_CORE_CORE_H */

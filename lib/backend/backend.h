/* SPDX-License-Identifier: MIT */
/*
 * backend.h - the seam between the core and a kernel interface
 *
 * Each backend fills one const struct hwbp_backend (perf.c: hwbp_perf_backend,
 * ptrace.c: hwbp_ptrace_backend). The core decides which slots a session needs; the
 * backend arms them in the target, reads their counters and hands hits and
 * notifications back through the callbacks the core gives it at open
 * (struct hwbp_backend_host): the dependency points one way, as the
 * kernel's generic/arch hw_breakpoint seam does, and a backend never
 * includes the core. Backends reach the kernel only through hwbp_sys
 * (sys.h).
 */
#ifndef HWBP_BACKEND_BACKEND_H
#define HWBP_BACKEND_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include <hwbp/hwbp.h>

struct hwbp_tally;

/*
 * What the core gives a backend at open: where hits and notifications go.
 * @ctx:     passed back to both
 * @deliver: one hit of the slot whose install COOKIE was given. HIT
 *           carries everything but point and piece, which the core fills
 *           for each enabled point using the slot, and addr, len and
 *           access, filled from the point's plan unless the backend set
 *           len (a backend that queues hits sets them as the slot was when
 *           it fired). Async-signal-safe (signal mode calls it from the
 *           SIGTRAP handler). Returns non-zero if the caller asked to stop.
 * @notify:  a notification, for the session's notify_fn
 */
struct hwbp_backend_host {
	void *ctx;
	int (*deliver)(void *ctx, const void *cookie, struct hwbp_hit *hit);
	void (*notify)(void *ctx, const struct hwbp_notify *n);
};

/* A backend's per-session state and its installed slots; opaque to the core. */
struct hwbp_bk;
struct hwbp_bk_slot;

/*
 * One backend. Every int member returns 0 or a negative errno.
 * @name:       "perf", "ptrace", "guard"
 * @kind:       HWBP_BACKEND_PERF, HWBP_BACKEND_PTRACE, HWBP_BACKEND_GUARD
 * @open:       check that the backend serves OPTS here (already checked by
 *              the core for consistency) and set up its state; HOST says
 *              where hits go (copied: the backend keeps it)
 * @close:      disarm everything still installed and free the state
 * @capacity:   slots of each type the target's CPU has (for planning);
 *              SHARED when one pool serves both types
 * @install:    arm SLOT in every task the session covers, enabled or
 *              not; COOKIE is given back with each hit. All or nothing.
 * @modify:     rewrite an installed slot in place to SLOT (and COOKIE, and
 *              the enabled state); on failure the old slot is still armed.
 *              -EOPNOTSUPP: cannot be done in place (the core then installs
 *              a new slot and removes the old one)
 * @remove:     disarm and free; never fails
 * @enable:     arm or disarm an installed slot without giving it back
 * @count:      hits of the slot since it was installed, all tasks
 * @threads:    add the slot's hits per thread to T (per_thread sessions)
 * @free_slots: probe the target for free slots (to explain an -ENOSPC)
 * @fd:         descriptor to wait on for @poll; -EINVAL without buffers
 * @poll:       wait, then drain buffers into the host's deliver() and
 *              notify(); stop early when deliver says so
 * @lost:       records dropped by the kernel so far
 * @guard_stats: the guard backend's counts; NULL in the others
 */
struct hwbp_backend {
	const char *name;
	enum hwbp_backend_kind kind;
	int (*open)(const struct hwbp_session_opts *opts, const struct hwbp_backend_host *host,
		    struct hwbp_bk **out);
	void (*close)(struct hwbp_bk *b);
	void (*capacity)(struct hwbp_bk *b, unsigned int *watch, unsigned int *brk, bool *shared);
	int (*install)(struct hwbp_bk *b, const struct hwbp_slot *slot, bool enabled, void *cookie,
		       struct hwbp_bk_slot **out);
	int (*modify)(struct hwbp_bk *b, struct hwbp_bk_slot *bs, const struct hwbp_slot *slot,
		      bool enabled, void *cookie);
	void (*remove)(struct hwbp_bk *b, struct hwbp_bk_slot *bs);
	int (*enable)(struct hwbp_bk *b, struct hwbp_bk_slot *bs, bool on);
	int (*count)(struct hwbp_bk *b, struct hwbp_bk_slot *bs, uint64_t *hits);
	int (*threads)(struct hwbp_bk *b, struct hwbp_bk_slot *bs, struct hwbp_tally *t);
	int (*free_slots)(struct hwbp_bk *b, unsigned int *watch, unsigned int *brk);
	int (*fd)(struct hwbp_bk *b);
	int (*poll)(struct hwbp_bk *b, int timeout_ms);
	int (*lost)(struct hwbp_bk *b, uint64_t *lost);
	int (*guard_stats)(struct hwbp_bk *b, struct hwbp_guard_stats *out);
};

extern const struct hwbp_backend hwbp_perf_backend;
extern const struct hwbp_backend hwbp_ptrace_backend;
extern const struct hwbp_backend hwbp_guard_backend;

#endif /* HWBP_BACKEND_BACKEND_H */

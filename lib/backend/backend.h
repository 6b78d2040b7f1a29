/* SPDX-License-Identifier: MIT */
/*
 * backend.h - the seam between the core and a kernel interface
 *
 * Each backend fills one const struct hwbp_backend (perf.c: hwbp_perf_backend,
 * ptrace.c: hwbp_ptrace_backend). The core decides which slots a session needs; the
 * backend arms them in the target, reads their counters and delivers hits
 * back through hwbp_core_deliver() and hwbp_core_notify() (core/core.h).
 * Backends reach the kernel only through hwbp_sys (sys.h).
 */
#ifndef HWBP_BACKEND_BACKEND_H
#define HWBP_BACKEND_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include <hwbp/hwbp.h>

struct hwbp_session;
struct hwbp_core_tally;

/* A backend's per-session state and its installed slots; opaque to the core. */
struct hwbp_bk;
struct hwbp_bk_slot;

/*
 * One backend. Every int member returns 0 or a negative errno.
 * @name:       "perf", "ptrace"
 * @open:       check that the backend serves OPTS here (already checked by
 *              the core for consistency) and set up its state; S is the
 *              core session to hand back to hwbp_core_deliver()
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
 * @poll:       wait, then drain buffers into hwbp_core_deliver() and
 *              hwbp_core_notify(); stop early when deliver says so
 * @lost:       records dropped by the kernel so far
 */
struct hwbp_backend {
	const char *name;
	int (*open)(const struct hwbp_session_opts *opts, struct hwbp_session *s,
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
	int (*threads)(struct hwbp_bk *b, struct hwbp_bk_slot *bs, struct hwbp_core_tally *t);
	int (*free_slots)(struct hwbp_bk *b, unsigned int *watch, unsigned int *brk);
	int (*fd)(struct hwbp_bk *b);
	int (*poll)(struct hwbp_bk *b, int timeout_ms);
	int (*lost)(struct hwbp_bk *b, uint64_t *lost);
};

extern const struct hwbp_backend hwbp_perf_backend;
extern const struct hwbp_backend hwbp_ptrace_backend;

#endif /* HWBP_BACKEND_BACKEND_H */

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
#include "log.h"
#include "tally.h"

/*
 * hwbp_core_session_open() - hwbp_session_open() with a given backend
 * (unit tests pass a fake one)
 */
int hwbp_core_session_open(const struct hwbp_session_opts *opts, const struct hwbp_backend *bk,
			   struct hwbp_session **out);

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

// SPDX-License-Identifier: MIT
/*
 * guard.c - the guard backend: software watchpoints by page protection
 */
#include <errno.h>

#include "backend/backend.h"

static int gd_open(const struct hwbp_session_opts *opts, const struct hwbp_backend_host *host,
		   struct hwbp_bk **out)
{
	(void)opts;
	(void)host;
	(void)out;
	return -EOPNOTSUPP;
}

const struct hwbp_backend hwbp_guard_backend = {
	.name = "guard",
	.kind = HWBP_BACKEND_GUARD,
	.open = gd_open,
};

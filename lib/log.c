// SPDX-License-Identifier: MIT
/*
 * log.c - the library's one way to say something: hwbp_set_log()
 */
#include <stdarg.h>
#include <stdio.h>

#include "api.h"
#include "log.h"
#include "sys.h"

static hwbp_log_fn log_fn;
static void *log_arg;

/* See hwbp.h. */
HWBP_API hwbp_log_fn hwbp_set_log(hwbp_log_fn fn, void *arg, void **old_arg)
{
	hwbp_log_fn old = log_fn;

	if (old_arg)
		*old_arg = log_arg;
	log_fn = fn;
	log_arg = arg;
	return old;
}

void hwbp_log(enum hwbp_log_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_fn)
		log_fn(level, msg, log_arg);
	else if (level <= HWBP_LOG_WARN)
		hwbp_sys_log_stderr(msg);
}

/* SPDX-License-Identifier: MIT */
/*
 * log.h - the library's one way to say something, in every layer
 */
#ifndef HWBP_LOG_H
#define HWBP_LOG_H

#include <hwbp/hwbp.h>

/*
 * hwbp_log() - one log line through the hwbp_set_log() callback. The
 * default callback (sys.c) prints errors and warnings to stderr.
 */
void hwbp_log(enum hwbp_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* HWBP_LOG_H */

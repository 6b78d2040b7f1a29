/* SPDX-License-Identifier: MIT */
/*
 * probe.h - the host probes of lib/probe.c, for the unit tests
 */
#ifndef HWBP_PROBE_H
#define HWBP_PROBE_H

#include <hwbp/hwbp.h>

/*
 * hwbp_probe_debug_check() - hwbp_host_debug_check() without its cache:
 * the check runs again on every call, through hwbp_sys (so that a unit
 * test can fake perf_event_open's refusal or the count it reads).
 *
 * Return: 0; -EINVAL as hwbp_host_debug_check().
 */
int hwbp_probe_debug_check(enum hwbp_backend_kind backend, struct hwbp_debug_check *out);

#endif /* HWBP_PROBE_H */

/* SPDX-License-Identifier: MIT */
/*
 * probe.h - what the host probes (lib/probe.c) take from the backends
 */
#ifndef HWBP_BACKEND_PROBE_H
#define HWBP_BACKEND_PROBE_H

#include <stdint.h>
#include <sys/types.h>

#include <hwbp/hwbp.h>

/* Written by the probe children; its address is the same in parent and
 * child after fork(). */
extern volatile uint64_t hwbp_probe_target;

/* The reasons of the ptrace probe, hwbp info's and hwbp_host_debug_check()'s. */
#define HWBP_PTRACE_PROBE_TRAPPED "a ptrace watchpoint stopped a child at its watched write"
#define HWBP_PTRACE_PROBE_MISSED "a ptrace watchpoint did not stop a child at its watched write"

/*
 * hwbp_ptrace_probe() - the ptrace backend works here if a traced child is
 * stopped by a watched write: HI->ptrace says (usable, err, why; -EIO when
 * the debug exception was not delivered), and on arm64 and LoongArch
 * HI->nwatch, nbreak, debug_arch and slots_from ("dbg_info").
 */
void hwbp_ptrace_probe(struct hwbp_host_info *hi);

/* Wait for PID with a deadline (2 s); 0 and *STATUS, or -ETIMEDOUT. */
int hwbp_probe_wait(pid_t pid, int *status, int flags);

/* Kill PID and reap it. */
void hwbp_probe_reap(pid_t pid);

/* ST is not usable: ERR and a reason, printf style with one string ARG. */
void hwbp_probe_why(struct hwbp_backend_status *st, int err, const char *fmt, const char *arg);

#endif /* HWBP_BACKEND_PROBE_H */

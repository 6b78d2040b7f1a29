/* SPDX-License-Identifier: MIT */
/*
 * probe.h - what the host probes (lib/probe.c) take from the backends
 */
#ifndef HWBP_BACKEND_PROBE_H
#define HWBP_BACKEND_PROBE_H

#include <stddef.h>
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

/* Writes each perf probe makes under its counting breakpoint. */
#define HWBP_PROBE_WRITES 3

/*
 * hwbp_perf_probe() - the perf backend works here if a counting breakpoint
 * on a child's variable counts its HWBP_PROBE_WRITES writes: HI->perf says
 * (usable, err, why; -EIO when it counted fewer). Reads
 * HI->perf_event_paranoid for the reason of a refusal.
 */
void hwbp_perf_probe(struct hwbp_host_info *hi);

/*
 * hwbp_perf_probe_self() - a counting breakpoint on a word of the calling
 * thread, written HWBP_PROBE_WRITES times: the count into *COUNT.
 * Return: 0, or perf_event_open's negative errno.
 */
int hwbp_perf_probe_self(uint64_t *count);

/* hwbp_perf_count_slots() - breakpoints of ACCESS (HWBP_WRITE, HWBP_EXEC)
 * perf opens on the calling thread before ENOSPC, or -1 if it refuses. */
int hwbp_perf_count_slots(enum hwbp_access access);

/* The reason both perf probes give for COUNT of HWBP_PROBE_WRITES writes. */
void hwbp_perf_count_reason(char *buf, size_t len, uint64_t count);

/* Wait for PID with a deadline (2 s); 0 and *STATUS, or -ETIMEDOUT. */
int hwbp_probe_wait(pid_t pid, int *status, int flags);

/* fork() for a probe child; -1 with ST's reason when it fails. */
pid_t hwbp_probe_fork(struct hwbp_backend_status *st);

/* Kill PID and reap it. */
void hwbp_probe_reap(pid_t pid);

/* ST is not usable: ERR and a reason, printf style with one string ARG. */
void hwbp_probe_why(struct hwbp_backend_status *st, int err, const char *fmt, const char *arg);

#endif /* HWBP_BACKEND_PROBE_H */

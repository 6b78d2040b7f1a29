/* SPDX-License-Identifier: MIT */
/*
 * perf.h - the perf backend's state, shared by perf.c (events, ring
 * buffers, the session) and perf_signal.c (signal mode: the SIGTRAP
 * handler and the step-over for CPUs that trap before the access)
 */
#ifndef HWBP_BACKEND_PERF_H
#define HWBP_BACKEND_PERF_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "backend/backend.h"
#include "log.h"
#include "tally.h"

struct perf_ev {
	int fd;
	pid_t tid;	/* -1 for CPU-wide events */
	int cpu;	/* -1 for per-task events */
	uint64_t id;
};

struct hwbp_bk_slot {
	struct hwbp_slot slot;
	void *cookie;
	bool enabled;
	struct perf_ev *ev;
	size_t nev, cap;
	struct hwbp_tally tids;	/* per_thread rows counted from samples */
	uint64_t echo;		/* signal mode step-overs the kernel counted */
	struct hwbp_bk_slot *next;
};

struct perf_buf;

struct hwbp_bk {
	struct hwbp_backend_host host;	/* where hits and notifications go */
	struct hwbp_session_opts o;
	pid_t pid;		/* process whose tasks are listed (SELF, PID) */
	pid_t tid;		/* THREAD, TID */
	bool inherit;
	bool percpu;		/* events per task and CPU */
	bool buffers;
	int *cpus;
	int ncpu;
	unsigned int cap_watch, cap_break;
	bool shared;
	struct perf_buf *bufs;
	struct perf_ev *side;	/* side-band dummies, not the buffer owners */
	size_t nside, capside;
	int epfd;
	uint64_t lost;		/* from PERF_RECORD_LOST (kernels before 6.0) */
	uint64_t lost_gone;	/* PERF_FORMAT_LOST of removed slots */
	bool fmt_lost;		/* events read {value, lost} */
	bool no_roe;		/* the kernel has no remove_on_exec (before 5.13) */
	uint64_t sample_type;	/* of every event sharing the buffers */
	uint64_t nfds;
	uint64_t *ips;		/* call chain of the hit being delivered */
	uint64_t nips;
	struct hwbp_bk_slot *slots;
	struct hwbp_bk_slot *last_hit;	/* cache for id lookups */
	struct sigaction old_sa;
	bool sa_installed;
	int step_sig;		/* signal mode step-over's signal, or 0 */
	struct sigaction old_step_sa;
};

/*
 * hwbp_perf_signal_open() - signal mode for B: install the SIGTRAP handler
 * (one session at a time) and, on arm64, take a real-time signal for the
 * step-over.
 *
 * Return: 0; -EBUSY if another session is in signal mode or no real-time
 * signal is free; -EOPNOTSUPP on LoongArch; a negative errno from
 * sigaction(). On failure, hwbp_perf_signal_close() undoes what was done.
 */
int hwbp_perf_signal_open(struct hwbp_bk *b);

/* hwbp_perf_signal_close() - put back the handlers B replaced, if any. */
void hwbp_perf_signal_close(struct hwbp_bk *b);

#endif /* HWBP_BACKEND_PERF_H */

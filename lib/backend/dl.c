// SPDX-License-Identifier: MIT
/*
 * dl.c - following a launched command's dlopen() calls (hwbp_dl_*(), hwbp.h)
 *
 * A software breakpoint on the dynamic linker's _dl_debug_state, which it
 * calls once a library is mapped and before its constructors run. The
 * caller stays the tracer of every thread meanwhile (PTRACE_O_TRACECLONE),
 * passes their signals on, keeps group-stops stopped (PTRACE_LISTEN), and
 * detaches them all when it is done.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include <hwbp/hwbp.h>

#include "api.h"
#include "backend/tracee.h"
#include "sys.h"

struct hwbp_dl {
	pid_t pid;
	struct hwbp_ptrace_trap trap;	/* on _dl_debug_state */
	pid_t held;			/* thread stopped on the trap, or 0 */
};

static long pt(int req, pid_t tid, uint64_t addr, void *data)
{
	return hwbp_sys.ptrace(req, tid, (void *)(uintptr_t)addr, data);
}

/* See hwbp.h. */
HWBP_API int hwbp_dl_follow(pid_t pid, uint64_t dl_debug_state, struct hwbp_dl **out)
{
	struct hwbp_dl *d;
	int err;

	if (!out || !dl_debug_state)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->pid = pid;
	err = (int)pt(PTRACE_SETOPTIONS, pid, 0,
		      (void *)(long)(PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC));
	if (!err)
		err = hwbp_ptrace_trap_plant(&d->trap, pid, dl_debug_state);
	if (!err) {
		err = (int)pt(PTRACE_CONT, pid, 0, NULL);
		if (err)
			hwbp_ptrace_trap_remove(&d->trap, pid);
	}
	if (err) {
		free(d);
		return err;
	}
	*out = d;
	return 0;
}

/* See hwbp.h. */
HWBP_API enum hwbp_dl_event hwbp_dl_poll(struct hwbp_dl *d, int *status)
{
	for (;;) {
		int st, sig, ev;
		pid_t r = hwbp_sys.waitpid(-1, &st, __WALL | WNOHANG);

		if (r <= 0)
			return HWBP_DL_NONE;
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			if (r != d->pid)
				continue;	/* a thread */
			if (status)
				*status = st;
			return HWBP_DL_EXITED;
		}
		if (!WIFSTOPPED(st))
			continue;
		sig = WSTOPSIG(st);
		ev = st >> 16;
		if (ev == PTRACE_EVENT_STOP) {
			/* group-stop: stay stopped; else a new thread's first stop */
			pt(hwbp_ptrace_is_stop_sig(sig) ? PTRACE_LISTEN : PTRACE_CONT, r, 0, NULL);
		} else if (ev == PTRACE_EVENT_EXEC) {
			d->trap.planted = false;	/* went with the old image */
			d->held = r;
			return HWBP_DL_EXEC;
		} else if (ev) {
			pt(PTRACE_CONT, r, 0, NULL);
		} else if (sig == SIGTRAP && hwbp_ptrace_trap_hit(&d->trap, r)) {
			d->held = r;
			return HWBP_DL_MAPPED;
		} else {
			pt(PTRACE_CONT, r, 0, (void *)(long)sig);
		}
	}
}

/* See hwbp.h. */
HWBP_API void hwbp_dl_resume(struct hwbp_dl *d)
{
	pid_t t = d->held;
	int st, sig = 0;

	if (!t)
		return;
	d->held = 0;
	if (d->trap.planted) {
		/* Step the real instruction, then plant the trap again. */
		uint64_t addr = d->trap.addr;

		hwbp_ptrace_trap_remove(&d->trap, t);
		for (;;) {
			if (pt(PTRACE_SINGLESTEP, t, 0, NULL) || hwbp_sys.waitpid(t, &st, __WALL) != t ||
			    !WIFSTOPPED(st))
				return;
			if (st >> 16 == 0 && WSTOPSIG(st) == SIGTRAP)
				break;
			if (st >> 16 == 0)
				sig = WSTOPSIG(st);	/* passed on after the step */
		}
		hwbp_ptrace_trap_plant(&d->trap, t, addr);
	}
	pt(PTRACE_CONT, t, 0, (void *)(long)sig);
}

/*
 * Stop thread T for the detach (any ptrace-stop will do; a signal it
 * stopped with is handed back). The interrupt stop may come before a trap
 * it has just taken: let it take that first, or it would die of it.
 * Return: the signal to hand back, or -1 if T is gone.
 */
static int stop_for_detach(struct hwbp_dl *d, pid_t t)
{
	int st = 0;

	if (pt(PTRACE_INTERRUPT, t, 0, NULL))
		return -1;
	do {
		if (hwbp_sys.waitpid(t, &st, __WALL) != t)
			st = 0;
	} while (WIFSTOPPED(st) && st >> 16 &&
		 (st >> 16 != PTRACE_EVENT_STOP || hwbp_ptrace_trap_queued(t)) &&
		 !pt(PTRACE_CONT, t, 0, NULL));
	if (!WIFSTOPPED(st))
		return -1;
	if (st >> 16)
		return 0;
	if (WSTOPSIG(st) == SIGTRAP && hwbp_ptrace_trap_hit(&d->trap, t))
		return 0;	/* back on the real instruction */
	return WSTOPSIG(st);
}

/* See hwbp.h. */
HWBP_API void hwbp_dl_close(struct hwbp_dl *d)
{
	pid_t *tids = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!d)
		return;
	if (d->held && !d->trap.planted) {
		pt(PTRACE_DETACH, d->held, 0, NULL);	/* held at its exec */
		d->held = 0;
	}
	n = hwbp_ptrace_tasks(d->pid, &tids, &cap);
	for (ssize_t i = 0; i < n; i++) {
		pid_t t = tids[i];
		int sig = 0;

		if (t != d->held && (sig = stop_for_detach(d, t)) < 0)
			continue;
		hwbp_ptrace_trap_remove(&d->trap, t);
		pt(PTRACE_DETACH, t, 0, (void *)(long)sig);
	}
	free(tids);
	free(d);
}

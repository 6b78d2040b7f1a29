// SPDX-License-Identifier: MIT
/*
 * guard_sys.c - the guard backend at the target's system calls (see the
 * header comment of guard.c): bounced buffers, calls run with a guarded
 * page open, and the target's own mprotect, munmap and mremap
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#include "backend/guard_int.h"
#include "backend/inject.h"
#include "log.h"
#include "sys.h"

static const struct gd_call gd_calls[] = {
	{ SYS_read, "read", 1, 2, true },
	{ SYS_pread64, "pread64", 1, 2, true },
	{ SYS_recvfrom, "recvfrom", 1, 2, true },
	{ SYS_write, "write", 1, 2, false },
	{ SYS_pwrite64, "pwrite64", 1, 2, false },
	{ SYS_sendto, "sendto", 1, 2, false },
};

static long pt(int req, pid_t tid, uint64_t addr, void *data)
{
	return hwbp_sys.ptrace(req, tid, (void *)(uintptr_t)addr, data);
}

static const struct gd_call *call_find(uint64_t nr)
{
	for (size_t i = 0; i < sizeof(gd_calls) / sizeof(gd_calls[0]); i++)
		if ((uint64_t)gd_calls[i].nr == nr)
			return &gd_calls[i];
	return NULL;
}

static void on_entry(struct hwbp_bk *b, struct pt_task *t, struct gd_task *gt,
		     const struct gd_sysinfo *si)
{
	struct gd_proc *p = gd_proc_find(b->g, t->pid);
	const struct gd_call *c = call_find(si->entry.nr);
	uint64_t cookies[GD_HITS_MAX], buf, count;
	struct hwbp_guard_fault f;
	struct hwbp_tregs r;

	if (si->entry.nr == SYS_mprotect || si->entry.nr == SYS_pkey_mprotect ||
	    si->entry.nr == SYS_munmap || si->entry.nr == SYS_mremap ||
	    (si->entry.nr == SYS_mmap && (si->entry.args[3] & MAP_FIXED))) {
		gt->mprot = true;
		gt->unmap = si->entry.nr != SYS_mprotect && si->entry.nr != SYS_pkey_mprotect;
		gt->maddr = si->entry.args[0];
		gt->mlen = si->entry.args[1];
		gt->mprot_prot = gt->unmap ? PROT_NONE :
			(unsigned int)si->entry.args[2] & (PROT_READ | PROT_WRITE | PROT_EXEC);
		return;
	}
	if (!p || !c || !p->bounce)
		return;
	buf = si->entry.args[c->buf];
	count = si->entry.args[c->count];
	if (!count)
		return;
	if (count > GD_BOUNCE_SIZE)
		count = GD_BOUNCE_SIZE;
	if (hwbp_guard_set_classify(p->set, buf, count, c->kernel_writes ? HWBP_WRITE : HWBP_READ,
				    cookies, GD_HITS_MAX, &f) ||
	    f.verdict == HWBP_GUARD_FOREIGN || hwbp_tregs_get(t->tid, &r))
		return;
	if (!c->kernel_writes) {
		/* The kernel reads the bounce area: the bytes go there first. */
		unsigned char *tmp = malloc(count);
		int err = tmp ? gd_mem_read(p, buf, tmp, count) : -ENOMEM;

		if (!err)
			err = gd_mem_write(p, p->bounce, tmp, count);
		free(tmp);
		if (err)
			return;
	}
	gt->call = c;
	gt->buf = buf;
	gt->count = si->entry.args[c->count];
	hwbp_tregs_set_arg(&r, c->buf, p->bounce);
	hwbp_tregs_set_arg(&r, c->count, count);
	if (hwbp_tregs_set(t->tid, &r)) {
		gt->call = NULL;
		return;
	}
	b->g->st.bounced++;
	gd_pend_hits(t, gt, p, cookies, f.nhits, buf, count,
		  c->kernel_writes ? HWBP_WRITE : HWBP_READ, si->ip);
	for (unsigned int i = 0; i < gt->npend; i++) {
		gt->pend[i].hit.kernel = true;
		gt->pend[i].hit.syscall = c->name;
	}
}

/* The bounced call of T returned RVAL: move the data, take the hits. */
static void bounce_exit(struct hwbp_bk *b, struct pt_task *t, struct gd_task *gt,
			struct gd_proc *p, int64_t rval)
{
	const struct gd_call *c = gt->call;
	struct hwbp_tregs r;
	unsigned int keep = 0;

	gt->call = NULL;
	if (!hwbp_tregs_get(t->tid, &r)) {
		hwbp_tregs_set_arg(&r, c->buf, gt->buf);
		hwbp_tregs_set_arg(&r, c->count, gt->count);
		hwbp_tregs_set(t->tid, &r);
	}
	/* Only the points in the bytes the call moved were touched; their
	 * old bytes are still in the real buffer until the copy below. */
	for (unsigned int i = 0; i < gt->npend; i++) {
		struct gd_pend *e = &gt->pend[i];
		uint64_t end = gt->buf + (uint64_t)(rval > 0 ? rval : 0);

		if (!e->bs || e->hit.addr >= end)
			continue;
		if (e->hit.addr + e->hit.len > end)
			e->hit.len = end - e->hit.addr;
		e->hit.nvalue = 0;
		if (e->hit.len <= 8 && !gd_mem_value(p, e->hit.addr, e->hit.len, &e->hit.old))
			e->hit.nvalue = (unsigned int)e->hit.len;
		gt->pend[keep++] = *e;
	}
	if (rval > 0 && c->kernel_writes) {
		unsigned char *tmp = malloc((size_t)rval);

		if (tmp && !gd_mem_read(p, p->bounce, tmp, (size_t)rval))
			gd_mem_write(p, gt->buf, tmp, (size_t)rval);
		free(tmp);
	}
	gt->npend = keep;
	gd_pend_queue(b, t, gt, p, NULL);
}

/*
 * The target's own mprotect returned: replay it, guard again on top. Pages
 * it unmapped (or mapped anew over) are no longer hwbp's: recorded as
 * PROT_NONE, so that nothing there is guarded or restored.
 */
static void mprotect_exit(struct hwbp_bk *b, struct pt_task *t, struct gd_task *gt,
			  struct gd_proc *p)
{
	uint64_t lo = gd_page_down(b->g, gt->maddr);
	uint64_t len = gd_page_down(b->g, gt->maddr + gt->mlen + b->g->page - 1) - lo;

	gt->mprot = false;
	if (!len || hwbp_guard_set_reprotect(p->set, lo, len, gt->mprot_prot))
		return;
	p->dirty = true;
	(void)t;
}

/* Make the pending changes of *TP's process now, unless a step is under way. */
static void proc_catch_up(struct hwbp_bk *b, struct pt_task **tp)
{
	struct gd_proc *p = gd_proc_find(b->g, (*tp)->pid);

	if (!p || !p->dirty || b->g->stepper)
		return;
	p = gd_hold_others(b, tp);
	if (p && gd_proc_apply(b, p))
		hwbp_log(HWBP_LOG_WARN, "guard: process %d: cannot guard its pages again",
			 (int)p->pid);
	if (*tp)
		gd_release_others(b, *tp);
}

/*
 * T enters a call (not bounced) with an argument that points into a
 * guarded page: open those pages for the call, so that it does not fail
 * with EFAULT. Its own accesses there are not reported, and while it runs
 * the other threads' are not seen either (they are not held: the call may
 * block until one of them acts).
 */
static void call_open(struct hwbp_bk *b, struct pt_task **tp, struct gd_task *gt,
		      struct gd_proc *p, const struct gd_sysinfo *si)
{
	struct gd *g = b->g;
	struct pt_task *t;
	uint64_t pages[GD_OPEN_MAX] = { 0 }, cookies[1];
	unsigned int n = 0;

	for (unsigned int i = 0; i < 6 && n < GD_OPEN_MAX; i++) {
		uint64_t pg = gd_page_down(g, si->entry.args[i]);
		struct hwbp_guard_fault f;
		bool dup = false;

		if (hwbp_guard_set_classify(p->set, si->entry.args[i], 1, HWBP_RW, cookies, 1, &f) ||
		    f.verdict == HWBP_GUARD_FOREIGN)
			continue;
		for (unsigned int k = 0; k < n; k++)
			dup |= pages[k] == pg;
		if (!dup)
			pages[n++] = pg;
	}
	if (!n || !(p = gd_hold_others(b, tp)))
		return;
	t = *tp;
	for (unsigned int k = 0; k < n; k++) {
		unsigned int orig, prot;

		if (gd_page_prot(p->set, pages[k], &orig, &prot) &&
		    !gd_proc_mprotect(b, p, t, pages[k], g->page, orig))
			gt->sysopen[gt->nsysopen++] = pages[k];
	}
	g->st.calls_opened += gt->nsysopen > 0;
	gd_release_others(b, t);
}

/* T's call with pages open returned: guard them again. */
static void call_close(struct hwbp_bk *b, struct pt_task **tp, struct gd_task *gt)
{
	struct gd_proc *p = gd_hold_others(b, tp);

	for (unsigned int k = 0; p && k < gt->nsysopen; k++) {
		unsigned int orig, prot;

		if (gd_page_prot(p->set, gt->sysopen[k], &orig, &prot))
			gd_proc_mprotect(b, p, *tp, gt->sysopen[k], b->g->page, prot);
	}
	gt->nsysopen = 0;
	if (*tp)
		gd_release_others(b, *tp);
}

void gd_on_syscall(struct hwbp_bk *b, struct pt_task **tp)
{
	struct pt_task *t = *tp;
	struct gd_task *gt = gd_task_of(t);
	struct gd_proc *p = gd_proc_find(b->g, t->pid);
	struct gd_sysinfo si;

	memset(&si, 0, sizeof(si));
	if (!gt || pt(GD_SYSCALL_INFO, t->tid, sizeof(si), &si) <= 0)
		return;
	if (si.op == GD_INFO_ENTRY) {
		/* (with pages open: the same call, run again after the opening) */
		if (gt->nsysopen)
			return;
		gt->mprot = false;
		on_entry(b, t, gt, &si);
		if (p && !gt->call && !gt->mprot && !b->g->stepper)
			call_open(b, tp, gt, p, &si);
		return;
	}
	if (si.op != GD_INFO_EXIT || !p)
		return;
	if (gt->nsysopen) {
		call_close(b, tp, gt);
		t = *tp;
		p = t ? gd_proc_find(b->g, t->pid) : NULL;
		if (!p)
			return;
	}
	if (gt->call)
		bounce_exit(b, t, gt, p, si.exit.rval);
	if (gt->mprot && (si.exit.rval == 0 ||
			  (gt->unmap && (si.exit.rval > 0 || si.exit.rval < -4095))))
		mprotect_exit(b, t, gt, p);
	gt->mprot = false;
	proc_catch_up(b, tp);
}


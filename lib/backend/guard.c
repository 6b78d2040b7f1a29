// SPDX-License-Identifier: MIT
/*
 * guard.c - the guard backend: software watchpoints by page protection
 *
 * It runs on the ptrace engine (ptrace.c, ptrace_int.h), which traces
 * every thread, follows threads, children and exec and queues hits. What
 * is the guard's own:
 *
 *   - Arming. Each traced process has a guard set (guard/plan.h) of the
 *     points' ranges. With every thread of the process stopped, its
 *     mappings and the memory the kernel writes on its own (each thread's
 *     stack mapping, the pages around its thread pointer: the control
 *     block with clear_child_tid, and its rseq area) are read, and the
 *     protection changes the set asks for are made by the target itself:
 *     mprotect(2) injected into a stopped thread (inject.h).
 *   - A fault (SIGSEGV, SEGV_ACCERR) on a guarded page. The caller's
 *     decoder says which bytes the instruction accesses and how; the set
 *     classifies it: not ours (passed on to the target), a step (a guarded
 *     page, no point touched) or hits. The access is then completed
 *     either by the tracer itself, for a plain store (the bytes written
 *     through /proc/PID/mem, which ignores page protections, and the pc
 *     moved past the instruction: one stop per hit, and the page never
 *     opens), or by opening its pages for one single step with every
 *     other thread of the process held stopped, so that no thread gets
 *     through unseen, and protecting them again.
 *   - System calls. While a process has guarded pages, its threads are
 *     resumed with PTRACE_SYSCALL. A call of the bounce table whose
 *     buffer touches a guarded page gets a bounce area instead (mapped
 *     once in each process by an injected mmap): data the kernel writes
 *     there is copied to the real buffer at the call's exit, data it
 *     reads is copied in at the entry, so the call behaves as without
 *     hwbp; the points it touched are hits with @kernel set. The target's
 *     own mprotect of a guarded page is replayed into the set, and the
 *     points there are guarded again on top of the new protection.
 *   - Children not followed get their parent's protections undone before
 *     they run; exec gives a process a new, empty set.
 *   - Detach restores every protection and unmaps the bounce areas, with
 *     threads caught inside a bounced call given their own buffer back.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/inject.h"
#include "backend/guard_int.h"
#include "log.h"
#include "sys.h"

static long pt(int req, pid_t tid, uint64_t addr, void *data)
{
	return hwbp_sys.ptrace(req, tid, (void *)(uintptr_t)addr, data);
}


/* --------------------------------------------------------------------- */
/* Processes and threads                                                 */

struct gd_proc *gd_proc_find(struct gd *g, pid_t pid)
{
	for (size_t i = 0; i < g->nprocs; i++)
		if (g->procs[i].pid == pid)
			return &g->procs[i];
	return NULL;
}

/* PID's process, made with SET (or an empty set) if it is new. */
static struct gd_proc *proc_get(struct gd *g, pid_t pid, struct hwbp_guard_set *set)
{
	struct gd_proc *p = gd_proc_find(g, pid);

	if (p)
		return p;
	if (g->nprocs == g->capprocs) {
		size_t cap = g->capprocs ? 2 * g->capprocs : 4;
		struct gd_proc *v = realloc(g->procs, cap * sizeof(*v));

		if (!v)
			return NULL;
		g->procs = v;
		g->capprocs = cap;
	}
	if (!set && hwbp_guard_set_create(g->page, &set))
		return NULL;
	p = &g->procs[g->nprocs++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->set = set;
	p->memfd = -1;
	return p;
}

static void proc_drop(struct gd *g, struct gd_proc *p)
{
	size_t i = (size_t)(p - g->procs);

	hwbp_guard_set_destroy(p->set);
	free(p->traps);
	if (p->memfd >= 0)
		hwbp_sys.close(p->memfd);
	memmove(&g->procs[i], &g->procs[i + 1], (g->nprocs - i - 1) * sizeof(*p));
	g->nprocs--;
}

static int proc_mem(struct gd_proc *p)
{
	if (p->memfd < 0)
		p->memfd = hwbp_sys.open_mem(p->pid);
	return p->memfd;
}

int gd_mem_read(struct gd_proc *p, uint64_t addr, void *buf, size_t n)
{
	int fd = proc_mem(p);
	ssize_t r = fd < 0 ? fd : hwbp_sys.pread(fd, buf, n, addr);

	return r == (ssize_t)n ? 0 : (r < 0 ? (int)r : -EIO);
}

int gd_mem_write(struct gd_proc *p, uint64_t addr, const void *buf, size_t n)
{
	int fd = proc_mem(p);
	ssize_t r = fd < 0 ? fd : hwbp_sys.pwrite(fd, buf, n, addr);

	return r == (ssize_t)n ? 0 : (r < 0 ? (int)r : -EIO);
}

/* The LEN (<= 8) bytes at ADDR as a little-endian integer. */
int gd_mem_value(struct gd_proc *p, uint64_t addr, uint64_t len, uint64_t *v)
{
	unsigned char b[8] = { 0 };
	int err = len <= 8 ? gd_mem_read(p, addr, b, (size_t)len) : -E2BIG;

	*v = 0;
	for (uint64_t i = 0; !err && i < len; i++)
		*v |= (uint64_t)b[i] << (8 * i);
	return err;
}

struct gd_task *gd_task_of(struct pt_task *t)
{
	if (!t->gt)
		t->gt = calloc(1, sizeof(*t->gt));
	return t->gt;
}

/* A stopped thread of PID to run injected calls in, after FROM. */
static struct pt_task *proc_thread(struct hwbp_bk *b, pid_t pid, size_t *from)
{
	for (size_t i = *from; i < b->ntasks; i++) {
		struct pt_task *t = &b->tasks[i];

		if (t->pid == pid && t->stopped && !t->dying && !t->listen) {
			*from = i + 1;
			return t;
		}
	}
	return NULL;
}

/* Is the stopped thread TID at a system-call-entry stop? */
static bool at_entry(pid_t tid)
{
	struct gd_sysinfo si;

	memset(&si, 0, sizeof(si));
	return pt(GD_SYSCALL_INFO, tid, sizeof(si), &si) > 0 && si.op == GD_INFO_ENTRY;
}

/* Run call NR in thread T; its result in *RET. */
static int run_call(struct pt_task *t, long nr, const uint64_t args[6], int64_t *ret)
{
	int sig = 0;
	int err = hwbp_inject_syscall(t->tid, at_entry(t->tid), nr, args, ret, &sig);

	if (sig && !t->sig)
		t->sig = sig;
	return err;
}

/* Run call NR in some stopped thread of P (every one of its threads is stopped). */
static int proc_call(struct hwbp_bk *b, struct gd_proc *p, long nr, const uint64_t args[6],
		     int64_t *ret)
{
	size_t from = 0;
	struct pt_task *t;
	int err = -ESRCH;

	while ((t = proc_thread(b, p->pid, &from))) {
		err = run_call(t, nr, args, ret);
		if (err != -EAGAIN)
			return err;
	}
	/* arm64, every thread inside a call that the injected one would
	 * spoil the restart of: let one restart into its entry stop. */
	from = 0;
	t = proc_thread(b, p->pid, &from);
	if (err == -EAGAIN && t) {
		int sig = 0;

		err = hwbp_inject_to_call(t->tid, &sig);
		if (sig && !t->sig)
			t->sig = sig;
		if (!err)
			err = run_call(t, nr, args, ret);
	}
	return err;
}

/* mprotect(ADDR, LEN, PROT) in P. */
int gd_proc_mprotect(struct hwbp_bk *b, struct gd_proc *p, struct pt_task *t, uint64_t addr,
			 uint64_t len, unsigned int prot)
{
	uint64_t args[6] = { addr, len, prot, 0, 0, 0 };
	int64_t ret = 0;
	int err = t ? run_call(t, SYS_mprotect, args, &ret) :
		      proc_call(b, p, SYS_mprotect, args, &ret);

	if (!err && ret)
		err = (int)ret;
	if (err)
		hwbp_log(HWBP_LOG_ERROR, "guard: mprotect(0x%llx, %llu) in process %d failed: %s",
			 (unsigned long long)addr, (unsigned long long)len, (int)p->pid,
			 strerror(-err));
	return err;
}

/* --------------------------------------------------------------------- */
/* Arming                                                                */

/*
 * What the kernel writes in thread TID's stack and control block, into FB
 * (two entries at most): the signal frames anywhere in its stack below
 * the control block, and clear_child_tid in the block itself, at the
 * thread pointer TP (GD_TCB_BYTES from it, upwards on x86-64, downwards on
 * arm64 and LoongArch; on x86-64 up to the end of the rseq area RS when
 * that is inside: glibc's last member). A thread's stack is the mapping holding SP, up to
 * its control block when that is in it too (glibc and musl put it at the
 * top of the stack's mapping; the kernel may have merged the next mapping
 * into the same line of /proc/PID/maps).
 */
static void stack_forbid(const struct hwbp_guard_maps *maps, uint64_t sp, uint64_t tp,
			 const struct gd_rseq *rs, pid_t tid, struct hwbp_guard_forbid *fb,
			 size_t *nfb)
{
	const struct hwbp_guard_map *ms = hwbp_guard_maps_find(maps, sp);
	const struct hwbp_guard_map *mt = hwbp_guard_maps_find(maps, tp);
	uint64_t lo = 0, hi = 0;

	if (mt && tp > GD_TCB_BYTES) {
		lo = tp - GD_TCB_BELOW;
		hi = lo + GD_TCB_BYTES;
		/* glibc (2.35 on) ends struct pthread with its rseq area: where
		 * the block is exactly, and a mapping merged after it is not */
		if (!GD_TCB_BELOW && rs->ptr > tp && rs->ptr + 32 <= hi)
			hi = rs->ptr + 32;
		lo = lo < mt->start ? mt->start : lo;
		hi = hi > mt->end ? mt->end : hi;
		fb[(*nfb)++] = (struct hwbp_guard_forbid){ lo, hi - lo, HWBP_GUARD_TCB, tid };
	}
	if (!ms)
		return;
	if (ms == mt && tp > sp)
		fb[(*nfb)++] = (struct hwbp_guard_forbid){ ms->start, hi - ms->start,
							  HWBP_GUARD_THREAD_STACK, tid };
	else
		fb[(*nfb)++] = (struct hwbp_guard_forbid){ ms->start, ms->end - ms->start,
							  HWBP_GUARD_THREAD_STACK, tid };
}

/* Give P's set its mappings and what the kernel writes, from its stopped threads. */
static int proc_refresh(struct hwbp_bk *b, struct gd_proc *p, char *why, size_t whylen)
{
	struct hwbp_guard_maps *maps = NULL;
	struct hwbp_guard_forbid *fb;
	size_t nfb = 0;
	char path[64];
	char *text;
	ssize_t n;
	int err;

	text = malloc(1u << 20);
	if (!text)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)p->pid);
	n = hwbp_sys.read_file(path, text, 1u << 20);
	err = n < 0 ? (int)n : hwbp_guard_maps_parse(text, &maps, why, whylen);
	free(text);
	if (!err)
		err = hwbp_guard_set_maps(p->set, maps, why, whylen);
	if (err) {
		hwbp_guard_maps_free(maps);
		return err;
	}
	fb = calloc(3 * b->ntasks + GD_ALT_MAX + 1, sizeof(*fb));
	if (!fb)
		return -ENOMEM;
	for (size_t i = 0; i < b->ntasks; i++) {
		struct pt_task *t = &b->tasks[i];
		struct hwbp_tregs r;
		struct gd_rseq rs;
		uint64_t tp;

		if (t->pid != p->pid || t->dying || hwbp_tregs_get(t->tid, &r))
			continue;
		tp = hwbp_tregs_tp(t->tid, &r);
		memset(&rs, 0, sizeof(rs));
		if (pt(GD_RSEQ_CONFIG, t->tid, sizeof(rs), &rs) <= 0 || !rs.ptr || !rs.size)
			memset(&rs, 0, sizeof(rs));
		stack_forbid(maps, hwbp_tregs_sp(&r), tp, &rs, t->tid, fb, &nfb);
		if (rs.ptr)
			fb[nfb++] = (struct hwbp_guard_forbid){ rs.ptr, rs.size, HWBP_GUARD_RSEQ,
							       t->tid };
	}
	for (unsigned int i = 0; i < p->nalt; i++)
		fb[nfb++] = p->alt[i];
	err = hwbp_guard_set_forbid(p->set, fb, nfb, why, whylen);
	free(fb);
	return err;
}

/* Map P's bounce area if it has none. */
static int proc_bounce(struct hwbp_bk *b, struct gd_proc *p)
{
	uint64_t args[6] = { 0, GD_BOUNCE_SIZE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0 };
	int64_t ret = 0;
	int err;

	if (p->bounce)
		return 0;
	err = proc_call(b, p, SYS_mmap, args, &ret);
	if (!err && ret < 0 && ret > -4096)
		err = (int)ret;
	if (!err)
		p->bounce = (uint64_t)ret;
	return err;
}

/* The runs of SET that LIST(SET, out, max) gives, in a new array. */
static size_t runs_get(const struct hwbp_guard_set *set,
		       size_t (*list)(const struct hwbp_guard_set *, struct hwbp_guard_run *, size_t),
		       struct hwbp_guard_run **out)
{
	size_t n = list(set, NULL, 0);

	*out = calloc(n ? n : 1, sizeof(**out));
	if (!*out)
		return 0;
	return list(set, *out, n);
}

/* Make the protections P's set wants, with every thread of P stopped. */
int gd_proc_apply(struct hwbp_bk *b, struct gd_proc *p)
{
	struct hwbp_guard_run *runs;
	size_t n = runs_get(p->set, hwbp_guard_set_changes, &runs);
	int err = 0;

	if (!runs)
		return -ENOMEM;
	if (n)
		err = proc_bounce(b, p);
	for (size_t i = 0; i < n && !err; i++)
		err = gd_proc_mprotect(b, p, NULL, runs[i].addr, runs[i].len, runs[i].prot);
	free(runs);
	if (!err)
		err = hwbp_guard_set_commit(p->set);
	p->dirty = err != 0;
	return err;
}

/* Every traced process has its gd_proc. */
static int procs_sync(struct hwbp_bk *b)
{
	for (size_t i = 0; i < b->ntasks; i++)
		if (!b->tasks[i].dying && !proc_get(b->g, b->tasks[i].pid, NULL))
			return -ENOMEM;
	return 0;
}

/*
 * Plant (ON) or remove BS's breakpoint in P, through a stopped thread.
 * Two breakpoints whose saved words overlap cannot be put back in any
 * order: -EBUSY.
 */
static int trap_set(struct hwbp_bk *b, struct gd_proc *p, struct hwbp_bk_slot *bs, bool on)
{
	size_t from = 0;
	struct pt_task *t = proc_thread(b, p->pid, &from);
	struct gd_trap *v;
	int err;

	for (size_t i = 0; i < p->ntraps; i++) {
		if (p->traps[i].bs == bs) {
			if (on)
				return 0;
			if (t)
				hwbp_ptrace_trap_remove(&p->traps[i].tr, t->tid);
			p->traps[i] = p->traps[--p->ntraps];
			return 0;
		}
		if (on && p->traps[i].tr.addr + 8 > bs->slot.addr &&
		    bs->slot.addr + 8 > p->traps[i].tr.addr) {
			hwbp_log(HWBP_LOG_ERROR,
				 "guard: cannot break at 0x%llx: a breakpoint at 0x%llx is within 8 "
				 "bytes", (unsigned long long)bs->slot.addr,
				 (unsigned long long)p->traps[i].tr.addr);
			return -EBUSY;
		}
	}
	if (!on)
		return 0;
	if (!t)
		return -ESRCH;
	v = realloc(p->traps, (p->ntraps + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	p->traps = v;
	v = &p->traps[p->ntraps];
	v->bs = bs;
	err = hwbp_ptrace_trap_plant(&v->tr, t->tid, bs->slot.addr);
	if (!err)
		p->ntraps++;
	return err;
}

/*
 * Add (ON) or remove BS's range in every process and make the changes,
 * every thread stopped. A range refused in the first process refuses the
 * change (the reason logged); in a child, it is skipped there.
 */
static int ranges_set(struct hwbp_bk *b, struct hwbp_bk_slot *bs, bool on)
{
	struct gd *g = b->g;
	int err = procs_sync(b);

	for (size_t i = 0; i < g->nprocs && !err; i++) {
		struct gd_proc *p = &g->procs[i];
		char why[256] = "";

		if (bs->slot.type == HWBP_SLOT_BREAK) {
			err = trap_set(b, p, bs, on);
			if (err && i > 0)
				err = 0;
			continue;
		}
		if (!on) {
			hwbp_guard_range_remove(p->set, (uint64_t)(uintptr_t)bs);
			continue;
		}
		err = proc_refresh(b, p, why, sizeof(why));
		if (!err)
			err = hwbp_guard_range_add(p->set, bs->slot.addr, bs->slot.len,
						   bs->slot.access, (uint64_t)(uintptr_t)bs, why,
						   sizeof(why));
		if (err == -EEXIST)
			err = 0;
		if (err && why[0])
			hwbp_log(HWBP_LOG_ERROR, "guard: cannot watch 0x%llx/%u: %s",
				 (unsigned long long)bs->slot.addr, bs->slot.len, why);
		if (err && i > 0)
			err = 0;
	}
	if (err) {
		for (size_t i = 0; i < g->nprocs; i++) {
			hwbp_guard_range_remove(g->procs[i].set, (uint64_t)(uintptr_t)bs);
			if (bs->slot.type == HWBP_SLOT_BREAK)
				trap_set(b, &g->procs[i], bs, false);
		}
		return err;
	}
	for (size_t i = 0; i < g->nprocs && !err; i++)
		err = gd_proc_apply(b, &g->procs[i]);
	return err;
}

static int gd_install(struct hwbp_bk *b, const struct hwbp_slot *slot, bool enabled,
		      void *cookie, struct hwbp_bk_slot **out)
{
	struct gd *g = b->g;
	struct hwbp_bk_slot *bs;
	int err;

	if (g->nslots == g->capslots) {
		size_t cap = g->capslots ? 2 * g->capslots : 16;
		struct hwbp_bk_slot **v = realloc(g->slots, cap * sizeof(struct hwbp_bk_slot *));

		if (!v)
			return -ENOMEM;
		g->slots = v;
		g->capslots = cap;
	}
	bs = calloc(1, sizeof(*bs));
	if (!bs)
		return -ENOMEM;
	bs->slot = *slot;
	bs->enabled = enabled;
	bs->cookie = cookie;
	hwbp_pt_quiesce(b);
	err = enabled ? ranges_set(b, bs, true) : 0;
	hwbp_pt_resume_all(b);
	if (err) {
		free(bs);
		return err;
	}
	g->slots[g->nslots++] = bs;
	*out = bs;
	return 0;
}

static int gd_modify(struct hwbp_bk *b, struct hwbp_bk_slot *bs, const struct hwbp_slot *slot,
		     bool enabled, void *cookie)
{
	(void)b;
	(void)bs;
	(void)slot;
	(void)enabled;
	(void)cookie;
	return -EOPNOTSUPP;
}

static void gd_remove(struct hwbp_bk *b, struct hwbp_bk_slot *bs)
{
	struct gd *g = b->g;

	hwbp_pt_quiesce(b);
	if (bs->enabled)
		ranges_set(b, bs, false);
	hwbp_pt_queue_forget(b, bs);
	for (size_t i = 0; i < b->ntasks; i++) {
		struct gd_task *gt = b->tasks[i].gt;

		for (unsigned int k = 0; gt && k < gt->npend; k++)
			if (gt->pend[k].bs == bs)
				gt->pend[k].bs = NULL;
	}
	hwbp_pt_resume_all(b);
	for (size_t i = 0; i < g->nslots; i++) {
		if (g->slots[i] == bs) {
			g->slots[i] = g->slots[--g->nslots];
			break;
		}
	}
	hwbp_tally_free(&bs->tids);
	free(bs);
}

static int gd_enable(struct hwbp_bk *b, struct hwbp_bk_slot *bs, bool on)
{
	int err;

	if (bs->enabled == on)
		return 0;
	hwbp_pt_quiesce(b);
	err = ranges_set(b, bs, on);
	if (!err)
		bs->enabled = on;
	hwbp_pt_resume_all(b);
	return err;
}

static void gd_capacity(struct hwbp_bk *b, unsigned int *watch, unsigned int *brk, bool *shared)
{
	(void)b;
	*watch = GD_SLOTS_MAX;
	*brk = GD_SLOTS_MAX;
	*shared = false;
}

static int gd_free_slots(struct hwbp_bk *b, unsigned int *watch, unsigned int *brk)
{
	*watch = GD_SLOTS_MAX - (unsigned int)b->g->nslots;
	*brk = *watch;
	return 0;
}

static int gd_stats(struct hwbp_bk *b, struct hwbp_guard_stats *out)
{
	*out = b->g->st;
	return 0;
}

/* --------------------------------------------------------------------- */
/* Faults                                                                */

/*
 * Stop every running thread of T's process (the other processes' run on).
 * Their stops are taken as usual, which may add or drop tasks and so move
 * T in the engine's array. Return: T where it is now, or NULL if gone.
 */
static struct pt_task *gd_proc_stop(struct hwbp_bk *b, struct pt_task *t)
{
	pid_t pid = t->pid, tid = t->tid;

	for (size_t i = 0; i < b->ntasks; i++) {
		struct pt_task *o = &b->tasks[i];

		if (o->pid == pid && !o->stopped && !o->dying && !o->fresh)
			pt(PTRACE_INTERRUPT, o->tid, 0, NULL);
	}
	for (size_t i = 0; i < b->ntasks;) {
		struct pt_task *o = &b->tasks[i];

		if (o->pid != pid || o->stopped || o->dying || o->fresh) {
			i++;
			continue;
		}
		/* (again: a step's end may have let it go meanwhile) */
		pt(PTRACE_INTERRUPT, o->tid, 0, NULL);
		hwbp_pt_task_wait(b, o);	/* gone: the next task moved into slot i */
	}
	return hwbp_pt_task_find(b, tid);
}

void gd_proc_resume(struct hwbp_bk *b, pid_t pid)
{
	/* Every thread is being stopped: the caller resumes them after. */
	if (b->quiescing)
		return;
	for (size_t i = 0; i < b->ntasks; i++)
		if (b->tasks[i].pid == pid)
			hwbp_pt_task_resume(b, &b->tasks[i]);
}

/*
 * Hold every other thread of *TP's process stopped, for calls injected
 * into *TP (faults of the others meanwhile wait: they fault again later).
 * *TP is updated (the engine's array may move); return its process, or
 * NULL if it is gone. With a step of another thread under way, they are
 * held already.
 */
struct gd_proc *gd_hold_others(struct hwbp_bk *b, struct pt_task **tp)
{
	struct gd *g = b->g;
	struct pt_task *t = *tp;

	if (!g->stepper) {
		g->stepper = t->tid;
		g->stepper_pid = t->pid;
		t = gd_proc_stop(b, t);
		*tp = t;
	}
	return t ? gd_proc_find(g, t->pid) : NULL;
}

/* Let them go again (unless it is another thread's step that holds them). */
void gd_release_others(struct hwbp_bk *b, struct pt_task *t)
{
	if (b->g->stepper != t->tid)
		return;
	b->g->stepper = 0;
	gd_proc_resume(b, t->pid);
}

/* Protection of the page at PAGE as committed in SET: *PROT, *ORIG. */
bool gd_page_prot(const struct hwbp_guard_set *set, uint64_t page, unsigned int *orig,
		      unsigned int *prot)
{
	struct hwbp_guard_run *runs;
	size_t n = runs_get(set, hwbp_guard_set_runs, &runs);
	bool found = false;

	for (size_t i = 0; runs && i < n && !found; i++) {
		if (page >= runs[i].addr && page < runs[i].addr + runs[i].len) {
			*orig = runs[i].orig;
			*prot = runs[i].prot;
			found = true;
		}
	}
	free(runs);
	return found;
}

/* What the instruction at the fault does: into *ADDR, *SIZE, *KIND; the
 * decoder's word in *INSN (INSN->len 0: none). */
static void fault_access(struct hwbp_bk *b, struct gd_proc *p, const struct hwbp_tregs *r,
			 uint64_t fa, struct hwbp_insn *insn, uint64_t *addr, uint64_t *size,
			 enum hwbp_access *kind)
{
	unsigned char code[16];
	uint64_t all[40], pc = hwbp_tregs_pc(r);
	unsigned int orig = 0, prot = 0;

	memset(insn, 0, sizeof(*insn));
	insn->sz = sizeof(*insn);
	hwbp_tregs_perf(r, all);
	if (b->o.decode && !gd_mem_read(p, pc, code, sizeof(code)) &&
	    !b->o.decode(code, sizeof(code), pc, all, GD_NR_REGS, fa, insn, b->o.decode_arg) &&
	    insn->len && insn->size && insn->access) {
		*addr = insn->addr;
		*size = insn->size;
		*kind = insn->access;
		/* The decoder's operand must hold the fault address. */
		if (fa >= insn->addr && fa - insn->addr < insn->size)
			return;
	}
	insn->len = 0;
	insn->store = false;
	*addr = fa;
	*size = 1;
	gd_page_prot(p->set, gd_page_down(b->g, fa), &orig, &prot);
	*kind = prot & PROT_READ ? HWBP_WRITE : HWBP_RW;
}

/* The hits of an access [A, A+SIZE) of KIND in P, their old bytes read. */
void gd_pend_hits(struct pt_task *t, struct gd_task *gt,
		      struct gd_proc *p, const uint64_t *cookies, size_t n, uint64_t a,
		      uint64_t size, enum hwbp_access kind, uint64_t ip)
{
	gt->npend = 0;
	for (size_t i = 0; i < n && i < GD_HITS_MAX; i++) {
		struct hwbp_bk_slot *bs = (struct hwbp_bk_slot *)(uintptr_t)cookies[i];
		struct gd_pend *e = &gt->pend[gt->npend];
		uint64_t lo, hi;

		if (!bs->enabled)
			continue;
		lo = a > bs->slot.addr ? a : bs->slot.addr;
		hi = a + size < bs->slot.addr + bs->slot.len ? a + size :
							      bs->slot.addr + bs->slot.len;
		if (hi <= lo)
			continue;
		e->bs = bs;
		hwbp_pt_hit_init(t, &e->hit, ip);
		e->hit.addr = lo;
		e->hit.len = hi - lo;
		e->hit.access = kind;
		if (!gd_mem_value(p, lo, hi - lo, &e->hit.old))
			e->hit.nvalue = (unsigned int)(hi - lo);
		gt->npend++;
	}
}

/* The access is complete: read the new bytes (or take those of STORE,
 * the plain store just made) and queue the hits. */
void gd_pend_queue(struct hwbp_bk *b, struct pt_task *t, struct gd_task *gt,
		       struct gd_proc *p, const struct hwbp_insn *store)
{
	for (unsigned int i = 0; i < gt->npend; i++) {
		struct gd_pend *e = &gt->pend[i];

		if (!e->bs)
			continue;
		if (e->hit.nvalue && store) {
			/* the hit's bytes are inside the store's */
			uint64_t shift = 8 * (e->hit.addr - store->addr);

			e->hit.value = store->value >> shift;
			if (e->hit.len < 8)
				e->hit.value &= ~0ull >> (64 - 8 * e->hit.len);
		} else if (e->hit.nvalue &&
			   gd_mem_value(p, e->hit.addr, e->hit.len, &e->hit.value)) {
			e->hit.nvalue = 0;
		}
		hwbp_pt_queue_hit(b, t, e->bs, &e->hit);
	}
	gt->npend = 0;
}

/* Open the guarded page PAGE for T's step. */
static int step_open(struct hwbp_bk *b, struct pt_task *t, struct gd_task *gt,
		     struct gd_proc *p, uint64_t page)
{
	unsigned int orig, prot;

	for (unsigned int i = 0; i < gt->nopen; i++)
		if (gt->open[i] == page)
			return 0;
	if (gt->nopen == GD_OPEN_MAX || !gd_page_prot(p->set, page, &orig, &prot))
		return -EINVAL;
	gt->open[gt->nopen++] = page;
	return gd_proc_mprotect(b, p, t, page, b->g->page, orig);
}

/* Protect T's open pages again, plant the breakpoint it stepped over again. */
static void step_close(struct hwbp_bk *b, struct pt_task *t, struct gd_task *gt,
		       struct gd_proc *p)
{
	for (unsigned int i = 0; i < gt->nopen; i++) {
		unsigned int orig, prot;

		if (gd_page_prot(p->set, gt->open[i], &orig, &prot))
			gd_proc_mprotect(b, p, t, gt->open[i], b->g->page, prot);
	}
	gt->nopen = 0;
	for (size_t i = 0; gt->retrap && i < p->ntraps; i++)
		if (p->traps[i].tr.addr == gt->retrap)
			hwbp_ptrace_trap_plant(&p->traps[i].tr, t->tid, gt->retrap);
	gt->retrap = 0;
	gt->stepping = false;
	t->stepping = false;
	b->g->stepper = 0;
}

/* Complete a plain store the tracer can make itself. */
static bool emulate(struct pt_task *t, struct gd_proc *p, struct hwbp_tregs *r,
		    const struct hwbp_insn *insn)
{
	unsigned char v[8];

	if (!insn->len || !insn->store || !insn->size || insn->size > 8)
		return false;
	for (unsigned int i = 0; i < insn->size; i++)
		v[i] = (unsigned char)(insn->value >> (8 * i));
	if (gd_mem_write(p, insn->addr, v, insn->size))
		return false;
	hwbp_tregs_set_pc(r, hwbp_tregs_pc(r) + insn->len);
	return !hwbp_tregs_set(t->tid, r);
}

/* A SIGSEGV of T at FA. Return: true when it was hwbp's. */
static bool on_fault(struct hwbp_bk *b, struct pt_task **tp, uint64_t fa)
{
	struct pt_task *t = *tp;
	struct gd *g = b->g;
	struct gd_proc *p = gd_proc_find(g, t->pid);
	struct gd_task *gt = gd_task_of(t);
	uint64_t cookies[GD_HITS_MAX], a, size;
	struct hwbp_guard_fault f;
	enum hwbp_access kind;
	struct hwbp_insn insn;
	struct hwbp_tregs r;

	if (!p || !gt || hwbp_tregs_get(t->tid, &r))
		return false;
	if (gt->stepping && gt->nopen) {
		/* The stepped access reaches into another guarded page. */
		if (!step_open(b, t, gt, p, gd_page_down(g, fa))) {
			t->sig = 0;
			return true;
		}
		/* A fault of its own: the target gets it. */
		step_close(b, t, gt, p);
		gt->npend = 0;
		gd_proc_resume(b, t->pid);
		return false;
	}
	if (g->stepper && g->stepper_pid == t->pid && g->stepper != t->tid) {
		/* Held behind another thread's step: it faults again later. */
		t->sig = 0;
		return true;
	}
	fault_access(b, p, &r, fa, &insn, &a, &size, &kind);
	if (hwbp_guard_set_classify(p->set, a, size, kind, cookies, GD_HITS_MAX, &f) ||
	    f.verdict == HWBP_GUARD_FOREIGN) {
		/* Not a watch of ours, unless the fault address alone is. */
		if (a == fa || hwbp_guard_set_classify(p->set, fa, 1, kind, cookies, GD_HITS_MAX,
						       &f) || f.verdict == HWBP_GUARD_FOREIGN)
			return false;
		a = fa;
		size = 1;
		insn.len = 0;
	}
	g->st.faults++;
	if (f.verdict == HWBP_GUARD_STEP)
		g->st.steps++;
	gd_pend_hits(t, gt, p, cookies, f.verdict == HWBP_GUARD_HIT ? f.nhits : 0, a, size, kind,
		  hwbp_tregs_pc(&r));
	t->sig = 0;
	if (emulate(t, p, &r, &insn)) {
		g->st.emulated++;
		gd_pend_queue(b, t, gt, p, &insn);
		return true;
	}
	/* Open and step, every other thread of the process held (they are
	 * already when the step is over a breakpoint's instruction). */
	if (!gt->stepping) {
		p = gd_hold_others(b, tp);
		t = *tp;
		if (!p)
			return true;
	}
	gt->stepping = true;
	t->stepping = true;
	/* Either page may be the guarded one: open what is guarded. */
	step_open(b, t, gt, p, gd_page_down(g, a));
	if (gd_page_down(g, a + size - 1) != gd_page_down(g, a))
		step_open(b, t, gt, p, gd_page_down(g, a + size - 1));
	if (!gt->nopen) {
		step_close(b, t, gt, p);
		gt->npend = 0;
		gd_proc_resume(b, t->pid);
		t->sig = SIGSEGV;
		return true;
	}
	g->st.opened++;
	return true;
}

/* T's step over an opened access is done. */
static void on_step(struct hwbp_bk *b, struct pt_task *t, struct gd_task *gt)
{
	struct gd_proc *p = gd_proc_find(b->g, t->pid);

	if (!p)
		return;
	step_close(b, t, gt, p);
	gd_pend_queue(b, t, gt, p, NULL);
	t->sig = 0;
	gd_proc_resume(b, t->pid);
}

/* A SIGTRAP of T: one of the breakpoints? Then a hit, and a step over it. */
static bool on_trap(struct hwbp_bk *b, struct pt_task **tp)
{
	struct pt_task *t = *tp;
	struct gd *g = b->g;
	struct gd_proc *p = gd_proc_find(g, t->pid);
	struct gd_task *gt = gd_task_of(t);

	for (size_t i = 0; p && gt && i < p->ntraps; i++) {
		struct gd_trap *k = &p->traps[i];
		struct hwbp_hit h;

		if (!hwbp_ptrace_trap_hit(&k->tr, t->tid))
			continue;
		hwbp_pt_hit_init(t, &h, k->tr.addr);
		h.addr = k->bs->slot.addr;
		h.len = k->bs->slot.len;
		h.access = HWBP_EXEC;
		if (k->bs->enabled)
			hwbp_pt_queue_hit(b, t, k->bs, &h);
		/* The instruction runs once as it was, every other thread held. */
		p = gd_hold_others(b, tp);
		t = *tp;
		if (!p)
			return true;
		k = &p->traps[i];
		hwbp_ptrace_trap_remove(&k->tr, t->tid);
		gt->retrap = k->tr.addr;
		gt->stepping = true;
		t->stepping = true;
		t->sig = 0;
		return true;
	}
	return false;
}

/* --------------------------------------------------------------------- */
/* Hooks of the engine (ptrace_int.h)                                    */

/* Has no process a breakpoint planted? */
static bool g_trapless(const struct hwbp_bk *b)
{
	for (size_t i = 0; i < b->g->nprocs; i++)
		if (b->g->procs[i].ntraps)
			return false;
	return true;
}

bool hwbp_gd_stop(struct hwbp_bk *b, struct pt_task **tp, int sig, const siginfo_t *si)
{
	struct pt_task *t = *tp;
	struct gd_task *gt = t->gt;

	if (sig == (SIGTRAP | 0x80)) {
		gd_on_syscall(b, tp);
		return true;
	}
	if (gt && gt->stepping && sig == SIGTRAP) {
		on_step(b, t, gt);
		return true;
	}
	if (sig == SIGTRAP && !(g_trapless(b)))
		return on_trap(b, tp);
	if (sig == SIGSEGV && si && si->si_code == SEGV_ACCERR)
		return on_fault(b, tp, (uint64_t)(uintptr_t)si->si_addr);
	return false;
}

bool hwbp_gd_held(const struct hwbp_bk *b, const struct pt_task *t)
{
	return b->g->stepper && b->g->stepper_pid == t->pid && b->g->stepper != t->tid;
}

bool hwbp_gd_trace_syscalls(const struct hwbp_bk *b, const struct pt_task *t)
{
	(void)t;
	return b->g->nslots > 0;
}

/* Undo in CHILD, stopped, what its parent's set P made. */
static void child_clean(struct hwbp_bk *b, struct gd_proc *p, pid_t child)
{
	struct pt_task tmp = { .tid = child, .pid = child, .stopped = true };
	struct hwbp_guard_run *runs;
	size_t n = runs_get(p->set, hwbp_guard_set_restore, &runs);

	for (size_t i = 0; runs && i < n; i++)
		gd_proc_mprotect(b, p, &tmp, runs[i].addr, runs[i].len, runs[i].orig);
	free(runs);
	if (p->bounce) {
		uint64_t args[6] = { p->bounce, GD_BOUNCE_SIZE, 0, 0, 0, 0 };
		int64_t ret;

		run_call(&tmp, SYS_munmap, args, &ret);
	}
	for (size_t i = 0; i < p->ntraps; i++) {
		struct hwbp_ptrace_trap tr = p->traps[i].tr;

		hwbp_ptrace_trap_remove(&tr, child);
	}
}

bool hwbp_gd_fork(struct hwbp_bk *b, struct pt_task *t, pid_t child, bool vfork)
{
	struct gd_proc *p = gd_proc_find(b->g, t->pid);
	struct hwbp_guard_set *set = NULL;
	int status;

	if (!vfork && b->o.follow_fork && p) {
		struct gd_proc *c;

		if (hwbp_guard_set_clone(p->set, &set))
			return false;
		c = proc_get(b->g, child, set);
		if (!c) {
			hwbp_guard_set_destroy(set);
			return false;
		}
		p = gd_proc_find(b->g, t->pid);
		c->bounce = p->bounce;
		if (p->ntraps) {
			c->traps = malloc(p->ntraps * sizeof(*c->traps));
			if (c->traps) {
				memcpy(c->traps, p->traps, p->ntraps * sizeof(*c->traps));
				c->ntraps = p->ntraps;
			}
		}
		return false;	/* the engine follows it */
	}
	/* Its first stop, then its memory as without hwbp, then let go. */
	while (hwbp_sys.waitpid(child, &status, __WALL) == -EINTR)
		;
	if (p && !vfork && WIFSTOPPED(status))
		child_clean(b, gd_proc_find(b->g, t->pid), child);
	pt(PTRACE_DETACH, child, 0, NULL);
	return true;
}

void hwbp_gd_exec(struct hwbp_bk *b, pid_t pid)
{
	struct gd_proc *p = gd_proc_find(b->g, pid);

	if (p)
		proc_drop(b->g, p);
	for (size_t i = 0; i < b->ntasks; i++)
		if (b->tasks[i].pid == pid && b->tasks[i].gt)
			memset(b->tasks[i].gt, 0, sizeof(*b->tasks[i].gt));
	proc_get(b->g, pid, NULL);
	if (b->g->stepper_pid == pid)
		b->g->stepper = 0;
}

void hwbp_gd_task_gone(struct hwbp_bk *b, struct pt_task *t)
{
	if (b->g->stepper == t->tid)
		b->g->stepper = 0;
	free(t->gt);
	t->gt = NULL;
	/* The last thread of a process: its memory is gone too. */
	for (size_t i = 0; i < b->ntasks; i++)
		if (&b->tasks[i] != t && b->tasks[i].pid == t->pid)
			return;
	if (gd_proc_find(b->g, t->pid))
		proc_drop(b->g, gd_proc_find(b->g, t->pid));
}

void hwbp_gd_detach(struct hwbp_bk *b)
{
	struct gd *g = b->g;

	/* A thread inside a bounced call gets its own buffer back. */
	for (size_t i = 0; i < b->ntasks; i++) {
		struct pt_task *t = &b->tasks[i];
		struct gd_task *gt = t->gt;
		struct hwbp_tregs r;

		if (!gt || !gt->call || t->dying || hwbp_tregs_get(t->tid, &r))
			continue;
		hwbp_tregs_set_arg(&r, gt->call->buf, gt->buf);
		hwbp_tregs_set_arg(&r, gt->call->count, gt->count);
		hwbp_tregs_set(t->tid, &r);
		gt->call = NULL;
	}
	for (size_t i = 0; i < g->nprocs; i++) {
		struct gd_proc *p = &g->procs[i];
		struct hwbp_guard_run *runs;
		size_t n = runs_get(p->set, hwbp_guard_set_restore, &runs);

		for (size_t k = 0; runs && k < n; k++)
			gd_proc_mprotect(b, p, NULL, runs[k].addr, runs[k].len, runs[k].orig);
		free(runs);
		for (size_t k = 0; k < p->ntraps; k++) {
			size_t from = 0;
			struct pt_task *t = proc_thread(b, p->pid, &from);

			if (t)
				hwbp_ptrace_trap_remove(&p->traps[k].tr, t->tid);
		}
		p->ntraps = 0;
		if (p->bounce) {
			uint64_t args[6] = { p->bounce, GD_BOUNCE_SIZE, 0, 0, 0, 0 };
			int64_t ret;

			proc_call(b, p, SYS_munmap, args, &ret);
			p->bounce = 0;
		}
	}
	g->stepper = 0;
	/* (the engine forgets the tasks next, without telling) */
	for (size_t i = 0; i < b->ntasks; i++) {
		b->tasks[i].stepping = false;
		free(b->tasks[i].gt);
		b->tasks[i].gt = NULL;
	}
}

int hwbp_gd_open(struct hwbp_bk *b)
{
	long page = sysconf(_SC_PAGESIZE);

	b->g = calloc(1, sizeof(*b->g));
	if (!b->g)
		return -ENOMEM;
	b->g->page = page > 0 ? (uint64_t)page : 4096;
	b->g->st.sz = sizeof(b->g->st);
	return 0;
}

void hwbp_gd_free(struct hwbp_bk *b)
{
	struct gd *g = b->g;

	while (g->nprocs)
		proc_drop(g, &g->procs[0]);
	for (size_t i = 0; i < g->nslots; i++) {
		hwbp_tally_free(&g->slots[i]->tids);
		free(g->slots[i]);
	}
	for (size_t i = 0; i < b->ntasks; i++) {
		free(b->tasks[i].gt);
		b->tasks[i].gt = NULL;
	}
	free(g->slots);
	free(g->procs);
	free(g);
	b->g = NULL;
}

static int gd_open(const struct hwbp_session_opts *opts, const struct hwbp_backend_host *host,
		   struct hwbp_bk **out)
{
	return hwbp_pt_open_as(opts, host, true, out);
}

const struct hwbp_backend hwbp_guard_backend = {
	.name = "guard",
	.kind = HWBP_BACKEND_GUARD,
	.open = gd_open,
	.close = hwbp_pt_close,
	.capacity = gd_capacity,
	.install = gd_install,
	.modify = gd_modify,
	.remove = gd_remove,
	.enable = gd_enable,
	.count = hwbp_pt_count,
	.threads = hwbp_pt_threads,
	.free_slots = gd_free_slots,
	.fd = hwbp_pt_fd,
	.poll = hwbp_pt_poll,
	.lost = hwbp_pt_lost,
	.guard_stats = gd_stats,
};

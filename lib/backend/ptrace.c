// SPDX-License-Identifier: MIT
/*
 * ptrace.c - the ptrace backend: stop mode
 *
 * hwbp traces every thread of the target (PTRACE_SEIZE, or a process the
 * caller already holds seized and stopped, such as a command it launched)
 * and writes the debug registers of each one itself: x86-64 through the
 * u_debugreg area of struct user (DR7 = 0, DR0-3, DR7 last: ARCH.md 1.4),
 * arm64 through the NT_ARM_HW_WATCH / NT_ARM_HW_BREAK regsets, LoongArch
 * through NT_LOONGARCH_HW_WATCH / NT_LOONGARCH_HW_BREAK (the 8-slot or the
 * 14-slot layout, as dbg_info says). Every register value comes from the
 * arch layer's encoder.
 *
 * A hit stops the thread with SIGTRAP (si_code TRAP_HWBKPT). While it is
 * stopped the backend reads the watched bytes, so each hit carries the
 * exact value before and after the access:
 *   - x86-64 traps after the access: the new bytes are read at the stop,
 *     the old ones are the copy taken at the previous hit (or at install);
 *   - arm64 and LoongArch trap before the access and the kernel does not
 *     step over it for a tracer (ARCH.md 2.5): the old bytes are read at
 *     the stop, the thread's slots are disarmed, it single-steps the
 *     access, the new bytes are read and the slots are armed again. On
 *     LoongArch PTRACE_SINGLESTEP borrows instruction slot 0, so hwbp
 *     never uses it there (ARCH.md 3.4).
 * Hits are queued as they are seen and handed out by hwbp_session_poll(),
 * which also restarts stopped threads; a traced thread therefore waits at
 * its next hit until the caller polls again.
 *
 * Debug registers set through ptrace are per thread and are not inherited
 * (ARCH.md 1.4, 2.4): new threads (PTRACE_O_TRACECLONE) and followed
 * children are armed at their first stop, before they run. exec() clears
 * them: the exec'ing thread is held stopped until the next poll, after the
 * HWBP_NOTIFY_EXEC notification, so that the caller can move its points
 * into the new image first; the slots are then armed again as they stand.
 *
 * Signals the target receives are passed on unchanged (its own SIGTRAPs
 * included: only TRAP_HWBKPT traps of hwbp's slots are taken); group-stops
 * are left in place with PTRACE_LISTEN, so job control keeps working.
 *
 * Leaving: close stops every thread, clears every slot it set and detaches.
 * If hwbp is killed with SIGKILL it cannot do that: the kernel detaches the
 * threads with their debug registers still set, and the next watched
 * access kills the target with SIGTRAP. (The perf backend is immune: its
 * watchpoints are descriptors, closed by the kernel when hwbp dies.)
 *
 * Waiting: SIGCHLD is blocked in the polling thread and waited for with
 * sigtimedwait(); each traced thread is then asked with waitpid(tid,
 * WNOHANG | __WALL), so children of the caller that hwbp does not trace
 * are never reaped by it.
 */
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>

#include "arch/arch.h"
#include "backend/backend.h"
#include "backend/hwdebug.h"
#include "backend/ptrace_int.h"
#include "backend/tracee.h"
#include "log.h"
#include "tally.h"
#include "planner.h"
#include "sys.h"

#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif

#define PT_WAIT_SLICE_MS 50	/* longest sigtimedwait() before re-asking */

static long pt(int req, pid_t tid, uint64_t addr, void *data)
{
	return hwbp_sys.ptrace(req, tid, (void *)(uintptr_t)addr, data);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* --------------------------------------------------------------------- */
/* Tasks and the event queue                                             */

struct pt_task *hwbp_pt_task_find(struct hwbp_bk *b, pid_t tid)
{
	for (size_t i = 0; i < b->ntasks; i++)
		if (b->tasks[i].tid == tid)
			return &b->tasks[i];
	return NULL;
}

/* Room for one more of N elements of SIZE in V (capacity *CAP): V or its
 * larger copy; NULL (V untouched) without memory. */
static void *grow(void *v, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap ? 2 * *cap : 16;
	void *p;

	if (n < *cap)
		return v;
	p = realloc(v, c * size);
	if (p)
		*cap = c;
	return p;
}

static struct pt_task *task_add(struct hwbp_bk *b, pid_t tid, pid_t pid)
{
	struct pt_task *t = hwbp_pt_task_find(b, tid);

	if (t)
		return t;
	t = grow(b->tasks, &b->cap, b->ntasks, sizeof(*t));
	if (!t)
		return NULL;
	b->tasks = t;
	t = &b->tasks[b->ntasks++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->pid = pid;
	return t;
}

static void task_del(struct hwbp_bk *b, struct pt_task *t)
{
	size_t i = (size_t)(t - b->tasks);

	if (b->g)
		hwbp_gd_task_gone(b, t);
	memmove(&b->tasks[i], &b->tasks[i + 1], (b->ntasks - i - 1) * sizeof(*t));
	b->ntasks--;
}

static struct pt_event *queue_push(struct hwbp_bk *b)
{
	struct pt_event *e;

	if (b->qhead && b->qhead == b->qlen)
		b->qhead = b->qlen = 0;
	e = grow(b->q, &b->qcap, b->qlen, sizeof(*e));
	if (!e)
		return NULL;
	b->q = e;
	e = &b->q[b->qlen++];
	memset(e, 0, sizeof(*e));
	return e;
}

static void queue_notify(struct hwbp_bk *b, enum hwbp_notify_type type, pid_t pid, pid_t tid,
			 int status)
{
	struct pt_event *e = queue_push(b);

	if (!e)
		return;
	e->note.type = type;
	e->note.pid = pid;
	e->note.tid = tid;
	e->note.time_ns = now_ns();
	e->note.status = status;
	if (type == HWBP_NOTIFY_EXEC) {
		char path[64];
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
		n = hwbp_sys.read_file(path, e->comm, sizeof(e->comm));
		if (n > 0 && e->comm[n - 1] == '\n')
			e->comm[n - 1] = '\0';
		e->note.comm = e->comm;
	}
}

/* --------------------------------------------------------------------- */
/* Register files                                                        */

/* The register values of the armed slots (none with DISARM). */
static int regs_build(struct hwbp_bk *b, bool disarm, struct hwbp_regs *r)
{
	struct hwbp_slot sl[2 * HWBP_SLOTS_MAX];
	unsigned int n = 0;

	hwbp_regs_init(r, sizeof(*r), b->arch);
	for (unsigned int i = 0; i < HWBP_SLOTS_MAX && !disarm; i++) {
		if (b->watch[i] && b->watch[i]->enabled)
			sl[n++] = b->watch[i]->slot;
		if (b->brk[i] && b->brk[i]->enabled)
			sl[n++] = b->brk[i]->slot;
	}
	return hwbp_arch_encode(r, sl, n);
}

#if defined(__x86_64__)
static uint64_t reg_val(const struct hwbp_regs *r, const char *fmt, unsigned int i)
{
	char name[16];
	uint64_t v = 0;

	snprintf(name, sizeof(name), fmt, i);
	hwbp_regs_get(r, name, &v);
	return v;
}

#define DR_OFF(i) (offsetof(struct user, u_debugreg) + (i) * sizeof(long))

static int regs_write(struct hwbp_bk *b, pid_t tid, const struct hwbp_regs *r)
{
	uint64_t dr7 = reg_val(r, "dr%u", 7);
	long err;

	(void)b;
	/* DR7 = 0 first: the kernel checks each address against its slot's
	 * current length (ARCH.md 1.4). */
	err = pt(PTRACE_POKEUSER, tid, DR_OFF(7), NULL);
	for (unsigned int i = 0; i < 4 && !err; i++)
		if (dr7 & (3u << (2 * i)))
			err = pt(PTRACE_POKEUSER, tid, DR_OFF(i),
				 (void *)(uintptr_t)reg_val(r, "dr%u", i));
	if (!err && dr7)
		err = pt(PTRACE_POKEUSER, tid, DR_OFF(7), (void *)(uintptr_t)dr7);
	return (int)err;
}
#elif defined(__aarch64__) || defined(__loongarch64)
#define NT_WATCH HWDEBUG_NT_WATCH
#define NT_BREAK HWDEBUG_NT_BREAK
#define PT_DBG_INFO(d) ((unsigned int)((d)->dbg_info & 0xffu))

static int regset_write(struct hwbp_bk *b, pid_t tid, int nt, const struct hwbp_regs *r,
			enum hwbp_slot_type type, unsigned int n)
{
	struct hwdebug_state d;
	long len = hwdebug_image(b->arch, r, type, n, &d, sizeof(d));
	struct iovec iov = { &d, (size_t)len };

	if (len < 0)
		return (int)len;
	/* Only as many entries as the CPU has (ARCH.md 2.4, 3.4). */
	return (int)pt(PTRACE_SETREGSET, tid, (uint64_t)nt, &iov);
}

static int regs_write(struct hwbp_bk *b, pid_t tid, const struct hwbp_regs *r)
{
	int err = regset_write(b, tid, NT_WATCH, r, HWBP_SLOT_WATCH, b->nwatch);

	if (!err && b->used_brk)
		err = regset_write(b, tid, NT_BREAK, r, HWBP_SLOT_BREAK, b->nbrk);
	return err;
}

static int dbg_counts(struct hwbp_bk *b, pid_t tid)
{
	struct hwdebug_state d;
	struct iovec iov = { &d, sizeof(d) };
	long err;

	memset(&d, 0, sizeof(d));
	err = pt(PTRACE_GETREGSET, tid, NT_WATCH, &iov);
	if (err)
		return (int)err;
	b->nwatch = PT_DBG_INFO(&d);
	memset(&d, 0, sizeof(d));
	iov.iov_len = sizeof(d);
	err = pt(PTRACE_GETREGSET, tid, NT_BREAK, &iov);
	if (err)
		return (int)err;
	b->nbrk = PT_DBG_INFO(&d);
	if (b->nwatch > HWBP_SLOTS_MAX)
		b->nwatch = HWBP_SLOTS_MAX;
	if (b->nbrk > HWBP_SLOTS_MAX)
		b->nbrk = HWBP_SLOTS_MAX;
	return 0;
}
#else
static int regs_write(struct hwbp_bk *b, pid_t tid, const struct hwbp_regs *r)
{
	(void)b;
	(void)tid;
	(void)r;
	return -EOPNOTSUPP;
}
#endif

/* Write T's registers as the slots stand (all disarmed while stepping). */
static int task_arm(struct hwbp_bk *b, struct pt_task *t)
{
	struct hwbp_regs r;
	int err;

	if (b->g || (t->armed_gen == b->gen && !t->stepping))
		return 0;
	err = regs_build(b, t->stepping, &r);
	if (!err)
		err = regs_write(b, t->tid, &r);
	if (!err)
		t->armed_gen = t->stepping ? 0 : b->gen;
	return err;
}

/* --------------------------------------------------------------------- */
/* Reading the target                                                    */

/* The LEN (<= 8) bytes at ADDR as a little-endian integer. */
static int peek_bytes(pid_t tid, uint64_t addr, unsigned int len, uint64_t *v)
{
	uint64_t base = addr & ~7ull, w[2] = { 0, 0 };
	unsigned char bytes[16];
	unsigned int off = (unsigned int)(addr - base);
	long err;

	err = pt(PTRACE_PEEKDATA, tid, base, &w[0]);
	if (!err && off + len > 8)
		err = pt(PTRACE_PEEKDATA, tid, base + 8, &w[1]);
	if (err)
		return (int)err;
	memcpy(bytes, w, sizeof(w));
	*v = 0;
	for (unsigned int i = 0; i < len; i++)
		*v |= (uint64_t)bytes[off + i] << (8 * i);
	return 0;
}

static void shadow_read(struct hwbp_bk_slot *bs, pid_t tid)
{
	if (bs->slot.type == HWBP_SLOT_WATCH)
		bs->shadow_ok = !peek_bytes(tid, bs->slot.addr, bs->slot.len, &bs->shadow);
}

static uint64_t default_regs_mask(void)
{
#if defined(__x86_64__)
	return ((1ull << 24) - 1) & ~(0xfull << 12);
#elif defined(__aarch64__) || defined(__loongarch64)
	return (1ull << 33) - 1;
#else
	return 0;
#endif
}

/*
 * Registers in perf's numbering (asm/perf_regs.h), so that a hit looks the
 * same from both backends. Return: the stack pointer, or 0.
 */
static uint64_t sample_regs(struct hwbp_bk *b, pid_t tid, struct pt_event *e)
{
	uint64_t all[40] = { 0 }, sp = 0, mask;
	unsigned int n = 0;

#if defined(__x86_64__)
	struct user_regs_struct u;

	if (pt(PTRACE_GETREGS, tid, 0, &u))
		return 0;
	uint64_t v[24] = { u.rax, u.rbx, u.rcx, u.rdx, u.rsi, u.rdi, u.rbp, u.rsp,
			   u.rip, u.eflags, u.cs, u.ss, u.ds, u.es, u.fs, u.gs,
			   u.r8, u.r9, u.r10, u.r11, u.r12, u.r13, u.r14, u.r15 };

	memcpy(all, v, sizeof(v));
	sp = u.rsp;
#elif defined(__aarch64__) || defined(__loongarch64)
	struct {
		uint64_t regs[31 + 5];
	} u;
	struct iovec iov = { &u, sizeof(u) };

	memset(&u, 0, sizeof(u));
	if (pt(PTRACE_GETREGSET, tid, NT_PRSTATUS, &iov))
		return 0;
#if defined(__aarch64__)
	/* struct user_pt_regs: x0..x30, sp, pc, pstate */
	memcpy(all, u.regs, 33 * sizeof(uint64_t));
	sp = u.regs[31];
#else
	/* struct user_pt_regs: r0..r31, orig_a0, csr_era (the pc) */
	memcpy(all, u.regs, 32 * sizeof(uint64_t));
	all[32] = u.regs[33];
	sp = u.regs[3];
#endif
#else
	(void)tid;
	return 0;
#endif
	mask = b->o.sample_regs_user ? b->o.sample_regs_user : default_regs_mask();
	for (unsigned int i = 0; i < 40; i++)
		if (mask & (1ull << i))
			e->regs[n++] = all[i];
	e->hit.regs_abi = 2;	/* PERF_SAMPLE_REGS_ABI_64 */
	e->hit.regs_mask = mask & ((1ull << 40) - 1);
	e->hit.nr_regs = n;
	e->hit.regs = e->regs;
	return sp;
}

static void sample_stack(struct hwbp_bk *b, pid_t tid, uint64_t sp, struct pt_event *e)
{
	ssize_t n;

	if (!sp)
		return;
	e->stack = malloc(b->o.sample_stack_user);
	if (!e->stack)
		return;
	n = hwbp_sys.process_vm_readv(tid, e->stack, sp, b->o.sample_stack_user);
	if (n <= 0) {
		/* Up to the end of the stack's last page. */
		size_t room = 4096 - (size_t)(sp & 4095);

		n = hwbp_sys.process_vm_readv(tid, e->stack, sp, room);
	}
	if (n <= 0) {
		free(e->stack);
		e->stack = NULL;
		return;
	}
	e->hit.stack = e->stack;
	e->hit.stack_size = (uint64_t)n;
	e->hit.sp = sp;
}

/* --------------------------------------------------------------------- */
/* Stops                                                                 */

/* Queue a hit of BS by T (stopped), with values known or not. */
void hwbp_pt_queue_hit(struct hwbp_bk *b, struct pt_task *t, struct hwbp_bk_slot *bs,
		      const struct hwbp_hit *h)
{
	struct pt_event *e;

	bs->hits++;
	if (b->o.per_thread)
		hwbp_tally_add(&bs->tids, t->tid, 1);
	if (b->o.delivery == HWBP_DELIVER_COUNT)
		return;
	e = queue_push(b);
	if (!e)
		return;
	e->is_hit = true;
	e->bs = bs;
	e->hit = *h;
	if (!e->hit.len) {
		/* The slot as it fired: the point may move before delivery. */
		e->hit.addr = bs->slot.addr;
		e->hit.len = bs->slot.len;
		e->hit.access = bs->slot.access;
	}
	if (b->o.sample & (HWBP_SAMPLE_REGS | HWBP_SAMPLE_STACK)) {
		uint64_t sp = sample_regs(b, t->tid, e);

		if (!(b->o.sample & HWBP_SAMPLE_REGS)) {
			e->hit.nr_regs = 0;
			e->hit.regs = NULL;
			e->hit.regs_mask = 0;
		}
		if (b->o.sample & HWBP_SAMPLE_STACK)
			sample_stack(b, t->tid, sp, e);
	}
}

#if !defined(__x86_64__)
/* The watch slot an arm64/LoongArch data address belongs to: the one that
 * holds it, else the nearest (as the kernel attributes it: ARCH.md 2.5). */
static struct hwbp_bk_slot *slot_by_addr(struct hwbp_bk *b, uint64_t a)
{
	struct hwbp_bk_slot *best = NULL;
	uint64_t dist = UINT64_MAX;

	for (unsigned int i = 0; i < HWBP_SLOTS_MAX; i++) {
		struct hwbp_bk_slot *bs = b->watch[i];
		uint64_t d;

		if (!bs || !bs->enabled)
			continue;
		if (a >= bs->slot.addr && a < bs->slot.addr + bs->slot.len)
			return bs;
		d = a < bs->slot.addr ? bs->slot.addr - a : a - (bs->slot.addr + bs->slot.len - 1);
		if (d < dist) {
			dist = d;
			best = bs;
		}
	}
	return best;
}

/* The breakpoint slot armed at pc A, or NULL. */
static struct hwbp_bk_slot *brk_at(struct hwbp_bk *b, uint64_t a)
{
	for (unsigned int i = 0; i < HWBP_SLOTS_MAX; i++)
		if (b->brk[i] && b->brk[i]->enabled && b->brk[i]->slot.addr == a)
			return b->brk[i];
	return NULL;
}

/* The pc of a stopped thread, 0 if unknown. */
static uint64_t task_pc(pid_t tid)
{
	uint64_t pc = 0;

	hwbp_ptrace_pc(tid, &pc);
	return pc;
}
#endif

void hwbp_pt_hit_init(struct pt_task *t, struct hwbp_hit *h, uint64_t ip)
{
	memset(h, 0, sizeof(*h));
	h->pid = t->pid;
	h->tid = t->tid;
	h->cpu = -1;
	h->time_ns = now_ns();
	h->ip = ip;
}

/* A TRAP_HWBKPT stop of T: take the hits. */
static void on_hwbkpt(struct hwbp_bk *b, struct pt_task *t, const siginfo_t *si)
{
#if defined(__x86_64__)
	struct hwbp_hit h;
	uint64_t dr6 = 0;

	if (pt(PTRACE_PEEKUSER, t->tid, DR_OFF(6), &dr6))
		return;
	/* Trap after the access: the new bytes are there now. */
	for (unsigned int i = 0; i < 4; i++) {
		struct hwbp_bk_slot *bs = b->watch[i];

		if (!(dr6 & (1u << i)) || !bs || !bs->enabled)
			continue;
		hwbp_pt_hit_init(t, &h, (uint64_t)(uintptr_t)si->si_addr);
		if (bs->slot.type == HWBP_SLOT_WATCH && bs->shadow_ok) {
			uint64_t v;

			if (!peek_bytes(t->tid, bs->slot.addr, bs->slot.len, &v)) {
				h.nvalue = bs->slot.len;
				h.old = bs->shadow;
				h.value = v;
				bs->shadow = v;
			}
		} else {
			shadow_read(bs, t->tid);
		}
		hwbp_pt_queue_hit(b, t, bs, &h);
	}
#else
	uint64_t a = (uint64_t)(uintptr_t)si->si_addr;
	struct hwbp_bk_slot *bs = brk_at(b, a);

	/* A breakpoint reports its pc, a watchpoint the data address. */
	if (!bs)
		bs = slot_by_addr(b, a);
	if (!bs)
		return;
	/* Trap before the access: old bytes now, new ones after the step. */
	hwbp_pt_hit_init(t, &t->step_hit, bs->slot.type == HWBP_SLOT_BREAK ? a : task_pc(t->tid));
	t->step_hit.addr = bs->slot.addr;
	t->step_hit.len = bs->slot.len;
	t->step_hit.access = bs->slot.access;
	if (bs->slot.type == HWBP_SLOT_WATCH &&
	    !peek_bytes(t->tid, bs->slot.addr, bs->slot.len, &t->step_hit.old))
		t->step_hit.nvalue = bs->slot.len;
	t->step_bs = bs;
	t->stepping = true;
#endif
}

/* The single step over a trapped access is done. */
static void on_step_done(struct hwbp_bk *b, struct pt_task *t)
{
	struct hwbp_bk_slot *bs = t->step_bs;

	t->stepping = false;
	t->step_bs = NULL;
	if (!bs)
		return;
	/* The bytes the trap was for, even if the slot has moved since. */
	if (t->step_hit.nvalue &&
	    !peek_bytes(t->tid, t->step_hit.addr, (unsigned int)t->step_hit.len,
			&t->step_hit.value)) {
		if (bs->slot.addr == t->step_hit.addr) {
			bs->shadow = t->step_hit.value;
			bs->shadow_ok = true;
		}
	} else {
		t->step_hit.nvalue = 0;
	}
	hwbp_pt_queue_hit(b, t, bs, &t->step_hit);
}

/* An exec by T's process: other threads are gone, the registers cleared. */
static void on_exec(struct hwbp_bk *b, struct pt_task *t)
{
	for (size_t i = 0; i < b->ntasks; i++)
		if (b->tasks[i].pid == t->pid && &b->tasks[i] != t)
			b->tasks[i].dying = true;
	t->tid = t->pid;
	t->armed_gen = 0;
	t->stepping = false;
	t->step_bs = NULL;
	t->hold = true;
	queue_notify(b, HWBP_NOTIFY_EXEC, t->pid, t->pid, -1);
}

/* Make sense of one waitpid() STATUS of T; T may be freed. Return: the
 * task, or NULL if it is gone. */
static struct pt_task *on_status(struct hwbp_bk *b, struct pt_task *t, int status)
{
	int sig, ev;

	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		if (!t->dying)
			queue_notify(b, HWBP_NOTIFY_EXIT, t->pid, t->tid,
				     t->tid == t->pid ? status : -1);
		task_del(b, t);
		return NULL;
	}
	if (!WIFSTOPPED(status))
		return t;
	t->stopped = true;
	sig = WSTOPSIG(status);
	ev = (status >> 16) & 0xff;
	if (ev == PTRACE_EVENT_STOP) {
		if (hwbp_ptrace_is_stop_sig(sig) && !t->fresh)
			t->listen = true;	/* group-stop: job control */
		t->fresh = false;
		return t;
	}
	t->fresh = false;
	if (ev == PTRACE_EVENT_CLONE || ev == PTRACE_EVENT_FORK || ev == PTRACE_EVENT_VFORK) {
		unsigned long msg = 0;
		pid_t pid = t->pid, tid = t->tid;

		if (!pt(PTRACE_GETEVENTMSG, tid, 0, &msg) && msg && b->g &&
		    ev != PTRACE_EVENT_CLONE &&
		    hwbp_gd_fork(b, t, (pid_t)msg, ev == PTRACE_EVENT_VFORK))
			return hwbp_pt_task_find(b, tid);
		if (msg) {
			struct pt_task *n = task_add(b, (pid_t)msg,
						     ev == PTRACE_EVENT_CLONE ? pid : (pid_t)msg);

			t = hwbp_pt_task_find(b, tid);	/* task_add() may move it */
			if (n && n != t && !n->stopped)
				n->fresh = true;
		}
		return t;
	}
	if (ev == PTRACE_EVENT_EXEC) {
		on_exec(b, t);
		if (b->g)
			hwbp_gd_exec(b, t->pid);
		return t;
	}
	if (b->g) {
		siginfo_t si;
		bool have = false;

		if (sig != (SIGTRAP | 0x80)) {
			memset(&si, 0, sizeof(si));
			have = !pt(PTRACE_GETSIGINFO, t->tid, 0, &si);
		}
		if (hwbp_gd_stop(b, &t, sig, have ? &si : NULL))
			return t;
	}
	if (sig == SIGTRAP) {
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		if (pt(PTRACE_GETSIGINFO, t->tid, 0, &si))
			return t;
		if (t->stepping) {
			on_step_done(b, t);
			return t;
		}
		if (si.si_code == TRAP_HWBKPT) {
			on_hwbkpt(b, t, &si);
			return t;
		}
	}
	/* A signal for the target: pass it on (during a step, after it). */
	t->sig = sig;
	return t;
}

/* Restart T if it is stopped and nothing holds it. */
int hwbp_pt_task_resume(struct hwbp_bk *b, struct pt_task *t)
{
	long err;
	int sig;

	if (!t->stopped || t->hold || t->dying || (b->g && hwbp_gd_held(b, t)))
		return 0;
	err = task_arm(b, t);
	if (err && err != -ESRCH)
		hwbp_log(HWBP_LOG_WARN, "ptrace: cannot arm thread %d: %s", (int)t->tid,
			      strerror((int)-err));
	sig = t->stepping ? 0 : t->sig;
	if (t->stepping)
		err = pt(PTRACE_SINGLESTEP, t->tid, 0, NULL);
	else if (t->listen)
		err = pt(PTRACE_LISTEN, t->tid, 0, NULL);
	else if (b->g && hwbp_gd_trace_syscalls(b, t))
		err = pt(PTRACE_SYSCALL, t->tid, 0, (void *)(uintptr_t)sig);
	else
		err = pt(PTRACE_CONT, t->tid, 0, (void *)(uintptr_t)sig);
	if (err)
		return (int)err;
	if (!t->stepping)
		t->sig = 0;
	t->stopped = false;
	t->listen = false;
	return 0;
}

/* Wait (blocking) for T's next stop or its end. Return: T or NULL. */
struct pt_task *hwbp_pt_task_wait(struct hwbp_bk *b, struct pt_task *t)
{
	int status;
	pid_t tid = t->tid, r;

	do
		r = hwbp_sys.waitpid(tid, &status, __WALL);
	while (r == -EINTR);
	if (r == -ECHILD) {
		task_del(b, t);
		return NULL;
	}
	if (r < 0)
		return t;
	return on_status(b, t, status);
}

/*
 * Stop every running thread (held threads are stopped already), so that
 * its registers can be written. Events seen on the way are taken as usual.
 */
void hwbp_pt_stop_all(struct hwbp_bk *b)
{
	for (size_t i = 0; i < b->ntasks; i++) {
		struct pt_task *t = &b->tasks[i];
		long err;

		t->unstoppable = false;
		if (t->stopped || t->dying || t->fresh)
			continue;
		err = pt(PTRACE_INTERRUPT, t->tid, 0, NULL);
		if (err && err != -ESRCH) {
			/* Only a PTRACE_SEIZEd thread can be interrupted. */
			hwbp_log(HWBP_LOG_WARN, "ptrace: cannot stop thread %d: %s",
				      (int)t->tid, strerror((int)-err));
			t->unstoppable = true;
		}
	}
	for (size_t i = 0; i < b->ntasks;) {
		struct pt_task *t = &b->tasks[i];

		if (t->stopped || t->dying || t->unstoppable) {
			i++;
			continue;
		}
		/* Again: the guard backend may have let it go meanwhile. */
		if (b->g && !t->fresh)
			pt(PTRACE_INTERRUPT, t->tid, 0, NULL);
		if (hwbp_pt_task_wait(b, t))
			continue;	/* look again: it may have stopped now */
		/* gone: the next task moved into slot i */
	}
}

void hwbp_pt_resume_all(struct hwbp_bk *b)
{
	for (size_t i = 0; i < b->ntasks; i++)
		hwbp_pt_task_resume(b, &b->tasks[i]);
}

/*
 * A thread that PTRACE_INTERRUPT stopped right after its watched access
 * (or a single step) has the debug trap's SIGTRAP queued still: the
 * interrupt stop comes first. Detached like that, it would die of it.
 * Let it take the signal as a stop of ours (a hit, or its own SIGTRAP,
 * passed on at detach as usual).
 */
static void flush_traps(struct hwbp_bk *b)
{
	unsigned int rounds = 0;
	size_t i = 0;

	while (i < b->ntasks) {
		struct pt_task *t = &b->tasks[i];

		if (rounds >= 4 || t->dying || !t->stopped || t->listen || !hwbp_ptrace_trap_queued(t->tid) ||
		    pt(PTRACE_CONT, t->tid, 0, (void *)(uintptr_t)t->sig)) {
			i++;
			rounds = 0;
			continue;
		}
		t->sig = 0;
		t->stopped = false;
		rounds++;
		t = hwbp_pt_task_wait(b, t);
		if (!t) {
			rounds = 0;	/* gone: the next task moved into slot i */
		} else if (!t->stopped) {
			i++;
			rounds = 0;
		}
	}
}

/*
 * Stop every thread and let each take the debug trap it may have queued
 * (ARCH.md: the interrupt stop can come first), so that a trap is always
 * matched against the slots as they were when it fired: call before
 * changing the slots.
 */
void hwbp_pt_quiesce(struct hwbp_bk *b)
{
	b->quiescing = true;
	hwbp_pt_stop_all(b);
	flush_traps(b);
	b->quiescing = false;
}

/*
 * The slots changed (b->gen bumped): write every thread's registers.
 * Return: 0, or the first error; threads are left running either way.
 */
/* Write the registers of every stopped thread (threads stepping over an
 * access get theirs after the step). Return: 0 or the first error. */
static int arm_stopped(struct hwbp_bk *b)
{
	int err = 0;

	for (size_t i = 0; i < b->ntasks; i++) {
		struct pt_task *t = &b->tasks[i];
		int e;

		if (t->dying || t->stepping)
			continue;
		e = task_arm(b, t);
		if (e && e != -ESRCH && !err)
			err = e;
	}
	return err;
}

static int sync_all(struct hwbp_bk *b)
{
	int err;

	hwbp_pt_quiesce(b);
	err = arm_stopped(b);
	hwbp_pt_resume_all(b);
	return err;
}

/* Ask every thread once, without waiting. Return: statuses taken. */
static int scan(struct hwbp_bk *b)
{
	int got = 0;

	for (size_t i = 0; i < b->ntasks;) {
		struct pt_task *t = &b->tasks[i];
		int status;
		pid_t r = hwbp_sys.waitpid(t->tid, &status, __WALL | WNOHANG);

		if (r == 0 || r == -EINTR) {
			i++;
			continue;
		}
		if (r == -ECHILD) {
			task_del(b, t);
			continue;
		}
		if (r < 0) {
			i++;
			continue;
		}
		got++;
		t = on_status(b, t, status);
		if (!t)
			continue;
		hwbp_pt_task_resume(b, t);
		i++;
	}
	return got;
}

/* --------------------------------------------------------------------- */
/* Attaching and leaving                                                 */

static void detach_all(struct hwbp_bk *b)
{
	struct hwbp_regs none;

	hwbp_pt_quiesce(b);
	if (b->g)
		hwbp_gd_detach(b);
	regs_build(b, true, &none);
	for (size_t i = 0; i < b->ntasks; i++) {
		struct pt_task *t = &b->tasks[i];

		if (t->dying)
			continue;
		if (!b->g && (t->armed_gen || t->stepping || b->gen))
			regs_write(b, t->tid, &none);
		pt(PTRACE_DETACH, t->tid, 0, (void *)(uintptr_t)t->sig);
	}
	/* Threads lost to an exec are reaped as they go. */
	for (size_t i = 0; i < b->ntasks; i++) {
		int status;

		if (b->tasks[i].dying)
			hwbp_sys.waitpid(b->tasks[i].tid, &status, __WALL | WNOHANG);
	}
	b->ntasks = 0;
}

/* The caller holds TID seized and stopped: take it over. */
static bool adopt(struct hwbp_bk *b, pid_t tid, pid_t pid)
{
	struct pt_task *t;

	if (pt(PTRACE_SETOPTIONS, tid, 0, (void *)(uintptr_t)b->options))
		return false;
	t = task_add(b, tid, pid);
	if (!t)
		return false;
	t->stopped = true;
	t->hold = true;
	return true;
}

/* Seize every thread of PID, again until no new one shows up. */
static int seize_all(struct hwbp_bk *b, pid_t pid)
{
	pid_t *tids = NULL;
	size_t cap = 0;
	bool more = true;
	int err = 0;

	while (more && !err) {
		ssize_t n = hwbp_ptrace_tasks(pid, &tids, &cap);

		if (n < 0) {
			err = (int)n;
			break;
		}
		more = false;
		for (ssize_t i = 0; i < n && !err; i++) {
			if (hwbp_pt_task_find(b, tids[i]))
				continue;
			err = (int)pt(PTRACE_SEIZE, tids[i], 0, (void *)(uintptr_t)b->options);
			if (err == -ESRCH) {
				err = 0;	/* exited meanwhile */
				continue;
			}
			if (!err && !task_add(b, tids[i], pid))
				err = -ENOMEM;
			more = true;
		}
	}
	free(tids);
	if (err)
		return err;
	return b->ntasks ? 0 : -ESRCH;
}

int hwbp_pt_open_as(const struct hwbp_session_opts *opts, const struct hwbp_backend_host *host,
		    bool guard, struct hwbp_bk **out)
{
	struct hwbp_bk *b;
	pid_t *tids = NULL;
	size_t cap = 0;
	ssize_t n;
	int err = 0;

	if (opts->target != HWBP_TARGET_PID && opts->target != HWBP_TARGET_TID)
		return -EINVAL;	/* a process cannot trace itself */
	if (opts->delivery == HWBP_DELIVER_SIGNAL || opts->kernel)
		return -EOPNOTSUPP;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->host = *host;
	b->o = *opts;
	b->arch = hwbp_arch_host();
	b->gen = 1;
	b->options = PTRACE_O_TRACEEXEC;
	if (opts->target == HWBP_TARGET_PID)
		b->options |= PTRACE_O_TRACECLONE;
	/* The guard backend cleans children it does not follow. */
	if (opts->follow_fork || guard)
		b->options |= PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK;
	if (guard)
		b->options |= PTRACE_O_TRACESYSGOOD;
	b->shared = hwbp_planner_shared(b->arch);
#if defined(__x86_64__)
	b->nwatch = b->nbrk = 4;
#endif
	if (opts->target == HWBP_TARGET_TID) {
		char path[64], buf[512];
		const char *p;
		pid_t tgid = opts->pid;

		snprintf(path, sizeof(path), "/proc/%d/status", (int)opts->pid);
		if (hwbp_sys.read_file(path, buf, sizeof(buf)) > 0 && (p = strstr(buf, "Tgid:")))
			tgid = (pid_t)atoi(p + 5);
		if (!adopt(b, opts->pid, tgid)) {
			err = (int)pt(PTRACE_SEIZE, opts->pid, 0, (void *)(uintptr_t)b->options);
			if (!err && !task_add(b, opts->pid, tgid))
				err = -ENOMEM;
		}
	} else {
		n = hwbp_ptrace_tasks(opts->pid, &tids, &cap);
		if (n < 0)
			err = (int)n;
		/* A command the caller launched: seized and stopped at its exec. */
		for (ssize_t i = 0; i < n; i++)
			if (!adopt(b, tids[i], opts->pid))
				break;
		free(tids);
		if (!err && (size_t)n != b->ntasks) {
			if (b->ntasks) {
				err = -EBUSY;	/* some threads held by the caller, not all */
				b->ntasks = 0;
			} else {
				err = seize_all(b, opts->pid);
			}
		}
	}
	if (err == -EPERM && !b->ntasks) {
		/* Already traced by someone (a debugger), or not permitted. */
		pid_t tracer = hwbp_ptrace_tracer(opts->pid);

		if (tracer > 0) {
			hwbp_log(HWBP_LOG_ERROR,
				 "ptrace: process %d is already traced by pid %d (a debugger?)",
				 (int)opts->pid, (int)tracer);
			err = -EBUSY;
		}
	}
#if defined(__aarch64__) || defined(__loongarch64)
	if (!err) {
		/* Slot counts from dbg_info, read in a stopped thread. */
		hwbp_pt_stop_all(b);
		err = b->ntasks ? dbg_counts(b, b->tasks[0].tid) : -ESRCH;
		hwbp_pt_resume_all(b);
	}
#endif
#if defined(__loongarch64)
	/* PTRACE_SINGLESTEP takes instruction slot 0. */
	b->brk_first = 1;
#endif
	if (!err && guard)
		err = hwbp_gd_open(b);
	if (err) {
		detach_all(b);
		if (b->g)
			hwbp_gd_free(b);
		free(b->tasks);
		free(b);
		return err;
	}
	*out = b;
	return 0;
}

static int pt_open(const struct hwbp_session_opts *opts, const struct hwbp_backend_host *host,
		   struct hwbp_bk **out)
{
	return hwbp_pt_open_as(opts, host, false, out);
}

static void queue_free(struct hwbp_bk *b)
{
	for (size_t i = b->qhead; i < b->qlen; i++)
		free(b->q[i].stack);
	free(b->q);
	b->q = NULL;
	b->qhead = b->qlen = b->qcap = 0;
}

void hwbp_pt_close(struct hwbp_bk *b)
{
	if (!b)
		return;
	detach_all(b);
	if (b->g)
		hwbp_gd_free(b);
	for (unsigned int i = 0; i < HWBP_SLOTS_MAX; i++) {
		struct hwbp_bk_slot *bs[2] = { b->watch[i], b->brk[i] };

		for (int k = 0; k < 2; k++) {
			if (!bs[k] || (k == 1 && bs[1] == bs[0]))
				continue;
			hwbp_tally_free(&bs[k]->tids);
			free(bs[k]);
		}
	}
	queue_free(b);
	free(b->tasks);
	free(b);
}

/* --------------------------------------------------------------------- */
/* Slots                                                                 */

static void pt_capacity(struct hwbp_bk *b, unsigned int *watch, unsigned int *brk, bool *shared)
{
	*watch = b->nwatch;
	*brk = b->nbrk > b->brk_first ? b->nbrk - b->brk_first : 0;
	*shared = b->shared;
}

/* Table row for a slot of TYPE at hardware index I (x86: one shared row). */
static struct hwbp_bk_slot **row(struct hwbp_bk *b, enum hwbp_slot_type type, unsigned int i)
{
	return type == HWBP_SLOT_WATCH || b->shared ? &b->watch[i] : &b->brk[i];
}

static int free_index(struct hwbp_bk *b, enum hwbp_slot_type type, unsigned int *idx)
{
	unsigned int first = type == HWBP_SLOT_BREAK && !b->shared ? b->brk_first : 0;
	unsigned int n = type == HWBP_SLOT_WATCH || b->shared ? b->nwatch : b->nbrk;
	uint32_t free = 0;

	for (unsigned int i = first; i < n && i < HWBP_SLOTS_MAX; i++)
		if (!*row(b, type, i))
			free |= 1u << i;
	return hwbp_planner_index(free, idx);
}

/* Refresh the shadow copy of BS from any stopped thread of the target. */
static void shadow_init(struct hwbp_bk *b, struct hwbp_bk_slot *bs)
{
	bs->shadow_ok = false;
	for (size_t i = 0; i < b->ntasks && !bs->shadow_ok; i++)
		if (!b->tasks[i].dying)
			shadow_read(bs, b->tasks[i].tid);
}

static int pt_install(struct hwbp_bk *b, const struct hwbp_slot *slot, bool enabled,
		      void *cookie, struct hwbp_bk_slot **out)
{
	struct hwbp_bk_slot *bs;
	unsigned int idx;
	int err;

	err = free_index(b, slot->type, &idx);
	if (err)
		return err;
	bs = calloc(1, sizeof(*bs));
	if (!bs)
		return -ENOMEM;
	bs->slot = *slot;
	bs->slot.index = idx;
	bs->enabled = enabled;
	bs->cookie = cookie;
	hwbp_pt_quiesce(b);
	*row(b, slot->type, idx) = bs;
	if (slot->type == HWBP_SLOT_BREAK && !b->shared)
		b->used_brk = true;
	b->gen++;
	shadow_init(b, bs);
	err = arm_stopped(b);
	if (err) {
		*row(b, slot->type, idx) = NULL;
		b->gen++;
		sync_all(b);
		free(bs);
		return err;
	}
	hwbp_pt_resume_all(b);
	*out = bs;
	return 0;
}

static int pt_modify(struct hwbp_bk *b, struct hwbp_bk_slot *bs, const struct hwbp_slot *slot,
		     bool enabled, void *cookie)
{
	struct hwbp_bk_slot old;
	int err;

	if (slot->type != bs->slot.type)
		return -EOPNOTSUPP;
	hwbp_pt_quiesce(b);
	old = *bs;
	bs->slot = *slot;
	bs->slot.index = old.slot.index;
	bs->enabled = enabled;
	bs->cookie = cookie;
	b->gen++;
	shadow_init(b, bs);
	err = arm_stopped(b);
	if (err) {
		bs->slot = old.slot;
		bs->enabled = old.enabled;
		bs->cookie = old.cookie;
		bs->shadow = old.shadow;
		bs->shadow_ok = old.shadow_ok;
		b->gen++;
		sync_all(b);
		return err;
	}
	hwbp_pt_resume_all(b);
	return 0;
}

/* Drop queued hits of BS (it is going away). */
void hwbp_pt_queue_forget(struct hwbp_bk *b, const struct hwbp_bk_slot *bs)
{
	for (size_t i = b->qhead; i < b->qlen; i++) {
		if (b->q[i].is_hit && b->q[i].bs == bs) {
			b->q[i].is_hit = false;
			b->q[i].bs = NULL;
			b->q[i].note.type = 0;	/* nothing to deliver */
		}
	}
	for (size_t i = 0; i < b->ntasks; i++)
		if (b->tasks[i].step_bs == bs)
			b->tasks[i].step_bs = NULL;
}

static void pt_remove(struct hwbp_bk *b, struct hwbp_bk_slot *bs)
{
	hwbp_pt_quiesce(b);
	*row(b, bs->slot.type, bs->slot.index) = NULL;
	hwbp_pt_queue_forget(b, bs);
	b->gen++;
	sync_all(b);
	hwbp_tally_free(&bs->tids);
	free(bs);
}

static int pt_enable(struct hwbp_bk *b, struct hwbp_bk_slot *bs, bool on)
{
	int err;

	if (bs->enabled == on)
		return 0;
	hwbp_pt_quiesce(b);
	bs->enabled = on;
	b->gen++;
	err = sync_all(b);
	if (err) {
		bs->enabled = !on;
		b->gen++;
		sync_all(b);
	}
	return err;
}

/* Counts as of the last poll: reading one must not take new stops, or the
 * core's before/after readings around a change would disagree. */
int hwbp_pt_count(struct hwbp_bk *b, struct hwbp_bk_slot *bs, uint64_t *hits)
{
	(void)b;
	*hits = bs->hits;
	return 0;
}

int hwbp_pt_threads(struct hwbp_bk *b, struct hwbp_bk_slot *bs, struct hwbp_tally *t)
{
	(void)b;
	return hwbp_tally_merge(t, &bs->tids, 1);
}

static int pt_free_slots(struct hwbp_bk *b, unsigned int *watch, unsigned int *brk)
{
	unsigned int w = 0, k = 0;

	for (unsigned int i = 0; i < b->nwatch && i < HWBP_SLOTS_MAX; i++)
		w += !b->watch[i];
	for (unsigned int i = b->brk_first; !b->shared && i < b->nbrk && i < HWBP_SLOTS_MAX; i++)
		k += !b->brk[i];
	*watch = w;
	*brk = b->shared ? w : k;
	return 0;
}

int hwbp_pt_fd(struct hwbp_bk *b)
{
	(void)b;
	return -EINVAL;
}

/* Hand out queued events; stop early when the caller says so. */
static int deliver(struct hwbp_bk *b)
{
	while (b->qhead < b->qlen) {
		struct pt_event *e = &b->q[b->qhead++];
		int stop = 0;

		if (e->is_hit)
			stop = b->host.deliver(b->host.ctx, e->bs->cookie, &e->hit);
		else if (e->note.type)
			b->host.notify(b->host.ctx, &e->note);
		free(e->stack);
		e->stack = NULL;
		if (stop)
			return 1;
	}
	b->qhead = b->qlen = 0;
	return 0;
}

int hwbp_pt_poll(struct hwbp_bk *b, int timeout_ms)
{
	sigset_t chld, old;
	uint64_t end = timeout_ms > 0 ? now_ns() + (uint64_t)timeout_ms * 1000000u : 0;
	int err = 0;

	/* Threads held for the caller (a launch, an exec) run on now. */
	for (size_t i = 0; i < b->ntasks; i++) {
		if (b->tasks[i].hold) {
			b->tasks[i].hold = false;
			hwbp_pt_task_resume(b, &b->tasks[i]);
		}
	}
	if (b->qhead < b->qlen) {
		deliver(b);
		return 0;
	}
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	hwbp_sys.thread_sigmask(SIG_BLOCK, &chld, &old);
	for (;;) {
		struct timespec ts;
		int64_t left;
		int r;

		scan(b);
		if (b->qhead < b->qlen || !b->ntasks || timeout_ms == 0)
			break;
		left = PT_WAIT_SLICE_MS;
		if (timeout_ms > 0) {
			int64_t ms = (int64_t)(end - now_ns()) / 1000000;

			if ((int64_t)(end - now_ns()) <= 0)
				break;
			if (ms < left)
				left = ms + 1;
		}
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (long)(left % 1000) * 1000000;
		r = hwbp_sys.sigtimedwait(&chld, NULL, &ts);
		if (r == -EINTR) {
			err = -EINTR;
			break;
		}
	}
	hwbp_sys.thread_sigmask(SIG_SETMASK, &old, NULL);
	deliver(b);
	return err;
}

int hwbp_pt_lost(struct hwbp_bk *b, uint64_t *lost)
{
	(void)b;
	*lost = 0;
	return 0;
}

const struct hwbp_backend hwbp_ptrace_backend = {
	.name = "ptrace",
	.kind = HWBP_BACKEND_PTRACE,
	.open = pt_open,
	.close = hwbp_pt_close,
	.capacity = pt_capacity,
	.install = pt_install,
	.modify = pt_modify,
	.remove = pt_remove,
	.enable = pt_enable,
	.count = hwbp_pt_count,
	.threads = hwbp_pt_threads,
	.free_slots = pt_free_slots,
	.fd = hwbp_pt_fd,
	.poll = hwbp_pt_poll,
	.lost = hwbp_pt_lost,
};

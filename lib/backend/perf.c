// SPDX-License-Identifier: MIT
/*
 * perf.c - the perf backend: breakpoints as perf events on the kernel's
 * breakpoint PMU (PERF_TYPE_BREAKPOINT)
 *
 * One installed slot is one perf event per task (and per CPU where ring
 * buffers need it). The kernel rules this file follows, checked against
 * Linux 6.12 source and on 6.18 (ARCH.md section 5):
 *
 *  - Targets. THREAD and TID: one event pid=tid, cpu=-1, not inherited.
 *    SELF and PID: one event per thread listed in /proc/PID/task, with
 *    inherit=1 so that threads created later get a clone of it (ARCH.md
 *    5.5: inherit covers only tasks created after the open, so every
 *    existing thread needs its own event). /proc/PID/task is listed again
 *    until a pass finds no new thread. inherit_thread=1 (Linux 5.13) keeps
 *    forked children out unless follow_fork. SYSTEM: pid=-1 on each online
 *    CPU (needs CAP_PERFMON at paranoid >= 1: ARCH.md 5.6).
 *    Known race, shared with perf record: a thread created by an already
 *    covered thread between our open and the next listing gets both the
 *    inherited event and its own, and counts twice.
 *  - Ring buffers. The kernel refuses mmap() of an inherited event opened
 *    with cpu=-1 (EINVAL, seen on 6.18; perf_mmap() checks
 *    "event->attr.inherit && event->cpu == -1"). So when a session needs
 *    buffers on an inheriting target, it opens each event per task and per
 *    CPU (pid=tid, cpu=N) and points all events of one CPU at one buffer with
 *    PERF_EVENT_IOC_SET_OUTPUT, as perf record does. The buffer belongs to a
 *    software dummy event, never to a breakpoint: a mapped event stays
 *    alive (and armed) until munmap(), so a breakpoint owning a buffer could
 *    not be removed. The dummy events also carry the side-band records:
 *    comm + comm_exec (PERF_RECORD_COMM with PERF_RECORD_MISC_COMM_EXEC on
 *    execve) and task (PERF_RECORD_EXIT), one dummy per task and CPU so
 *    each exit and exec is reported exactly once (a side-band record goes
 *    only to the events of the task's context whose CPU matches).
 *  - exclude_kernel=1 and exclude_hv=1 unless kernel watching is asked: at
 *    paranoid 2 exclude_kernel=0 needs CAP_PERFMON (EACCES otherwise), and a
 *    .bss watch without it also counts the kernel's writes while loading
 *    the program (4 for a fresh page, seen on 6.18).
 *  - x86 execute breakpoints must have bp_len = sizeof(long), anything else
 *    is EINVAL (arch/x86/kernel/hw_breakpoint.c, ARCH.md 1.3). The planner
 *    gives 1-byte granules; this file turns them into bp_len 8.
 *  - A 5th x86 breakpoint on a task gets ENOSPC, and slots taken by a
 *    ptrace user (a debugger) count against the same pool (ARCH.md 5.7,
 *    5.8): the kernel's ENOSPC is final, and free_slots() probes how many
 *    are left to say so.
 *  - Stream mode wakes the reader at half the buffer (watermark=1,
 *    wakeup_watermark = size/2): waking on every record costs about 3x per
 *    hit in these VMs.
 *  - Modify: PERF_EVENT_IOC_MODIFY_ATTRIBUTES (Linux 4.17) changes bp_addr,
 *    bp_len, bp_type, disabled and sig_data in place; any other field must
 *    be equal (else EINVAL); a type change can give ENOSPC with the old
 *    slot kept (ARCH.md 5.4). It reaches inherited children too. Older
 *    kernels answer ENOTTY: the core then installs anew.
 *  - Exec: a task-bound breakpoint has remove_on_exec=1 (Linux 5.13), or
 *    it outlives execve() and counts the new image's unrelated data at the
 *    old address. The dummies stay and report the exec; the caller arms
 *    anew (a removed event cannot be modified back into the task).
 *  - Signal mode: sigtrap=1 needs remove_on_exec=1 (else EINVAL) and a task
 *    target (ARCH.md 5.3, Linux 5.13). si_code is TRAP_PERF (6); the
 *    event's sig_data arrives in si_perf_data at byte offset 24 of
 *    siginfo_t on LP64 and the type (5) at offset 32 (glibc 2.36 has no
 *    names for them). The signal is sent on return to user mode, i.e.
 *    after the access on x86. arm64 traps before the access, and sigtrap
 *    defeats the kernel's step-over there: see perf_signal.c for the cure.
 *  - Sample times: use_clockid with CLOCK_MONOTONIC, so time_ns compares
 *    with clock_gettime().
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "backend/perf.h"
#include "planner.h"
#include "sys.h"

#define PERF_CPUS_MAX 1024
#define PERF_TIDS_MAX (1 << 20)

struct perf_buf {
	int cpu;
	pid_t tid;	/* key with cpu == -1 */
	int fd;		/* the dummy event that owns the mapping */
	void *base;
	size_t map_len;
	unsigned char *data;	/* the ring: base + data_offset */
	size_t data_len;
	unsigned char *scratch;	/* a record that wraps around is copied here */
	struct perf_buf *next;
};

/* The kernel's page size: 4 KiB on x86-64, often 16 or 64 KiB on arm64
 * and LoongArch. Ring buffers are whole pages of it. */
static size_t page_size(void)
{
	static size_t ps;
	size_t v = __atomic_load_n(&ps, __ATOMIC_RELAXED);

	if (!v) {
		long r = sysconf(_SC_PAGESIZE);

		v = r > 0 ? (size_t)r : 4096;
		__atomic_store_n(&ps, v, __ATOMIC_RELAXED);
	}
	return v;
}

/* --------------------------------------------------------------------- */
/* Attributes                                                            */

static uint64_t default_regs_mask(void)
{
#if defined(__x86_64__)
	/* AX..R15 without DS, ES, FS, GS (perf_reg_validate() refuses them
	 * on x86-64: REG_NOSUPPORT in arch/x86/kernel/perf_regs.c). */
	return ((1ull << 24) - 1) & ~(0xfull << 12);
#elif defined(__aarch64__)
	return (1ull << 33) - 1;	/* x0..x30, sp, pc */
#elif defined(__loongarch64)
	return (1ull << 33) - 1;	/* r0..r31, pc */
#else
	return 0;
#endif
}

/* Position of the stack pointer in the perf register numbering, or -1. */
#if defined(__x86_64__)
#define PERF_SP_REG 7		/* PERF_REG_X86_SP */
#elif defined(__aarch64__)
#define PERF_SP_REG 31		/* PERF_REG_ARM64_SP */
#elif defined(__loongarch64)
#define PERF_SP_REG 3		/* PERF_REG_LOONGARCH_R3 */
#endif

static void attr_common(struct hwbp_bk *b, struct perf_event_attr *a)
{
	const struct hwbp_session_opts *o = &b->o;

	a->size = sizeof(*a);
	a->exclude_kernel = !o->kernel;
	a->exclude_hv = !o->kernel;
	a->inherit = b->inherit;
	/* inherit_thread: Linux 5.13; keeps forked children out. */
	a->inherit_thread = b->inherit && !o->follow_fork;
	if (!b->buffers)
		return;
	/* Count mode with per-thread rows needs only the tid: 24-byte records. */
	a->sample_type = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TID;
	if (o->delivery == HWBP_DELIVER_STREAM) {
		a->sample_type |= PERF_SAMPLE_IP | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU;
		if (o->sample & HWBP_SAMPLE_CALLCHAIN) {
			a->sample_type |= PERF_SAMPLE_CALLCHAIN;
			a->exclude_callchain_kernel = !o->kernel;
		}
		if (o->sample & HWBP_SAMPLE_REGS) {
			a->sample_type |= PERF_SAMPLE_REGS_USER;
			a->sample_regs_user = o->sample_regs_user ? o->sample_regs_user
								  : default_regs_mask();
		}
		if (o->sample & HWBP_SAMPLE_STACK) {
			a->sample_type |= PERF_SAMPLE_STACK_USER;
			a->sample_stack_user = o->sample_stack_user;
		}
	}
	a->sample_id_all = 1;
	a->use_clockid = 1;
	a->clockid = CLOCK_MONOTONIC;
	a->watermark = 1;
	a->wakeup_watermark = (uint32_t)(o->buffer_pages * page_size() / 2);
	/* Records dropped for want of room, counted by the kernel on the
	 * parent event of inherited ones too (Linux 6.0, commit 119a784c8127):
	 * exact at any time, where PERF_RECORD_LOST only appears once the
	 * buffer has room again. */
	if (b->fmt_lost)
		a->read_format = PERF_FORMAT_LOST;
}

static void bp_attr(struct hwbp_bk *b, const struct hwbp_slot *sl, bool enabled, void *cookie,
		    struct perf_event_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->type = PERF_TYPE_BREAKPOINT;
	attr_common(b, a);
	a->bp_type = sl->access;
	a->bp_addr = sl->addr;
	a->bp_len = sl->len;
	if (sl->access == HWBP_EXEC)
		a->bp_len = sizeof(long);	/* x86 demands it; arm64 forces 4 */
	a->disabled = !enabled;
	/* The old image's watches end with it: an exec'd program has its own
	 * variables at those addresses. The dummy events are not removed, and
	 * report the exec (PERF_RECORD_COMM) for the caller to watch anew. */
	a->remove_on_exec = b->o.target != HWBP_TARGET_SYSTEM && !b->no_roe;
	switch (b->o.delivery) {
	case HWBP_DELIVER_COUNT:
		/* Per-thread rows on an inheriting target come from one small
		 * record per hit: see perf_threads(). */
		if (b->buffers)
			a->sample_period = 1;
		break;
	case HWBP_DELIVER_STREAM:
		a->sample_period = 1;
		break;
	case HWBP_DELIVER_SIGNAL:
		a->sample_period = 1;
		a->sigtrap = 1;
		a->remove_on_exec = 1;	/* required by sigtrap */
		a->sig_data = (uint64_t)(uintptr_t)cookie;
		break;
	}
}

static void dummy_attr(struct hwbp_bk *b, struct perf_event_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->type = PERF_TYPE_SOFTWARE;
	a->config = PERF_COUNT_SW_DUMMY;
	attr_common(b, a);
	a->read_format = 0;
	if (b->o.target != HWBP_TARGET_SYSTEM) {
		a->comm = 1;
		a->comm_exec = 1;
		a->task = 1;
	}
}

/* --------------------------------------------------------------------- */
/* Descriptors and buffers                                               */

static int fd_budget(struct hwbp_bk *b, uint64_t more)
{
	uint64_t cur, max, need = b->nfds + more + 64;
	int err = hwbp_sys.getrlimit(RLIMIT_NOFILE, &cur, &max);

	if (err || need <= cur)
		return 0;
	if (need > max) {
		hwbp_log(HWBP_LOG_ERROR,
			      "session: needs about %llu file descriptors, hard limit is %llu",
			      (unsigned long long)need, (unsigned long long)max);
		return -EMFILE;
	}
	err = hwbp_sys.setrlimit(RLIMIT_NOFILE, max, max);
	if (err)
		hwbp_log(HWBP_LOG_WARN, "session: cannot raise RLIMIT_NOFILE to %llu: %s",
			      (unsigned long long)max, strerror(-err));
	return 0;
}

static int ev_open(struct hwbp_bk *b, struct perf_event_attr *a, pid_t tid, int cpu)
{
	int fd = hwbp_sys.perf_event_open(a, tid, cpu, -1, 0);

	if (fd >= 0)
		b->nfds++;
	return fd;
}

static void ev_close(struct hwbp_bk *b, int fd)
{
	if (fd < 0)
		return;
	hwbp_sys.close(fd);
	b->nfds--;
}

static void buf_free(struct hwbp_bk *b, struct perf_buf *pb)
{
	if (pb->base)
		hwbp_sys.munmap(pb->base, pb->map_len);
	ev_close(b, pb->fd);
	free(pb->scratch);
	free(pb);
}

/*
 * Where the ring is in PB's mapping: data_offset and data_size of the
 * header page (Linux 4.1); before that, the page after the header and
 * the rest of the mapping.
 */
static void buf_locate(struct perf_buf *pb)
{
	const struct perf_event_mmap_page *mp = pb->base;
	size_t room = pb->map_len - page_size();
	size_t off = page_size();

	if (mp->data_offset && mp->data_offset < pb->map_len) {
		off = (size_t)mp->data_offset;
		room = pb->map_len - off;
	}
	pb->data = (unsigned char *)pb->base + off;
	pb->data_len = room;
	if (mp->data_size && mp->data_size <= room)
		pb->data_len = (size_t)mp->data_size;
}

/* The buffer of (CPU, TID), opening its owner if there is none yet. */
static int buf_get(struct hwbp_bk *b, pid_t tid, int cpu, struct perf_buf **out)
{
	struct perf_event_attr a;
	struct epoll_event ee = { .events = EPOLLIN };
	struct perf_buf *pb;
	int err;

	for (pb = b->bufs; pb; pb = pb->next) {
		if (pb->cpu == cpu && (cpu != -1 || pb->tid == tid)) {
			*out = pb;
			return 0;
		}
	}
	pb = calloc(1, sizeof(*pb));
	if (!pb)
		return -ENOMEM;
	pb->cpu = cpu;
	pb->tid = tid;
	pb->map_len = ((size_t)b->o.buffer_pages + 1) * page_size();
	dummy_attr(b, &a);
	pb->fd = ev_open(b, &a, tid, cpu);
	if (pb->fd < 0) {
		err = pb->fd;
		pb->fd = -1;
		buf_free(b, pb);
		return err;
	}
	err = hwbp_sys.mmap(pb->fd, pb->map_len, &pb->base);
	if (err) {
		pb->base = NULL;
		buf_free(b, pb);
		return err;
	}
	buf_locate(pb);
	pb->scratch = malloc(pb->data_len);
	if (!pb->scratch) {
		buf_free(b, pb);
		return -ENOMEM;
	}
	ee.data.ptr = pb;
	err = hwbp_sys.epoll_ctl(b->epfd, EPOLL_CTL_ADD, pb->fd, &ee);
	if (err) {
		buf_free(b, pb);
		return err;
	}
	pb->next = b->bufs;
	b->bufs = pb;
	*out = pb;
	return 0;
}

/* Side-band dummy for (TID, CPU) into the buffer of CPU (or TID). */
static int side_get(struct hwbp_bk *b, pid_t tid, int cpu)
{
	struct perf_event_attr a;
	struct perf_buf *pb;
	int fd, err;

	for (size_t i = 0; i < b->nside; i++)
		if (b->side[i].tid == tid && b->side[i].cpu == cpu)
			return 0;
	err = buf_get(b, tid, cpu, &pb);
	if (err)
		return err;
	if (b->nside == b->capside) {
		size_t cap = b->capside ? 2 * b->capside : 16;
		struct perf_ev *v = realloc(b->side, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		b->side = v;
		b->capside = cap;
	}
	if (pb->tid == tid) {
		/* The buffer's owner already watches this task. */
		fd = -1;
	} else {
		dummy_attr(b, &a);
		fd = ev_open(b, &a, tid, cpu);
		if (fd < 0)
			return fd;
		err = hwbp_sys.ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, (unsigned long)pb->fd);
		if (err) {
			ev_close(b, fd);
			return err;
		}
	}
	b->side[b->nside++] = (struct perf_ev){ .fd = fd, .tid = tid, .cpu = cpu };
	return 0;
}

/* --------------------------------------------------------------------- */
/* Slots                                                                 */

static int slot_add_ev(struct hwbp_bk *b, struct hwbp_bk_slot *bs, struct perf_event_attr *a,
		       pid_t tid, int cpu)
{
	struct perf_ev ev = { .tid = tid, .cpu = cpu };
	int err;

	if (bs->nev == bs->cap) {
		size_t cap = bs->cap ? 2 * bs->cap : 8;
		struct perf_ev *v = realloc(bs->ev, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		bs->ev = v;
		bs->cap = cap;
	}
	if (b->buffers && tid != -1) {
		err = side_get(b, tid, cpu);
		if (err)
			return err;
	}
	ev.fd = ev_open(b, a, tid, cpu);
	if (ev.fd == -EINVAL && (a->read_format & PERF_FORMAT_LOST) && !bs->nev &&
	    !b->slots) {
		/* Before Linux 6.0: count PERF_RECORD_LOST instead. */
		b->fmt_lost = false;
		a->read_format &= ~(uint64_t)PERF_FORMAT_LOST;
		ev.fd = ev_open(b, a, tid, cpu);
	}
	if (ev.fd == -EINVAL && a->remove_on_exec && !a->sigtrap && !bs->nev && !b->slots) {
		/* Before Linux 5.13: the CLI's exec handling removes them. */
		hwbp_log(HWBP_LOG_DEBUG, "perf: no remove_on_exec on this kernel");
		b->no_roe = true;
		a->remove_on_exec = 0;
		ev.fd = ev_open(b, a, tid, cpu);
	}
	if (ev.fd < 0)
		return ev.fd;
	err = hwbp_sys.ioctl(ev.fd, PERF_EVENT_IOC_ID, (unsigned long)&ev.id);
	if (!err && b->buffers) {
		struct perf_buf *pb;

		err = buf_get(b, tid, cpu, &pb);
		if (!err)
			err = hwbp_sys.ioctl(ev.fd, PERF_EVENT_IOC_SET_OUTPUT,
					     (unsigned long)pb->fd);
	}
	if (err) {
		ev_close(b, ev.fd);
		return err;
	}
	bs->ev[bs->nev++] = ev;
	return 0;
}

static void slot_close(struct hwbp_bk *b, struct hwbp_bk_slot *bs)
{
	for (size_t i = 0; i < bs->nev; i++)
		ev_close(b, bs->ev[i].fd);
	free(bs->ev);
	hwbp_tally_free(&bs->tids);
	free(bs);
}

static int tid_cmp(const void *x, const void *y)
{
	pid_t a = *(const pid_t *)x, b = *(const pid_t *)y;

	return (a > b) - (a < b);
}

/*
 * Of TIDS[0..N), the tasks that none of EV[0..NEV) is on, in the order
 * listed: written to OUT (which may be TIDS) unless it is NULL. Return how
 * many, or -ENOMEM. The look-ups are sorted: a process may have thousands
 * of threads, each with an event per CPU.
 */
static ssize_t tids_missing(pid_t *tids, size_t n, const struct perf_ev *ev, size_t nev,
			    pid_t *out)
{
	pid_t *seen;
	size_t m = 0;

	if (!nev) {
		if (out && out != tids)
			memcpy(out, tids, n * sizeof(*out));
		return (ssize_t)n;
	}
	seen = malloc(nev * sizeof(*seen));
	if (!seen)
		return -ENOMEM;
	for (size_t i = 0; i < nev; i++)
		seen[i] = ev[i].tid;
	qsort(seen, nev, sizeof(*seen), tid_cmp);
	for (size_t i = 0; i < n; i++) {
		if (bsearch(&tids[i], seen, nev, sizeof(*seen), tid_cmp))
			continue;
		if (out)
			out[m] = tids[i];
		m++;
	}
	free(seen);
	return (ssize_t)m;
}

/*
 * Descriptors for slot events on the N new tasks TIDS: one per task (and
 * CPU), and a side-band dummy per task and CPU that has none yet. Counting
 * only what is new matters: a second slot on 5,000 threads, or a second
 * listing, must not ask for descriptors already open.
 */
static int fd_budget_tasks(struct hwbp_bk *b, pid_t *tids, size_t n)
{
	uint64_t per = b->percpu ? (uint64_t)b->ncpu : 1;
	ssize_t sides = 0;

	if (b->buffers) {
		sides = tids_missing(tids, n, b->side, b->nside, NULL);
		if (sides < 0)
			return (int)sides;
	}
	return fd_budget(b, ((uint64_t)n + (uint64_t)sides) * per);
}

/* Open the slot's events on TID: one, or one per CPU. -ESRCH: gone. */
static int slot_add_task(struct hwbp_bk *b, struct hwbp_bk_slot *bs, struct perf_event_attr *a,
			 pid_t tid)
{
	if (!b->percpu)
		return slot_add_ev(b, bs, a, tid, -1);
	for (int i = 0; i < b->ncpu; i++) {
		int err = slot_add_ev(b, bs, a, tid, b->cpus[i]);

		if (err)
			return err;
	}
	return 0;
}

/* SELF and PID: every thread of the process, until a listing finds none new. */
static int slot_add_process(struct hwbp_bk *b, struct hwbp_bk_slot *bs, struct perf_event_attr *a)
{
	size_t cap = 256;
	pid_t *tids = NULL;
	int err = 0;

	for (int pass = 0; pass < 1000; pass++) {
		ssize_t n = hwbp_sys.list_tasks(b->pid, tids, tids ? cap : 0);
		bool fresh = false;

		if (n < 0) {
			err = (int)n;
			break;
		}
		if (!tids || (size_t)n > cap) {
			pid_t *t;

			while ((size_t)n > cap)
				cap *= 2;
			t = realloc(tids, cap * sizeof(*t));
			if (!t) {
				err = -ENOMEM;
				break;
			}
			tids = t;
			pass--;
			continue;
		}
		if (n == 0) {
			err = -ESRCH;
			break;
		}
		n = tids_missing(tids, (size_t)n, bs->ev, bs->nev, tids);
		if (n <= 0) {
			err = (int)n;
			break;
		}
		err = fd_budget_tasks(b, tids, (size_t)n);
		if (err)
			break;
		for (ssize_t i = 0; i < n; i++) {
			err = slot_add_task(b, bs, a, tids[i]);
			if (err == -ESRCH) {
				/* Exited while we looked: nothing to watch. */
				err = 0;
				continue;
			}
			if (err)
				break;
			fresh = true;
		}
		if (err || !fresh)
			break;
	}
	free(tids);
	if (!err && !bs->nev)
		err = -ESRCH;
	return err;
}

static int perf_install(struct hwbp_bk *b, const struct hwbp_slot *slot, bool enabled,
			void *cookie, struct hwbp_bk_slot **out)
{
	struct perf_event_attr a;
	struct hwbp_bk_slot *bs;
	int err = 0;

	if (b->step_sig && slot->access == HWBP_EXEC)
		return -EOPNOTSUPP;	/* see step_arm() in perf_signal.c */
	bs = calloc(1, sizeof(*bs));
	if (!bs)
		return -ENOMEM;
	bs->slot = *slot;
	bs->cookie = cookie;
	bs->enabled = enabled;
	bp_attr(b, slot, enabled, cookie, &a);
	switch (b->o.target) {
	case HWBP_TARGET_THREAD:
	case HWBP_TARGET_TID:
		err = fd_budget(b, 2);
		if (!err)
			err = slot_add_ev(b, bs, &a, b->tid, -1);
		break;
	case HWBP_TARGET_SELF:
	case HWBP_TARGET_PID:
		err = slot_add_process(b, bs, &a);
		break;
	case HWBP_TARGET_SYSTEM:
		err = fd_budget(b, (uint64_t)b->ncpu * 2);
		for (int i = 0; i < b->ncpu && !err; i++)
			err = slot_add_ev(b, bs, &a, -1, b->cpus[i]);
		break;
	}
	if (err) {
		if (err != -ENOSPC)
			hwbp_log(HWBP_LOG_ERROR, "slot 0x%llx/%u:%s: cannot install: %s",
				      (unsigned long long)slot->addr, slot->len,
				      hwbp_access_name(slot->access), strerror(-err));
		slot_close(b, bs);
		return err;
	}
	bs->next = b->slots;
	b->slots = bs;
	*out = bs;
	return 0;
}

static uint64_t slot_lost(struct hwbp_bk *b, struct hwbp_bk_slot *bs);

static void perf_remove(struct hwbp_bk *b, struct hwbp_bk_slot *bs)
{
	for (struct hwbp_bk_slot **pp = &b->slots; *pp; pp = &(*pp)->next) {
		if (*pp == bs) {
			*pp = bs->next;
			break;
		}
	}
	if (b->last_hit == bs)
		b->last_hit = NULL;
	b->lost_gone += slot_lost(b, bs);
	slot_close(b, bs);
}

static int perf_modify(struct hwbp_bk *b, struct hwbp_bk_slot *bs, const struct hwbp_slot *slot,
		       bool enabled, void *cookie)
{
	struct perf_event_attr na, oa;
	size_t i;
	int err = 0;

	if (b->step_sig && slot->access == HWBP_EXEC)
		return -EOPNOTSUPP;
	bp_attr(b, slot, enabled, cookie, &na);
	bp_attr(b, &bs->slot, bs->enabled, bs->cookie, &oa);
	for (i = 0; i < bs->nev; i++) {
		err = hwbp_sys.ioctl(bs->ev[i].fd, PERF_EVENT_IOC_MODIFY_ATTRIBUTES,
				     (unsigned long)&na);
		if (err == -ESRCH) {
			err = 0;	/* the task is gone; its event counts no more */
			continue;
		}
		if (err)
			break;
	}
	if (err) {
		/* ENOTTY: before Linux 4.17. */
		if (i == 0 && (err == -ENOTTY || err == -EOPNOTSUPP))
			return -EOPNOTSUPP;
		while (i-- > 0)
			hwbp_sys.ioctl(bs->ev[i].fd, PERF_EVENT_IOC_MODIFY_ATTRIBUTES,
				       (unsigned long)&oa);
		return err;
	}
	bs->slot = *slot;
	bs->cookie = cookie;
	bs->enabled = enabled;
	return 0;
}

static int perf_enable(struct hwbp_bk *b, struct hwbp_bk_slot *bs, bool on)
{
	unsigned long req = on ? PERF_EVENT_IOC_ENABLE : PERF_EVENT_IOC_DISABLE;
	size_t i;
	int err = 0;

	(void)b;
	for (i = 0; i < bs->nev; i++) {
		err = hwbp_sys.ioctl(bs->ev[i].fd, req, 0);
		if (err)
			break;
	}
	if (err) {
		unsigned long undo = on ? PERF_EVENT_IOC_DISABLE : PERF_EVENT_IOC_ENABLE;

		while (i-- > 0)
			hwbp_sys.ioctl(bs->ev[i].fd, undo, 0);
		return err;
	}
	bs->enabled = on;
	return 0;
}

static int ev_read2(struct hwbp_bk *b, const struct perf_ev *ev, uint64_t *v, uint64_t *lost)
{
	uint64_t buf[2] = { 0, 0 };
	size_t want = b->fmt_lost ? 16 : 8;
	ssize_t r = hwbp_sys.read(ev->fd, buf, want);

	if (r < 0)
		return (int)r;
	if ((size_t)r != want)
		return -EIO;
	*v = buf[0];
	if (lost)
		*lost = buf[1];
	return 0;
}

static int ev_read(struct hwbp_bk *b, const struct perf_ev *ev, uint64_t *v)
{
	return ev_read2(b, ev, v, NULL);
}

/* Records of the slot's events the kernel dropped so far. */
static uint64_t slot_lost(struct hwbp_bk *b, struct hwbp_bk_slot *bs)
{
	uint64_t sum = 0;

	for (size_t i = 0; b->fmt_lost && i < bs->nev; i++) {
		uint64_t v, l = 0;

		if (!ev_read2(b, &bs->ev[i], &v, &l))
			sum += l;
	}
	return sum;
}

/*
 * Of the kernel's count V, the traps that were the second half of a
 * signal mode step-over (the echo, see perf_signal.c): the kernel counts
 * each access twice there.
 */
static uint64_t slot_echo(const struct hwbp_bk_slot *bs, uint64_t v)
{
	uint64_t echo = __atomic_load_n(&bs->echo, __ATOMIC_RELAXED);

	return echo < v ? echo : v;
}

static int perf_count(struct hwbp_bk *b, struct hwbp_bk_slot *bs, uint64_t *hits)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < bs->nev; i++) {
		uint64_t v = 0;
		int err = ev_read(b, &bs->ev[i], &v);

		if (err)
			return err;
		sum += v;
	}
	*hits = sum - slot_echo(bs, sum);
	return 0;
}

static int perf_drain(struct hwbp_bk *b, bool deliver);

/*
 * Rows per thread. THREAD and TID targets: the one event's counter, exact.
 * SELF and PID targets: the kernel keeps one counter for a thread and all
 * the threads it creates later (inherited events fold into their parent's
 * count, and PERF_RECORD_READ, which inherit_stat should send when an
 * inherited child exits, never comes: sync_child_event() runs after
 * perf_event_exit_task_context() has set ctx->task to TASK_TOMBSTONE, seen
 * on 6.18), so rows are counted from one sample record (pid, tid) per hit.
 */
static int perf_threads(struct hwbp_bk *b, struct hwbp_bk_slot *bs, struct hwbp_tally *t)
{
	int err = 0;

	if (b->inherit) {
		/* In count mode nothing else reads the buffers: read them now.
		 * In stream mode hwbp_session_poll() does. */
		if (b->o.delivery == HWBP_DELIVER_COUNT)
			perf_drain(b, false);
		return hwbp_tally_merge(t, &bs->tids, 1);
	}
	/* Signal mode has no per_thread rows on inheriting targets, so here
	 * there is one event, the THREAD target's, and all echoes are its. */
	for (size_t i = 0; i < bs->nev && !err; i++) {
		uint64_t v = 0;

		err = ev_read(b, &bs->ev[i], &v);
		if (!err && i == 0)
			v -= slot_echo(bs, v);
		if (!err)
			err = hwbp_tally_add(t, bs->ev[i].tid, v);
	}
	return err;
}

static void perf_capacity(struct hwbp_bk *b, unsigned int *watch, unsigned int *brk, bool *shared)
{
	*watch = b->cap_watch;
	*brk = b->cap_break;
	*shared = b->shared;
}

static volatile unsigned long perf_probe_word;

/* Open disabled breakpoints of TYPE on the target until the kernel says
 * ENOSPC; close them again. Return the count, or a negative errno. */
static int probe_type(struct hwbp_bk *b, bool exec, int *fds, int max)
{
	struct perf_event_attr a;
	pid_t tid = b->o.target == HWBP_TARGET_SYSTEM ? -1 : b->tid;
	int cpu = b->o.target == HWBP_TARGET_SYSTEM ? b->cpus[0] : -1;
	int n = 0, err = 0;

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_BREAKPOINT;
	a.size = sizeof(a);
	a.disabled = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	a.bp_type = exec ? HW_BREAKPOINT_X : HW_BREAKPOINT_W;
	a.bp_addr = exec ? (uint64_t)(uintptr_t)&probe_type : (uint64_t)(uintptr_t)&perf_probe_word;
	if (b->o.target == HWBP_TARGET_PID || b->o.target == HWBP_TARGET_TID) {
		/* Any aligned user address will do in another process. */
		a.bp_addr = 0x10000;
	}
	a.bp_len = exec ? sizeof(long) : 1;
	while (n < max) {
		int fd = hwbp_sys.perf_event_open(&a, tid, cpu, -1, 0);

		if (fd < 0) {
			if (fd != -ENOSPC)
				err = fd;
			break;
		}
		fds[n++] = fd;
	}
	for (int i = 0; i < n; i++)
		hwbp_sys.close(fds[i]);
	return err ? err : n;
}

static int perf_free_slots(struct hwbp_bk *b, unsigned int *watch, unsigned int *brk)
{
	int fds[64];
	int w = probe_type(b, false, fds, 64), x;

	if (w < 0)
		return w;
	x = b->shared ? w : probe_type(b, true, fds, 64);
	if (x < 0)
		return x;
	*watch = (unsigned int)w;
	*brk = (unsigned int)x;
	return 0;
}

static int perf_fd(struct hwbp_bk *b)
{
	return b->buffers ? b->epfd : -EINVAL;
}

static int perf_lost(struct hwbp_bk *b, uint64_t *lost)
{
	uint64_t sum = b->lost_gone;

	if (!b->fmt_lost) {
		*lost = b->lost;
		return 0;
	}
	for (struct hwbp_bk_slot *bs = b->slots; bs; bs = bs->next)
		sum += slot_lost(b, bs);
	*lost = sum;
	return 0;
}

/* --------------------------------------------------------------------- */
/* Ring buffers                                                          */

static struct hwbp_bk_slot *slot_by_id(struct hwbp_bk *b, uint64_t id, struct perf_ev **evp)
{
	struct hwbp_bk_slot *bs = b->last_hit;

	for (int pass = 0; pass < 2; pass++) {
		if (pass)
			bs = b->slots;
		for (; bs; bs = pass ? bs->next : NULL) {
			for (size_t i = 0; i < bs->nev; i++) {
				if (bs->ev[i].id == id) {
					b->last_hit = bs;
					if (evp)
						*evp = &bs->ev[i];
					return bs;
				}
			}
			if (!pass)
				break;
		}
	}
	return NULL;
}

/* Trailing sample_id of a non-sample record: pid, tid, time, cpu, id. */
struct sample_id {
	uint32_t pid, tid;
	uint64_t time;
	uint32_t cpu;
	uint64_t id;
};

static int parse_sample(struct hwbp_bk *b, const unsigned char *p, const unsigned char *end,
			bool deliver)
{
	struct hwbp_hit hit;
	struct hwbp_bk_slot *bs;
	uint64_t id, sample = b->o.sample;
	uint32_t u32[2];

	memset(&hit, 0, sizeof(hit));
#define TAKE(dst, n)                                  \
	do {                                          \
		if ((size_t)(end - p) < (size_t)(n)) \
			return 0;                     \
		memcpy((dst), p, (n));                \
		p += (n);                             \
	} while (0)
	TAKE(&id, 8);
	if (b->sample_type & PERF_SAMPLE_IP)
		TAKE(&hit.ip, 8);
	TAKE(u32, 8);
	hit.pid = (int32_t)u32[0];
	hit.tid = (int32_t)u32[1];
	if (b->sample_type & PERF_SAMPLE_TIME)
		TAKE(&hit.time_ns, 8);
	hit.cpu = -1;
	if (b->sample_type & PERF_SAMPLE_CPU) {
		TAKE(u32, 8);
		hit.cpu = (int)u32[0];
	}
	if (sample & HWBP_SAMPLE_CALLCHAIN) {
		uint64_t nr, k = 0;

		TAKE(&nr, 8);
		if ((size_t)(end - p) / 8 < nr)
			return 0;
		/* The data pages of the mapping are read-only (perf_mmap_fault()
		 * gives SIGBUS on a write): copy the chain out, dropping the
		 * PERF_CONTEXT_* markers (values >= -4095). */
		if (nr > b->nips) {
			uint64_t *v = realloc(b->ips, nr * sizeof(*v));

			if (!v)
				return 0;
			b->ips = v;
			b->nips = nr;
		}
		for (uint64_t i = 0; i < nr; i++) {
			uint64_t ip;

			memcpy(&ip, p + i * 8, 8);
			if (ip >= (uint64_t)-4095)
				continue;
			b->ips[k++] = ip;
		}
		hit.nr_ips = (unsigned int)k;
		hit.ips = b->ips;
		p += nr * 8;
	}
	if (sample & HWBP_SAMPLE_REGS) {
		uint64_t mask = b->o.sample_regs_user ? b->o.sample_regs_user : default_regs_mask();

		TAKE(&hit.regs_abi, 8);
		hit.regs_mask = mask;
		if (hit.regs_abi) {
			unsigned int nr = (unsigned int)__builtin_popcountll(mask);

			if ((size_t)(end - p) < (size_t)nr * 8)
				return 0;
			hit.nr_regs = nr;
			hit.regs = (const uint64_t *)(const void *)p;
			p += (size_t)nr * 8;
#ifdef PERF_SP_REG
			if (mask & (1ull << PERF_SP_REG)) {
				unsigned int pos = (unsigned int)__builtin_popcountll(
					mask & ((1ull << PERF_SP_REG) - 1));

				memcpy(&hit.sp, &hit.regs[pos], 8);
			}
#endif
		}
	}
	if (sample & HWBP_SAMPLE_STACK) {
		uint64_t size, dyn = 0;

		TAKE(&size, 8);
		if (size) {
			const unsigned char *data = p;

			if ((size_t)(end - p) < size + 8)
				return 0;
			p += size;
			TAKE(&dyn, 8);
			hit.stack = data;
			hit.stack_size = dyn < size ? dyn : size;
		}
	}
#undef TAKE
	bs = slot_by_id(b, id, NULL);
	if (!bs)
		return 0;	/* a slot removed since */
	if (b->o.per_thread)
		hwbp_tally_add(&bs->tids, hit.tid, 1);
	if (!deliver || b->o.delivery != HWBP_DELIVER_STREAM)
		return 0;
	return b->host.deliver(b->host.ctx, bs->cookie, &hit);
}

/* sample_id_all puts, at the end: {pid, tid} {time} {cpu, res} {id}. */
static void parse_sample_id(struct hwbp_bk *b, const unsigned char *p, const unsigned char *end,
			    struct sample_id *sid)
{
	size_t need = 16 + ((b->sample_type & PERF_SAMPLE_TIME) ? 8 : 0) +
		      ((b->sample_type & PERF_SAMPLE_CPU) ? 8 : 0);
	const unsigned char *q = end - need;

	memset(sid, 0, sizeof(*sid));
	if (end - p < (ptrdiff_t)need)
		return;
	memcpy(&sid->pid, q, 4);
	memcpy(&sid->tid, q + 4, 4);
	q += 8;
	if (b->sample_type & PERF_SAMPLE_TIME) {
		memcpy(&sid->time, q, 8);
		q += 8;
	}
	if (b->sample_type & PERF_SAMPLE_CPU) {
		memcpy(&sid->cpu, q, 4);
		q += 8;
	}
	memcpy(&sid->id, q, 8);
}

/* One record. Return non-zero to stop after it. */
static int handle_record(struct hwbp_bk *b, const struct perf_event_header *h, unsigned char *rec,
			 bool deliver)
{
	unsigned char *p = rec + sizeof(*h), *end = rec + h->size;
	struct sample_id sid;

	switch (h->type) {
	case PERF_RECORD_SAMPLE:
		return parse_sample(b, p, end, deliver);
	case PERF_RECORD_LOST:
		if (end - p >= 16) {
			uint64_t v[2];

			memcpy(v, p, 16);
			b->lost += v[1];
		}
		return 0;
	case PERF_RECORD_COMM: {
		uint32_t ids[2];
		struct hwbp_notify n = { .type = HWBP_NOTIFY_EXEC, .status = -1 };

		if (!(h->misc & PERF_RECORD_MISC_COMM_EXEC) || end - p < 9)
			return 0;
		/* The name is NUL-ended and padded to 8 bytes. */
		if (!memchr(p + 8, 0, (size_t)(end - p - 8)))
			return 0;
		memcpy(ids, p, 8);
		parse_sample_id(b, p, end, &sid);
		n.pid = (int32_t)ids[0];
		n.tid = (int32_t)ids[1];
		n.time_ns = sid.time;
		n.comm = (const char *)p + 8;
		b->host.notify(b->host.ctx, &n);
		return 0;
	}
	case PERF_RECORD_EXIT: {
		uint32_t ids[4];
		uint64_t t;
		struct hwbp_notify n = { .type = HWBP_NOTIFY_EXIT, .status = -1 };

		if (end - p < 24)
			return 0;
		memcpy(ids, p, 16);
		memcpy(&t, p + 16, 8);
		n.pid = (int32_t)ids[0];
		n.tid = (int32_t)ids[2];
		n.time_ns = t;
		b->host.notify(b->host.ctx, &n);
		return 0;
	}
	default:
		return 0;
	}
}

/* Read everything queued in PB. Return non-zero if delivery asked to stop. */
static int buf_drain(struct hwbp_bk *b, struct perf_buf *pb, bool deliver)
{
	struct perf_event_mmap_page *mp = pb->base;
	unsigned char *data = pb->data;
	uint64_t head = __atomic_load_n(&mp->data_head, __ATOMIC_ACQUIRE);
	uint64_t tail = mp->data_tail;
	int stop = 0;

	while (tail < head && !stop) {
		struct perf_event_header h;
		size_t off = (size_t)(tail % pb->data_len);
		unsigned char *rec;

		if (pb->data_len - off >= sizeof(h)) {
			memcpy(&h, data + off, sizeof(h));
		} else {
			size_t first = pb->data_len - off;

			memcpy(&h, data + off, first);
			memcpy((unsigned char *)&h + first, data, sizeof(h) - first);
		}
		if (h.size < sizeof(h) || h.size > head - tail)
			break;
		if (off + h.size <= pb->data_len) {
			rec = data + off;
		} else {
			size_t first = pb->data_len - off;

			memcpy(pb->scratch, data + off, first);
			memcpy(pb->scratch + first, data, h.size - first);
			rec = pb->scratch;
		}
		stop = handle_record(b, &h, rec, deliver);
		tail += h.size;
	}
	__atomic_store_n(&mp->data_tail, tail, __ATOMIC_RELEASE);
	return stop;
}

static int perf_drain(struct hwbp_bk *b, bool deliver)
{
	for (struct perf_buf *pb = b->bufs; pb; pb = pb->next)
		if (buf_drain(b, pb, deliver))
			return 1;
	return 0;
}

static int perf_poll(struct hwbp_bk *b, int timeout_ms)
{
	struct epoll_event evs[16];
	int n;

	if (!b->buffers)
		return -EINVAL;
	n = hwbp_sys.epoll_wait(b->epfd, evs, 16, timeout_ms);
	if (n < 0)
		return n;
	perf_drain(b, true);
	return 0;
}

/* --------------------------------------------------------------------- */
/* Session                                                               */

static void perf_close(struct hwbp_bk *b)
{
	if (!b)
		return;
	while (b->slots) {
		struct hwbp_bk_slot *bs = b->slots;

		b->slots = bs->next;
		slot_close(b, bs);
	}
	for (size_t i = 0; i < b->nside; i++)
		ev_close(b, b->side[i].fd);
	free(b->side);
	while (b->bufs) {
		struct perf_buf *pb = b->bufs;

		b->bufs = pb->next;
		buf_free(b, pb);
	}
	if (b->epfd >= 0)
		hwbp_sys.close(b->epfd);
	hwbp_perf_signal_close(b);
	free(b->cpus);
	free(b->ips);
	free(b);
}

/* What the target and delivery ask for: tasks to list, inheritance,
 * buffers, events per CPU. */
static void open_shape(struct hwbp_bk *b)
{
	const struct hwbp_session_opts *o = &b->o;
	struct perf_event_attr a;

	switch (o->target) {
	case HWBP_TARGET_THREAD:
		b->tid = hwbp_sys.gettid();
		break;
	case HWBP_TARGET_TID:
		b->tid = o->pid;
		break;
	case HWBP_TARGET_SELF:
		b->pid = hwbp_sys.getpid();
		b->tid = hwbp_sys.gettid();
		b->inherit = true;
		break;
	case HWBP_TARGET_PID:
		b->pid = o->pid;
		b->tid = o->pid;
		b->inherit = true;
		break;
	case HWBP_TARGET_SYSTEM:
		b->percpu = true;
		break;
	}
	b->buffers = o->delivery == HWBP_DELIVER_STREAM ||
		     (o->per_thread && b->inherit && o->delivery == HWBP_DELIVER_COUNT);
	b->fmt_lost = b->buffers;
	memset(&a, 0, sizeof(a));
	attr_common(b, &a);
	b->sample_type = a.sample_type;
	if (b->buffers && b->inherit)
		b->percpu = true;
}

/* The online CPUs, and the epoll descriptor over the buffers if any. */
static int open_cpus(struct hwbp_bk *b)
{
	int n;

	b->cpus = calloc(PERF_CPUS_MAX, sizeof(*b->cpus));
	if (!b->cpus)
		return -ENOMEM;
	n = hwbp_sys_online_cpus(b->cpus, PERF_CPUS_MAX);
	if (n < 0)
		return n;
	b->ncpu = n < PERF_CPUS_MAX ? n : PERF_CPUS_MAX;
	if (b->buffers) {
		b->epfd = hwbp_sys.epoll_create();
		if (b->epfd < 0)
			return b->epfd;
	}
	return 0;
}

/* The CPU's slots, of which those free on the target right now. */
static int open_capacity(struct hwbp_bk *b)
{
	struct hwbp_pool pool = hwbp_arch_pool(hwbp_arch_host());
	unsigned int fw = 0, fb = 0;
	int err;

	b->shared = hwbp_planner_shared(hwbp_arch_host());
	b->cap_watch = (unsigned int)__builtin_popcount(pool.watch);
	b->cap_break = b->shared ? b->cap_watch : (unsigned int)__builtin_popcount(pool.brk);
	/* Probe: the PMU exists, the target exists, policy lets us in, and
	 * how many slots are free right now (a debugger may hold some). */
	err = perf_free_slots(b, &fw, &fb);
	if (err) {
		if (err == -ENOENT || err == -ENODEV)
			err = -EOPNOTSUPP;
		hwbp_log(HWBP_LOG_ERROR, "session: cannot open a breakpoint on the target: %s",
			      strerror(-err));
		return err;
	}
	if (fw < b->cap_watch)
		b->cap_watch = fw;
	if (!b->shared && fb < b->cap_break)
		b->cap_break = fb;
	if (b->shared)
		b->cap_break = b->cap_watch;
	return 0;
}

static int perf_open(const struct hwbp_session_opts *o, const struct hwbp_backend_host *host,
		     struct hwbp_bk **out)
{
	struct hwbp_bk *b;
	int err;

	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->host = *host;
	b->o = *o;
	b->epfd = -1;
	open_shape(b);
	/* Rows of inherited threads need sample records, i.e. buffers. */
	err = o->per_thread && b->inherit && o->delivery == HWBP_DELIVER_SIGNAL ? -EOPNOTSUPP : 0;
	if (!err)
		err = open_cpus(b);
	if (!err)
		err = open_capacity(b);
	if (!err && o->delivery == HWBP_DELIVER_SIGNAL)
		err = hwbp_perf_signal_open(b);
	if (err) {
		perf_close(b);
		return err;
	}
	*out = b;
	return 0;
}

const struct hwbp_backend hwbp_perf_backend = {
	.name = "perf",
	.kind = HWBP_BACKEND_PERF,
	.open = perf_open,
	.close = perf_close,
	.capacity = perf_capacity,
	.install = perf_install,
	.modify = perf_modify,
	.remove = perf_remove,
	.enable = perf_enable,
	.count = perf_count,
	.threads = perf_threads,
	.free_slots = perf_free_slots,
	.fd = perf_fd,
	.poll = perf_poll,
	.lost = perf_lost,
};

// SPDX-License-Identifier: MIT
/*
 * perf_signal.c - the perf backend's signal mode: each hit is a SIGTRAP in
 * the accessing thread (sigtrap=1, Linux 5.13), whose handler runs the
 * session's callback; on arm64, where the trap comes before the access,
 * the handler also steps over it (see step_arm())
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>

#include "backend/perf.h"
#include "sys.h"

#ifndef TRAP_PERF
#define TRAP_PERF 6
#endif

static struct hwbp_bk *_Atomic perf_sig_owner;

/* A SIGTRAP that is not a hit goes to the handler that was there before. */
static void sigtrap_forward(struct hwbp_bk *b, int sig, siginfo_t *si, void *uc)
{
	const struct sigaction *old = b ? &b->old_sa : NULL;

	if (old && (old->sa_flags & SA_SIGINFO) && old->sa_sigaction) {
		old->sa_sigaction(sig, si, uc);
	} else if (old && old->sa_handler != SIG_IGN && old->sa_handler != SIG_DFL) {
		old->sa_handler(sig);
	} else if (!old || old->sa_handler == SIG_DFL) {
		struct sigaction dfl = { .sa_handler = SIG_DFL };

		/* Default action (core dump): re-raise once we return. */
		hwbp_sys.sigaction(SIGTRAP, &dfl, NULL);
		hwbp_sys.tgkill(hwbp_sys.getpid(), hwbp_sys.gettid(), SIGTRAP);
	}
}

/* The slot cookie (sig_data) of a perf breakpoint SIGTRAP; false if SI is
 * some other SIGTRAP. si_perf_data is at byte offset 24 of siginfo_t on
 * LP64, si_perf_type at 32 and si_perf_flags at 36 (ARCH.md 5.3). */
static bool sigtrap_hit(const siginfo_t *si, uint64_t *data, uint32_t *flags)
{
	unsigned long d;
	uint32_t type;

	if (si->si_code != TRAP_PERF)
		return false;
	memcpy(&d, (const char *)si + 24, sizeof(d));
	memcpy(&type, (const char *)si + 32, sizeof(type));
	memcpy(flags, (const char *)si + 36, sizeof(*flags));
	*data = d;
	return type == PERF_TYPE_BREAKPOINT;
}

#ifndef TRAP_PERF_FLAG_ASYNC
#define TRAP_PERF_FLAG_ASYNC 1u	/* Linux 6.0, commit 78ed93d72ded */
#endif

#if defined(__aarch64__) || defined(__loongarch64)
/*
 * Step-over for CPUs that trap before the access (arm64; LoongArch is
 * built but refused in hwbp_perf_signal_open()).
 *
 * The exception comes before the load or store. For a perf event with the
 * default overflow handler the kernel disables the task's watchpoints and
 * single-steps the access itself (ARCH.md 2.5), but with sigtrap the signal
 * is delivered first: the handler's first instruction takes the step, the
 * watchpoints come back, and sigreturn runs the access into the same trap,
 * forever (EMULATION.md 1.6, E1).
 *
 * Disabling the slot's event around the access (EMULATION.md 1.6, E2/E3)
 * works for one thread, but the events of a SELF target are inherited:
 * PERF_EVENT_IOC_DISABLE on the descriptor disables the clones in every
 * thread created since, so their accesses during the step would be lost.
 * So the watchpoint stays armed and the kernel's own per-thread step-over
 * is used instead:
 *
 *  1. The hit's SIGTRAP: the handler opens a one-shot execute breakpoint
 *     on this thread at pc + 4 (a load or store is never a branch, and A64
 *     and LoongArch instructions are 4 bytes) that signals by O_ASYNC with
 *     a real-time signal (F_SETSIG, to this thread with F_SETOWN_EX), keeps
 *     the hit, and returns with SIGTRAP blocked in the restored mask.
 *  2. The access runs again and traps again (the echo). Its SIGTRAP is
 *     blocked, so it stays pending and nothing interrupts the kernel's
 *     step: the access completes once, and the watchpoint is re-armed.
 *  3. The breakpoint at pc + 4 fires: its handler closes it, takes the
 *     echo with sigtimedwait() and notes it so that counts leave it out,
 *     runs the callback, and returns with SIGTRAP unblocked.
 *
 * Each access thus gives one callback and one count, on any thread, and
 * the callback runs after the access as on x86 (the ucontext is that of
 * the next instruction; hit->ip stays the accessing one). The step costs
 * two signals and a few system calls more than on x86. The O_ASYNC signal
 * is sent from irq_work (a self-IPI) when the breakpoint traps; should the
 * IPI come late, it still lands at the kernel's step over that breakpoint,
 * one instruction on. An access from another thread is never in the way:
 * the blocked mask, the breakpoint and the state below are this thread's.
 * Execute breakpoints are refused in signal mode here: the instruction
 * after one may be anywhere.
 */
static __thread __attribute__((tls_model("initial-exec"))) struct {
	int fd;			/* breakpoint at pc + 4 while stepping, else -1 */
	bool step_blocked;	/* the step signal was blocked before */
	uint64_t cookie;	/* the slot being stepped over */
	struct hwbp_hit hit;	/* delivered once the access is done */
} perf_step = { .fd = -1 };

static uint64_t uc_pc(void *uc)
{
#if defined(__aarch64__)
	return ((ucontext_t *)uc)->uc_mcontext.pc;
#else
	return ((ucontext_t *)uc)->uc_mcontext.__pc;
#endif
}

static struct hwbp_bk_slot *slot_by_cookie(struct hwbp_bk *b, uint64_t cookie)
{
	for (struct hwbp_bk_slot *bs = b->slots; bs; bs = bs->next)
		if ((uint64_t)(uintptr_t)bs->cookie == cookie)
			return bs;
	return NULL;
}

/* Step 1: arm the breakpoint after the access and block SIGTRAP for it.
 * Return false if the hit must be delivered now. */
static bool step_arm(struct hwbp_bk *b, uint64_t cookie, const struct hwbp_hit *hit,
		     ucontext_t *u)
{
	struct f_owner_ex own = { .type = F_OWNER_TID, .pid = hit->tid };
	struct perf_event_attr a;
	struct hwbp_bk_slot *bs;
	int fd;

	if (perf_step.fd >= 0) {
		/* Left over: the access never completed (a fault that was
		 * longjmp()ed out of). */
		hwbp_sys.close(perf_step.fd);
		perf_step.fd = -1;
	}
	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_BREAKPOINT;
	a.size = sizeof(a);
	a.bp_type = HW_BREAKPOINT_X;
	a.bp_addr = uc_pc(u) + 4;
	a.bp_len = 4;
	a.sample_period = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	/* Enabled at once: nothing runs at pc + 4 before this handler returns
	 * (the callback waits for step 3). */
	fd = hwbp_sys.perf_event_open(&a, 0, -1, -1, 0);
	if (fd >= 0 && (hwbp_sys.fcntl(fd, F_SETOWN_EX, (unsigned long)&own) ||
			hwbp_sys.fcntl(fd, F_SETSIG, (unsigned long)b->step_sig) ||
			hwbp_sys.fcntl(fd, F_SETFL, O_ASYNC))) {
		hwbp_sys.close(fd);
		fd = -1;
	}
	if (fd < 0) {
		/* No breakpoint register (a debugger holds them all): rather
		 * than trap on this access forever, the slot stops reporting. */
		bs = slot_by_cookie(b, cookie);
		for (size_t i = 0; bs && i < bs->nev; i++)
			hwbp_sys.ioctl(bs->ev[i].fd, PERF_EVENT_IOC_DISABLE, 0);
		return false;
	}
	perf_step.fd = fd;
	perf_step.cookie = cookie;
	perf_step.hit = *hit;
	perf_step.step_blocked = sigismember(&u->uc_sigmask, b->step_sig) == 1;
	sigaddset(&u->uc_sigmask, SIGTRAP);
	sigdelset(&u->uc_sigmask, b->step_sig);
	return true;
}

/* Step 3: the access is done; take its echo, report the hit and unblock
 * SIGTRAP. */
static void perf_stepsig(int sig, siginfo_t *si, void *uc)
{
	struct hwbp_bk *b = atomic_load(&perf_sig_owner);
	const struct timespec now = { 0, 0 };
	uint64_t set = 1ull << (SIGTRAP - 1);
	ucontext_t *u = uc;
	int saved = errno;
	siginfo_t info;

	if (!b || perf_step.fd < 0 || si->si_code <= 0 || si->si_fd != perf_step.fd) {
		const struct sigaction *old = b ? &b->old_step_sa : NULL;

		/* Not ours: the old handler, if it was a function. */
		if (old && (old->sa_flags & SA_SIGINFO) && old->sa_sigaction)
			old->sa_sigaction(sig, si, uc);
		else if (old && old->sa_handler != SIG_IGN && old->sa_handler != SIG_DFL)
			old->sa_handler(sig);
		errno = saved;
		return;
	}
	hwbp_sys.close(perf_step.fd);
	perf_step.fd = -1;
	/* One echo at most (SIGTRAP does not queue); other SIGTRAPs go on. */
	while (hwbp_sys.sigtimedwait(&set, &info, &now) == SIGTRAP) {
		uint64_t data = 0;
		uint32_t flags = 0;

		if (sigtrap_hit(&info, &data, &flags)) {
			struct hwbp_bk_slot *bs = slot_by_cookie(b, data);

			if (bs)
				__atomic_add_fetch(&bs->echo, 1, __ATOMIC_RELAXED);
			break;
		}
		sigtrap_forward(b, SIGTRAP, &info, uc);
	}
	perf_step.hit.ucontext = uc;
	b->host.deliver(b->host.ctx, (void *)(uintptr_t)perf_step.cookie, &perf_step.hit);
	sigdelset(&u->uc_sigmask, SIGTRAP);
	if (perf_step.step_blocked)
		sigaddset(&u->uc_sigmask, sig);
	errno = saved;
}
#endif

/*
 * The accessing thread's ids, remembered per thread: two system calls per
 * hit are a noticeable part of a signal-mode hit in a VM. A forked child
 * starts with its parent's copy, so the fork handler forgets them.
 */
static __thread __attribute__((tls_model("initial-exec"))) struct {
	pid_t pid, tid;
} perf_ids;

static void perf_ids_forget(void)
{
	perf_ids.pid = 0;
	perf_ids.tid = 0;
}

static void perf_atfork(void)
{
	pthread_atfork(NULL, NULL, perf_ids_forget);
}

static void perf_ids_get(pid_t *pid, pid_t *tid)
{
	if (!perf_ids.tid) {
		perf_ids.pid = hwbp_sys.getpid();
		perf_ids.tid = hwbp_sys.gettid();
	}
	*pid = perf_ids.pid;
	*tid = perf_ids.tid;
}

static void perf_sigtrap(int sig, siginfo_t *si, void *uc)
{
	struct hwbp_bk *b = atomic_load(&perf_sig_owner);
	int saved = errno;
	uint64_t data = 0;
	uint32_t flags = 0;
	struct hwbp_hit hit;

	if (!b || !sigtrap_hit(si, &data, &flags)) {
		sigtrap_forward(b, sig, si, uc);
		errno = saved;
		return;
	}
	memset(&hit, 0, sizeof(hit));
	perf_ids_get(&hit.pid, &hit.tid);
	hit.cpu = -1;
	hit.ucontext = uc;
#if defined(__x86_64__)
	hit.ip = (uint64_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
	b->host.deliver(b->host.ctx, (void *)(uintptr_t)data, &hit);
#elif defined(__aarch64__) || defined(__loongarch64)
	hit.ip = uc_pc(uc);
	/* A SIGTRAP that was blocked at the access arrives late (ASYNC): the
	 * kernel has stepped over that access already. */
	if ((flags & TRAP_PERF_FLAG_ASYNC) || !step_arm(b, data, &hit, uc))
		b->host.deliver(b->host.ctx, (void *)(uintptr_t)data, &hit);
#else
	b->host.deliver(b->host.ctx, (void *)(uintptr_t)data, &hit);
#endif
	errno = saved;
}

#if defined(__aarch64__) || defined(__loongarch64)
/* The step-over's real-time signal: the highest one nobody handles. */
static int step_sig_take(struct hwbp_bk *b)
{
	for (int sig = SIGRTMAX; sig >= SIGRTMIN; sig--) {
		struct sigaction sa, old;

		if (hwbp_sys.sigaction(sig, NULL, &old) || old.sa_handler != SIG_DFL)
			continue;
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = perf_stepsig;
		sa.sa_flags = SA_SIGINFO | SA_RESTART;
		sigemptyset(&sa.sa_mask);
		if (hwbp_sys.sigaction(sig, &sa, &b->old_step_sa))
			continue;
		b->step_sig = sig;
		return 0;
	}
	hwbp_log(HWBP_LOG_ERROR, "session: signal mode needs a real-time signal "
		      "with no handler, and there is none");
	return -EBUSY;
}
#endif

/* See perf.h. */
int hwbp_perf_signal_open(struct hwbp_bk *b)
{
	struct hwbp_bk *expect = NULL;
	struct sigaction sa;
	int err;

#if defined(__loongarch64)
	/*
	 * LoongArch traps before the access too, and the step-over above is
	 * written for it, but no emulator has its debug registers (EMULATION.md
	 * 2.2) and whether its kernel steps a sigtrap event the way arm64's
	 * does is unknown (ARCH.md 7): refuse rather than loop. TODO(#6)
	 */
	return -EOPNOTSUPP;
#endif
	if (!atomic_compare_exchange_strong(&perf_sig_owner, &expect, b))
		return -EBUSY;
	static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

	pthread_once(&atfork_once, perf_atfork);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = perf_sigtrap;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	err = hwbp_sys.sigaction(SIGTRAP, &sa, &b->old_sa);
	if (err) {
		atomic_store(&perf_sig_owner, NULL);
		return err;
	}
	b->sa_installed = true;
#if defined(__aarch64__) || defined(__loongarch64)
	err = step_sig_take(b);
#endif
	return err;
}

/* See perf.h. */
void hwbp_perf_signal_close(struct hwbp_bk *b)
{
	if (b->step_sig)
		hwbp_sys.sigaction(b->step_sig, &b->old_step_sa, NULL);
	if (b->sa_installed) {
		hwbp_sys.sigaction(SIGTRAP, &b->old_sa, NULL);
		atomic_store(&perf_sig_owner, NULL);
	}
}

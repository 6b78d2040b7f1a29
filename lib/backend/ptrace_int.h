/* SPDX-License-Identifier: MIT */
/*
 * ptrace_int.h - the ptrace engine's state, shared by its two backends:
 * ptrace.c (debug registers) and guard.c (page protection)
 *
 * One engine traces the target: it seizes or adopts every thread, follows
 * new threads, children and exec, waits for stops and queues hits and
 * notifications for hwbp_session_poll(). The ptrace backend arms debug
 * registers in each thread; the guard backend protects pages in each
 * process and takes the faults, through the hooks below (b->g set).
 */
#ifndef HWBP_BACKEND_PTRACE_INT_H
#define HWBP_BACKEND_PTRACE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>

#include <hwbp/hwbp.h>

#include "backend/backend.h"
#include "tally.h"

struct gd;
struct gd_task;

/* A slot as this backend holds it; slot.index is the hardware slot. */
struct hwbp_bk_slot {
	struct hwbp_slot slot;
	bool enabled;
	void *cookie;
	uint64_t hits;
	struct hwbp_tally tids;
	uint64_t shadow;		/* the bytes as last seen (x86: old value) */
	bool shadow_ok;
};

/* One traced thread. */
struct pt_task {
	pid_t tid;
	pid_t pid;			/* its process */
	bool stopped;			/* in a ptrace-stop that hwbp holds */
	bool hold;			/* stay stopped until the next poll */
	bool listen;			/* in group-stop: resume with PTRACE_LISTEN */
	bool fresh;			/* attached, first stop not seen yet */
	bool dying;			/* lost to another thread's exec */
	bool stepping;			/* single-stepping over a trapped access */
	bool unstoppable;		/* PTRACE_INTERRUPT refused it (not seized) */
	uint64_t armed_gen;		/* b->gen its registers hold; 0: none */
	int sig;			/* signal to pass on when it resumes */
	/* the hit taken before the step (arm64, LoongArch) */
	struct hwbp_bk_slot *step_bs;
	struct hwbp_hit step_hit;
	struct gd_task *gt;		/* the guard backend's (guard.c), or NULL */
};

/* A hit or notification waiting for hwbp_session_poll(). */
struct pt_event {
	bool is_hit;
	struct hwbp_bk_slot *bs;
	struct hwbp_hit hit;
	uint64_t regs[40];
	void *stack;
	struct hwbp_notify note;
	char comm[32];
};

struct hwbp_bk {
	struct hwbp_backend_host host;	/* where hits and notifications go */
	struct hwbp_session_opts o;
	enum hwbp_arch arch;
	unsigned int nwatch, nbrk;	/* hardware slots */
	bool shared;
	unsigned int brk_first;		/* lowest breakpoint slot hwbp may use */
	struct hwbp_bk_slot *watch[HWBP_SLOTS_MAX];
	struct hwbp_bk_slot *brk[HWBP_SLOTS_MAX];
	uint64_t gen;			/* bumped on every change of the slots */
	bool used_brk;			/* breakpoint regset ever written */
	struct pt_task *tasks;
	size_t ntasks, cap;
	struct pt_event *q;
	size_t qhead, qlen, qcap;
	unsigned long options;		/* PTRACE_O_* */
	struct gd *g;			/* the guard backend's state, or NULL */
	bool quiescing;			/* in hwbp_pt_quiesce(): nothing is resumed */
};


struct pt_task *hwbp_pt_task_find(struct hwbp_bk *b, pid_t tid);
struct pt_task *hwbp_pt_task_wait(struct hwbp_bk *b, struct pt_task *t);
int hwbp_pt_task_resume(struct hwbp_bk *b, struct pt_task *t);
void hwbp_pt_hit_init(struct pt_task *t, struct hwbp_hit *h, uint64_t ip);
void hwbp_pt_queue_hit(struct hwbp_bk *b, struct pt_task *t, struct hwbp_bk_slot *bs,
		       const struct hwbp_hit *h);
void hwbp_pt_queue_forget(struct hwbp_bk *b, const struct hwbp_bk_slot *bs);
void hwbp_pt_stop_all(struct hwbp_bk *b);
void hwbp_pt_resume_all(struct hwbp_bk *b);
void hwbp_pt_quiesce(struct hwbp_bk *b);

/* The engine's backend members, for guard.c's table. */
int hwbp_pt_open_as(const struct hwbp_session_opts *opts, const struct hwbp_backend_host *host,
		    bool guard, struct hwbp_bk **out);
void hwbp_pt_close(struct hwbp_bk *b);
int hwbp_pt_count(struct hwbp_bk *b, struct hwbp_bk_slot *bs, uint64_t *hits);
int hwbp_pt_threads(struct hwbp_bk *b, struct hwbp_bk_slot *bs, struct hwbp_tally *t);
int hwbp_pt_fd(struct hwbp_bk *b);
int hwbp_pt_poll(struct hwbp_bk *b, int timeout_ms);
int hwbp_pt_lost(struct hwbp_bk *b, uint64_t *lost);

/*
 * Hooks into guard.c (called only with b->g set).
 * hwbp_gd_open:   set up b->g after the threads are attached
 * hwbp_gd_free:   free b->g (after hwbp_gd_detach)
 * hwbp_gd_stop:   a stop of T with signal SIG (SIGTRAP | 0x80: a system
 *                 call stop); true when the guard took it (T may then be
 *                 NULL: gone). SI is the stop's siginfo when SIG is a
 *                 signal (else NULL).
 * hwbp_gd_fork:   T forked CHILD (VFORK: shares its memory); true when the
 *                 guard took the child (not followed: cleaned and let go)
 * hwbp_gd_exec:   PID's memory was replaced by an exec
 * hwbp_gd_held:   T must stay stopped (a thread of its process steps with a page open)
 * hwbp_gd_trace_syscalls: resume T with PTRACE_SYSCALL
 * hwbp_gd_detach: every thread stopped: restore every process as it was
 * hwbp_gd_task_gone: T is being forgotten
 */
int hwbp_gd_open(struct hwbp_bk *b);
void hwbp_gd_free(struct hwbp_bk *b);
bool hwbp_gd_stop(struct hwbp_bk *b, struct pt_task **t, int sig, const siginfo_t *si);
bool hwbp_gd_fork(struct hwbp_bk *b, struct pt_task *t, pid_t child, bool vfork);
void hwbp_gd_exec(struct hwbp_bk *b, pid_t pid);
bool hwbp_gd_held(const struct hwbp_bk *b, const struct pt_task *t);
bool hwbp_gd_trace_syscalls(const struct hwbp_bk *b, const struct pt_task *t);
void hwbp_gd_detach(struct hwbp_bk *b);
void hwbp_gd_task_gone(struct hwbp_bk *b, struct pt_task *t);

#endif /* HWBP_BACKEND_PTRACE_INT_H */

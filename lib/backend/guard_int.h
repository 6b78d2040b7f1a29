/* SPDX-License-Identifier: MIT */
/*
 * guard_int.h - the guard backend's state, shared by guard.c (arming,
 * faults, breakpoints, the engine's hooks) and guard_sys.c (system calls)
 */
#ifndef HWBP_BACKEND_GUARD_INT_H
#define HWBP_BACKEND_GUARD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <hwbp/hwbp.h>

#include "backend/ptrace_int.h"
#include "backend/tracee.h"
#include "guard/plan.h"

#define GD_BOUNCE_SIZE (256u * 1024u)	/* bytes a bounced call moves at most */
#define GD_HITS_MAX 8			/* points one access reports */
#define GD_OPEN_MAX 4			/* pages one step opens */
#define GD_SLOTS_MAX (1u << 16)
#if defined(__x86_64__)
#define GD_NR_REGS 24			/* perf's x86-64 general registers */
#else
#define GD_NR_REGS 33			/* x0-x30, sp, pc; r0-r31, pc */
#endif
/*
 * The thread control block the kernel writes (clear_child_tid: the tid
 * word of glibc's struct pthread, cleared at thread exit) sits at the
 * thread pointer: above it on x86-64 (TLS variant II), below it on arm64
 * and LoongArch (variant I). GD_TCB_BYTES is more than glibc's and musl's
 * struct pthread; the rseq area is given exactly by the kernel.
 */
#define GD_TCB_BYTES 4096u
#if defined(__x86_64__)
#define GD_TCB_BELOW 0u
#else
#define GD_TCB_BELOW (GD_TCB_BYTES - 16u)
#endif

#define GD_SYSCALL_INFO 0x420e		/* PTRACE_GET_SYSCALL_INFO, Linux 5.3 */
#define GD_RSEQ_CONFIG 0x420f		/* PTRACE_GET_RSEQ_CONFIGURATION, Linux 5.13 */
#define GD_INFO_ENTRY 1
#define GD_INFO_EXIT 2

/* struct ptrace_syscall_info of <linux/ptrace.h> */
struct gd_sysinfo {
	uint8_t op;
	uint8_t pad[3];
	uint32_t arch;
	uint64_t ip;
	uint64_t sp;
	union {
		struct {
			uint64_t nr;
			uint64_t args[6];
		} entry;
		struct {
			int64_t rval;
			uint8_t is_error;
		} exit;
	};
};

struct gd_rseq {
	uint64_t ptr;
	uint32_t size, sig, flags, pad;
};

/* A system call whose buffer can be bounced: buffer BUF, byte count COUNT. */
struct gd_call {
	long nr;
	const char *name;
	unsigned int buf, count;
	bool kernel_writes;	/* the kernel writes the buffer (else reads it) */
};


/* An execute point: a software breakpoint planted in a process's code. */
struct gd_trap {
	struct hwbp_bk_slot *bs;
	struct hwbp_ptrace_trap tr;
};

/* One traced process (one address space). */
struct gd_proc {
	pid_t pid;
	struct hwbp_guard_set *set;
	struct gd_trap *traps;
	size_t ntraps;
	int memfd;		/* /proc/PID/mem, -1 until needed */
	uint64_t bounce;	/* the bounce area in the target, 0: none */
	bool dirty;		/* the set wants changes not made yet */
};

/* A hit waiting for the access to complete. */
struct gd_pend {
	struct hwbp_bk_slot *bs;
	struct hwbp_hit hit;
};

struct gd_task {
	/* a step with pages open, or over a breakpoint's instruction */
	bool stepping;
	uint64_t retrap;	/* the breakpoint to plant again after the step */
	unsigned int nopen;
	uint64_t open[GD_OPEN_MAX];
	/* hits of the access being completed */
	unsigned int npend;
	struct gd_pend pend[GD_HITS_MAX];
	/* another call whose arguments point into guarded pages: those pages,
	 * opened for it */
	unsigned int nsysopen;
	uint64_t sysopen[GD_OPEN_MAX];
	/* a bounced system call */
	const struct gd_call *call;
	uint64_t buf, count;
	/* the target's own mprotect, or a call that unmaps: munmap, mremap,
	 * mmap over a mapping (MAP_FIXED) */
	bool mprot;
	bool unmap;
	uint64_t maddr, mlen;
	unsigned int mprot_prot;
};

struct gd {
	uint64_t page;
	struct gd_proc *procs;
	size_t nprocs, capprocs;
	struct hwbp_bk_slot **slots;
	size_t nslots, capslots;
	pid_t stepper;		/* the thread stepping with pages open, 0: none */
	pid_t stepper_pid;
	struct hwbp_guard_stats st;
};

static inline uint64_t gd_page_down(const struct gd *g, uint64_t a)
{
	return a & ~(g->page - 1);
}

/* guard.c */
struct gd_proc *gd_proc_find(struct gd *g, pid_t pid);
struct gd_task *gd_task_of(struct pt_task *t);
int gd_mem_read(struct gd_proc *p, uint64_t addr, void *buf, size_t n);
int gd_mem_write(struct gd_proc *p, uint64_t addr, const void *buf, size_t n);
int gd_mem_value(struct gd_proc *p, uint64_t addr, uint64_t len, uint64_t *v);
int gd_proc_mprotect(struct hwbp_bk *b, struct gd_proc *p, struct pt_task *t, uint64_t addr,
		     uint64_t len, unsigned int prot);
int gd_proc_apply(struct hwbp_bk *b, struct gd_proc *p);
struct gd_proc *gd_hold_others(struct hwbp_bk *b, struct pt_task **tp);
void gd_release_others(struct hwbp_bk *b, struct pt_task *t);
void gd_proc_resume(struct hwbp_bk *b, pid_t pid);
bool gd_page_prot(const struct hwbp_guard_set *set, uint64_t page, unsigned int *orig,
		  unsigned int *prot);
void gd_pend_hits(struct pt_task *t, struct gd_task *gt, struct gd_proc *p,
		  const uint64_t *cookies, size_t n, uint64_t a, uint64_t size,
		  enum hwbp_access kind, uint64_t ip);
void gd_pend_queue(struct hwbp_bk *b, struct pt_task *t, struct gd_task *gt, struct gd_proc *p,
		   const struct hwbp_insn *store);

/* guard_sys.c: a system call stop of *TP (which the engine may move) */
void gd_on_syscall(struct hwbp_bk *b, struct pt_task **tp);

#endif /* HWBP_BACKEND_GUARD_INT_H */

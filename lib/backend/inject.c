// SPDX-License-Identifier: MIT
/*
 * inject.c - a stopped tracee's registers, and a system call run inside
 * it (inject.h)
 *
 * The call instruction and a breakpoint after it are written over the
 * thread's pc (x86-64 "syscall; int3", arm64 "svc #0; brk #0", LoongArch
 * "syscall 0; break 0"), the thread runs them with PTRACE_CONT, and code
 * and registers are put back. The thread's own system call survives:
 *   - at a system-call-entry stop, the call is first skipped (number -1,
 *     run to the exit stop), and its pc is moved back to the call
 *     instruction afterwards, so it runs again as it would have;
 *   - interrupted inside a call (a -ERESTART* return pending), the
 *     registers put back make the kernel restart it as usual: the
 *     injected call runs with the call number -1, which turns the
 *     restart logic off. arm64 cannot be put back so (the kernel keeps
 *     the first argument of a restarted call in orig_x0, which ptrace
 *     cannot write): there -EAGAIN asks for another thread.
 */
#include "backend/inject.h"

#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>

#include "sys.h"

#ifndef NT_ARM_SYSTEM_CALL
#define NT_ARM_SYSTEM_CALL 0x404
#endif
#ifndef NT_ARM_TLS
#define NT_ARM_TLS 0x401
#endif

#define ERESTARTSYS_ 512
#define ERESTARTNOINTR_ 513
#define ERESTARTNOHAND_ 514
#define ERESTART_RESTARTBLOCK_ 516

static long pt(int req, pid_t tid, uint64_t addr, void *data)
{
	return hwbp_sys.ptrace(req, tid, (void *)(uintptr_t)addr, data);
}

#if defined(__x86_64__)
#define U(r) (&(r)->u)
#define UC(r) (&(r)->u)
_Static_assert(sizeof(struct user_regs_struct) <= sizeof(((struct hwbp_tregs *)0)->w),
	       "user_regs_struct fits");

int hwbp_tregs_get(pid_t tid, struct hwbp_tregs *r)
{
	memset(r, 0, sizeof(*r));
	r->len = sizeof(struct user_regs_struct);
	return (int)pt(PTRACE_GETREGS, tid, 0, &r->u);
}

int hwbp_tregs_set(pid_t tid, const struct hwbp_tregs *r)
{
	return (int)pt(PTRACE_SETREGS, tid, 0, (void *)(uintptr_t)&r->u);
}

uint64_t hwbp_tregs_pc(const struct hwbp_tregs *r)
{
	return UC(r)->rip;
}

void hwbp_tregs_set_pc(struct hwbp_tregs *r, uint64_t pc)
{
	U(r)->rip = pc;
}

uint64_t hwbp_tregs_sp(const struct hwbp_tregs *r)
{
	return UC(r)->rsp;
}

uint64_t hwbp_tregs_tp(pid_t tid, const struct hwbp_tregs *r)
{
	(void)tid;
	return UC(r)->fs_base;
}

static unsigned long long *arg_reg(struct user_regs_struct *u, unsigned int i)
{
	unsigned long long *a[6] = { &u->rdi, &u->rsi, &u->rdx, &u->r10, &u->r8, &u->r9 };

	return a[i < 6 ? i : 0];
}

uint64_t hwbp_tregs_arg(const struct hwbp_tregs *r, unsigned int i)
{
	struct user_regs_struct u = *UC(r);

	return *arg_reg(&u, i);
}

void hwbp_tregs_set_arg(struct hwbp_tregs *r, unsigned int i, uint64_t v)
{
	*arg_reg(U(r), i) = v;
}

void hwbp_tregs_perf(const struct hwbp_tregs *r, uint64_t all[40])
{
	const struct user_regs_struct *u = UC(r);
	uint64_t v[24] = { u->rax, u->rbx, u->rcx, u->rdx, u->rsi, u->rdi, u->rbp, u->rsp,
			   u->rip, u->eflags, u->cs, u->ss, u->ds, u->es, u->fs, u->gs,
			   u->r8, u->r9, u->r10, u->r11, u->r12, u->r13, u->r14, u->r15 };

	memset(all, 0, 40 * sizeof(uint64_t));
	memcpy(all, v, sizeof(v));
}

static const unsigned char code[] = { 0x0f, 0x05, 0xcc };	/* syscall; int3 */
#define CALL_LEN 2

/* Make R run call NR with ARGS (or skip the call with NR -1 at an entry stop). */
static void set_call(struct hwbp_tregs *r, long nr, const uint64_t *args)
{
	struct user_regs_struct *u = U(r);

	u->orig_rax = (unsigned long long)-1;
	if (!args)
		return;
	u->rax = (unsigned long long)nr;
	for (unsigned int i = 0; i < 6; i++)
		*arg_reg(u, i) = args[i];
}

static int64_t call_ret(const struct hwbp_tregs *r)
{
	return (int64_t)UC(r)->rax;
}

/* The registers of a thread at an entry stop, set to run its call again. */
static void rerun(struct hwbp_tregs *r)
{
	U(r)->rip -= CALL_LEN;
	U(r)->rax = U(r)->orig_rax;
}

static bool unrestorable(const struct hwbp_tregs *r)
{
	(void)r;
	return false;
}
#elif defined(__aarch64__) || defined(__loongarch64)
#if defined(__aarch64__)
/* struct user_pt_regs: x0..x30, sp, pc, pstate */
#define PC_W 32
#define SP_W 31
#define A0_W 0
#define NR_W 8
#define CALL_LEN 4
static const uint32_t code_w[] = { 0xd4000001u, 0xd4200000u };	/* svc #0; brk #0 */
#else
/* struct user_pt_regs: r0..r31, orig_a0, csr_era, csr_badv, reserved */
#define PC_W 33
#define SP_W 3
#define A0_W 4
#define NR_W 11
#define ORIG_A0_W 32
#define CALL_LEN 4
static const uint32_t code_w[] = { 0x002b0000u, 0x002a0000u };	/* syscall 0; break 0 */
#endif
static unsigned char code[sizeof(code_w)];

int hwbp_tregs_get(pid_t tid, struct hwbp_tregs *r)
{
	struct iovec iov;
	int err;

	memset(r, 0, sizeof(*r));
	iov = (struct iovec){ r->w, sizeof(r->w) };
	err = (int)pt(PTRACE_GETREGSET, tid, NT_PRSTATUS, &iov);
	if (err)
		return err;
	r->len = iov.iov_len;
#if defined(__aarch64__)
	int no = -1;

	iov = (struct iovec){ &no, sizeof(no) };
	err = (int)pt(PTRACE_GETREGSET, tid, NT_ARM_SYSTEM_CALL, &iov);
	r->sysno = no;
#endif
	return err;
}

int hwbp_tregs_set(pid_t tid, const struct hwbp_tregs *r)
{
	struct iovec iov = { (void *)(uintptr_t)r->w, r->len };
	int err = (int)pt(PTRACE_SETREGSET, tid, NT_PRSTATUS, &iov);

#if defined(__aarch64__)
	int no = (int)r->sysno;

	iov = (struct iovec){ &no, sizeof(no) };
	if (!err)
		err = (int)pt(PTRACE_SETREGSET, tid, NT_ARM_SYSTEM_CALL, &iov);
#endif
	return err;
}

uint64_t hwbp_tregs_pc(const struct hwbp_tregs *r)
{
	return r->w[PC_W];
}

void hwbp_tregs_set_pc(struct hwbp_tregs *r, uint64_t pc)
{
	r->w[PC_W] = pc;
}

uint64_t hwbp_tregs_sp(const struct hwbp_tregs *r)
{
	return r->w[SP_W];
}

uint64_t hwbp_tregs_tp(pid_t tid, const struct hwbp_tregs *r)
{
#if defined(__aarch64__)
	uint64_t tp = 0;
	struct iovec iov = { &tp, sizeof(tp) };

	(void)r;
	if (pt(PTRACE_GETREGSET, tid, NT_ARM_TLS, &iov))
		return 0;
	return tp;
#else
	(void)tid;
	return r->w[2];
#endif
}

uint64_t hwbp_tregs_arg(const struct hwbp_tregs *r, unsigned int i)
{
	return r->w[A0_W + (i < 6 ? i : 0)];
}

void hwbp_tregs_set_arg(struct hwbp_tregs *r, unsigned int i, uint64_t v)
{
	r->w[A0_W + (i < 6 ? i : 0)] = v;
}

void hwbp_tregs_perf(const struct hwbp_tregs *r, uint64_t all[40])
{
	memset(all, 0, 40 * sizeof(uint64_t));
#if defined(__aarch64__)
	memcpy(all, r->w, 33 * sizeof(uint64_t));
#else
	memcpy(all, r->w, 32 * sizeof(uint64_t));
	all[32] = r->w[PC_W];
#endif
}

static void set_call(struct hwbp_tregs *r, long nr, const uint64_t *args)
{
#if defined(__aarch64__)
	r->sysno = -1;
#else
	r->w[0] = 0;	/* not in a call: no restart */
	if (!args)
		r->w[NR_W] = (uint64_t)-1;
#endif
	if (!args)
		return;
	r->w[NR_W] = (uint64_t)nr;
	for (unsigned int i = 0; i < 6; i++)
		r->w[A0_W + i] = args[i];
}

static int64_t call_ret(const struct hwbp_tregs *r)
{
	return (int64_t)r->w[A0_W];
}

static void rerun(struct hwbp_tregs *r)
{
	r->w[PC_W] -= CALL_LEN;
#if defined(__loongarch64)
	r->w[A0_W] = r->w[ORIG_A0_W];
#endif
}

static bool unrestorable(const struct hwbp_tregs *r)
{
#if defined(__aarch64__)
	int64_t x0 = (int64_t)r->w[A0_W];

	return r->sysno >= 0 && (x0 == -ERESTARTSYS_ || x0 == -ERESTARTNOINTR_ ||
				 x0 == -ERESTARTNOHAND_ || x0 == -ERESTART_RESTARTBLOCK_);
#else
	(void)r;
	return false;
#endif
}
#endif

#if defined(__x86_64__) || defined(__aarch64__) || defined(__loongarch64)
/* Wait for TID's breakpoint after the call; other stops are let go. */
static int wait_trap(pid_t tid, int *sig)
{
	for (;;) {
		int status;
		pid_t r = hwbp_sys.waitpid(tid, &status, __WALL);

		if (r == -EINTR)
			continue;
		if (r < 0)
			return (int)r;
		if (!WIFSTOPPED(status))
			return -ESRCH;
		if (WSTOPSIG(status) == SIGTRAP && !(status >> 16))
			return 0;
		if ((status >> 16) == 0 && WSTOPSIG(status) != SIGTRAP && !*sig)
			*sig = WSTOPSIG(status);
		if (pt(PTRACE_CONT, tid, 0, NULL))
			return -ESRCH;
	}
}

/* Run TID to its next system call stop (the exit of its call). */
static int to_exit(pid_t tid, int *sig)
{
	return hwbp_inject_to_call(tid, sig);
}

int hwbp_inject_to_call(pid_t tid, int *sig)
{
	int err = (int)pt(PTRACE_SYSCALL, tid, 0, NULL);

	while (!err) {
		int status;
		pid_t w = hwbp_sys.waitpid(tid, &status, __WALL);

		if (w == -EINTR)
			continue;
		if (w < 0 || !WIFSTOPPED(status))
			return -ESRCH;
		if (WSTOPSIG(status) == (SIGTRAP | 0x80))
			return 0;
		if (!(status >> 16) && !*sig)
			*sig = WSTOPSIG(status);
		err = (int)pt(PTRACE_SYSCALL, tid, 0, NULL);
	}
	return err;
}

/* Run TID, set to R, to the exit of its call, skipped. */
static int skip_call(pid_t tid, struct hwbp_tregs *r, int *sig)
{
	int err;

	set_call(r, -1, NULL);
	err = hwbp_tregs_set(tid, r);
	return err ? err : to_exit(tid, sig);
}

/*
 * Is TID stopped at an event inside a system call (exec, fork, clone)?
 * The call's return value is written after such a stop, over whatever
 * the injected call would have left: run it to its exit first.
 */
static bool in_call_event(pid_t tid)
{
	siginfo_t si;
	int ev;

	memset(&si, 0, sizeof(si));
	if (pt(PTRACE_GETSIGINFO, tid, 0, &si) || si.si_signo != SIGTRAP)
		return false;
	ev = si.si_code >> 8;
	return ev == PTRACE_EVENT_EXEC || ev == PTRACE_EVENT_FORK || ev == PTRACE_EVENT_VFORK ||
	       ev == PTRACE_EVENT_CLONE || ev == PTRACE_EVENT_VFORK_DONE;
}

int hwbp_inject_syscall(pid_t tid, bool at_entry, long nr, const uint64_t args[6], int64_t *ret,
			int *sig)
{
	struct hwbp_tregs saved, r;
	uint64_t pc, word[2], orig[2] = { 0, 0 }, base;
	size_t off, nw;
	int err;

#if !defined(__x86_64__)
	memcpy(code, code_w, sizeof(code));
#endif
	*sig = 0;
	if (!at_entry && in_call_event(tid)) {
		err = to_exit(tid, sig);
		if (err)
			return err;
	}
	err = hwbp_tregs_get(tid, &saved);
	if (err)
		return err;
	if (!at_entry && unrestorable(&saved))
		return -EAGAIN;
	r = saved;
	if (at_entry) {
		err = skip_call(tid, &r, sig);
		if (err)
			return err;
		err = hwbp_tregs_get(tid, &r);
		if (err)
			return err;
		rerun(&saved);
	}
	pc = hwbp_tregs_pc(&r);
	base = pc & ~7ull;
	off = (size_t)(pc - base);
	nw = off + sizeof(code) > 8 ? 2 : 1;
	/* (the raw system call stores the word at DATA) */
	for (size_t i = 0; i < nw && !err; i++)
		err = (int)pt(PTRACE_PEEKTEXT, tid, base + 8 * i, &orig[i]);
	if (err)
		goto put_back;
	memcpy(word, orig, sizeof(word));
	memcpy((unsigned char *)word + off, code, sizeof(code));
	for (size_t i = 0; i < nw && !err; i++)
		err = (int)pt(PTRACE_POKETEXT, tid, base + 8 * i, (void *)(uintptr_t)word[i]);
	if (err)
		goto put_code;
	set_call(&r, nr, args);
	err = hwbp_tregs_set(tid, &r);
	if (!err)
		err = (int)pt(PTRACE_CONT, tid, 0, NULL);
	if (!err)
		err = wait_trap(tid, sig);
	if (!err)
		err = hwbp_tregs_get(tid, &r);
	if (!err)
		*ret = call_ret(&r);
put_code:
	for (size_t i = 0; i < nw; i++)
		pt(PTRACE_POKETEXT, tid, base + 8 * i, (void *)(uintptr_t)orig[i]);
put_back:
	if (err != -ESRCH)
		hwbp_tregs_set(tid, &saved);
	return err;
}
#else
#error "inject.c: x86-64, arm64 and LoongArch only"
#endif

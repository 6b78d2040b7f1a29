/* SPDX-License-Identifier: MIT */
/*
 * hwbp.h - hardware breakpoints and watchpoints for Linux programs
 *
 * This is libhwbp's whole public API. It has two parts:
 *
 *   1. The arch layer: pure functions that turn a watch request into debug
 *      register slots and register values for x86-64, arm64 and LoongArch,
 *      decode register values back, and model which slots a given access
 *      fires. They make no system call and work for every architecture on
 *      every host, so a debugger or emulator can use them as they are.
 *
 *   2. Sessions: watch points armed in a real target (this thread, this
 *      process, another process or thread, or every CPU) through the
 *      kernel's perf breakpoint PMU or ptrace, with hits counted, streamed
 *      or delivered as a synchronous callback.
 *
 * Conventions. Every function returning int returns 0 or a negative errno,
 * and each errno means the same everywhere: -ENOSPC no free debug register,
 * -EINVAL bad request, -EOPNOTSUPP the CPU or kernel cannot express it,
 * -EACCES/-EPERM blocked by policy, -ESRCH target gone, -ENOENT no such
 * thing, -EOVERFLOW the caller's struct has no room for the answer. The
 * errno is the only error channel: where a person wants the detail, a
 * function gives it as data (hwbp_session_need(), hwbp_arch_explain()).
 * Out-parameters are left untouched on failure. Optional settings come in
 * opts structs whose first member is "size_t sz"; declare them with
 * HWBP_OPTS() and pass NULL for all defaults. Structs the library fills
 * or reads start with "size_t sz" too, and the library stays inside the
 * caller's sz.
 *
 * Thread-safety: the arch functions are pure and may be called from any
 * thread. A session and its points must be used by one thread at a time.
 */
#ifndef HWBP_HWBP_H
#define HWBP_HWBP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * 0.x may break the ABI where it must; its soname then changes with the
 * minor (libhwbp.so.0.3). 0.3 renamed hwbp_watch() and struct
 * hwbp_watch_opts to hwbp_point_add() and struct hwbp_point_opts, so that
 * what creates a point pairs with hwbp_point_remove(). 0.5 gave struct
 * hwbp_plan and struct hwbp_regs a leading sz and their array last (a
 * newer library with larger arrays writes only what the caller has room
 * for), took the explanation out of hwbp_arch_decode() into
 * hwbp_arch_explain(), and renamed hwbp_backend_status.why to @reason, as
 * in struct hwbp_debug_check.
 */
#define HWBP_VERSION_MAJOR 0
#define HWBP_VERSION_MINOR 5
#define HWBP_VERSION_PATCH 0

/*
 * hwbp_version() - the library's version string, "MAJOR.MINOR.PATCH"
 *
 * Return: a static string; never NULL.
 */
const char *hwbp_version(void);

/*
 * HWBP_OPTS() - declare an opts struct NAME of type struct TYPE, zeroed,
 * with sz set and the given designated initialisers applied.
 */
#define HWBP_OPTS(TYPE, NAME, ...) \
	struct TYPE NAME = { .sz = sizeof(struct TYPE), __VA_ARGS__ }

/* What a slot or point traps on. Values are perf's HW_BREAKPOINT_* bits. */
enum hwbp_access {
	HWBP_READ = 1,
	HWBP_WRITE = 2,
	HWBP_RW = 3,
	HWBP_EXEC = 4,
};

/*
 * hwbp_access_name() - "r", "w", "rw" or "x"; NULL for any other value.
 */
const char *hwbp_access_name(enum hwbp_access access);

/* ------------------------------------------------------------------------
 * Arch layer
 * ------------------------------------------------------------------------ */

enum hwbp_arch {
	HWBP_ARCH_NONE = 0,
	HWBP_ARCH_X86_64,
	HWBP_ARCH_ARM64,
	HWBP_ARCH_LOONGARCH64,
};

/*
 * hwbp_arch_name() - "x86_64", "arm64" or "loongarch64"; NULL if unknown.
 */
const char *hwbp_arch_name(enum hwbp_arch arch);

/*
 * hwbp_arch_from_name() - parse an architecture name
 * @name: "x86_64" (also "x86-64", "amd64"), "arm64" (also "aarch64"),
 *        "loongarch64" (also "loong64")
 *
 * Return: the architecture, or HWBP_ARCH_NONE if NAME is not one of them.
 */
enum hwbp_arch hwbp_arch_from_name(const char *name);

/*
 * hwbp_arch_host() - the architecture this library was built for, or
 * HWBP_ARCH_NONE on a host that has no backend.
 */
enum hwbp_arch hwbp_arch_host(void);

/* The kind of debug register a slot occupies. */
enum hwbp_slot_type {
	HWBP_SLOT_WATCH = 1,	/* data watchpoint */
	HWBP_SLOT_BREAK = 2,	/* instruction breakpoint */
};

/* Most slots of one type any supported CPU has (arm64: 16; LoongArch: 14). */
#define HWBP_SLOTS_MAX 16

/*
 * One debug register slot.
 * @type:   watchpoint or breakpoint register
 * @index:  hardware slot number within its pool (x86: 0..3 shared by both
 *          types; arm64: 0..15 per type; LoongArch: 0..13 per type)
 * @addr:   first byte the slot matches
 * @len:    bytes the slot matches (for a breakpoint: the instruction
 *          granule, 1 on x86-64, 4 on arm64 and LoongArch)
 * @access: what the slot is armed for; may be wider than requested (x86
 *          has no read-only watchpoint, so a read request gets HWBP_RW)
 */
struct hwbp_slot {
	enum hwbp_slot_type type;
	unsigned int index;
	uint64_t addr;
	uint32_t len;
	enum hwbp_access access;
};

/*
 * Free hardware slots, one bit per slot index. On x86-64 watchpoints and
 * breakpoints share one pool: only @watch is read and @brk is ignored.
 */
struct hwbp_pool {
	uint32_t watch;
	uint32_t brk;
};

/*
 * hwbp_arch_pool() - the full pool of a CPU with the architecture's usual
 * slot counts: x86-64 4 shared; arm64 4 watch + 6 break (the common
 * Cortex-A count; ask the kernel for the real one); LoongArch 8 + 8 (the
 * original count; 14 + 14 on newer CPUs).
 */
struct hwbp_pool hwbp_arch_pool(enum hwbp_arch arch);

/* hwbp_arch_plan() flags */
#define HWBP_PLAN_WIDER_ACCESS	0x1u	/* slots trap more access kinds than asked */
#define HWBP_PLAN_WIDER_RANGE	0x2u	/* slots cover bytes outside the request */

/*
 * The slots one request needs. Declare it with HWBP_OPTS(hwbp_plan, name):
 * @sz says how much room the caller has, and the library writes only into
 * that room (the slots array is last, so a caller built against fewer
 * HWBP_SLOTS_MAX gets the plans that fit and -EOVERFLOW for those that do
 * not).
 * @sz:               set by the caller to sizeof(struct hwbp_plan)
 * @addr, @len:       the range the slots really watch together (equal to
 *                    the request unless HWBP_PLAN_WIDER_RANGE)
 * @access:           what the slots are armed for (HWBP_RW for a read
 *                    request on x86-64, with HWBP_PLAN_WIDER_ACCESS: the
 *                    caller tells reads from writes after the trap)
 * @flags:            HWBP_PLAN_* bits
 * @need_watch, @need_break: slots of each type needed (also filled when
 *                    the plan is refused with -ENOSPC or -EOVERFLOW;
 *                    UINT_MAX stands for any larger count)
 * @free_watch, @free_break: slots of each type that were free (x86-64:
 *                    both give the shared pool)
 * @nslots, @slots:   the slots, lowest address first
 */
struct hwbp_plan {
	size_t sz;
	uint64_t addr;
	uint64_t len;
	enum hwbp_access access;
	unsigned int flags;
	unsigned int need_watch, need_break;
	unsigned int free_watch, free_break;
	unsigned int nslots;
	struct hwbp_slot slots[2 * HWBP_SLOTS_MAX];
};

/*
 * hwbp_arch_plan() - split a request into the fewest slots ARCH allows
 * @arch:   target architecture (any, on any host)
 * @addr:   first byte, any alignment
 * @len:    bytes to watch, 1 or more; for HWBP_EXEC, the range in which
 *          every instruction start is to trap
 * @access: HWBP_READ, HWBP_WRITE, HWBP_RW or HWBP_EXEC
 * @pool:   free slots to take from, lowest index first; NULL means the
 *          whole of hwbp_arch_pool(ARCH)
 * @out:    the plan; out->sz set by the caller (HWBP_OPTS() does)
 *
 * x86-64, 0x1003 length 6: 3 slots, 1 byte @0x1003, 4 @0x1004, 1 @0x1008.
 * arm64, 0x1006 length 4: 2 slots, 0x1006-0x1007 and 0x1008-0x1009 (any
 * contiguous bytes inside one aligned 8-byte word fit one slot).
 *
 * Return: 0; -EINVAL for len 0, an access outside the enum, a range that
 * wraps past the top of the address space, or an HWBP_EXEC address at
 * which no instruction can start (arm64, LoongArch: not a multiple of 4);
 * -ENOSPC when the request
 * needs more slots than POOL has free (OUT is then filled with the
 * need_* and free_* counts and nothing else); -EOVERFLOW when it needs
 * more slots than out->sz has room for (filled the same way);
 * -EOPNOTSUPP for an unknown ARCH. -EINVAL also for a NULL OUT or an
 * out->sz that does not reach @slots.
 */
int hwbp_arch_plan(enum hwbp_arch arch, uint64_t addr, uint64_t len,
		   enum hwbp_access access, const struct hwbp_pool *pool,
		   struct hwbp_plan *out);

/* Registers of every architecture, by position in struct hwbp_regs.val. */
#define HWBP_REGS_MAX 96

/*
 * A set of debug register values of one architecture, as the kernel's
 * ptrace ABI takes them. Declare it with HWBP_OPTS(hwbp_regs, name,
 * .arch = ARCH), or empty one with hwbp_regs_init().
 * @sz:   set by the caller to sizeof(struct hwbp_regs); every function
 *        taking REGS returns -EINVAL unless it has room for all of
 *        @arch's registers (the array is last, so a newer library with
 *        more registers still serves an older caller's architectures)
 * @arch: whose registers these are
 * @set:  bit i of set[i / 64] is 1 when val[i] holds a value
 * @val:  register values; the position of each name is given by
 *        hwbp_regs_lookup()
 *
 * Names (as in the manuals and ARCH.md):
 *   x86_64:      dr0..dr3, dr6, dr7 (dr7 with L-bits, as a tracer writes it)
 *   arm64:       wvrN, wcrN, bvrN, bcrN, N = 0..15 (ctrl in the layout of
 *                struct user_hwdebug_state: E, PAC/PMC, LSC, BAS)
 *   loongarch64: dbNaddr, dbNmask, dbNctrl, ibNaddr, ibNmask, ibNctrl,
 *                N = 0..13 (as in struct user_watch_state_v2)
 */
struct hwbp_regs {
	size_t sz;
	enum hwbp_arch arch;
	uint64_t set[4];
	uint64_t val[HWBP_REGS_MAX];
};

/*
 * hwbp_regs_init() - empty register set for ARCH (no register set)
 * @sz: sizeof(*REGS) as the caller knows it: the bytes cleared, kept in
 *      regs->sz
 *
 * Return: 0; -EINVAL for a NULL REGS, an unknown ARCH or an SZ without
 * room for ARCH's registers (REGS untouched).
 */
int hwbp_regs_init(struct hwbp_regs *regs, size_t sz, enum hwbp_arch arch);

/*
 * hwbp_regs_lookup() - position of register NAME (case-insensitive) in
 * REGS->val for ARCH
 *
 * Return: 0 and *POS; -ENOENT for a name ARCH does not have.
 */
int hwbp_regs_lookup(enum hwbp_arch arch, const char *name, unsigned int *pos);

/*
 * hwbp_regs_name() - the name of position POS for ARCH, or NULL if POS
 * names no register. The string is static.
 */
const char *hwbp_regs_name(enum hwbp_arch arch, unsigned int pos);

/*
 * hwbp_regs_set() / hwbp_regs_get() - set or read one register by name
 *
 * Return: 0; -ENOENT for an unknown name; -ENODATA (get) when it holds no
 * value; -EINVAL for REGS that are NULL or too small (see @sz above).
 */
int hwbp_regs_set(struct hwbp_regs *regs, const char *name, uint64_t value);
int hwbp_regs_get(const struct hwbp_regs *regs, const char *name, uint64_t *value);

/*
 * hwbp_arch_encode() - the register values that arm SLOTS
 * @regs:   register set of the slots' architecture; each slot's registers
 *          are written (x86: drN, and its fields of dr7, which is kept)
 * @slots:  slots from hwbp_arch_plan() (or built by hand)
 * @n:      number of slots
 *
 * x86-64, slot 0, W, len 1 at A: dr0 = A, dr7 = 0x00010001.
 * arm64, W len 4 at 0x1000: wvr0 = 0x1000, wcr0 = 0x1f5.
 * LoongArch, W len 4: dbNctrl = 0x610.
 *
 * Return: 0; -EINVAL for a slot the architecture cannot hold (bad index,
 * length, alignment or access); REGS is then unchanged.
 */
int hwbp_arch_encode(struct hwbp_regs *regs, const struct hwbp_slot *slots,
		     unsigned int n);

/*
 * hwbp_arch_decode() - the slots that register values arm
 * @regs:   register values; registers not set count as 0
 * @out:    room for MAX slots; enabled slots only, in slot order
 *          (breakpoints after watchpoints on split-pool arches)
 * @n:      number of slots written
 *
 * A slot is enabled by x86 Ln or Gn, arm64 E, LoongArch any PLV bit. A
 * slot's @addr/@len is the range it watches: arm64 WVR plus the BAS offset
 * (or the 2^MASK block), LoongArch addr (or, with a nonzero mask, the
 * block the mask leaves, address bits under it ignored).
 *
 * Return: 0; -EINVAL for a reserved or invalid encoding (x86 R/W=10 I/O,
 * exec with LEN != 0, a data address misaligned for its length; arm64
 * BAS not contiguous, LSC 0 on an enabled watchpoint, MASK 1 or 2, MASK 3+
 * with BAS != 0xff, breakpoint BAS other than 0xf, WVR/BVR RES0 bits,
 * linked or context slots; LoongArch a DB ctrl with neither LoadEn nor
 * StoreEn, DMOnly, LCL or virtualization bits, reserved bits, a DB address
 * misaligned for its Size or an IB address not 4-aligned when mask is 0, a
 * mask that is not a run of low bits, is below a doubleword (DB) or word
 * (IB), or spans more than 2 GiB, a DB mask with Size != 8 bytes): then
 * hwbp_arch_explain() says which register and what; -ENOSPC if more than
 * MAX slots are enabled.
 */
int hwbp_arch_decode(const struct hwbp_regs *regs, struct hwbp_slot *out,
		     unsigned int max, unsigned int *n);

/*
 * hwbp_arch_explain() - what hwbp_arch_decode() refuses in REGS, as one
 * line naming the register, e.g. "dr7: slot 1 has R/W=10 (I/O
 * breakpoint)" or "wcr2: MASK=1 is reserved"
 * @buf, @len: where the line goes, NUL-terminated and cut to fit as by
 *             snprintf(); BUF may be NULL when LEN is 0
 *
 * Return: the length of the whole line (as snprintf() counts it), or 0
 * when hwbp_arch_decode() accepts REGS (BUF is then "").
 */
size_t hwbp_arch_explain(const struct hwbp_regs *regs, char *buf, size_t len);

/* hwbp_arch_hits() flags */
#define HWBP_HIT_LA_LITERAL 0x1u /* LoongArch: compare all address bits when
				  * Mask = 0 (the manual read literally);
				  * default is doubleword-granular compare */

/*
 * Which slots one access fires.
 * @watch: bit i set if watchpoint slot i fires
 * @brk:   bit i set if breakpoint slot i fires (x86: the shared index)
 */
struct hwbp_hitset {
	uint32_t watch;
	uint32_t brk;
};

/*
 * hwbp_arch_hits() - model the CPU: which armed slots an access fires
 *
 * The access is made by user code (CPL 3, EL0, PLV3): an arm64 slot whose
 * PAC/PMC leaves out EL0, or a LoongArch slot without PLV3, does not fire.
 * LoongArch accesses that are not naturally aligned 1, 2, 4 or 8 bytes are
 * modelled as the bytes they touch, split at doubleword boundaries.
 *
 * @regs:   armed register values (as hwbp_arch_encode() writes them)
 * @addr:   first byte accessed (for HWBP_EXEC: the instruction's address)
 * @size:   bytes accessed (1..16; ignored for HWBP_EXEC)
 * @kind:   HWBP_READ, HWBP_WRITE, HWBP_RW (read-modify-write) or HWBP_EXEC
 * @flags:  HWBP_HIT_* bits
 * @out:    the slots that fire
 *
 * Return: 0; -EINVAL for bad input or register values hwbp_arch_decode()
 * rejects.
 */
int hwbp_arch_hits(const struct hwbp_regs *regs, uint64_t addr, unsigned int size,
		   enum hwbp_access kind, unsigned int flags, struct hwbp_hitset *out);

/* ------------------------------------------------------------------------
 * Sessions
 * ------------------------------------------------------------------------ */

/*
 * A session is a set of watch points armed in one target through one
 * backend, with one way of delivering hits. Typical use:
 *
 *	HWBP_OPTS(hwbp_session_opts, so, .target = HWBP_TARGET_SELF);
 *	struct hwbp_session *s;
 *	struct hwbp_point *pt;
 *	uint64_t hits;
 *
 *	if (hwbp_session_open(&so, &s) == 0 &&
 *	    hwbp_point_add(s, (uintptr_t)&counter, sizeof(counter), HWBP_WRITE, NULL, &pt) == 0 &&
 *	    hwbp_session_apply(s) == 0) {
 *		run_workload();
 *		hwbp_point_count(pt, &hits);
 *	}
 *	hwbp_session_close(s);
 *
 * Changes are planned, then applied: hwbp_point_add() and hwbp_point_modify()
 * only record a request; hwbp_session_apply() arms all pending requests or
 * none of them. hwbp_point_enable(), hwbp_point_disable() and
 * hwbp_point_remove() act at once.
 *
 * Slots are shared: two requests (or two pieces of split requests) for the
 * same address, length and access use one debug register, which stays
 * armed while any point uses it.
 *
 * Closing the session (or the process exiting) removes every watch point:
 * nothing the library arms outlives the file descriptors it holds.
 */

struct hwbp_session;
struct hwbp_point;

/* Whose accesses a session watches. */
enum hwbp_target {
	HWBP_TARGET_SELF = 0,	/* the calling process: every thread it has and
				 * every thread it creates later (default) */
	HWBP_TARGET_THREAD,	/* the calling thread only */
	HWBP_TARGET_PID,	/* process PID: all its threads, existing and new;
				 * its forked children too with follow_fork */
	HWBP_TARGET_TID,	/* thread PID (a tid) only */
	HWBP_TARGET_SYSTEM,	/* every task on every CPU; the only target where
				 * kernel addresses are allowed; needs the
				 * privilege the kernel demands for CPU-wide perf
				 * events (CAP_PERFMON or CAP_SYS_ADMIN) */
};

/* How hits reach the caller. */
enum hwbp_delivery {
	HWBP_DELIVER_COUNT = 0,	/* exact counts only (default), read with
				 * hwbp_point_count() */
	HWBP_DELIVER_STREAM,	/* one struct hwbp_hit per hit through
				 * hwbp_session_poll(), from kernel ring buffers;
				 * counts stay exact as well */
	HWBP_DELIVER_SIGNAL,	/* a synchronous callback on the accessing
				 * thread (SELF and THREAD targets only); counts
				 * stay exact as well */
};

/* Which kernel interface arms the registers. */
enum hwbp_backend_kind {
	HWBP_BACKEND_AUTO = 0,	/* perf. The library does not fall back to
				 * ptrace by itself: stop mode asks more of
				 * the caller (see below); the hwbp command
				 * falls back when perf gives -EACCES/-EPERM */
	HWBP_BACKEND_PERF,	/* perf_event_open(2) on the breakpoint PMU */
	HWBP_BACKEND_PTRACE,	/* stop mode through ptrace(2), see below */
	HWBP_BACKEND_GUARD,	/* page protection under ptrace(2), no debug
				 * register at all (libhwbp 0.4), see below */
};

/*
 * The ptrace backend (stop mode). For users whom perf shuts out
 * (perf_event_paranoid 3 or 4) and for exact values: the library traces
 * every thread of the target and each hit stops the accessing thread, so
 * every struct hwbp_hit of a data piece carries the bytes before and after
 * the access (@old, @value). Rules:
 *   - targets HWBP_TARGET_PID (all threads, new threads, and forked
 *     children with follow_fork) and HWBP_TARGET_TID; not SELF, THREAD or
 *     SYSTEM (-EINVAL); delivery COUNT or STREAM, not SIGNAL (-EINVAL),
 *     and no kernel watching (-EOPNOTSUPP);
 *   - a watched access the target makes inside its own SIGTRAP handler
 *     (where SIGTRAP is blocked, unless SA_NODEFER) makes the kernel reset
 *     that handler to the default, as for any blocked synchronous trap:
 *     the target's next SIGTRAP then kills it;
 *   - the session traces the target: open, apply, poll and close it from
 *     one thread, the same one (ptrace(2) ties a tracee to a thread);
 *   - a thread that hits stays stopped until the caller's next
 *     hwbp_session_poll(), so poll all the time the target runs; counts
 *     (hwbp_point_count(), hwbp_point_threads()) are as of the last poll;
 *   - the library reaps the target: its end comes as HWBP_NOTIFY_EXIT with
 *     the wait status; do not waitpid() it while the session is open;
 *   - hwbp_session_poll() blocks SIGCHLD in the calling thread while it
 *     waits, and waits with sigtimedwait(); children the library does not
 *     trace are never reaped by it;
 *   - a process the caller already holds PTRACE_SEIZEd and stopped (a
 *     command from hwbp_launch() at its exec stop, or a debugger's own
 *     tracee with every thread in a ptrace-stop) is taken over, and stays
 *     stopped until the first hwbp_session_poll(); otherwise every thread
 *     is seized (-EBUSY if another tracer, such as a debugger, holds it);
 *   - at exec, HWBP_NOTIFY_EXEC is delivered and the thread is held until
 *     the next hwbp_session_poll(), so that points can be moved into the
 *     new image first; the slots are then armed again as they stand;
 *   - signals for the target pass through unchanged (its own SIGTRAPs
 *     too), group-stops stay stopped (PTRACE_LISTEN);
 *   - hwbp_session_close() clears every register the library set, in
 *     every thread, and detaches. If the caller is killed with SIGKILL it
 *     cannot: the kernel detaches the threads with their registers still
 *     set, and the next watched access kills the target with SIGTRAP. The
 *     perf backend has no such risk (its watchpoints die with their
 *     descriptors).
 * hwbp_session_fd() gives -EINVAL (there is no descriptor to wait on);
 * hwbp_session_lost() is always 0 (a stopped thread loses nothing).
 */

/*
 * The guard backend (libhwbp 0.4): software watchpoints by page
 * protection, for machines that do not deliver debug exceptions and for
 * requests no debug register can hold (any length, any number of points).
 * It traces the target as the ptrace backend does, and every rule above
 * holds, except that nothing is written to a debug register:
 *   - the watched pages are protected in the target (PROT_READ for
 *     HWBP_WRITE, PROT_NONE for HWBP_READ and HWBP_RW); an execute
 *     point is a software breakpoint instruction (int3, BRK #0, BREAK 0)
 *     planted at its address and stepped over with every other thread of
 *     the process held (two within 8 bytes of each other: -EBUSY). A point
 *     is one slot of its whole length: any length, any alignment, any
 *     number of points, sharing pages or not;
 *   - a fault inside a point is a hit, taken before the access: @ip is the
 *     accessing instruction itself (on every arch), @old is read before and
 *     @value after the access; @addr/@len are the bytes of the point the
 *     access touched (not the whole point) and @access what it did to them.
 *     A fault on a guarded page outside every point is stepped over
 *     unreported and counted (struct hwbp_guard_stats);
 *   - the access is completed without opening the page when the caller's
 *     decoder (hwbp_session_opts.decode) says it is a plain store; else the
 *     page is opened for one single step with every other thread of the
 *     process stopped, so no thread gets through unseen;
 *   - system calls are stopped at while a point is armed (two stops per
 *     call: a program that makes many pays for it). The buffers of read,
 *     pread64, recvfrom, write, pwrite64 and sendto (recv and send in
 *     glibc) pass through a bounce area the library maps in the target
 *     (256 KiB: a longer call moves less, as a short read or write may),
 *     so the call behaves as without hwbp (never EFAULT),
 *     and a kernel access to a point is a hit with @kernel set, @syscall
 *     naming the call and @ip the instruction after it. Another call
 *     with an argument that points into a guarded page (fstat(2) into a
 *     watched struct, say) runs with that page open: it does not fail,
 *     and its access is not reported (nor are other threads' accesses to
 *     that page while it runs). A call that reaches guarded memory only
 *     through a pointer in memory (readv's iovecs) may still fail with
 *     EFAULT;
 *   - memory the kernel writes on its own is refused (-EINVAL with the
 *     reason logged): the stack of any thread (signal frames), each
 *     thread's control block (clear_child_tid) and rseq area, shared
 *     mappings, [vdso], [vvar] and [vsyscall]; a signal stack the target
 *     gives later (sigaltstack(2)) ends the watch of the points on its
 *     pages, with a warning logged;
 *   - the target's own SIGSEGV handlers get its own faults; its own
 *     mprotect(2) of a guarded page gives it the protection it asked for,
 *     and the points there are guarded again on top of it;
 *   - children forked without follow_fork get their protections back
 *     before they run on (a vfork child shares its parent's memory and is
 *     let go as it is, unfollowed); exec gives the new image unguarded
 *     pages (points are armed in it again as they stand, after
 *     HWBP_NOTIFY_EXEC); pages the target unmaps stop being guarded;
 *   - hwbp_session_close() restores every protection and unmaps the bounce
 *     area. If the caller is killed with SIGKILL, the pages stay protected
 *     and the target's next watched access kills it with SIGSEGV.
 */

/*
 * Launching a command for a session, as a debugger's "run" does (libhwbp
 * 0.3, version node HWBP_0.3). The calling thread becomes the command's
 * parent and tracer, and holds it stopped right after its exec, before any
 * instruction of the program or of its dynamic linker ran: there the
 * caller reads where it was loaded and arms points. Then either a ptrace
 * session takes it over (see above), or the caller lets it go with
 * hwbp_launch_release() (perf sessions need no tracer), first following
 * its libraries if a point waits for one. Call them from one thread.
 */

/*
 * hwbp_launch() - fork and exec ARGV (PATH searched), PTRACE_SEIZEd with
 * PTRACE_O_TRACEEXEC, held at its exec stop. SIGINT, SIGTERM, SIGHUP and
 * SIGPIPE are reset to their defaults in the command.
 *
 * Return: 0 and *PID; -ENOENT when the command is not found, the exec's
 * errno (-EACCES, -ENOEXEC, ...) when it cannot be run, -EINVAL for an
 * empty ARGV, another negative errno from fork or ptrace.
 */
int hwbp_launch(char *const argv[], pid_t *pid);

/* hwbp_launch_release() - let a held command run on, untraced. */
int hwbp_launch_release(pid_t pid);

/* hwbp_launch_entry() - a process's entry point (AT_ENTRY), into *ENTRY. */
int hwbp_launch_entry(pid_t pid, uint64_t *entry);

/*
 * hwbp_launch_run_to_libs() - run a held command on until the dynamic
 * linker calls DL_DEBUG_STATE (it has just mapped libraries, before their
 * constructors) or the program reaches ENTRY (every library it links is
 * mapped), passing its own signals on; it is held there again.
 *
 * Return: 0 at DL_DEBUG_STATE, 1 at ENTRY, -ESRCH if it ended on the way,
 * -EOPNOTSUPP on an arch without a software breakpoint here, another
 * negative errno from ptrace.
 */
int hwbp_launch_run_to_libs(pid_t pid, uint64_t dl_debug_state, uint64_t entry);

/*
 * Following a held command's dlopen() calls while it runs: a software
 * breakpoint on the dynamic linker's DL_DEBUG_STATE, which it calls once a
 * library is mapped and before its constructors run. The caller stays the
 * tracer of every thread meanwhile; their signals are passed on and
 * group-stops kept stopped.
 */
struct hwbp_dl;

/* hwbp_dl_poll() results */
enum hwbp_dl_event {
	HWBP_DL_NONE,		/* nothing waiting */
	HWBP_DL_MAPPED,		/* a thread is held on the trap: arm, then hwbp_dl_resume() */
	HWBP_DL_EXITED,		/* the process ended (*status: its wait status) */
	HWBP_DL_EXEC,		/* it called exec: the trap is gone, hwbp_dl_close() */
};

/*
 * hwbp_dl_follow() - plant the trap in the held command PID and let it run.
 * Return: 0 and *OUT; -EOPNOTSUPP on an arch without a software
 * breakpoint here, -EINVAL, -ENOMEM, or a negative errno from ptrace.
 */
int hwbp_dl_follow(pid_t pid, uint64_t dl_debug_state, struct hwbp_dl **out);

/* hwbp_dl_poll() - take the ptrace events waiting, without blocking. */
enum hwbp_dl_event hwbp_dl_poll(struct hwbp_dl *d, int *status);

/* hwbp_dl_resume() - run the thread held on the trap over it and on. */
void hwbp_dl_resume(struct hwbp_dl *d);

/* hwbp_dl_close() - remove the trap, detach every thread, free D (NULL: no-op). */
void hwbp_dl_close(struct hwbp_dl *d);

/*
 * hwbp_process_tracer() - the pid that traces process PID (a debugger):
 * 0 when none, -1 when it cannot be read.
 */
pid_t hwbp_process_tracer(pid_t pid);

/* struct hwbp_session_opts.sample bits (stream mode) */
#define HWBP_SAMPLE_REGS	0x1u	/* user registers, sample_regs_user */
#define HWBP_SAMPLE_CALLCHAIN	0x2u	/* user call chain (instruction pointers) */
#define HWBP_SAMPLE_STACK	0x4u	/* a copy of the user stack, sample_stack_user bytes */

/*
 * One hit, as hwbp_session_poll() and the signal callback see it. Pointers
 * inside are valid only during the callback.
 * @point:   the point hit (a hit on a shared slot is reported once for each
 *           enabled point that uses the slot)
 * @piece:   which slot of the point fired: index into the point's
 *           struct hwbp_plan slots (hwbp_point_plan())
 * @addr, @len: the piece that fired (the kernel reports the watched piece,
 *           never the byte accessed: ARCH.md 5.2)
 * @access:  what the piece is armed for
 * @pid, @tid: the accessing process and thread
 * @cpu:     CPU the access ran on; -1 in signal mode
 * @time_ns: CLOCK_MONOTONIC time of the hit; 0 in signal mode
 * @ip:      the trapping instruction pointer as the kernel reports it: on
 *           x86 a data watchpoint traps after the access, so this is the
 *           instruction after the accessing one; an x86 execute breakpoint
 *           and arm64/LoongArch report the instruction itself
 * @regs_abi, @regs_mask, @nr_regs, @regs: with HWBP_SAMPLE_REGS, the
 *           kernel's PERF_SAMPLE_REGS_ABI_* value (0: no registers, e.g. a
 *           kernel thread), the sample_regs_user mask, and one value per bit
 *           of the mask, lowest bit first
 * @nr_ips, @ips: with HWBP_SAMPLE_CALLCHAIN, the user call chain, innermost
 *           first (the kernel's context markers are removed)
 * @stack_size, @stack, @sp: with HWBP_SAMPLE_STACK, the bytes copied from
 *           the user stack pointer @sp upwards (@sp is the stack pointer
 *           register when HWBP_SAMPLE_REGS asked for it, else 0)
 * @ucontext: signal mode only: the ucontext_t * of the SIGTRAP handler
 * @nvalue, @old, @value: ptrace backend (stop mode), data pieces: the
 *           piece's bytes before and after the access, as little-endian
 *           integers of @nvalue bytes (@nvalue == @len; for a read, @old ==
 *           @value). @nvalue is 0 when they are not known (perf backend,
 *           execute breakpoints, memory that could not be read). @old is
 *           exact when every change to the piece is a watched user-mode
 *           write; the kernel writing into it (read(2) into a watched
 *           buffer) is not seen, so @old is then the value at the last hit
 *           (the guard backend sees it: see @kernel)
 * @kernel:  guard backend: the kernel made the access, inside the system
 *           call @syscall of the target ("read", "recvfrom", ...); @ip is
 *           then the instruction after the call (libhwbp 0.4)
 */
struct hwbp_hit {
	struct hwbp_point *point;
	unsigned int piece;
	uint64_t addr;
	uint64_t len;
	enum hwbp_access access;
	int32_t pid;
	int32_t tid;
	int cpu;
	uint64_t time_ns;
	uint64_t ip;
	uint64_t regs_abi;
	uint64_t regs_mask;
	unsigned int nr_regs;
	const uint64_t *regs;
	unsigned int nr_ips;
	const uint64_t *ips;
	uint64_t stack_size;
	const void *stack;
	uint64_t sp;
	void *ucontext;
	unsigned int nvalue;
	uint64_t old;
	uint64_t value;
	/* libhwbp 0.4 */
	bool kernel;
	const char *syscall;
};

/*
 * hwbp_hit_fn - stream mode callback, called once per hit by
 * hwbp_session_poll(). Return 0 to go on, anything else to stop: the hits
 * not yet delivered stay queued for the next hwbp_session_poll().
 */
typedef int (*hwbp_hit_fn)(const struct hwbp_hit *hit, void *arg);

/*
 * hwbp_signal_fn - signal mode callback. It runs inside a signal handler
 * on the thread that made the access, right after the access, once per
 * access. x86 traps after the access. arm64 traps before it: the library
 * lets the kernel step over the access and calls back from a one-shot
 * breakpoint on the next instruction, so there too the memory already
 * holds a stored value and @ucontext is that of the next instruction
 * (@ip stays the accessing one). For that, an arm64 signal mode session
 * takes one real-time signal that has no handler (the highest free one,
 * SIGRTMAX down) until it closes; execute points are refused there
 * (-EOPNOTSUPP: what runs after a branch is not known). LoongArch refuses
 * signal mode (-EOPNOTSUPP) until it can be tested. Rules:
 *   - only async-signal-safe functions (signal-safety(7)): no malloc(),
 *     no printf(), no locks that the interrupted code may hold;
 *   - do not call any hwbp_* function except hwbp_point_label() and
 *     hwbp_point_user();
 *   - keep it short: the accessing thread waits;
 *   - errno is saved and restored around it by the library;
 *   - an access made by the callback itself to a watched byte is not
 *     reported in time (SIGTRAP is blocked while it runs, and the kernel
 *     then queues the trap: it arrives late, so do not do that).
 * The library installs its own SIGTRAP handler while a signal mode session
 * is open and passes other SIGTRAPs (breakpoints of a debugger, raise())
 * on to the handler that was there before.
 */
typedef void (*hwbp_signal_fn)(const struct hwbp_hit *hit, void *arg);

/* What a notification reports. */
enum hwbp_notify_type {
	HWBP_NOTIFY_EXEC = 1,	/* the target called execve(): the addresses
				 * of its old image mean nothing now; the
				 * points stay armed at the same numbers, so
				 * remove or move them (hwbp_point_modify()) */
	HWBP_NOTIFY_EXIT,	/* a thread of the target exited; pid == tid
				 * is the main thread, i.e. the process */
};

/*
 * A notification from the kernel's side-band records (PERF_RECORD_COMM
 * with PERF_RECORD_MISC_COMM_EXEC, PERF_RECORD_EXIT).
 * @comm: the new command name (EXEC), else NULL; valid during the callback
 * @status: EXIT of a process (pid == tid) seen by the ptrace backend: its
 *         wait status as waitpid(2) gives it (the tracer reaps it, so this
 *         is the only place the caller learns it); -1 otherwise
 */
struct hwbp_notify {
	enum hwbp_notify_type type;
	int32_t pid;
	int32_t tid;
	uint64_t time_ns;
	const char *comm;
	int status;
};

/* hwbp_notify_fn - called by hwbp_session_poll() for each notification. */
typedef void (*hwbp_notify_fn)(const struct hwbp_notify *n, void *arg);

/*
 * What the instruction at a guard fault does to memory, as the caller's
 * decoder (hwbp_session_opts.decode) says (libhwbp 0.4).
 * @sz:     set by the library to the size it knows; a decoder writes only
 *          the fields @sz covers
 * @len:    bytes of the instruction
 * @access: what it does to the memory operand that touches the fault
 *          address: HWBP_READ, HWBP_WRITE or HWBP_RW (read-modify-write)
 * @addr, @size: that operand's first byte and size in bytes
 * @store:  the instruction is a plain store of the @size (1 to 8) bytes of
 *          @value (little-endian) at @addr and does nothing else: no flag,
 *          register or other memory changes, so the library may complete
 *          it itself and go on at the next instruction
 */
struct hwbp_insn {
	size_t sz;
	unsigned int len;
	enum hwbp_access access;
	uint64_t addr;
	unsigned int size;
	bool store;
	uint64_t value;
};

/*
 * hwbp_decode_fn - decode the instruction at IP (its bytes in CODE, LEN of
 * them, maybe more than one instruction) that faulted at FAULT_ADDR, with
 * the thread's registers REGS (NR_REGS of them, in perf's numbering as in
 * struct hwbp_hit: every general-purpose register of the host, the stack
 * and instruction pointers included). Return 0 with OUT filled, or a
 * negative errno when it cannot say (the access is then single-stepped).
 */
typedef int (*hwbp_decode_fn)(const void *code, size_t len, uint64_t ip, const uint64_t *regs,
			      unsigned int nr_regs, uint64_t fault_addr, struct hwbp_insn *out,
			      void *arg);

/*
 * Session options; declare with HWBP_OPTS(hwbp_session_opts, name, ...).
 * @target:      whose accesses (default HWBP_TARGET_SELF)
 * @pid:         the process (HWBP_TARGET_PID) or thread (HWBP_TARGET_TID)
 * @delivery:    count (default), stream or signal
 * @backend:     HWBP_BACKEND_AUTO (default)
 * @follow_fork: PID and SELF targets: children forked after apply are
 *               watched too (their hits count in the points' totals, and
 *               stream records carry their pid); default off
 * @kernel:      also report accesses made in kernel mode (e.g. read(2)
 *               writing into a watched buffer); needs CAP_PERFMON at
 *               perf_event_paranoid 2. Required for kernel addresses.
 * @per_thread:  keep counts per thread for hwbp_point_threads() (not with
 *               the SYSTEM target; not with signal mode on SELF:
 *               -EOPNOTSUPP)
 * @sample:      stream mode: HWBP_SAMPLE_* bits
 * @sample_regs_user: HWBP_SAMPLE_REGS: the kernel's register mask (bit N
 *               is register N of asm/perf_regs.h); 0 means all general
 *               purpose registers of the host
 * @sample_stack_user: HWBP_SAMPLE_STACK: bytes of stack to copy, a
 *               multiple of 8 below 65528; 0 means 8192
 * @buffer_pages: stream mode: ring buffer size per CPU (or per thread for
 *               THREAD and TID targets) in pages, a power of two; 0 means
 *               64 (256 KiB with 4 KiB pages). The reader is woken when a
 *               buffer is half full, not on every record.
 * @signal_fn, @signal_arg: signal mode callback and its argument (required
 *               in signal mode)
 * @notify_fn, @notify_arg: exec and exit notifications, delivered by
 *               hwbp_session_poll() (stream mode, and count mode with
 *               per_thread on PID and SELF targets); may be NULL
 * @decode, @decode_arg: guard backend: the caller's instruction decoder
 *               (libhwbp 0.4; libhwbp has none of its own). May be NULL:
 *               every access is then single-stepped with its page open,
 *               a fault on a PROT_NONE page counts as a read/write of one
 *               byte at the fault address, on a PROT_READ page as a write
 */
struct hwbp_session_opts {
	size_t sz;
	enum hwbp_target target;
	int32_t pid;
	enum hwbp_delivery delivery;
	enum hwbp_backend_kind backend;
	bool follow_fork;
	bool kernel;
	bool per_thread;
	unsigned int sample;
	uint64_t sample_regs_user;
	uint32_t sample_stack_user;
	unsigned int buffer_pages;
	hwbp_signal_fn signal_fn;
	void *signal_arg;
	hwbp_notify_fn notify_fn;
	void *notify_arg;
	/* libhwbp 0.4 */
	hwbp_decode_fn decode;
	void *decode_arg;
};

/*
 * hwbp_session_open() - start a session on a target; nothing is armed yet
 * @opts: may be NULL (calling process, count mode, automatic backend)
 * @out:  the new session, to be closed with hwbp_session_close()
 *
 * Checks the target and that the backend works here (for perf: a probe
 * breakpoint is opened and closed again).
 *
 * Return: 0; -EINVAL for bad options (a signal mode session on another
 * process, no signal_fn, bad buffer_pages, unknown bytes past the known
 * struct, a ptrace session on the calling process); -ESRCH if the target
 * does not exist; -EACCES/-EPERM if the kernel's policy refuses
 * (perf_event_paranoid, ptrace access mode); -EBUSY for a ptrace session
 * on a process another tracer holds; -EOPNOTSUPP if there is no
 * breakpoint PMU (perf), for kernel watching with ptrace, or for signal
 * mode on LoongArch; -ENOMEM.
 * Thread-safety: sessions are independent; any thread may open one. Only
 * one signal mode session may be open at a time (-EBUSY; also on arm64
 * when every real-time signal has a handler).
 */
int hwbp_session_open(const struct hwbp_session_opts *opts, struct hwbp_session **out);

/*
 * hwbp_session_close() - remove every watch point and free the session
 * and all its points. Accepts NULL. In signal mode, no watched access may
 * be in progress on another thread while this runs.
 */
void hwbp_session_close(struct hwbp_session *s);

/*
 * hwbp_session_backend() - the backend in use: "perf" or "ptrace"; a static
 * string.
 */
const char *hwbp_session_backend(const struct hwbp_session *s);

/*
 * hwbp_session_backend_kind() - the backend in use, HWBP_BACKEND_PERF or
 * HWBP_BACKEND_PTRACE (what auto chose), to compare without strcmp (0.3)
 */
enum hwbp_backend_kind hwbp_session_backend_kind(const struct hwbp_session *s);

/*
 * Per-point options; declare with HWBP_OPTS(hwbp_point_opts, name, ...).
 * @label:    a name for log lines and for the caller (copied); default
 *            "ADDR/LEN:ACCESS"
 * @user:     the caller's pointer, returned by hwbp_point_user()
 * @disabled: create the point disabled (it still takes its slots at
 *            apply, so that enabling it later cannot fail for want of one)
 */
struct hwbp_point_opts {
	size_t sz;
	const char *label;
	void *user;
	bool disabled;
};

/*
 * hwbp_point_add() - ask for a watch point on LEN bytes at ADDR in the target
 * @s:      the session
 * @addr:   first byte, any alignment; a user address unless the target is
 *          HWBP_TARGET_SYSTEM
 * @len:    bytes, 1 or more; split over as many slots as the architecture
 *          needs (hwbp_arch_plan()); for HWBP_EXEC, every instruction that
 *          starts in the range traps
 * @access: HWBP_WRITE, HWBP_RW, HWBP_EXEC, or HWBP_READ (armed as HWBP_RW
 *          where the CPU has no read-only watchpoint: the point's plan has
 *          HWBP_PLAN_WIDER_ACCESS and its hits include writes)
 * @opts:   may be NULL
 * @out:    the new point, owned by the session
 *
 * The point is planned, not installed, until hwbp_session_apply().
 *
 * Return: 0; -EINVAL for len 0, a wrapping range, an access outside the
 * enum, a kernel address for a task target, an HWBP_EXEC address at which
 * no instruction can start (arm64, LoongArch: not a multiple of 4); -ENOMEM.
 */
int hwbp_point_add(struct hwbp_session *s, uint64_t addr, uint64_t len, enum hwbp_access access,
	       const struct hwbp_point_opts *opts, struct hwbp_point **out);

/*
 * hwbp_point_modify() - move, resize or change the access of a point
 *
 * Planned like hwbp_point_add(): the point keeps watching its old range until
 * hwbp_session_apply() succeeds, and goes on watching it if the apply
 * fails. Slots that change are rewritten in place where the kernel allows
 * it (PERF_EVENT_IOC_MODIFY_ATTRIBUTES, Linux 4.17), so a move does not
 * need a spare slot; elsewhere they are closed and reopened. The hit count
 * carries on across the change.
 *
 * Return: 0; -EINVAL as for hwbp_point_add().
 */
int hwbp_point_modify(struct hwbp_point *pt, uint64_t addr, uint64_t len,
		      enum hwbp_access access);

/*
 * hwbp_point_enable() / hwbp_point_disable() - start or stop reporting
 * hits of an applied point, at once. A disabled point keeps its slots; a
 * slot shared with another enabled point stays armed but the disabled
 * point's count does not grow. On a point not yet applied they only set
 * the state it will be applied with.
 *
 * Return: 0; -ESRCH if the target is gone; another negative errno from
 * the kernel.
 */
int hwbp_point_enable(struct hwbp_point *pt);
int hwbp_point_disable(struct hwbp_point *pt);

/*
 * hwbp_point_remove() - remove a point at once and free it. Slots no other
 * point uses are disarmed. Accepts NULL.
 */
void hwbp_point_remove(struct hwbp_point *pt);

/*
 * hwbp_point_count() - hits of the point since it was applied, summed over
 * its pieces (an access that touches two pieces counts twice), over all
 * threads of the target, and over forked children with follow_fork.
 * Exact: read from the kernel's counters, never from the ring buffers.
 *
 * Return: 0 and *HITS (0 for a point not applied yet); a negative errno
 * from the kernel. The counts of an exited target stay readable.
 */
int hwbp_point_count(struct hwbp_point *pt, uint64_t *hits);

/* One thread's count. */
struct hwbp_thread_count {
	int32_t tid;
	uint64_t hits;
};

/*
 * hwbp_point_threads() - the point's hits per thread (sessions opened with
 * per_thread)
 * @out, @max: room for MAX rows, ordered by tid, rows with 0 hits left out
 * @n:         rows there are (may exceed MAX: call again with more room)
 *
 * THREAD and TID targets: read from the kernel's counter, exact.
 * SELF and PID targets: the kernel folds the hits of threads created after
 * apply into their creator's counter, so rows are counted from one small
 * ring buffer record per hit instead (count mode: this call reads the
 * buffers; stream mode: rows are as of the last hwbp_session_poll()). They
 * are exact unless records were lost: check hwbp_session_lost(), call this
 * or hwbp_session_poll() often enough, or raise buffer_pages. Hits in
 * forked children (follow_fork) have rows under their own tids.
 *
 * Return: 0; -EINVAL if the session was not opened with per_thread;
 * -ENOMEM; other negative errno from the kernel.
 */
int hwbp_point_threads(struct hwbp_point *pt, struct hwbp_thread_count *out, size_t max,
		       size_t *n);

/*
 * hwbp_point_plan() - the slots the point uses: once applied, the plan in
 * force; after hwbp_session_plan() with a change pending, the planned one.
 * The plan's slot indexes are the planner's; the kernel picks the real
 * registers. @free_* give the slots of the whole session's pool. Set
 * out->sz first (HWBP_OPTS() does).
 *
 * Return: 0; -ENODATA if the point was never planned; -EINVAL for a NULL
 * OUT or an out->sz that does not reach @slots; -EOVERFLOW when the plan
 * has more slots than out->sz has room for (OUT untouched).
 */
int hwbp_point_plan(const struct hwbp_point *pt, struct hwbp_plan *out);

/* hwbp_point_label() - the point's label; valid while the point lives. */
const char *hwbp_point_label(const struct hwbp_point *pt);

/* hwbp_point_user() - the user pointer given in struct hwbp_point_opts. */
void *hwbp_point_user(const struct hwbp_point *pt);

/*
 * hwbp_session_plan() - plan every pending change without touching the
 * target: split each point into slots, share identical slots, and check
 * that the session's slots fit the CPU's pool (x86-64: 4 shared by
 * watchpoints and breakpoints).
 *
 * Return: 0; -ENOSPC, with a log line giving the slots needed and free
 * (nothing changes); -EINVAL for a request the architecture cannot hold.
 */
int hwbp_session_plan(struct hwbp_session *s);

/*
 * hwbp_session_apply() - plan, then arm every pending change in the target,
 * all or nothing: on failure the old state stays installed, and nothing of
 * the new one is left armed.
 *
 * Return: 0; -ENOSPC when the slots do not fit, either by the plan or
 * because the kernel refused (another user such as a debugger holds slots
 * in the target): a log line gives the slots needed and the slots found
 * free by probing; -ESRCH if the target is gone; -EACCES/-EPERM from
 * kernel policy; -EMFILE if the descriptors needed (slots x threads, x CPUs
 * in stream mode) exceed the hard RLIMIT_NOFILE (the soft limit is raised
 * as far as the hard one allows); -EOPNOTSUPP for a request the kernel
 * cannot express.
 */
int hwbp_session_apply(struct hwbp_session *s);

/*
 * What a session's points need of the target's debug registers, as the
 * last hwbp_session_plan() or hwbp_session_apply() counted them (after an
 * -ENOSPC: why). Declare it with HWBP_OPTS(): the library writes only the
 * fields the caller's sz covers.
 * @need_watch, @need_break: distinct slots of each type the points need
 *                    together (shared slots counted once; UINT_MAX stands
 *                    for any larger count)
 * @free_watch, @free_break: slots of each type the target has for the
 *                    session: the CPU's pool, or after a refusal by the
 *                    kernel, what it had left plus what the session holds
 * @shared:           one pool serves both types (x86-64): compare
 *                    need_watch + need_break with free_watch
 */
struct hwbp_need {
	size_t sz;
	unsigned int need_watch, need_break;
	unsigned int free_watch, free_break;
	bool shared;
};

/*
 * hwbp_session_need() - the session's last count of slots needed and free
 *
 * Return: 0; -EINVAL if OUT is NULL or its sz does not cover sz.
 */
int hwbp_session_need(const struct hwbp_session *s, struct hwbp_need *out);

/*
 * hwbp_session_fd() - a descriptor that becomes readable when
 * hwbp_session_poll() has something to deliver (an epoll descriptor over
 * the ring buffers). Owned by the session.
 *
 * Return: the descriptor; -EINVAL if the session has no ring buffers
 * (count mode without per_thread, signal mode).
 */
int hwbp_session_fd(struct hwbp_session *s);

/*
 * hwbp_session_poll() - wait up to TIMEOUT_MS (-1: forever, 0: no wait) for
 * ring buffer data, then deliver every queued hit to FN and every
 * notification to the session's notify_fn. FN may be NULL (hits are then
 * dropped after counting). Records lost by the kernel are added to
 * hwbp_session_lost().
 *
 * Return: 0 (also on timeout and when FN asked to stop); -EINTR if a signal
 * interrupted the wait; -EINVAL if the session has no ring buffers.
 */
int hwbp_session_poll(struct hwbp_session *s, int timeout_ms, hwbp_hit_fn fn, void *arg);

/*
 * hwbp_session_lost() - hit records the kernel dropped because a ring
 * buffer was full (PERF_RECORD_LOST), over the session's life, as far as
 * hwbp_session_poll() has read. hwbp_point_count() still counts them.
 *
 * Return: 0 and *LOST.
 */
int hwbp_session_lost(struct hwbp_session *s, uint64_t *lost);

/*
 * What a guard session did (libhwbp 0.4).
 * @sz:       set by the caller to sizeof(struct hwbp_guard_stats); fields
 *            past it are not written
 * @faults:   faults taken on guarded pages
 * @steps:    of those, accesses outside every point, stepped over and not
 *            reported (unwatched data sharing a page with a point)
 * @emulated: accesses the library completed itself (plain stores)
 * @opened:   accesses single-stepped with their page open
 * @bounced:  system calls whose buffers went through the bounce area
 * @calls_opened: other system calls with an argument pointing into a
 *            guarded page, run with that page open (their accesses, and
 *            other threads' meanwhile, are not seen)
 */
struct hwbp_guard_stats {
	size_t sz;
	uint64_t faults;
	uint64_t steps;
	uint64_t emulated;
	uint64_t opened;
	uint64_t bounced;
	uint64_t calls_opened;
};

/*
 * hwbp_session_guard_stats() - the counts of a guard session so far
 * Return: 0; -EINVAL for a NULL OUT or a @sz smaller than the first two
 * fields; -EOPNOTSUPP if S does not use the guard backend.
 */
int hwbp_session_guard_stats(const struct hwbp_session *s, struct hwbp_guard_stats *out);

/* Log levels, most severe first. */
enum hwbp_log_level {
	HWBP_LOG_ERROR = 0,
	HWBP_LOG_WARN,
	HWBP_LOG_INFO,
	HWBP_LOG_DEBUG,
};

/* hwbp_log_fn - receives one line, without a trailing newline. */
typedef void (*hwbp_log_fn)(enum hwbp_log_level level, const char *msg, void *arg);

/*
 * hwbp_set_log() - send the library's log lines to FN (NULL: the default,
 * which prints errors and warnings to stderr as "libhwbp: MSG")
 * @old_arg: if not NULL, receives the argument of the old function
 *
 * Return: the old function (NULL for the default).
 * Thread-safety: process-wide; set it before opening sessions.
 */
hwbp_log_fn hwbp_set_log(hwbp_log_fn fn, void *arg, void **old_arg);

/* ------------------------------------------------------------------------
 * Host probe: what this machine and user can do
 * ------------------------------------------------------------------------ */

/*
 * Whether a backend works here, and why not: data, like struct
 * hwbp_debug_check (hwbp_host_probe() returns 0 either way).
 */
struct hwbp_backend_status {
	bool usable;		/* armed a real watchpoint in a throwaway child */
	int err;		/* 0, or the negative errno that stopped it */
	char reason[256];	/* when !usable: one line, with the remedy */
};

/* Does this machine deliver debug exceptions? */
enum hwbp_debug_verdict {
	HWBP_DEBUG_UNKNOWN = 0,		/* could not be checked: no backend could
					 * arm the probe (see @reason) */
	HWBP_DEBUG_DELIVERED,		/* the probe's every write hit */
	HWBP_DEBUG_NOT_DELIVERED,	/* armed, written, and never (or not
					 * every time) hit: the hypervisor
					 * drops the debug exception */
};

/*
 * What hwbp_host_debug_check() found.
 * @delivered: the verdict
 * @via:       how it was found: HWBP_BACKEND_PERF or HWBP_BACKEND_PTRACE;
 *             HWBP_BACKEND_AUTO when neither could check
 * @err:       0 when delivered; -EIO when armed and not delivered; else the
 *             negative errno that kept the check from arming its probe
 * @reason:    always set: one line, a sentence without a full stop, e.g.
 *             "a perf counting breakpoint counted 0 of 3 writes to a
 *             watched word"
 */
struct hwbp_debug_check {
	enum hwbp_debug_verdict delivered;
	enum hwbp_backend_kind via;
	int err;
	char reason[256];
};

/*
 * hwbp_host_debug_check() - does this machine deliver debug exceptions to
 * this process?
 * @backend: HWBP_BACKEND_PERF: a perf counting breakpoint on a word of the
 *           calling process, written 3 times by the calling thread (tens
 *           of microseconds, mostly the three debug exceptions);
 *           HWBP_BACKEND_PTRACE: a write watch set through ptrace in a
 *           short-lived child, which must stop it (what hwbp_host_probe()
 *           does; a millisecond or so);
 *           HWBP_BACKEND_AUTO: through perf, and through ptrace where perf
 *           cannot arm its probe (perf_event_paranoid, no breakpoint PMU)
 * @out:     the verdict and its reason
 *
 * Some virtual machines never deliver a debug-register exception (#DB): a
 * perf breakpoint counts none of the writes it watches, a ptrace watch never
 * stops the thread, and a tool that does not check reports "0 hits" for a
 * program that did write. Call this before trusting a count of 0. A machine
 * that loses one exception in millions now and then is still "delivered":
 * a probe that sees some but not all of its writes is tried once more.
 *
 * The result is found once per process for each of perf and ptrace, and
 * cached: later calls cost nothing. A perf check changes nothing in the
 * process once it returns (the breakpoint is closed again); a ptrace check
 * forks a child and reaps it, and no other.
 *
 * Return: 0 (a machine that does not deliver is a verdict in OUT, not an
 * error); -EINVAL for a NULL OUT or an unknown BACKEND (OUT untouched).
 * Thread-safety: any thread may call it, at any time, also concurrently;
 * the first callers wait for one check. Not async-signal-safe.
 */
int hwbp_host_debug_check(enum hwbp_backend_kind backend, struct hwbp_debug_check *out);

/*
 * What hwbp_host_probe() found.
 * @sz:            set by the caller to sizeof(struct hwbp_host_info)
 * @arch:          this host's architecture
 * @nwatch, @nbreak: debug register slots for data and instructions as the
 *                 kernel and CPU report them (-1: unknown)
 * @shared_slots:  watch and break slots come from one pool (x86-64)
 * @slots_from:    how the counts were found: "perf" (events opened until
 *                 the kernel said ENOSPC), "dbg_info" (ptrace regsets,
 *                 arm64 and LoongArch) or "architecture"
 * @debug_arch:    arm64: the debug architecture from dbg_info bits 15:8
 *                 (0x6 = v8.0 ... 0xB = v8.9); 0 elsewhere
 * @perf_event_paranoid: /proc/sys/kernel/perf_event_paranoid, or -100
 * @ptrace_scope:  Yama's /proc/sys/kernel/yama/ptrace_scope, or -1 without Yama
 * @root, @cap_perfmon, @cap_sys_admin, @cap_sys_ptrace: effective credentials
 * @perf, @ptrace: each backend tried for real
 * @debug:         whether this machine delivers debug exceptions, as
 *                 hwbp_host_debug_check(HWBP_BACKEND_AUTO) says (added in
 *                 0.2: a caller built against 0.1 has a smaller @sz and does
 *                 not get it)
 */
struct hwbp_host_info {
	size_t sz;
	enum hwbp_arch arch;
	int nwatch, nbreak;
	bool shared_slots;
	const char *slots_from;
	unsigned int debug_arch;
	int perf_event_paranoid;
	int ptrace_scope;
	bool root, cap_perfmon, cap_sys_admin, cap_sys_ptrace;
	struct hwbp_backend_status perf;
	struct hwbp_backend_status ptrace;
	struct hwbp_debug_check debug;
};

/*
 * hwbp_host_probe() - find out what this machine and user can do
 * @out: filled in; set out->sz = sizeof(*out) first (HWBP_OPTS() does)
 *
 * Forks short-lived children and arms a real watchpoint in each, once
 * through perf and once through ptrace, and waits for them (bounded by a
 * timeout); it changes nothing in the calling process. @debug comes from
 * hwbp_host_debug_check(), cached. Not async-signal-safe; do not call it
 * from several threads at once.
 *
 * Only the first min(out->sz, sizeof(struct hwbp_host_info)) bytes are
 * written, and out->sz keeps the caller's value: a caller built against an
 * older, smaller struct gets the fields it knows, and one built against a
 * newer struct gets those this library knows.
 *
 * Return: 0 (a backend that does not work is reported in OUT, not as an
 * error); -EINVAL if OUT is NULL or out->sz is smaller than any version
 * of the struct (that of 0.1, which ended at @ptrace).
 */
int hwbp_host_probe(struct hwbp_host_info *out);

#ifdef __cplusplus
}
#endif

#endif /* HWBP_HWBP_H */

/* SPDX-License-Identifier: MIT */
/*
 * plan.h - the guard backend's pure core: which pages to protect, and what
 * a fault on them means
 *
 * The guard backend watches memory without debug registers: it protects the
 * watched pages in the target (PROT_READ for a write watch, PROT_NONE for a
 * read or read/write watch), and every fault on such a page is either a hit
 * (the access touches a watched range with a watched kind) or a step (the
 * page is guarded but the access is not watched: step over it silently).
 *
 * This module decides all of that from plain data: the text of
 * /proc/PID/maps, the ranges, the memory the kernel writes on its own (that
 * must never be guarded), and a fault's address, size and kind. It makes no
 * system call and has no host #ifdef; the ptrace engine reads maps, issues
 * the mprotect calls and decodes the faulting instruction.
 *
 * Protections are the PROT_READ, PROT_WRITE and PROT_EXEC bits of
 * <sys/mman.h>, the same values on every Linux architecture. Every int
 * function returns 0 or a negative errno; every refusal is -EINVAL with a
 * one-line reason in WHY (when WHY is not NULL and WHYLEN > 0).
 *
 * Not thread-safe: one set belongs to one engine thread.
 */
#ifndef HWBP_GUARD_PLAN_H
#define HWBP_GUARD_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

#include <hwbp/hwbp.h>

/* What a line of /proc/PID/maps maps, from its name column. */
enum hwbp_guard_kind {
	HWBP_GUARD_ANON,	/* no name, or [anon:NAME] (PR_SET_VMA_ANON_NAME) */
	HWBP_GUARD_FILE,	/* a path, or a name the kernel gives a file (memfd:, anon_inode:) */
	HWBP_GUARD_HEAP,	/* [heap] */
	HWBP_GUARD_STACK,	/* [stack], and [stack:TID] of kernels before 4.5 */
	HWBP_GUARD_VDSO,	/* [vdso] */
	HWBP_GUARD_VVAR,	/* [vvar], and [vvar_vclock] of newer kernels */
	HWBP_GUARD_VSYSCALL,	/* [vsyscall] (x86-64) */
	HWBP_GUARD_PSEUDO,	/* any other [NAME] */
};

/*
 * One mapping: [start, end), as the kernel shows it.
 * @prot:    PROT_READ | PROT_WRITE | PROT_EXEC as shown (the current
 *           protection, which may be hwbp's own: see hwbp_guard_set_maps())
 * @shared:  MAP_SHARED ('s'), else private ('p')
 * @deleted: the file was unlinked (the kernel's " (deleted)" suffix, which
 *           @name does not keep)
 * @name:    path or pseudo-name, "" for an anonymous mapping. Spaces are
 *           kept; a newline in a path stays as the kernel's "\012" escape.
 *           Leading blanks of a path cannot be told from the column padding.
 */
struct hwbp_guard_map {
	uint64_t start, end;
	uint64_t offset;
	uint64_t inode;
	unsigned int prot;
	bool shared;
	bool deleted;
	enum hwbp_guard_kind kind;
	const char *name;
};

/* The mappings of one maps text, sorted by address and disjoint. */
struct hwbp_guard_maps {
	struct hwbp_guard_map *map;
	size_t n;
	char *names;		/* storage of every @name */
};

/*
 * hwbp_guard_maps_parse() - read the text of /proc/PID/maps
 * @text:  the whole text (NUL-terminated); an empty text gives no mappings
 * @out:   the mappings, freed with hwbp_guard_maps_free()
 * @why, @whylen: the reason of a refusal, naming the line
 *
 * Return: 0; -EINVAL for a malformed line or overlapping mappings;
 * -ENOMEM. @out is untouched on failure.
 */
int hwbp_guard_maps_parse(const char *text, struct hwbp_guard_maps **out, char *why,
			  size_t whylen);

/* hwbp_guard_maps_free() - free MAPS; NULL is allowed. */
void hwbp_guard_maps_free(struct hwbp_guard_maps *maps);

/* hwbp_guard_maps_find() - the mapping holding ADDR, or NULL (binary search). */
const struct hwbp_guard_map *hwbp_guard_maps_find(const struct hwbp_guard_maps *maps,
						  uint64_t addr);

/*
 * Memory the kernel writes on its own, which the engine finds per thread
 * and hwbp_guard_set_forbid() passes in: a page holding any of it is never
 * guarded (a kernel write to a protected page is an EFAULT or a lost
 * signal, not a fault the engine sees).
 */
enum hwbp_guard_forbid_kind {
	HWBP_GUARD_THREAD_STACK,	/* from the thread's sp: signal frames */
	HWBP_GUARD_TCB,			/* around the thread pointer: CLONE_CHILD_CLEARTID */
	HWBP_GUARD_RSEQ,		/* struct rseq: cpu_id at every preemption */
};

struct hwbp_guard_forbid {
	uint64_t addr, len;	/* len 0 is ignored */
	enum hwbp_guard_forbid_kind kind;
	int tid;
};

/*
 * Pages [addr, addr+len) with one original and one new protection: one
 * mprotect(addr, len, prot) call.
 */
struct hwbp_guard_run {
	uint64_t addr, len;
	unsigned int orig;	/* the page's protection without hwbp */
	unsigned int prot;	/* the protection to apply */
};

/* What a fault on a page is, for hwbp_guard_set_classify(). */
enum hwbp_guard_verdict {
	HWBP_GUARD_FOREIGN,	/* not caused by hwbp: deliver the signal to the target */
	HWBP_GUARD_STEP,	/* a guarded page, but no range hit: step over it */
	HWBP_GUARD_HIT,		/* one or more ranges hit */
};

struct hwbp_guard_fault {
	enum hwbp_guard_verdict verdict;
	size_t nhits;		/* ranges hit; may exceed the room for cookies */
};

struct hwbp_guard_set;

/*
 * hwbp_guard_set_create() - an empty set of guarded ranges
 * @page_size: the target's page size, a power of two from 4 KiB to 1 MiB
 *             (4, 16 and 64 KiB are those of x86-64, arm64 and LoongArch)
 * @out:       the set, freed with hwbp_guard_set_destroy()
 *
 * A set starts with no mappings: every range is refused as unmapped until
 * hwbp_guard_set_maps().
 *
 * Return: 0, -EINVAL for a bad page size, -ENOMEM. @out untouched on failure.
 */
int hwbp_guard_set_create(uint64_t page_size, struct hwbp_guard_set **out);

/* hwbp_guard_set_destroy() - free SET, its maps and its ranges; NULL is allowed. */
void hwbp_guard_set_destroy(struct hwbp_guard_set *set);

/*
 * hwbp_guard_set_clone() - a copy of SET for a forked child
 * @out: the copy, freed with hwbp_guard_set_destroy()
 *
 * fork() copies the parent's memory with its protections, hwbp's guards
 * included, so the child starts with the parent's maps, forbid list, ranges
 * and wanted and committed runs. The copy shares nothing with SET: either
 * may change without the other.
 *
 * Return: 0 or -ENOMEM. @out untouched on failure.
 */
int hwbp_guard_set_clone(const struct hwbp_guard_set *set, struct hwbp_guard_set **out);

/* hwbp_guard_set_page() - the page size SET was created with. */
uint64_t hwbp_guard_set_page(const struct hwbp_guard_set *set);

/* hwbp_guard_set_nranges() - the number of ranges in SET. */
size_t hwbp_guard_set_nranges(const struct hwbp_guard_set *set);

/*
 * hwbp_guard_set_maps() - give SET the target's mappings
 * @maps: from hwbp_guard_maps_parse(); on success SET owns it (and frees
 *        the previous maps), on failure the caller still does
 *
 * Pages hwbp has protected (committed runs) keep the original protection
 * recorded when they were first guarded, not the one the new text shows
 * (which is hwbp's own). A target's own mprotect of such a page is for the
 * engine to notice (it sees the system call) and replay with
 * hwbp_guard_set_reprotect().
 *
 * Return: 0; -EINVAL if a mapping is not aligned to the page size, or if a
 * range already in SET would be refused with these maps (WHY names it).
 * Nothing changes on failure.
 */
int hwbp_guard_set_maps(struct hwbp_guard_set *set, struct hwbp_guard_maps *maps, char *why,
			size_t whylen);

/*
 * hwbp_guard_set_forbid() - replace the list of memory the kernel writes
 * @list, @n: copied; an entry of length 0 is ignored
 *
 * Return: 0; -EINVAL if a range already in SET would share a page with an
 * entry (WHY names it); -ENOMEM. Nothing changes on failure.
 */
int hwbp_guard_set_forbid(struct hwbp_guard_set *set, const struct hwbp_guard_forbid *list,
			  size_t n, char *why, size_t whylen);

/*
 * hwbp_guard_range_add() - guard LEN bytes at ADDR
 * @len:    1 or more, no wrap past the top of the address space
 * @access: HWBP_WRITE, HWBP_READ or HWBP_RW (HWBP_EXEC is a software
 *          breakpoint, see lib/arch/swbreak.h, and is refused here)
 * @cookie: the caller's name for the range, reported by classify; unique
 *
 * Ranges may overlap and share pages. Refused, each with its reason in WHY,
 * whenever a page the range needs guarded (every page holding one of its
 * bytes) holds any byte of: unmapped memory, a [stack], [vdso], [vvar] or
 * [vsyscall] mapping, a shared mapping, or an entry of the forbid list.
 * Example: "0x7ffd1000/8 is on the stack of thread 4242: the kernel writes
 * signal frames there".
 *
 * Return: 0; -EINVAL for a refusal or bad input; -EEXIST if COOKIE is in
 * use; -ENOMEM. Nothing changes on failure.
 */
int hwbp_guard_range_add(struct hwbp_guard_set *set, uint64_t addr, uint64_t len,
			 enum hwbp_access access, uint64_t cookie, char *why, size_t whylen);

/*
 * hwbp_guard_range_remove() - stop guarding the range named COOKIE
 *
 * Return: 0, or -ENOENT if no range has that cookie.
 */
int hwbp_guard_range_remove(struct hwbp_guard_set *set, uint64_t cookie);

/*
 * hwbp_guard_range_dormant() - does the range named COOKIE need no page
 * changed? True when the original protection of each of its pages already
 * forbids every access it watches: a write watch on read-only memory can
 * only hit after the target's own mprotect. False for an unknown cookie.
 */
bool hwbp_guard_range_dormant(const struct hwbp_guard_set *set, uint64_t cookie);

/*
 * hwbp_guard_set_reprotect() - replay the target's own mprotect(ADDR, LEN,
 * PROT), which succeeded
 * @addr: page aligned;  @len: 1 or more, rounded up to whole pages
 * @prot: PROT_READ | PROT_WRITE | PROT_EXEC, as the target asked (the
 *        engine drops PROT_BTI, PROT_MTE and the like first; PROT_GROWSDOWN
 *        and PROT_GROWSUP widen the range, which the engine resolves)
 *
 * The kernel has set those pages to PROT, undoing hwbp's guard there, and
 * PROT is their protection without hwbp from now on. So the recorded
 * protection of the mappings there becomes PROT (a mapping is split at
 * ADDR and ADDR+LEN as needed; unmapped pages are skipped), no committed
 * run covers those pages any more (runs are cut at both ends), and the
 * wanted runs are recomputed on top of PROT. hwbp_guard_set_changes() then
 * lists the calls that guard them again.
 *
 * Example, 4 KiB pages, rw-p at 0x10000-0x14000, w 0x11000/8 and
 * rw 0x12000/8 committed ([0x11000, 0x12000) r--, [0x12000, 0x13000) ---),
 * then the target's mprotect(0x11000, 0x2000, PROT_READ): the write range
 * is dormant, so the changes are [0x12000, 0x13000) r-- -> ---.
 *
 * Return: 0; -EINVAL for LEN 0, an unaligned ADDR, pages that wrap past
 * or end at the top of the address space (which mprotect refuses too), or
 * bits other than PROT_READ, PROT_WRITE and PROT_EXEC; -ENOMEM. Nothing
 * changes on failure.
 */
int hwbp_guard_set_reprotect(struct hwbp_guard_set *set, uint64_t addr, uint64_t len,
			     unsigned int prot);

/*
 * hwbp_guard_set_runs() - the protection SET wants, as runs
 * @out, @max: room for MAX runs, lowest address first
 *
 * Only pages whose protection differs from their original are listed;
 * adjacent pages with the same original and new protection are one run.
 * Per page: any read or read/write range that the original protection lets
 * the target do -> PROT_NONE; else any write range on a writable page ->
 * original minus PROT_WRITE; else unchanged. Computed from range and
 * mapping boundaries, never page by page or byte by byte.
 *
 * Example, 4 KiB pages, rw-p at 0x10000-0x14000: w 0x10ff8/16 and
 * rw 0x12000/1 -> [0x10000, 0x12000) r--, [0x12000, 0x13000) ---.
 *
 * Return: the number of runs; only the first MAX are written.
 */
size_t hwbp_guard_set_runs(const struct hwbp_guard_set *set, struct hwbp_guard_run *out,
			   size_t max);

/*
 * hwbp_guard_set_changes() - the mprotect calls from the committed state to
 * the wanted one: new and changed runs, and pages no longer guarded with
 * PROT = their original. Same shape and return as hwbp_guard_set_runs().
 */
size_t hwbp_guard_set_changes(const struct hwbp_guard_set *set, struct hwbp_guard_run *out,
			      size_t max);

/*
 * hwbp_guard_set_commit() - record that the engine applied every change:
 * the wanted runs are now the committed ones (what classify and restore go by).
 *
 * Return: 0 or -ENOMEM (the committed state is then unchanged).
 */
int hwbp_guard_set_commit(struct hwbp_guard_set *set);

/*
 * hwbp_guard_set_restore() - the mprotect calls that undo every committed
 * run (each with PROT = ORIG), for detaching. Same shape and return as
 * hwbp_guard_set_runs(). Removing every range and committing forgets them.
 */
size_t hwbp_guard_set_restore(const struct hwbp_guard_set *set, struct hwbp_guard_run *out,
			      size_t max);

/*
 * hwbp_guard_set_classify() - what a fault means
 * @addr, @size: the bytes the faulting instruction accesses (from the
 *               decoder), size >= 1
 * @kind:        HWBP_READ, HWBP_WRITE, or HWBP_RW for a read-modify-write
 * @cookies, @max: room for the cookies of the ranges hit, in the order
 *               they were added (each overlapping range gets its hit)
 * @out:         verdict and number of hits
 *
 * HWBP_GUARD_FOREIGN unless a page the access touches is guarded by a
 * committed run whose protection forbids KIND while the original allows it
 * (so a write to a read-only page, or to unmapped memory, is the target's
 * own fault). Then HWBP_GUARD_HIT if a range shares a byte with the access
 * and watches KIND (a write watch by writes and read-modify-writes, a read
 * watch by reads and read-modify-writes, a read/write watch by all), else
 * HWBP_GUARD_STEP. Linear in the number of ranges.
 *
 * Return: 0, or -EINVAL for size 0, a wrap or a bad KIND.
 */
int hwbp_guard_set_classify(const struct hwbp_guard_set *set, uint64_t addr, uint64_t size,
			    enum hwbp_access kind, uint64_t *cookies, size_t max,
			    struct hwbp_guard_fault *out);

#endif /* HWBP_GUARD_PLAN_H */

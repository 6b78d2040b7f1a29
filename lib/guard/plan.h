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

#endif /* HWBP_GUARD_PLAN_H */

/* SPDX-License-Identifier: MIT */
/*
 * dwfl_int.h - what the elfutils files of cli/sym share: the context, the
 * memos, small helpers and the few functions one file does for another.
 * Only cli/sym files include it (it includes elfutils headers).
 */
#ifndef HWBP_SYM_DWFL_INT_H
#define HWBP_SYM_DWFL_INT_H

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sym/sym.h"

/* Per-call state of hwbp_sym_unwind(), reached from the libdwfl callbacks. */
struct unwind_state {
	const uint64_t *regs;
	const uint8_t *stack;
	size_t stack_size;
	uint64_t sp;
	uint64_t *ips;
	unsigned int max;
	unsigned int n;
	bool thread_given;
};

/*
 * A loop traps at the same instruction again and again, and finding the
 * accessing instruction of an x86 data trap decodes from the start of the
 * function each time: that costs more than the hit itself (about 25 us
 * for a 90-byte function). The answers for code read from a module's file
 * are kept here, by trap address; code read from memory (JIT) may change
 * and is decoded anew. Emptied whenever the modules are reported again.
 */
#define INSN_MEMO 64

struct insn_memo {
	uint64_t func_start;
	uint64_t ip_after;		/* 0: empty */
	struct hwbp_sym_insn insn;
};

/*
 * The last answers of hwbp_sym_addr_info(), by ip: a watch reports the
 * same few instructions again and again, and the line table lookup costs
 * more than a hit. Emptied whenever the modules are reported again.
 */
#define WHERE_MEMO 32

struct hwbp_sym_ctx {
	Dwfl *dwfl;
	pid_t pid;			/* 0 for a file context */
	char exe[HWBP_SYM_PATH_MAX];	/* path of the executable module */
	Dwfl_Module **mods;		/* executable first, then by address */
	size_t nmods;
	enum hwbp_arch arch;
	bool attached;			/* dwfl_attach_state() done */
	struct unwind_state *uw;
	struct insn_memo *memo;		/* INSN_MEMO entries, or NULL */
	struct hwbp_sym_where *where;	/* WHERE_MEMO entries (ip 0: empty) */
	bool defer_types;		/* see hwbp_sym_defer_types() */
};

static inline void say(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Write a reason to WHY (LEN bytes), which may be NULL. */
static inline void say(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!why || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

/* Copy SRC into DST of LEN bytes, truncating; NULL copies as "". */
static inline void copy_str(char *dst, size_t len, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (!len)
		return;
	if (n >= len)
		n = len - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The last component of PATH. */
static inline const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* MOD's name: the path of its file, or "". */
static inline const char *mod_name(Dwfl_Module *mod)
{
	const char *name = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

	return name ? name : "";
}

/* The first address MOD maps. */
static inline uint64_t mod_start(Dwfl_Module *mod)
{
	Dwarf_Addr start = 0;

	dwfl_module_info(mod, NULL, &start, NULL, NULL, NULL, NULL, NULL);
	return start;
}

/* --- dwfl.c: contexts, modules, ELF symbols, resolution, suggestions ----- */

/* OBJECT matches a basename equal to it or starting with "OBJECT.", or a full path. */
bool hwbp_sym_mod_matches(Dwfl_Module *mod, const char *object);

/* Levenshtein distance, giving up at CAP (returns CAP). Example: countr/counter = 1. */
size_t hwbp_sym_edit_distance(const char *a, const char *b, size_t cap);

/* --- dwarf.c: DWARF variables, types and paths ---------------------------- */

/* Whether the DIE's module has type info for the ELF symbol at ADDR: fill the type fields. */
void hwbp_sym_var_type(Dwfl_Module *mod, const char *name, uint64_t addr,
		       struct hwbp_sym_loc *out);

/*
 * hwbp_sym_resolve_path() - resolve LOC's NAME as a C-like path into a
 * global or static variable (config.limits[2].max, or func::var), in the
 * modules LOC's OBJECT names (all when ""), plus OFF when given
 * Return: 0 and OUT, -ENOENT when no variable has the name, another
 * negative errno with WHY filled.
 */
int hwbp_sym_resolve_path(struct hwbp_sym_ctx *ctx, const struct cli_loc *loc,
			  struct hwbp_sym_loc *out, char *why, size_t why_len);

/* --- where.c: addresses, source lines and code ----------------------------- */

/*
 * Module holding ADDR. libdwfl knows the file-backed mappings only; a
 * library's .bss past its last file page is an anonymous mapping, so look
 * at the modules' PT_LOAD p_memsz too (libc's environ lives there).
 */
Dwfl_Module *hwbp_sym_find_mod(struct hwbp_sym_ctx *ctx, uint64_t addr);

/* Copy from the PT_LOAD segment of MOD's file that holds the bytes. */
int hwbp_sym_read_elf(Dwfl_Module *mod, uint64_t addr, void *buf, size_t len);

#endif /* HWBP_SYM_DWFL_INT_H */

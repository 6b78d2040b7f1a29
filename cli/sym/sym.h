/* SPDX-License-Identifier: MIT */
/*
 * sym.h - symbols, DWARF locations, source lines, instruction decoding and
 * stack unwinding for hwbp's command line
 *
 * These belong to the command, not to libhwbp: a program embedding the
 * library has its own symbol tables, and libhwbp links neither elfutils
 * nor Capstone. Only the files of cli/sym/ include their headers.
 *
 * A struct hwbp_sym_ctx describes the modules (executable, ld.so, shared
 * libraries) of one process, read from /proc/PID/maps and the ELF files
 * they map, or of one ELF file. The process is never attached to: nothing
 * here uses ptrace, and code bytes come from the ELF files on disk.
 *
 * Built with elfutils and Capstone (cli/sym/dwfl.c, dwarf.c, where.c,
 * unwind.c and insn.c), or, with WITH_SYM=0, from cli/sym/nosym.c, where
 * every function that needs them returns -EOPNOTSUPP (only
 * hwbp_sym_close() works there).
 *
 * Thread-safety: a context is used by one thread at a time. The functions
 * that take no context are pure and may be called from any thread.
 *
 * Register files ("regs" below) are arrays indexed by the kernel's perf
 * register numbers for the architecture, as in
 * arch/x86/include/uapi/asm/perf_regs.h (PERF_REG_X86_AX = 0 ...
 * PERF_REG_X86_R15 = 23) and arch/arm64/include/uapi/asm/perf_regs.h
 * (PERF_REG_ARM64_X0 = 0 ... SP = 31, PC = 32): the sampled user
 * registers of a perf record, spread out to their numbers.
 */
#ifndef HWBP_SYM_SYM_H
#define HWBP_SYM_SYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <hwbp/hwbp.h>

#include "spec.h"

struct hwbp_sym_ctx;

/* Sizes of the text fields below, terminating NUL included. */
#define HWBP_SYM_NAME_MAX 256
#define HWBP_SYM_PATH_MAX 4096

/* Register file sizes: perf's PERF_REG_X86_64_MAX and PERF_REG_ARM64_MAX. */
#define HWBP_SYM_X86_64_NREGS 24
#define HWBP_SYM_ARM64_NREGS 33

/* ------------------------------------------------------------------------
 * Contexts
 * ------------------------------------------------------------------------ */

/*
 * hwbp_sym_open_pid() - describe the modules mapped in process PID
 * @pid: a live process; it is not attached to, not stopped, not written
 * @out: new context
 *
 * Reads /proc/PID/maps (a process stopped right after exec, where only the
 * executable and ld.so are mapped, works too) and finds each module's
 * symbols and debugging information the usual ways: in the file itself,
 * by build-id under /usr/lib/debug/.build-id, or through .gnu_debuglink.
 *
 * Return: 0, -ESRCH if PID does not exist, -EACCES/-EPERM if its maps
 * cannot be read, -ENOMEM.
 */
int hwbp_sym_open_pid(pid_t pid, struct hwbp_sym_ctx **out);

/*
 * hwbp_sym_open_file() - describe one ELF file as if loaded at BIAS
 * @path: executable or shared object
 * @bias: load bias added to its link-time addresses (0 for a non-PIE
 *        executable, or to read a PIE or shared object at its link-time
 *        addresses)
 * @out: new context
 *
 * Return: 0, -ENOENT if PATH does not exist, -EINVAL if it is not ELF.
 */
int hwbp_sym_open_file(const char *path, uint64_t bias, struct hwbp_sym_ctx **out);

/*
 * hwbp_sym_refresh() - read the process's maps again
 *
 * Call after dlopen(), dlclose() or exec. Names and addresses handed out
 * before stay valid (they are copies). A file context is left as it is.
 *
 * Return: 0, -ESRCH if the process is gone, -ENOMEM.
 */
int hwbp_sym_refresh(struct hwbp_sym_ctx *ctx);

/*
 * hwbp_sym_close() - free CTX; NULL is accepted
 */
void hwbp_sym_close(struct hwbp_sym_ctx *ctx);

/*
 * hwbp_sym_arch() - the architecture of the context's executable
 *
 * Return: HWBP_ARCH_X86_64, HWBP_ARCH_ARM64, HWBP_ARCH_LOONGARCH64, or
 * HWBP_ARCH_NONE if unknown.
 */
enum hwbp_arch hwbp_sym_arch(const struct hwbp_sym_ctx *ctx);

/* ------------------------------------------------------------------------
 * Locations
 * ------------------------------------------------------------------------ */

enum hwbp_sym_kind {
	HWBP_SYM_ADDR,		/* a bare 0xADDR */
	HWBP_SYM_OBJECT,	/* data: STT_OBJECT and other non-code symbols, DWARF variables */
	HWBP_SYM_FUNC,		/* code: STT_FUNC or STT_GNU_IFUNC */
};

/* How to print the value at a location (DWARF DW_ATE_* folded). */
enum hwbp_sym_encoding {
	HWBP_SYM_ENC_NONE,	/* unknown, or an aggregate (struct, array) */
	HWBP_SYM_ENC_SIGNED,	/* signed integer, signed char, signed enum */
	HWBP_SYM_ENC_UNSIGNED,	/* unsigned integer, unsigned char, unsigned enum */
	HWBP_SYM_ENC_BOOL,
	HWBP_SYM_ENC_FLOAT,	/* IEEE float of enc_size bytes */
	HWBP_SYM_ENC_POINTER,
};

/* A resolved location. */
struct hwbp_sym_loc {
	uint64_t addr;			/* run-time address (load bias applied) */
	uint64_t len;			/* default length in bytes; 0 if unknown */
	enum hwbp_sym_kind kind;
	char module[HWBP_SYM_NAME_MAX];	/* basename of the module, "" for HWBP_SYM_ADDR */
	char symbol[HWBP_SYM_NAME_MAX];	/* ELF symbol or DWARF variable the path starts at */
	/* From DWARF, when the location names a variable or a path into one: */
	bool has_type;			/* the fields below are known */
	enum hwbp_sym_encoding enc;	/* of the last component, typedefs/cv peeled */
	unsigned int enc_size;		/* byte size of that type */
	char type[HWBP_SYM_NAME_MAX];	/* its C spelling: "int", "struct config", "char[16]" */
	bool bitfield;			/* last member is a bit-field: addr/len cover its bytes */
	bool type_later;		/* not looked up yet: hwbp_sym_loc_type() does */
};

/*
 * hwbp_sym_resolve() - turn the LOCATION of a watch SPEC into an address
 * @loc: the LOCATION as cli_loc_parse() (spec.h) parsed it; one of
 *	(OFF is decimal or 0x hexadecimal)
 *	0xADDR             the address itself, len 0
 *	SYMBOL             ELF symbol (.symtab, else .dynsym), or a DWARF
 *	                   global/static variable; len is st_size (the DWARF
 *	                   type's size if the symbol has none)
 *	SYMBOL+OFF         OFF bytes into SYMBOL; len is st_size - OFF, or 0
 *	                   past the end
 *	OBJECT:SYMBOL[+OFF]  only in modules whose basename is OBJECT or
 *	                   starts with "OBJECT." (libfoo.so matches
 *	                   libfoo.so.1); also OBJECT:PATH
 *	PATH               DWARF path into a global or static variable:
 *	                   config.limit, config.limits[2].max, arr[3], m[1][2],
 *	                   through typedefs, anonymous members and cv
 *	                   qualifiers; FUNC::VAR[...] names a static variable
 *	                   local to function FUNC. len is the size of the last
 *	                   member or element.
 *	Without OBJECT, the executable's own symbol wins (static ones too),
 *	then the first global symbol in map order, then the first local one.
 *	For a PATH, the executable's DWARF is searched first. A malformed
 *	LOC (LOC->bad) is reported with LOC->why where the search meets it.
 * @out: filled on success only
 * @why: if not NULL, on failure receives a one-line reason without
 *	"hwbp: " prefix, e.g. "no member 'limt' in struct config" or
 *	"index 9 out of range for limits[4]"
 * @why_len: size of WHY
 *
 * Return: 0; -ENXIO when OBJECT is not loaded (yet: a later dlopen() may
 * map it); -ENOENT for an unknown symbol, or a PATH component
 * that does not exist (WHY says which; hwbp_sym_suggest() gives
 * alternatives for a symbol); -ENODATA if the symbol was not found and the
 * module searched (the executable, or OBJECT) has neither .symtab nor
 * DWARF ("binary is stripped"); -EINVAL for a malformed LOCATION;
 * -EOPNOTSUPP for a variable whose address is not static (thread-local,
 * register, optimized out).
 */
int hwbp_sym_resolve(struct hwbp_sym_ctx *ctx, const struct cli_loc *loc, struct hwbp_sym_loc *out,
		     char *why, size_t why_len);

/*
 * hwbp_sym_defer_types() - let hwbp_sym_resolve() leave out the DWARF type
 * of an ELF symbol that has a size
 *
 * Finding the variable behind an ELF symbol means reading every unit of the
 * module's DWARF: for libc with its debug file installed, some 40 ms. The
 * length comes from st_size without it; only the type fields wait, and the
 * location says so with type_later.
 */
void hwbp_sym_defer_types(struct hwbp_sym_ctx *ctx, bool defer);

/*
 * hwbp_sym_loc_type() - fill in the type fields hwbp_sym_resolve() left out
 * @loc: a location resolved by hwbp_sym_resolve() in CTX; no-op unless
 *	type_later is set, which it clears
 *
 * Return: 0, also when the module has no type for the symbol (has_type
 * stays false); -EINVAL for no CTX or LOC.
 */
int hwbp_sym_loc_type(struct hwbp_sym_ctx *ctx, struct hwbp_sym_loc *loc);

/*
 * hwbp_sym_suggest() - names close to LOC's NAME, for "did you mean" hints
 * @loc: the unknown symbol, parsed (its OBJECT limits the search to it)
 * @buf: receives up to 3 names, closest first, joined by ", "; "" if none
 *
 * Candidates are the data and function symbols of every module and the
 * DWARF global variables of the executable, within an edit distance of
 * max(2, strlen(NAME) / 3).
 *
 * Return: the number of names written (0..3), or -EINVAL.
 */
int hwbp_sym_suggest(struct hwbp_sym_ctx *ctx, const struct cli_loc *loc, char *buf, size_t len);

/* ------------------------------------------------------------------------
 * Addresses
 * ------------------------------------------------------------------------ */

/* What is known about a code address. Fields not known are flagged absent. */
struct hwbp_sym_where {
	uint64_t ip;
	bool has_module;
	char module[HWBP_SYM_NAME_MAX];		/* basename */
	bool has_func;
	char func[HWBP_SYM_NAME_MAX];		/* ELF symbol containing IP */
	uint64_t func_start;			/* its run-time address */
	uint64_t func_size;			/* 0 if the symbol has no size */
	uint64_t offset;			/* ip - func_start */
	bool has_line;
	char file[HWBP_SYM_NAME_MAX];		/* basename of the source file */
	unsigned int line;
	unsigned int column;			/* 0 if unknown */
	/* The long paths last: copies of an answer stop at the first one's
	 * end (HWBP_SYM_WHERE_SHORT) and copy the two strings alone. */
	char module_path[HWBP_SYM_PATH_MAX];	/* as mapped */
	char file_path[HWBP_SYM_PATH_MAX];	/* absolute when the CU says where */
};

/* Bytes of struct hwbp_sym_where before the paths. */
#define HWBP_SYM_WHERE_SHORT offsetof(struct hwbp_sym_where, module_path)

/*
 * hwbp_sym_addr_info() - module, function and source line of IP
 *
 * Return: 0 (even if only some fields are known), -ENOENT if IP is in no
 * known module.
 */
int hwbp_sym_addr_info(struct hwbp_sym_ctx *ctx, uint64_t ip, struct hwbp_sym_where *out);

/*
 * hwbp_sym_read_code() - copy LEN bytes of code at run-time address ADDR
 *
 * Reads the module's ELF file (no ptrace, no access to the process); if
 * the bytes are not in a file section, falls back to /proc/PID/mem.
 *
 * Return: 0, -ENOENT if ADDR..ADDR+LEN is not in one module's sections and
 * cannot be read from the process, -EIO on a short read.
 */
int hwbp_sym_read_code(struct hwbp_sym_ctx *ctx, uint64_t addr, void *buf, size_t len);

/* ------------------------------------------------------------------------
 * Instructions
 * ------------------------------------------------------------------------ */

/* Where the value a store writes comes from. */
enum hwbp_sym_value_src {
	HWBP_SYM_VALUE_UNKNOWN,	/* not a plain store, e.g. read-modify-write, vector register */
	HWBP_SYM_VALUE_REG,	/* (regs[reg] >> reg_shift) truncated to the operand size */
	HWBP_SYM_VALUE_IMM,	/* imm truncated to the operand size */
};

/* One memory operand of an instruction. */
struct hwbp_sym_mem {
	enum hwbp_access access;	/* HWBP_READ, HWBP_WRITE or HWBP_RW */
	unsigned int size;		/* bytes accessed; 0 if not known */
	/* Effective address parts; registers by perf number, -1 for none. */
	int base;
	int index;
	unsigned int scale;
	int64_t disp;
	bool pc_rel;			/* base is the address of the next instruction
					 * (x86 rip-relative) */
	bool segment;			/* fs:/gs: override: not computable from regs */
	bool pre_post_index;		/* arm64 writeback: EA is the base before or after */
};

#define HWBP_SYM_MEM_MAX 2

/* A decoded instruction and what it did to memory. */
struct hwbp_sym_insn {
	enum hwbp_arch arch;
	uint64_t addr;
	unsigned int len;
	char text[192];				/* "mov qword ptr [rip + 0x2ee5], rax" */
	enum hwbp_access access;		/* union of mem[]; 0 if no memory operand */
	unsigned int nmem;
	struct hwbp_sym_mem mem[HWBP_SYM_MEM_MAX];
	/* For a store (one mem operand, HWBP_WRITE), where the value comes from: */
	enum hwbp_sym_value_src value_src;
	int reg;				/* perf register number */
	unsigned int reg_shift;			/* 8 for ah, bh, ch, dh */
	int64_t imm;				/* sign-extended */
	/* The store writes that value and changes nothing else: no flag,
	 * no other register, no other memory (x86 mov, movabs and movnti;
	 * arm64 str, stur and stlr of a general register, without
	 * writeback). Not stos, movs, xchg, push, stp or stxr. */
	bool plain;
};

/*
 * hwbp_sym_insn_decode() - decode the one instruction at the start of CODE
 * @arch: HWBP_ARCH_X86_64 or HWBP_ARCH_ARM64 (any host)
 * @code, @len: bytes, the first at run-time address ADDR
 *
 * Memory operands come from Capstone's per-operand access flags; implicit
 * stack accesses (push, pop, call, ret) are not reported.
 *
 * Return: 0, -EINVAL if the bytes are not a valid instruction, -EOPNOTSUPP
 * for another ARCH.
 */
int hwbp_sym_insn_decode(enum hwbp_arch arch, const void *code, size_t len, uint64_t addr,
			 struct hwbp_sym_insn *out);

/*
 * hwbp_sym_insn_before_buf() - find the instruction that ends at IP_AFTER
 * @code, @len: code of a function, the first byte at run-time address START
 * @ip_after: address reported for a data watchpoint hit; on x86 the trap
 *	comes after the accessing instruction, so IP_AFTER is the next one
 *
 * Decodes forward from START. Example, x86: at START 0x1000 "push rbp"
 * (1 byte), "mov rbp, rsp" (3), "mov rax, [rip+x]" (7): IP_AFTER 0x100b
 * gives 0x1004, len 7. On arm64 instructions are 4 bytes and a watchpoint
 * reports the accessing instruction itself; this still returns the one
 * before IP_AFTER.
 *
 * Return: 0, -ENOENT if no decoded instruction ends exactly at IP_AFTER
 * (IP_AFTER outside START..START+LEN, or data in the code), -EOPNOTSUPP.
 */
int hwbp_sym_insn_before_buf(enum hwbp_arch arch, const void *code, size_t len, uint64_t start,
			     uint64_t ip_after, struct hwbp_sym_insn *out);

/*
 * hwbp_sym_insn_before() - the same, reading the code through CTX
 * @func_start: start of the function containing the instruction
 *	(hwbp_sym_where.func_start of IP_AFTER - 1)
 *
 * Return: as hwbp_sym_insn_before_buf(), or as hwbp_sym_read_code().
 */
int hwbp_sym_insn_before(struct hwbp_sym_ctx *ctx, uint64_t func_start, uint64_t ip_after,
			 struct hwbp_sym_insn *out);

/*
 * hwbp_sym_insn_at() - decode the instruction at ADDR, reading through CTX
 *
 * Return: as hwbp_sym_insn_decode(), or as hwbp_sym_read_code().
 */
int hwbp_sym_insn_at(struct hwbp_sym_ctx *ctx, uint64_t addr, struct hwbp_sym_insn *out);

/*
 * hwbp_sym_insn_ea() - effective address of memory operand I of INSN
 * @regs: register file (perf numbering) at the time of the access, NREGS
 *	entries; for a pc-relative operand the PC is taken from INSN
 *
 * For arm64 post-indexed forms give the registers before the access.
 *
 * Return: 0, -EINVAL if I is not an operand or a register is out of
 * NREGS, -EOPNOTSUPP for an fs:/gs: segment override.
 */
int hwbp_sym_insn_ea(const struct hwbp_sym_insn *insn, unsigned int i, const uint64_t *regs,
		     unsigned int nregs, uint64_t *ea);

/*
 * hwbp_sym_insn_value() - the value a store wrote, from the registers
 * @regs: register file after the access (perf numbering), NREGS entries
 *
 * Return: 0 and *VALUE (truncated to the memory operand's size), or
 * -ENODATA when INSN is not a store whose value is known (value_src is
 * HWBP_SYM_VALUE_UNKNOWN), -EINVAL if the register is out of NREGS.
 */
int hwbp_sym_insn_value(const struct hwbp_sym_insn *insn, const uint64_t *regs,
			unsigned int nregs, uint64_t *value);

/*
 * hwbp_sym_guard_decode() - libhwbp's guard decoder hook (hwbp_decode_fn,
 * struct hwbp_session_opts.decode): what the instruction at IP did at
 * FAULT_ADDR
 * @code, @len: its bytes (maybe more than one instruction)
 * @regs, @nr_regs: the faulting thread's registers, perf numbering
 * @out: written only as far as out->sz covers
 * @arg: a const enum hwbp_arch * naming the target's architecture, or
 *	NULL for the host's
 *
 * Picks the memory operand whose range holds FAULT_ADDR (an fs:/gs:
 * operand, whose address the registers do not give, only when it is the
 * only one: then @addr is FAULT_ADDR). @store is set, with @value, only
 * for a plain store (struct hwbp_sym_insn.plain) of 1 to 8 bytes whose
 * address was computed. Example, x86-64: "mov qword [rip+0x1000], rax" at
 * 0x1000 faulting at 0x2007: len 7, w, addr 0x2007, size 8, store, value
 * rax.
 *
 * Return: 0; -ENOENT when no memory operand holds FAULT_ADDR; -ENODATA
 * when that operand's size is not known; -EINVAL for bad bytes or input;
 * -EOPNOTSUPP for an architecture without a decoder (LoongArch) or a
 * build without Capstone.
 */
int hwbp_sym_guard_decode(const void *code, size_t len, uint64_t ip, const uint64_t *regs,
			  unsigned int nr_regs, uint64_t fault_addr, struct hwbp_insn *out,
			  void *arg);

/* ------------------------------------------------------------------------
 * Backtraces
 * ------------------------------------------------------------------------ */

/*
 * hwbp_sym_unwind() - DWARF-unwind a sampled user stack (x86-64)
 * @regs: user registers at the sample, perf numbering, HWBP_SYM_X86_64_NREGS
 *	entries (IP, SP and BP must be right; others help CFI when known)
 * @stack, @stack_size: copy of the user stack from address SP upwards
 *	(perf's PERF_SAMPLE_STACK_USER dump)
 * @ips: receives up to MAX return addresses, innermost first, starting
 *	with regs[IP]. Entries after the first are return addresses; look
 *	them up at ip - 1.
 * @n: number written
 *
 * Memory outside the stack copy is read from the modules' ELF files only.
 * Unwinding stops quietly at the end of the copy or of the CFI.
 *
 * Return: 0 (*N >= 1), -EOPNOTSUPP for a context that is not x86-64,
 * -EINVAL for bad input.
 */
int hwbp_sym_unwind(struct hwbp_sym_ctx *ctx, const uint64_t *regs, const void *stack,
		    size_t stack_size, uint64_t sp, uint64_t *ips, unsigned int max,
		    unsigned int *n);

#endif /* HWBP_SYM_SYM_H */

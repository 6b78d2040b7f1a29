// SPDX-License-Identifier: MIT
/*
 * nosym.c - the sym.h API for builds without elfutils and Capstone
 * (WITH_SYM=0, e.g. cross builds): everything returns -EOPNOTSUPP
 */
#include <errno.h>
#include <stdio.h>

#include "sym/sym.h"

/* See sym.h. */
int hwbp_sym_open_pid(pid_t pid, struct hwbp_sym_ctx **out)
{
	(void)pid;
	(void)out;
	return -EOPNOTSUPP;
}

/* See sym.h. */
int hwbp_sym_open_file(const char *path, uint64_t bias, struct hwbp_sym_ctx **out)
{
	(void)path;
	(void)bias;
	(void)out;
	return -EOPNOTSUPP;
}

/* See sym.h. */
int hwbp_sym_refresh(struct hwbp_sym_ctx *ctx)
{
	(void)ctx;
	return -EOPNOTSUPP;
}

/* See sym.h. */
void hwbp_sym_close(struct hwbp_sym_ctx *ctx)
{
	(void)ctx;
}

/* See sym.h. */
enum hwbp_arch hwbp_sym_arch(const struct hwbp_sym_ctx *ctx)
{
	(void)ctx;
	return HWBP_ARCH_NONE;
}

/* See sym.h. */
int hwbp_sym_resolve(struct hwbp_sym_ctx *ctx, const struct cli_loc *loc, struct hwbp_sym_loc *out,
		     char *why, size_t why_len)
{
	(void)ctx;
	(void)loc;
	(void)out;
	if (why && why_len)
		snprintf(why, why_len, "built without symbol support");
	return -EOPNOTSUPP;
}

/* See sym.h. */
void hwbp_sym_defer_types(struct hwbp_sym_ctx *ctx, bool defer)
{
	(void)ctx;
	(void)defer;
}

/* See sym.h. */
int hwbp_sym_loc_type(struct hwbp_sym_ctx *ctx, struct hwbp_sym_loc *loc)
{
	(void)ctx;
	return loc ? 0 : -EINVAL;
}

/* See sym.h. */
int hwbp_sym_suggest(struct hwbp_sym_ctx *ctx, const struct cli_loc *loc, char *buf, size_t len)
{
	(void)ctx;
	(void)loc;
	if (buf && len)
		buf[0] = '\0';
	return -EOPNOTSUPP;
}

/* See sym.h. */
int hwbp_sym_addr_info(struct hwbp_sym_ctx *ctx, uint64_t ip, struct hwbp_sym_where *out)
{
	(void)ctx;
	(void)ip;
	(void)out;
	return -EOPNOTSUPP;
}

/* See sym.h. */
int hwbp_sym_read_code(struct hwbp_sym_ctx *ctx, uint64_t addr, void *buf, size_t len)
{
	(void)ctx;
	(void)addr;
	(void)buf;
	(void)len;
	return -EOPNOTSUPP;
}

/* See sym.h. */
int hwbp_sym_insn_decode(enum hwbp_arch arch, const void *code, size_t len, uint64_t addr,
			 struct hwbp_sym_insn *out)
{
	(void)arch;
	(void)code;
	(void)len;
	(void)addr;
	(void)out;
	return -EOPNOTSUPP;
}

/* See sym.h. */
int hwbp_sym_insn_before_buf(enum hwbp_arch arch, const void *code, size_t len, uint64_t start,
			     uint64_t ip_after, struct hwbp_sym_insn *out)
{
	(void)arch;
	(void)code;
	(void)len;
	(void)start;
	(void)ip_after;
	(void)out;
	return -EOPNOTSUPP;
}

/* See sym.h. */
int hwbp_sym_insn_before(struct hwbp_sym_ctx *ctx, uint64_t func_start, uint64_t ip_after,
			 struct hwbp_sym_insn *out)
{
	(void)ctx;
	(void)func_start;
	(void)ip_after;
	(void)out;
	return -EOPNOTSUPP;
}

/* See sym.h. */
int hwbp_sym_insn_at(struct hwbp_sym_ctx *ctx, uint64_t addr, struct hwbp_sym_insn *out)
{
	(void)ctx;
	(void)addr;
	(void)out;
	return -EOPNOTSUPP;
}

/* See sym.h. */
int hwbp_sym_insn_ea(const struct hwbp_sym_insn *insn, unsigned int i, const uint64_t *regs,
		     unsigned int nregs, uint64_t *ea)
{
	(void)insn;
	(void)i;
	(void)regs;
	(void)nregs;
	(void)ea;
	return -EOPNOTSUPP;
}

/* See sym.h. */
int hwbp_sym_insn_value(const struct hwbp_sym_insn *insn, const uint64_t *regs,
			unsigned int nregs, uint64_t *value)
{
	(void)insn;
	(void)regs;
	(void)nregs;
	(void)value;
	return -EOPNOTSUPP;
}

/* See sym.h. */
int hwbp_sym_guard_decode(const void *code, size_t len, uint64_t ip, const uint64_t *regs,
			  unsigned int nr_regs, uint64_t fault_addr, struct hwbp_insn *out,
			  void *arg)
{
	(void)code;
	(void)len;
	(void)ip;
	(void)regs;
	(void)nr_regs;
	(void)fault_addr;
	(void)out;
	(void)arg;
	return -EOPNOTSUPP;
}

/* See sym.h. */
int hwbp_sym_unwind(struct hwbp_sym_ctx *ctx, const uint64_t *regs, const void *stack,
		    size_t stack_size, uint64_t sp, uint64_t *ips, unsigned int max,
		    unsigned int *n)
{
	(void)ctx;
	(void)regs;
	(void)stack;
	(void)stack_size;
	(void)sp;
	(void)ips;
	(void)max;
	(void)n;
	return -EOPNOTSUPP;
}

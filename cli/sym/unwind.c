// SPDX-License-Identifier: MIT
/*
 * unwind.c - backtraces: the sampled user registers and stack of a hit
 * unwound through libdwfl's DWARF CFI
 */
#include <errno.h>
#include <gelf.h>

#include "sym/dwfl_int.h"

/* ------------------------------------------------------------------------
 * Unwinding
 * ------------------------------------------------------------------------ */

static pid_t uw_next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	struct hwbp_sym_ctx *ctx = arg;

	(void)dwfl;
	if (!ctx->uw || ctx->uw->thread_given)
		return 0;
	ctx->uw->thread_given = true;
	*thread_argp = ctx;
	return ctx->pid ? ctx->pid : 1;
}

static bool uw_get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	(void)dwfl;
	(void)tid;
	*thread_argp = arg;
	return true;
}

static bool uw_memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct hwbp_sym_ctx *ctx = arg;
	struct unwind_state *uw = ctx->uw;
	uint64_t v;

	(void)dwfl;
	if (!uw)
		return false;
	if (addr >= uw->sp && addr - uw->sp < uw->stack_size &&
	    uw->stack_size - (addr - uw->sp) >= sizeof(v)) {
		memcpy(&v, uw->stack + (addr - uw->sp), sizeof(v));
		*result = v;
		return true;
	}
	/* Outside the stack copy: only what the files hold (e.g. a .rodata constant). */
	{
		Dwfl_Module *mod = dwfl_addrmodule(ctx->dwfl, addr);

		if (mod && hwbp_sym_read_elf(mod, addr, &v, sizeof(v)) == 0) {
			*result = v;
			return true;
		}
	}
	return false;
}

/* perf x86 register numbers in DWARF order: rax rdx rcx rbx rsi rdi rbp rsp r8-r15 rip. */
static const unsigned char x86_dwarf_to_perf[17] = {
	0, 3, 2, 1, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23, 8,
};

static bool uw_set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	struct hwbp_sym_ctx *ctx = arg;
	Dwarf_Word dw[17];
	unsigned int i;

	if (!ctx->uw)
		return false;
	for (i = 0; i < 17; i++)
		dw[i] = ctx->uw->regs[x86_dwarf_to_perf[i]];
	return dwfl_thread_state_registers(thread, 0, 17, dw);
}

static const Dwfl_Thread_Callbacks uw_callbacks = {
	.next_thread = uw_next_thread,
	.get_thread = uw_get_thread,
	.memory_read = uw_memory_read,
	.set_initial_registers = uw_set_initial_registers,
};

static int uw_frame(Dwfl_Frame *frame, void *arg)
{
	struct unwind_state *uw = arg;
	Dwarf_Addr pc;

	if (!dwfl_frame_pc(frame, &pc, NULL))
		return DWARF_CB_ABORT;
	if (uw->n >= uw->max)
		return DWARF_CB_ABORT;
	uw->ips[uw->n++] = pc;
	return uw->n < uw->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

/* See sym.h. */
int hwbp_sym_unwind(struct hwbp_sym_ctx *ctx, const uint64_t *regs, const void *stack,
		    size_t stack_size, uint64_t sp, uint64_t *ips, unsigned int max,
		    unsigned int *n)
{
	struct unwind_state uw;

	if (!ctx || !regs || (!stack && stack_size) || !ips || !max || !n)
		return -EINVAL;
	if (ctx->arch != HWBP_ARCH_X86_64)
		return -EOPNOTSUPP;
	memset(&uw, 0, sizeof(uw));
	uw.regs = regs;
	uw.stack = stack;
	uw.stack_size = stack_size;
	uw.sp = sp;
	uw.ips = ips;
	uw.max = max;
	ctx->uw = &uw;
	if (!ctx->attached) {
		Elf *elf = NULL;
		GElf_Addr bias;

		if (ctx->nmods)
			elf = dwfl_module_getelf(ctx->mods[0], &bias);
		if (!dwfl_attach_state(ctx->dwfl, elf, ctx->pid ? ctx->pid : 1, &uw_callbacks,
				       ctx)) {
			ctx->uw = NULL;
			return -EOPNOTSUPP;
		}
		ctx->attached = true;
	}
	/* Stops with an error at the outermost frame or at a gap in the copy: not a failure. */
	dwfl_getthread_frames(ctx->dwfl, ctx->pid ? ctx->pid : 1, uw_frame, &uw);
	ctx->uw = NULL;
	if (uw.n == 0) {
		ips[0] = regs[8];
		uw.n = 1;
	}
	*n = uw.n;
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * hwdebug.h - the kernel's ptrace ABI for debug registers on arm64 and
 * LoongArch (ARCH.md 2.4, 3.4), and the regset images the ptrace backend
 * writes, built on any host so that tests can check them everywhere
 */
#ifndef HWBP_BACKEND_HWDEBUG_H
#define HWBP_BACKEND_HWDEBUG_H

#include <stddef.h>
#include <stdint.h>

#include <hwbp/hwbp.h>

#ifndef NT_ARM_HW_WATCH
#define NT_ARM_HW_BREAK 0x402
#define NT_ARM_HW_WATCH 0x403
#endif
#ifndef NT_LOONGARCH_HW_WATCH
#define NT_LOONGARCH_HW_BREAK 0xa05
#define NT_LOONGARCH_HW_WATCH 0xa06
#endif
#ifndef TRAP_HWBKPT
#define TRAP_HWBKPT 4 /* the loong64 glibc headers lack it; the kernel's value */
#endif

/* arm64: struct user_hwdebug_state */
struct hwdebug_arm64 {
	uint32_t dbg_info;	/* 7:0 slots, 15:8 debug architecture */
	uint32_t pad;
	struct {
		uint64_t addr;
		uint32_t ctrl;
		uint32_t pad;
	} regs[16];
};

/* LoongArch: struct user_watch_state_v2 (the 8-slot layout is its prefix) */
struct hwdebug_loongarch {
	uint64_t dbg_info;	/* 7:0 slots */
	struct {
		uint64_t addr;
		uint64_t mask;
		uint32_t ctrl;
		uint32_t pad;
	} regs[14];
};

#if defined(__aarch64__)
#define HWDEBUG_NT_WATCH NT_ARM_HW_WATCH
#define HWDEBUG_NT_BREAK NT_ARM_HW_BREAK
#define hwdebug_state hwdebug_arm64
#elif defined(__loongarch64)
#define HWDEBUG_NT_WATCH NT_LOONGARCH_HW_WATCH
#define HWDEBUG_NT_BREAK NT_LOONGARCH_HW_BREAK
#define hwdebug_state hwdebug_loongarch
#endif

/*
 * hwdebug_image() - the regset image that arms REGS' slots of TYPE on
 * ARCH (arm64 or LoongArch): one entry per hardware slot, N of them (the
 * count dbg_info gives; writing more makes the kernel reserve slots the
 * CPU lacks), unused entries zero.
 * @out, @outsz: room for the image (a struct hwdebug_arm64 or
 *               hwdebug_loongarch)
 * Return: the bytes to hand to PTRACE_SETREGSET (iov_len); -EINVAL for
 * another arch, N too large or OUTSZ too small.
 */
long hwdebug_image(enum hwbp_arch arch, const struct hwbp_regs *regs, enum hwbp_slot_type type,
		   unsigned int n, void *out, size_t outsz);

/*
 * hwdebug_parse() - the inverse: set REGS' registers of TYPE from an
 * image of LEN bytes (what PTRACE_GETREGSET gives, or what the backend
 * would write). Return: 0; -EINVAL for another arch or a short image.
 */
int hwdebug_parse(enum hwbp_arch arch, const void *image, size_t len, enum hwbp_slot_type type,
		  struct hwbp_regs *regs);

#endif /* HWBP_BACKEND_HWDEBUG_H */

/* SPDX-License-Identifier: MIT */
/*
 * hwdebug.h - the kernel's ptrace ABI for debug registers on arm64 and
 * LoongArch (ARCH.md 2.4, 3.4), for the libc headers that lack it
 */
#ifndef HWBP_BACKEND_HWDEBUG_H
#define HWBP_BACKEND_HWDEBUG_H

#include <stdint.h>

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

#if defined(__aarch64__)
#define HWDEBUG_NT_WATCH NT_ARM_HW_WATCH
#define HWDEBUG_NT_BREAK NT_ARM_HW_BREAK
/* struct user_hwdebug_state */
struct hwdebug_state {
	uint32_t dbg_info;	/* 7:0 slots, 15:8 debug architecture */
	uint32_t pad;
	struct {
		uint64_t addr;
		uint32_t ctrl;
		uint32_t pad;
	} regs[16];
};
#elif defined(__loongarch64)
#define HWDEBUG_NT_WATCH NT_LOONGARCH_HW_WATCH
#define HWDEBUG_NT_BREAK NT_LOONGARCH_HW_BREAK
/* struct user_watch_state_v2 (the 8-slot layout is its prefix) */
struct hwdebug_state {
	uint64_t dbg_info;	/* 7:0 slots */
	struct {
		uint64_t addr;
		uint64_t mask;
		uint32_t ctrl;
		uint32_t pad;
	} regs[14];
};
#endif

#endif /* HWBP_BACKEND_HWDEBUG_H */

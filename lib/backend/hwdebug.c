// SPDX-License-Identifier: MIT
/*
 * hwdebug.c - regset images of arm64 and LoongArch debug registers
 *
 * The arch layer names every register (wvrN/wcrN/bvrN/bcrN on arm64,
 * dbNaddr/dbNmask/dbNctrl and ibN... on LoongArch); the kernel takes them
 * as arrays of entries after a dbg_info word. These two functions turn one
 * into the other, on any host: the ptrace backend writes what
 * hwdebug_image() builds, and the unit tests read it back with
 * hwdebug_parse() and run the arch layer's hit model over it.
 */
#include "backend/hwdebug.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Register names of slot I: arm64 "wvr3"/"wcr3", LoongArch "db3addr"... */
static void names(enum hwbp_arch arch, enum hwbp_slot_type type, unsigned int i, char *a,
		  char *m, char *c, size_t len)
{
	bool w = type == HWBP_SLOT_WATCH;

	if (arch == HWBP_ARCH_ARM64) {
		snprintf(a, len, "%cvr%u", w ? 'w' : 'b', i);
		snprintf(c, len, "%ccr%u", w ? 'w' : 'b', i);
		m[0] = '\0';
	} else {
		snprintf(a, len, "%s%uaddr", w ? "db" : "ib", i);
		snprintf(m, len, "%s%umask", w ? "db" : "ib", i);
		snprintf(c, len, "%s%uctrl", w ? "db" : "ib", i);
	}
}

static uint64_t get(const struct hwbp_regs *r, const char *name)
{
	uint64_t v = 0;

	if (name[0])
		hwbp_regs_get(r, name, &v);
	return v;
}

/* See hwdebug.h. */
long hwdebug_image(enum hwbp_arch arch, const struct hwbp_regs *regs, enum hwbp_slot_type type,
		   unsigned int n, void *out, size_t outsz)
{
	char a[16], m[16], c[16];

	if (arch == HWBP_ARCH_ARM64) {
		struct hwdebug_arm64 *d = out;

		if (outsz < sizeof(*d) || n > 16)
			return -EINVAL;
		memset(d, 0, sizeof(*d));
		for (unsigned int i = 0; i < n; i++) {
			names(arch, type, i, a, m, c, sizeof(a));
			d->regs[i].addr = get(regs, a);
			d->regs[i].ctrl = (uint32_t)get(regs, c);
		}
		return (long)(offsetof(struct hwdebug_arm64, regs) + n * sizeof(d->regs[0]));
	}
	if (arch == HWBP_ARCH_LOONGARCH64) {
		struct hwdebug_loongarch *d = out;

		if (outsz < sizeof(*d) || n > 14)
			return -EINVAL;
		memset(d, 0, sizeof(*d));
		for (unsigned int i = 0; i < n; i++) {
			names(arch, type, i, a, m, c, sizeof(a));
			d->regs[i].addr = get(regs, a);
			d->regs[i].mask = get(regs, m);
			d->regs[i].ctrl = (uint32_t)get(regs, c);
		}
		return (long)(offsetof(struct hwdebug_loongarch, regs) + n * sizeof(d->regs[0]));
	}
	return -EINVAL;
}

/* See hwdebug.h. */
int hwdebug_parse(enum hwbp_arch arch, const void *image, size_t len, enum hwbp_slot_type type,
		  struct hwbp_regs *regs)
{
	char a[16], m[16], c[16];

	if (arch == HWBP_ARCH_ARM64) {
		const struct hwdebug_arm64 *d = image;
		size_t hdr = offsetof(struct hwdebug_arm64, regs);

		if (len < hdr)
			return -EINVAL;
		for (unsigned int i = 0; i < 16 && hdr + (i + 1) * sizeof(d->regs[0]) <= len; i++) {
			names(arch, type, i, a, m, c, sizeof(a));
			hwbp_regs_set(regs, a, d->regs[i].addr);
			hwbp_regs_set(regs, c, d->regs[i].ctrl);
		}
		return 0;
	}
	if (arch == HWBP_ARCH_LOONGARCH64) {
		const struct hwdebug_loongarch *d = image;
		size_t hdr = offsetof(struct hwdebug_loongarch, regs);

		if (len < hdr)
			return -EINVAL;
		for (unsigned int i = 0; i < 14 && hdr + (i + 1) * sizeof(d->regs[0]) <= len; i++) {
			names(arch, type, i, a, m, c, sizeof(a));
			hwbp_regs_set(regs, a, d->regs[i].addr);
			hwbp_regs_set(regs, m, d->regs[i].mask);
			hwbp_regs_set(regs, c, d->regs[i].ctrl);
		}
		return 0;
	}
	return -EINVAL;
}

// SPDX-License-Identifier: MIT
/*
 * host_probe - hwbp_host_probe() on this machine: the slot counts the kernel
 * reports and both backends armed for real in a throwaway child (TAP).
 */
#include <hwbp/hwbp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int n, failed;

static void check(int cond, const char *what, const char *detail)
{
	n++;
	failed += !cond;
	printf("%sok %d - %s%s%s\n", cond ? "" : "not ", n, what, detail ? ": " : "",
	       detail ? detail : "");
}

/* A backend that does not work: a failure under HWBP_REQUIRE_HW=1 or as
 * root (who may use both everywhere), else a skip with the reason. */
static void backend(const char *name, const struct hwbp_backend_status *st, int must)
{
	char what[64];

	snprintf(what, sizeof(what), "%s backend arms a real watchpoint", name);
	if (st->usable || must) {
		check(st->usable, what, st->usable ? NULL : st->reason);
		return;
	}
	n++;
	printf("ok %d - %s # SKIP %s\n", n, what, st->reason);
}

int main(void)
{
	HWBP_OPTS(hwbp_host_info, hi);
	const char *req = getenv("HWBP_REQUIRE_HW");
	int must = (req && !strcmp(req, "1")) || geteuid() == 0;
	char detail[128];

	alarm(60);
	check(hwbp_host_probe(&hi) == 0, "hwbp_host_probe() returns 0", NULL);
	check(hi.arch == hwbp_arch_host() && hi.arch != HWBP_ARCH_NONE, "host arch is known",
	      hwbp_arch_name(hi.arch));
	snprintf(detail, sizeof(detail), "%d watch, %d break, from %s", hi.nwatch, hi.nbreak,
		 hi.slots_from);
	switch (hi.arch) {
	case HWBP_ARCH_X86_64:
		/* Counted by opening breakpoints until the kernel says ENOSPC;
		 * only without perf does the library fall back to DR0-DR3. */
		if (hi.perf.usable)
			check(!strcmp(hi.slots_from, "perf") && hi.nwatch == 4 && hi.nbreak == 4 &&
				      hi.shared_slots,
			      "x86-64: the kernel takes 4 breakpoints, shared", detail);
		else
			check(!strcmp(hi.slots_from, "architecture") && hi.shared_slots,
			      "x86-64 without perf: slots not counted, said so", detail);
		break;
	case HWBP_ARCH_ARM64:
	case HWBP_ARCH_LOONGARCH64:
		/* Read from the regsets' dbg_info, never assumed: QEMU's
		 * -cpu max has 4 and 6, real cores vary. */
		check(!strcmp(hi.slots_from, "dbg_info") && hi.nwatch >= 1 && hi.nbreak >= 1 &&
			      !hi.shared_slots,
		      "slot counts come from dbg_info", detail);
		break;
	default:
		check(0, "known architecture", NULL);
	}
	if (hi.arch == HWBP_ARCH_ARM64)
		check(hi.debug_arch >= 6, "arm64 debug architecture is v8.0 or later", NULL);
	check(hi.perf_event_paranoid > -100, "perf_event_paranoid is read", NULL);
	backend("perf", &hi.perf, must);
	backend("ptrace", &hi.ptrace, must);
	/* The runner gives this program only a machine that delivers debug
	 * exceptions: the check must say so, through the backend that works. */
	if (hi.perf.usable || hi.ptrace.usable || must) {
		struct hwbp_debug_check dc;

		check(hwbp_host_debug_check(HWBP_BACKEND_AUTO, &dc) == 0 &&
			      !memcmp(&dc, &hi.debug, sizeof(dc)),
		      "hwbp_host_probe()'s verdict is hwbp_host_debug_check()'s", NULL);
		check(hi.debug.delivered == HWBP_DEBUG_DELIVERED &&
			      hi.debug.via == (hi.perf.usable ? HWBP_BACKEND_PERF : HWBP_BACKEND_PTRACE),
		      "debug exceptions are delivered", hi.debug.reason);
	}
	printf("1..%d\n", n);
	return failed ? 1 : 0;
}

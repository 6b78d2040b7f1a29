// SPDX-License-Identifier: MIT
/*
 * perfopen.c - can this process open a perf breakpoint on itself?
 *
 *   perfopen        prints "ok" and exits 0, or prints the errno's name
 *                   ("EACCES", "EPERM", else the number and its text)
 *                   and exits 1
 *
 * The same request hwbp's perf backend makes first: a write watchpoint on
 * one of our own words, user space only.
 */
#include <errno.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile uint64_t word;

int main(void)
{
	struct perf_event_attr a;
	long fd;
	int err;

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_BREAKPOINT;
	a.size = sizeof(a);
	a.bp_type = HW_BREAKPOINT_W;
	a.bp_addr = (uint64_t)(uintptr_t)&word;
	a.bp_len = HW_BREAKPOINT_LEN_8;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	fd = syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd >= 0) {
		close((int)fd);
		puts("ok");
		return 0;
	}
	err = errno;
	if (err == EACCES)
		puts("EACCES");
	else if (err == EPERM)
		puts("EPERM");
	else
		printf("%d %s\n", err, strerror(err));
	return 1;
}

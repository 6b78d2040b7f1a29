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

#include "rawbp.h"

static volatile uint64_t word;

int main(void)
{
	long fd;
	int err;

	fd = rawbp_open(&word);
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

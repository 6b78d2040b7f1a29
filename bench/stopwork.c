// SPDX-License-Identifier: MIT
/*
 * stopwork.c - the workload ptrace_floor runs under hwbp: N writes to one
 * global word, named so that a watch spec can use the symbol
 *
 *   stopwork N          hwbp watch w:stopwork_var -- stopwork N
 */
#include <stdint.h>
#include <stdlib.h>

volatile uint64_t stopwork_var __attribute__((aligned(8)));

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 100000;

	for (unsigned long i = 0; i < n; i++)
		stopwork_var = i;
	return 0;
}

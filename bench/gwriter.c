// SPDX-License-Identifier: MIT
/*
 * gwriter.c - the workload of bench/guard: a watched word written N times,
 * with unrelated work between the writes, as a program under a software
 * watchpoint mostly runs code that never touches the watched page
 *
 *   gwriter N [K [M [S]]]
 *
 * S getppid(2) calls after each write (default 0) measure what a guarded
 * process pays at each system call.
 *
 * N writes of the global 8-byte `watched`, the values 1 to N (each one
 * changes it: a debugger's software watchpoint compares values), alone on
 * its page with one other word, `neighbour`. After each write: M writes of
 * `neighbour` (default 0), on the same page as `watched` but outside it
 * (false sharing: under page protection every one is a fault, stepped over
 * unreported), then K rounds of the hot loop (default 1000) over `hot[]`,
 * which sits on another page. On x86-64 the hot loop is three instructions
 * a round (add to memory, decrement, branch), so K = 1000 puts 3,010
 * instructions from one write to the next (counted by single-stepping);
 * elsewhere it is a C loop of about as many.
 *
 * The two words fill a page of their own with padding, laid out in assembly
 * (as a C compiler may order variables as it likes), each an 8-byte ELF
 * symbol that hwbp and gdb find with its C declaration below. The program
 * checks at start that both are on one page and that hot[] is not, and
 * exits 2 if not.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE 4096

__asm__(".pushsection .bss.gwatched, \"aw\", %nobits\n"
	".balign 4096\n"
	".globl watched\n"
	".type watched, %object\n"
	".size watched, 8\n"
	"watched:\n"
	".zero 8\n"
	".globl neighbour\n"
	".type neighbour, %object\n"
	".size neighbour, 8\n"
	"neighbour:\n"
	".zero 8\n"
	".zero 4096 - 16\n" /* the rest of the page: nothing else lands on it */
	".popsection\n");
extern volatile uint64_t watched, neighbour;

volatile uint64_t hot[64] __attribute__((aligned(PAGE)));

static void hot_loop(unsigned long k)
{
#if defined(__x86_64__)
	if (k)
		__asm__ volatile("1:\n\t"
				 "addq %0, (%1)\n\t"
				 "decq %0\n\t"
				 "jnz 1b"
				 : "+r"(k)
				 : "r"(hot)
				 : "memory", "cc");
#else
	for (unsigned long j = 0; j < k; j++)
		hot[j & 63] += j;
#endif
}

static uintptr_t page_of(const volatile void *p)
{
	return (uintptr_t)p & ~(uintptr_t)(PAGE - 1);
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 0;
	unsigned long k = argc > 2 ? strtoul(argv[2], NULL, 0) : 1000;
	unsigned long m = argc > 3 ? strtoul(argv[3], NULL, 0) : 0;
	unsigned long s = argc > 4 ? strtoul(argv[4], NULL, 0) : 0;

	if (page_of(&neighbour) != page_of(&watched) || page_of(&hot[0]) == page_of(&watched) ||
	    page_of(&hot[63]) == page_of(&watched)) {
		fprintf(stderr, "gwriter: bad layout: watched %p, neighbour %p, hot %p\n",
			(void *)&watched, (void *)&neighbour, (void *)hot);
		return 2;
	}
	for (unsigned long i = 0; i < n; i++) {
		watched = i + 1;
		for (unsigned long j = 0; j < m; j++)
			neighbour = j;
		for (unsigned long j = 0; j < s; j++)
			syscall(SYS_getppid);
		hot_loop(k);
	}
	return 0;
}

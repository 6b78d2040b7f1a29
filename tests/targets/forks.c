// SPDX-License-Identifier: MIT
/*
 * forks - a target whose children, and whose exec'd image, write memory a
 * known number of times
 *
 * Usage: forks [-k KIDS] [-n WRITES] [-g] [-w] [-e PROG]
 *        forks -P ADDR [-n WRITES]
 *   (default) write fvar 10 times (in parent_write), fork KIDS children
 *             (default 1), each writing fvar WRITES times (default 50, in
 *             child_write) before _exit(0); wait for each, then write fvar
 *             5 times more (parent_write)
 *   -g        each child first forks a grandchild that writes fvar WRITES
 *             times too, and waits for it
 *   -w        print "ready" and wait for one byte (or EOF) on stdin first
 *   -e PROG   instead of forking: write fvar 10 times, then exec
 *             PROG -P <address of fvar> -n WRITES -w
 *   -P ADDR   map the page of ADDR (which must be free in this image) and
 *             write the long at ADDR WRITES times (in poke_write): what a
 *             watch left over from the image before exec would see; print
 *             "poked 0xADDR WRITES"; then (with -w, after "ready" and a
 *             byte on stdin) write this image's own fvar 3 times
 *
 * It prints "fvar 0xADDR" and "parent PID" first, "child PID" (and
 * "grandchild PID") per child as it is forked, all flushed. Exit status 0
 * when every child and grandchild exited 0; else each that did not is named
 * on stderr ("forks: child PID: killed by signal 5") and the status is 1.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__clang__)
#define WRITER __attribute__((noinline, used))
#else
#define WRITER __attribute__((noinline, noipa, used))
#endif

volatile long fvar;

WRITER void parent_write(void)
{
	fvar++; /* LINE_PARENT */
}

WRITER void child_write(void)
{
	fvar += 2; /* LINE_CHILD */
}

WRITER void poke_write(volatile long *p)
{
	(*p)++; /* LINE_POKE */
}

/* Wait for PID; 0 when it exited 0, else 1 with a line naming why. */
static int reap(pid_t pid, const char *what)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			fprintf(stderr, "forks: %s %d: %s\n", what, (int)pid, strerror(errno));
			return 1;
		}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFSIGNALED(st))
		fprintf(stderr, "forks: %s %d: killed by signal %d\n", what, (int)pid,
			WTERMSIG(st));
	else
		fprintf(stderr, "forks: %s %d: exit %d\n", what, (int)pid, WEXITSTATUS(st));
	return 1;
}

static void writes(void (*fn)(void), long n)
{
	for (long i = 0; i < n; i++)
		fn();
}

static int child(long n, int grand)
{
	int bad = 0;

	if (grand) {
		pid_t g = fork();

		if (g < 0)
			return 1;
		if (g == 0) {
			writes(child_write, n);
			_exit(0);
		}
		printf("grandchild %d\n", (int)g);
		fflush(stdout);
		bad = reap(g, "grandchild");
	}
	writes(child_write, n);
	return bad;
}

static int wait_byte(void)
{
	char buf[1];

	printf("ready\n");
	fflush(stdout);
	return read(STDIN_FILENO, buf, 1) < 0;
}

static int poke(const char *arg, long n, int wait_in)
{
	char *end;
	uintptr_t addr = (uintptr_t)strtoull(arg, &end, 0);
	long pg = sysconf(_SC_PAGESIZE);
	void *page;

	if (*end || !addr) {
		fprintf(stderr, "forks: bad address '%s'\n", arg);
		return 2;
	}
	page = mmap((void *)(addr & ~(uintptr_t)(pg - 1)), (size_t)pg, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (page == MAP_FAILED) {
		fprintf(stderr, "forks: cannot map 0x%jx: %s\n", (uintmax_t)addr,
			strerror(errno));
		return 1;
	}
	for (long i = 0; i < n; i++)
		poke_write((volatile long *)addr);
	printf("poked 0x%jx %ld\n", (uintmax_t)addr, n);
	fflush(stdout);
	if (wait_in) {
		if (wait_byte())
			return 1;
		writes(parent_write, 3);
	}
	return 0;
}

int main(int argc, char **argv)
{
	long kids = 1, n = 50;
	int grand = 0, wait_in = 0, bad = 0, opt;
	const char *prog = NULL, *pokeaddr = NULL;

	while ((opt = getopt(argc, argv, "k:n:gwe:P:")) != -1) {
		switch (opt) {
		case 'k':
			kids = atol(optarg);
			break;
		case 'n':
			n = atol(optarg);
			break;
		case 'g':
			grand = 1;
			break;
		case 'w':
			wait_in = 1;
			break;
		case 'e':
			prog = optarg;
			break;
		case 'P':
			pokeaddr = optarg;
			break;
		default:
			fprintf(stderr, "usage: forks [-k KIDS] [-n WRITES] [-g] [-w] [-e PROG] | "
					"-P ADDR [-n WRITES]\n");
			return 2;
		}
	}
	if (pokeaddr)
		return poke(pokeaddr, n, wait_in);
	printf("fvar %p\nparent %d\n", (void *)&fvar, (int)getpid());
	fflush(stdout);
	if (wait_in && wait_byte())
		return 1;
	writes(parent_write, 10);
	if (prog) {
		char addr[32], count[32];

		snprintf(addr, sizeof(addr), "%p", (void *)&fvar);
		snprintf(count, sizeof(count), "%ld", n);
		execl(prog, prog, "-P", addr, "-n", count, "-w", (char *)NULL);
		fprintf(stderr, "forks: cannot exec %s: %s\n", prog, strerror(errno));
		return 1;
	}
	for (long k = 0; k < kids; k++) {
		pid_t c = fork();

		if (c < 0) {
			perror("forks: fork");
			return 1;
		}
		if (c == 0)
			_exit(child(n, grand));
		printf("child %d\n", (int)c);
		fflush(stdout);
		bad |= reap(c, "child");
	}
	writes(parent_write, 5);
	return bad;
}

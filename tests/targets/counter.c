// SPDX-License-Identifier: MIT
/*
 * counter - a target with globals of many kinds and writers that touch them
 * a known number of times
 *
 * Usage: counter [-n LOOPS] [-r WRITES] [-w] [-s] [-l LIB] [-q]
 *   -n LOOPS  run the writers LOOPS times (default 1)
 *   -r WRITES instead of the writers, write counter WRITES times in a tight
 *             loop (bump_counter), as fast as one thread can
 *   -w        wait for one byte (or EOF) on stdin after printing "ready", and
 *             with -l once more after printing "dlopen LIB"
 *   -s        stop with SIGSTOP inside nest3() <- nest2() <- nest1() <- main()
 *             before the writers run (for backtraces)
 *   -l LIB    dlopen LIB after "ready", print "dlopen LIB", and call its
 *             demo_set(7) once per loop
 *   -q        do not print addresses
 *
 * It prints "NAME 0xADDR" for each watched object, then "ready", to stdout
 * (flushed), and at the end "counter N". Each loop writes, exactly once each:
 * counter (counter++, in bump_counter), config.limit (= 42, in set_limit),
 * config.limits[2].max (= i, in set_max), config.name (strcpy-free byte
 * writes of "counter", in set_name: 8 single-byte stores), tconfig.limit
 * (++, in set_typedef), hidden (+= 3, in bump_hidden), arr[3] (= i, in
 * set_arr), grid[1][2] (= i, in set_grid), calls in count_calls() (++).
 * read_counter() only reads counter. Lines marked LINE_name are looked up
 * by tests in this file.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__clang__)
#define WRITER __attribute__((noinline, used))
#else
#define WRITER __attribute__((noinline, noipa, used))
#endif

long counter;

struct config {
	int limit;
	struct {
		int min, max;
	} limits[4];
	char name[16];
};

struct config config;

typedef struct config config_t;
config_t tconfig;

static int hidden;
int arr[8];
short grid[3][4];
unsigned char flag;
double ratio = 1.5;
int *ptr = &arr[0];

WRITER void bump_counter(void)
{
	counter++; /* LINE_BUMP */
}

WRITER long read_counter(void)
{
	return counter; /* LINE_READ */
}

WRITER void set_limit(void)
{
	config.limit = 42; /* LINE_LIMIT */
}

WRITER void set_max(int v)
{
	config.limits[2].max = v; /* LINE_MAX */
}

WRITER void set_name(void)
{
	static const char text[8] = "counter";
	volatile char *p = config.name;
	int i;

	for (i = 0; i < 8; i++)
		p[i] = text[i];
}

WRITER void set_typedef(void)
{
	tconfig.limit++;
}

WRITER void bump_hidden(void)
{
	hidden += 3;
}

WRITER void set_arr(int v)
{
	arr[3] = v;
}

WRITER void set_grid(int v)
{
	grid[1][2] = (short)v;
}

WRITER int count_calls(void)
{
	static int calls; // cppcheck-suppress unassignedVariable

	return ++calls;
}

WRITER void nest3(void)
{
	raise(SIGSTOP); /* LINE_STOP */
}

WRITER void nest2(void)
{
	nest3();
	__asm__ volatile("" ::: "memory");
}

WRITER void nest1(void)
{
	nest2();
	__asm__ volatile("" ::: "memory");
}

static int wait_byte(void)
{
	char c;

	return read(0, &c, 1) < 0;
}

int main(int argc, char **argv)
{
	void (*demo_set)(int) = NULL;
	const char *lib = NULL;
	int loops = 1, wait = 0, stop = 0, quiet = 0;
	long writes = -1;
	int i, opt;

	while ((opt = getopt(argc, argv, "n:r:wsl:q")) != -1) {
		switch (opt) {
		case 'n':
			loops = atoi(optarg);
			break;
		case 'r':
			writes = atol(optarg);
			break;
		case 'w':
			wait = 1;
			break;
		case 's':
			stop = 1;
			break;
		case 'l':
			lib = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		default:
			fprintf(stderr, "usage: counter [-n LOOPS] [-r WRITES] [-w] [-s] [-l LIB] [-q]\n");
			return 2;
		}
	}
	if (!quiet) {
		printf("counter %p\n", (void *)&counter);
		printf("config %p\n", (void *)&config);
		printf("config.limit %p\n", (void *)&config.limit);
		printf("config.limits[2].max %p\n", (void *)&config.limits[2].max);
		printf("config.name %p\n", (void *)config.name);
		printf("tconfig.limits[1].min %p\n", (void *)&tconfig.limits[1].min);
		printf("hidden %p\n", (void *)&hidden);
		printf("arr[3] %p\n", (void *)&arr[3]);
		printf("grid[1][2] %p\n", (void *)&grid[1][2]);
		printf("flag %p\n", (void *)&flag);
		printf("ratio %p\n", (void *)&ratio);
		printf("ptr %p\n", (void *)&ptr);
		printf("bump_counter %p\n", (void *)bump_counter);
		printf("set_limit %p\n", (void *)set_limit);
		printf("ready\n");
	}
	fflush(stdout);
	if (wait && wait_byte())
		return 1;
	if (lib) {
		void *h = dlopen(lib, RTLD_NOW);

		if (!h) {
			fprintf(stderr, "counter: %s\n", dlerror());
			return 1;
		}
		*(void **)&demo_set = dlsym(h, "demo_set");
		if (!quiet)
			printf("dlopen %s\n", lib);
		fflush(stdout);
		if (wait && wait_byte())
			return 1;
	}
	if (stop)
		nest1();
	for (long k = 0; k < writes; k++)
		bump_counter();
	if (writes >= 0) {
		printf("counter %ld\n", read_counter());
		return 0;
	}
	for (i = 0; i < loops; i++) {
		bump_counter();
		set_limit();
		set_max(i);
		set_name();
		set_typedef();
		bump_hidden();
		set_arr(i);
		set_grid(i);
		count_calls();
		if (demo_set)
			demo_set(7);
	}
	printf("counter %ld\n", read_counter());
	return 0;
}

/* Last in the file, so that the lines above stay where tests expect them. */
#include "../lostdb.h"

__attribute__((constructor)) static void catch_lost_db(void)
{
	lostdb_catch();
}

// SPDX-License-Identifier: MIT
/*
 * demo - the program `make demo` watches: a pretend server whose limit is
 * changed from three places, one of them a worker thread.
 *
 * Usage: demo [ROUNDS]   (default 3)
 *
 * Each round: the main thread raises config.limit in grow() and the worker
 * lowers it in shrink(); every round also bumps counter once in tick().
 * Everything is joined in order, so the writes happen in a fixed sequence.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct config {
	int port;
	int limit;
	struct {
		int min, max;
	} limits[4];
};

struct config config = { .port = 8080, .limit = 10 };
long counter;

__attribute__((noinline)) static void grow(int by)
{
	config.limit += by;
}

__attribute__((noinline)) static void *shrink(void *arg)
{
	config.limit -= (int)(long)arg;
	return NULL;
}

__attribute__((noinline)) static void tick(void)
{
	counter++;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 3;

	for (int i = 0; i < rounds; i++) {
		pthread_t t;

		grow(5);
		if (pthread_create(&t, NULL, shrink, (void *)2L) == 0)
			pthread_join(t, NULL);
		tick();
	}
	config.limits[2].max = config.limit;
	printf("demo: limit %d after %d rounds, counter %ld\n", config.limit, rounds, counter);
	return 0;
}

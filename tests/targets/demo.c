// SPDX-License-Identifier: MIT
/*
 * demo - the program `make demo` watches: a pretend server whose limit is
 * changed from three places, one of them a worker thread.
 *
 * Usage: demo [ROUNDS]   (default 3)
 *
 * First it reads a request into request[] with read(2), from a pipe it
 * wrote itself (the kernel writes those bytes, not the program). Each
 * round: the main thread raises config.limit in grow() and the worker
 * lowers it in shrink(); every round also bumps counter once in tick().
 * Everything is joined in order, so the writes happen in a fixed sequence.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct config {
	int port;
	int limit;
	struct {
		int min, max;
	} limits[4];
};

struct config config = { .port = 8080, .limit = 10 };
long counter;
char request[64];

/* The request a client sent: "GET /limit", 10 bytes read(2) into request. */
__attribute__((noinline)) static void receive(void)
{
	static const char msg[] = "GET /limit";
	int fd[2];

	if (pipe(fd))
		return;
	if (write(fd[1], msg, sizeof(msg) - 1) == (ssize_t)(sizeof(msg) - 1) &&
	    read(fd[0], request, sizeof(request) - 1) < 0)
		request[0] = '\0';
	close(fd[0]);
	close(fd[1]);
}

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

	receive();
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

// SPDX-License-Identifier: MIT
/*
 * stopper - a target for stop mode: threads, signals, fork, exec and a
 * long-running loop, each writing the global `watched` a known number of
 * times
 *
 * Usage: stopper MODE [N]
 *   values      watched = 5, 5, 8 (+= 3), -1, then 42; then the byte
 *               `small` = 1, 2
 *   threads N   N threads, thread i (1..N) writes watched i times
 *   signals     handlers for SIGUSR1 and SIGTRAP; 4 writes with 3 raise(SIGUSR1)
 *               and 2 raise(SIGTRAP) between them; exit 0 only if every
 *               signal reached its handler (else 3)
 *   fork N      a child writes watched N times, the parent N times too;
 *               exit with the child's status (0)
 *   exec N      write N times, then exec itself as "stopper write N"
 *   write N     write N times
 *   loop        print "ready", then write once per millisecond until SIGTERM
 *               or SIGUSR2; exit 0 (it must survive a detach)
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__clang__)
#define WRITER __attribute__((noinline, used))
#else
#define WRITER __attribute__((noinline, noipa, used))
#endif

volatile int watched;
volatile unsigned char small;

static volatile sig_atomic_t usr1, trap, done;

WRITER void set_watched(int v)
{
	watched = v;	/* LINE_set */
}

WRITER void add_watched(int v)
{
	watched += v;
}

static void writes(long n)
{
	for (long i = 0; i < n; i++)
		set_watched((int)i);
}

static void *thread_main(void *arg)
{
	writes((long)(intptr_t)arg);
	return NULL;
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		usr1++;
	else if (sig == SIGTRAP)
		trap++;
	else
		done = 1;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	long n = argc > 2 ? strtol(argv[2], NULL, 0) : 1;

	if (!strcmp(mode, "values")) {
		set_watched(5);
		set_watched(5);
		add_watched(3);
		set_watched(-1);
		set_watched(42);
		small = 1;
		small = 2;
		return 0;
	}
	if (!strcmp(mode, "threads")) {
		pthread_t t[64];

		if (n > 64)
			n = 64;
		for (long i = 0; i < n; i++)
			if (pthread_create(&t[i], NULL, thread_main, (void *)(intptr_t)(i + 1)))
				return 4;
		for (long i = 0; i < n; i++)
			pthread_join(t[i], NULL);
		return 0;
	}
	if (!strcmp(mode, "signals")) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigaction(SIGUSR1, &sa, NULL);
		sigaction(SIGTRAP, &sa, NULL);
		set_watched(1);
		raise(SIGUSR1);
		raise(SIGTRAP);
		set_watched(2);
		raise(SIGUSR1);
		set_watched(3);
		raise(SIGTRAP);
		raise(SIGUSR1);
		set_watched(4);
		printf("usr1 %d trap %d\n", (int)usr1, (int)trap);
		return usr1 == 3 && trap == 2 ? 0 : 3;
	}
	if (!strcmp(mode, "fork")) {
		int status;
		pid_t pid = fork();

		if (pid < 0)
			return 4;
		if (pid == 0) {
			writes(n);
			_exit(0);
		}
		writes(n);
		if (waitpid(pid, &status, 0) != pid)
			return 4;
		return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	}
	if (!strcmp(mode, "exec")) {
		char num[32];

		writes(n);
		snprintf(num, sizeof(num), "%ld", n);
		execl("/proc/self/exe", argv[0], "write", num, (char *)NULL);
		return 4;
	}
	if (!strcmp(mode, "write")) {
		writes(n);
		return 0;
	}
	if (!strcmp(mode, "loop")) {
		struct sigaction sa;
		struct timespec ms = { 0, 1000000 };

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGUSR2, &sa, NULL);
		printf("ready\n");
		fflush(stdout);
		for (int i = 0; !done; i++) {
			set_watched(i);
			nanosleep(&ms, NULL);
		}
		return 0;
	}
	fprintf(stderr, "usage: stopper values|threads N|signals|fork N|exec N|write N|loop\n");
	return 2;
}

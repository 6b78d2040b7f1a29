// SPDX-License-Identifier: MIT
/*
 * hitcost.c - what one hit costs in each delivery mode, against the floor
 *
 * The workload: one thread writes a watched word N times in a loop. Each
 * mode runs the same loop; the per-hit cost is (time with the watch - time
 * without) / N. The floor is a bare perf breakpoint in counting mode opened
 * directly with perf_event_open(2): one debug exception per hit and nothing
 * else. Modes run interleaved for ROUNDS rounds and the median is kept, so
 * that drift on the machine hits all of them alike.
 *
 *   hitcost [N [ROUNDS]]       default N = 100000, ROUNDS = 5
 */
#include <errno.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <hwbp/hwbp.h>

static volatile uint64_t word __attribute__((aligned(8)));

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t run_loop(unsigned long n)
{
	uint64_t t0 = now_ns();

	for (unsigned long i = 0; i < n; i++)
		word = i;
	return now_ns() - t0;
}

enum mode {
	M_NONE, M_FLOOR, M_FLOOR_SIG, M_COUNT, M_STREAM, M_STREAM_REGS, M_STREAM_CC, M_SIGNAL,
	M_NMODES
};

/*
 * floor-sigtrap is the kernel's own price of a synchronous signal: the same
 * bare breakpoint with sigtrap=1 and an empty SA_SIGINFO handler, no hwbp.
 */
static const char *const mode_name[] = {
	"none", "floor", "floor-sigtrap", "count", "stream", "stream+regs", "stream+callchain",
	"signal",
};

/* Goals: the ceilings over the floor (0: none). */
static const double goal[] = { 0, 1.0, 0, 1.02, 1.15, 0, 1.25, 1.35 };

#ifndef TRAP_PERF
#define TRAP_PERF 6
#endif

static volatile unsigned long raw_sigs;

/*
 * Debug exceptions the machine lost: some hypervisors deliver a data
 * breakpoint's #DB with DR6 empty, which Linux takes for an icebp and turns
 * into a SIGTRAP (si_code TRAP_BRKPT) instead of a hit. Counted here, apart
 * from the hits, rather than killing the run.
 */
static volatile unsigned long dropped;

static void dropped_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	dropped++;
}

static void raw_handler(int sig, siginfo_t *si, void *uc)
{
	if (si->si_code != TRAP_PERF) {
		dropped_handler(sig, si, uc);
		return;
	}
	raw_sigs++;
}

static atomic_ulong sig_hits;

static void on_signal(const struct hwbp_hit *hit, void *arg)
{
	(void)hit;
	(void)arg;
	atomic_fetch_add_explicit(&sig_hits, 1, memory_order_relaxed);
}

static unsigned long stream_hits;

static int on_hit(const struct hwbp_hit *hit, void *arg)
{
	(void)hit;
	(void)arg;
	stream_hits++;
	return 0;
}

struct poller {
	struct hwbp_session *s;
	atomic_int stop;
};

static void *poll_loop(void *arg)
{
	struct poller *p = arg;

	while (!atomic_load(&p->stop))
		hwbp_session_poll(p->s, 50, on_hit, NULL);
	hwbp_session_poll(p->s, 0, on_hit, NULL);
	return NULL;
}

/* One measurement; *hits and *lost describe what was seen. */
static int measure(enum mode m, unsigned long n, uint64_t *ns, uint64_t *hits, uint64_t *lost)
{
	HWBP_OPTS(hwbp_session_opts, o, .target = HWBP_TARGET_THREAD);
	struct hwbp_session *s = NULL;
	struct hwbp_point *pt;
	struct poller p = { 0 };
	pthread_t th;
	int err = 0;

	*hits = *lost = 0;
	if (m == M_NONE) {
		*ns = run_loop(n);
		*hits = n;
		return 0;
	}
	if (m == M_FLOOR || m == M_FLOOR_SIG) {
		struct sigaction sa, old;
		struct perf_event_attr a;
		int fd;

		memset(&a, 0, sizeof(a));
		a.type = PERF_TYPE_BREAKPOINT;
		a.size = sizeof(a);
		a.bp_type = HW_BREAKPOINT_W;
		a.bp_addr = (uintptr_t)&word;
		a.bp_len = 8;
		a.exclude_kernel = 1;
		a.exclude_hv = 1;
		if (m == M_FLOOR_SIG) {
			memset(&sa, 0, sizeof(sa));
			sa.sa_sigaction = raw_handler;
			sa.sa_flags = SA_SIGINFO;
			sigaction(SIGTRAP, &sa, &old);
			a.sample_period = 1;
			a.sigtrap = 1;
			a.remove_on_exec = 1;
		}
		fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
		if (fd < 0)
			return -errno;
		raw_sigs = 0;
		*ns = run_loop(n);
		if (read(fd, hits, 8) != 8)
			err = -EIO;
		close(fd);
		if (m == M_FLOOR_SIG) {
			sigaction(SIGTRAP, &old, NULL);
			*hits = raw_sigs;
		}
		return err;
	}
	if (m == M_STREAM || m == M_STREAM_REGS || m == M_STREAM_CC)
		o.delivery = HWBP_DELIVER_STREAM;
	if (m == M_STREAM_REGS)
		o.sample = HWBP_SAMPLE_REGS;
	if (m == M_STREAM_CC)
		o.sample = HWBP_SAMPLE_CALLCHAIN;
	if (m == M_SIGNAL) {
		o.delivery = HWBP_DELIVER_SIGNAL;
		o.signal_fn = on_signal;
	}
	err = hwbp_session_open(&o, &s);
	if (!err)
		err = hwbp_point_add(s, (uintptr_t)&word, 8, HWBP_WRITE, NULL, &pt);
	if (!err)
		err = hwbp_session_apply(s);
	if (err) {
		hwbp_session_close(s);
		return err;
	}
	stream_hits = 0;
	atomic_store(&sig_hits, 0);
	if (o.delivery == HWBP_DELIVER_STREAM) {
		p.s = s;
		pthread_create(&th, NULL, poll_loop, &p);
	}
	*ns = run_loop(n);
	if (o.delivery == HWBP_DELIVER_STREAM) {
		atomic_store(&p.stop, 1);
		pthread_join(th, NULL);
		hwbp_session_lost(s, lost);
		*hits = stream_hits;
	} else if (m == M_SIGNAL) {
		*hits = atomic_load(&sig_hits);
	} else {
		hwbp_point_count(pt, hits);
	}
	hwbp_session_close(s);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 100000;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	uint64_t t[M_NMODES][64], hits[M_NMODES] = { 0 }, lost[M_NMODES] = { 0 };
	double cost[M_NMODES];
	int fail = 0;

	uint64_t ndropped = 0;
	struct sigaction sa;

	if (rounds < 1 || rounds > 64)
		rounds = 5;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = dropped_handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGTRAP, &sa, NULL);
	printf("hitcost: %lu writes by one thread, %d interleaved rounds, median\n", n, rounds);
	for (int r = 0; r < rounds; r++) {
		for (int m = 0; m < M_NMODES; m++) {
			uint64_t h, l, d = dropped;
			int err = measure((enum mode)m, n, &t[m][r], &h, &l);

			d = dropped - d;
			ndropped += d;
			h += d;

			if (err) {
				fprintf(stderr, "hitcost: %s: %s\n", mode_name[m], strerror(-err));
				return 1;
			}
			if (h + l != n) {
				fprintf(stderr, "hitcost: %s: %llu hits + %llu lost != %lu writes\n",
					mode_name[m], (unsigned long long)h, (unsigned long long)l, n);
				fail = 1;
			}
			hits[m] += h;
			lost[m] += l;
		}
	}
	for (int m = 0; m < M_NMODES; m++) {
		int mid = rounds / 2;

		qsort(t[m], (size_t)rounds, sizeof(t[m][0]), cmp_u64);
		cost[m] = (double)t[m][mid] / (double)n;
	}
	printf("%-18s %12s %12s %8s %8s %10s\n", "mode", "ns/write", "ns/hit", "ratio", "goal",
	       "lost");
	for (int m = 0; m < M_NMODES; m++) {
		double per_hit = cost[m] - cost[M_NONE];
		double ratio = per_hit / (cost[M_FLOOR] - cost[M_NONE]);

		if (m == M_NONE) {
			printf("%-18s %12.1f %12s %8s %8s %10s\n", mode_name[m], cost[m], "-", "-", "-",
			       "-");
			continue;
		}
		if (goal[m] > 0)
			printf("%-18s %12.1f %12.1f %7.3fx %7.2fx %10llu\n", mode_name[m], cost[m],
			       per_hit, ratio, goal[m], (unsigned long long)lost[m]);
		else
			printf("%-18s %12.1f %12.1f %7.3fx %8s %10llu\n", mode_name[m], cost[m],
			       per_hit, ratio, "-", (unsigned long long)lost[m]);
	}
	printf("ratio: ns/hit over the floor's ns/hit; signal over floor-sigtrap: %.3fx\n",
	       (cost[M_SIGNAL] - cost[M_NONE]) / (cost[M_FLOOR_SIG] - cost[M_NONE]));
	if (ndropped)
		printf("the machine dropped %llu debug exceptions (a SIGTRAP with DR6 empty "
		       "instead of a hit): counted as hits above\n",
		       (unsigned long long)ndropped);
	return fail;
}

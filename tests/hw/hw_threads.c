// SPDX-License-Identifier: MIT
/*
 * hw_threads.c - threads and processes: per-thread counts, attaching to a
 * running process, fork with and without follow_fork
 */
#include "hw.h"

#include <pthread.h>
#include <sys/wait.h>

#define NTESTS 5
#define NTHR 8

static volatile uint64_t shared_var __attribute__((aligned(8)));

struct worker {
	pthread_t th;
	pid_t tid;
	unsigned int n;
	int go_fd;	/* read one byte before writing, or -1 */
};

static void *worker(void *arg)
{
	struct worker *w = arg;
	char c;

	w->tid = hw_gettid();
	if (w->go_fd >= 0 && read(w->go_fd, &c, 1) != 1)
		return NULL;
	for (unsigned int i = 0; i < w->n; i++)
		hw_store(&shared_var, 8, i);
	return NULL;
}

/* Are the rows exactly {tid_i: n_i}? */
static bool rows_match(const struct hwbp_thread_count *tc, size_t n, const struct worker *w,
		       unsigned int nw)
{
	if (n != nw)
		return false;
	for (unsigned int i = 0; i < nw; i++) {
		bool found = false;

		for (size_t j = 0; j < n; j++)
			if (tc[j].tid == w[i].tid && tc[j].hits == w[i].n)
				found = true;
		if (!found)
			return false;
	}
	return true;
}

/* SELF, threads started after apply, per-thread rows. */
static void test_self_threads(void)
{
	/* 9036 records of 24 bytes: room for all of them on one CPU. */
	HWBP_OPTS(hwbp_session_opts, o, .per_thread = true, .buffer_pages = 128);
	struct worker w[NTHR];
	struct hwbp_thread_count tc[16] = { { 0, 0 } };
	struct hwbp_session *s;
	struct hwbp_point *pt = NULL;
	uint64_t hits = 0, lost = 0, want = 0;
	size_t n = 0;
	int err = hwbp_session_open(&o, &s);

	if (!err)
		err = hwbp_point_add(s, (uintptr_t)&shared_var, 8, HWBP_WRITE, NULL, &pt);
	if (!err)
		err = hwbp_session_apply(s);
	if (err) {
		hw_ok(false, "self: 8 threads started after apply (setup: %s)", strerror(-err));
		hwbp_session_close(s);
		return;
	}
	for (unsigned int i = 0; i < NTHR; i++) {
		w[i].n = 1000 + 37 * i;
		w[i].go_fd = -1;
		want += w[i].n;
		pthread_create(&w[i].th, NULL, worker, &w[i]);
	}
	for (unsigned int i = 0; i < NTHR; i++)
		pthread_join(w[i].th, NULL);
	hwbp_point_count(pt, &hits);
	err = hwbp_point_threads(pt, tc, 16, &n);
	hwbp_session_lost(s, &lost);
	hw_ok(!err && hits == want && lost == 0 && rows_match(tc, n, w, NTHR),
	      "self: 8 threads started after apply: total %llu of %llu, %zu exact per-tid rows, "
	      "lost %llu", (unsigned long long)hits, (unsigned long long)want, n,
	      (unsigned long long)lost);
	hwbp_session_close(s);
}

/*
 * Child: NTHR threads already running (blocked on a pipe) when we attach,
 * plus one started after the go signal. Each writes a known count.
 */
static void test_attach_pid(void)
{
	HWBP_OPTS(hwbp_session_opts, o, .target = HWBP_TARGET_PID, .per_thread = true);
	int go[2], ready[2], status = 0;
	uint64_t hits = 0, want = 0;
	struct hwbp_thread_count tc[32] = { { 0, 0 } };
	struct hwbp_session *s = NULL;
	struct hwbp_point *pt = NULL;
	size_t n = 0;
	pid_t child;
	char c = 0;
	int err;

	if (pipe(go) || pipe(ready))
		return;
	child = fork();
	if (child == 0) {
		struct worker w[NTHR + 1];

		for (unsigned int i = 0; i < NTHR; i++) {
			w[i].n = 500 + 11 * i;
			w[i].go_fd = go[0];
			pthread_create(&w[i].th, NULL, worker, &w[i]);
		}
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		if (read(go[0], &c, 1) != 1)	/* our own go byte */
			_exit(2);
		w[NTHR].n = 777;
		w[NTHR].go_fd = -1;
		pthread_create(&w[NTHR].th, NULL, worker, &w[NTHR]);
		for (unsigned int i = 0; i <= NTHR; i++)
			pthread_join(w[i].th, NULL);
		_exit(0);
	}
	for (unsigned int i = 0; i < NTHR; i++)
		want += 500 + 11 * i;
	want += 777;
	if (read(ready[0], &c, 1) != 1)
		c = 0;
	o.pid = child;
	err = hwbp_session_open(&o, &s);
	if (!err)
		err = hwbp_point_add(s, (uintptr_t)&shared_var, 8, HWBP_WRITE, NULL, &pt);
	if (!err)
		err = hwbp_session_apply(s);
	for (unsigned int i = 0; i <= NTHR; i++)
		if (write(go[1], "g", 1) != 1)
			break;
	waitpid(child, &status, 0);
	if (!err)
		err = hwbp_point_count(pt, &hits);
	if (!err)
		err = hwbp_point_threads(pt, tc, 32, &n);
	{
		uint64_t sum = 0;
		bool ok_rows = n == NTHR + 1;

		for (size_t i = 0; i < n && i < 32; i++)
			sum += tc[i].hits;
		/* every row is one of the known counts */
		for (size_t i = 0; i < n && i < 32 && ok_rows; i++) {
			bool known = tc[i].hits == 777;

			for (unsigned int k = 0; k < NTHR; k++)
				known |= tc[i].hits == 500 + 11 * k;
			ok_rows = known;
		}
		hw_ok(!err && hits == want && sum == want && ok_rows,
		      "pid: 8 threads running before attach + 1 started after: total %llu of %llu, "
		      "%zu rows summing to %llu (err %d)", (unsigned long long)hits,
		      (unsigned long long)want, n, (unsigned long long)sum, err);
	}
	hwbp_session_close(s);
	close(go[0]);
	close(go[1]);
	close(ready[0]);
	close(ready[1]);
}

/* SELF: a child forked after apply writes 300 times, we write 200. */
static void test_fork(bool follow)
{
	HWBP_OPTS(hwbp_session_opts, o, .follow_fork = follow);
	struct hwbp_session *s = NULL;
	struct hwbp_point *pt = NULL;
	uint64_t hits = 0, want = follow ? 500 : 200;
	pid_t child;
	int err = hwbp_session_open(&o, &s);

	if (!err)
		err = hwbp_point_add(s, (uintptr_t)&shared_var, 8, HWBP_WRITE, NULL, &pt);
	if (!err)
		err = hwbp_session_apply(s);
	if (err) {
		hw_ok(false, "fork %s follow_fork (setup: %s)", follow ? "with" : "without",
		      strerror(-err));
		hwbp_session_close(s);
		return;
	}
	child = fork();
	if (child == 0) {
		for (int i = 0; i < 300; i++)
			hw_store(&shared_var, 8, (uint64_t)i);
		_exit(0);
	}
	waitpid(child, NULL, 0);
	for (int i = 0; i < 200; i++)
		hw_store(&shared_var, 8, (uint64_t)i);
	hwbp_point_count(pt, &hits);
	hw_ok(hits == want, "fork %s follow_fork: %llu hits, want %llu", follow ? "with" : "without",
	      (unsigned long long)hits, (unsigned long long)want);
	hwbp_session_close(s);
}

/* THREAD target: only the calling thread counts. */
static void test_thread_only(void)
{
	HWBP_OPTS(hwbp_session_opts, o, .target = HWBP_TARGET_THREAD, .per_thread = true);
	struct hwbp_session *s = NULL;
	struct hwbp_point *pt = NULL;
	struct worker w = { .n = 400, .go_fd = -1 };
	struct hwbp_thread_count tc[4] = { { 0, 0 } };
	uint64_t hits = 0;
	size_t n = 0;
	int err = hwbp_session_open(&o, &s);

	if (!err)
		err = hwbp_point_add(s, (uintptr_t)&shared_var, 8, HWBP_WRITE, NULL, &pt);
	if (!err)
		err = hwbp_session_apply(s);
	pthread_create(&w.th, NULL, worker, &w);
	pthread_join(w.th, NULL);
	for (int i = 0; i < 123; i++)
		hw_store(&shared_var, 8, (uint64_t)i);
	if (!err)
		err = hwbp_point_count(pt, &hits);
	if (!err)
		err = hwbp_point_threads(pt, tc, 4, &n);
	hw_ok(!err && hits == 123 && n == 1 && tc[0].tid == hw_gettid() && tc[0].hits == 123,
	      "thread: another thread's 400 writes not counted, ours 123 (%llu, err %d)",
	      (unsigned long long)hits, err);
	hwbp_session_close(s);
}

int main(void)
{
	const char *why;

	hw_plan(NTESTS, 120);
	why = hw_probe();
	if (why) {
		hw_skip_rest(NTESTS, why);
		return hw_done();
	}
	test_self_threads();
	test_attach_pid();
	test_fork(false);
	test_fork(true);
	test_thread_only();
	return hw_done();
}

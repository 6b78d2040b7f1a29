// SPDX-License-Identifier: MIT
/*
 * hw_many.c - a process with thousands of threads, attached with both
 * backends: exact per-thread counts
 *
 * The child starts every thread (64 KiB stacks) before we attach: 5,000
 * for the ptrace backend, 1,000 for perf (see NTHR_PERF), fewer where
 * kernel.threads-max does not allow them (said in a comment). Each
 * records its tid and waits on a barrier. Once the session is applied, the
 * barrier opens and thread i writes the watched word 1 + i % 5 times. The
 * rows of hwbp_point_threads() must be exactly those counts, thread by
 * thread, with the perf backend (ring buffer records per hit, events per
 * thread and CPU) and with the ptrace backend (every thread seized).
 */
#include "hw.h"

#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#define NTESTS 2
#define NTHR_MAX 5000
/*
 * The perf backend's target is smaller: each thread's exit wakes every
 * event that shares its CPU's ring buffer (perf_event_exit_event() calls
 * ring_buffer_wakeup(), which walks the buffer's event list; Linux 6.1),
 * and there are two per thread and CPU, so the exits cost the kernel
 * threads^2 steps. Under QEMU TCG (2 vCPUs), 1,000 threads wrote and
 * exited in 3.5 s; 5,000 had not all exited 110 s after the go.
 */
#define NTHR_PERF 1000
#define NTHR_VALGRIND 50	/* valgrind runs at most 500 threads */

static volatile uint64_t many_var __attribute__((aligned(8)));

static unsigned int nthr;

/* Written by the child, read by us: MAP_SHARED before fork(). */
static struct {
	uint64_t written_ms;	/* when the last thread finished its writes */
	unsigned int done;	/* threads that finished */
	int32_t tids[NTHR_MAX];
} *sh;

static pthread_barrier_t exist_bar, go_bar;

static unsigned int writes_of(unsigned int i)
{
	return 1 + i % 5;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void *writer(void *arg)
{
	unsigned int i = (unsigned int)(uintptr_t)arg;

	__atomic_store_n(&sh->tids[i], (int32_t)hw_gettid(), __ATOMIC_RELEASE);
	pthread_barrier_wait(&exist_bar);
	pthread_barrier_wait(&go_bar);
	for (unsigned int k = 0; k < writes_of(i); k++)
		hw_store(&many_var, 8, k);
	if (__atomic_add_fetch(&sh->done, 1, __ATOMIC_ACQ_REL) == nthr)
		__atomic_store_n(&sh->written_ms, now_ms(), __ATOMIC_RELEASE);
	return NULL;
}

/* The child: every thread up, "r" on READY, the writes after a byte on GO. */
static void child(int ready, int go)
{
	static pthread_t th[NTHR_MAX];
	long min = sysconf(_SC_THREAD_STACK_MIN);
	size_t stack = 64 * 1024;
	pthread_attr_t at;
	char c;

	/* aarch64's glibc wants 128 KiB at least (for 64 KiB pages). */
	if (min > 0 && (size_t)min > stack)
		stack = (size_t)min;
	alarm(240);
	if (pthread_attr_init(&at) || pthread_attr_setstacksize(&at, stack) ||
	    pthread_barrier_init(&exist_bar, NULL, nthr + 1) ||
	    pthread_barrier_init(&go_bar, NULL, nthr + 1))
		_exit(2);
	for (unsigned int i = 0; i < nthr; i++) {
		int err = pthread_create(&th[i], &at, writer, (void *)(uintptr_t)i);

		if (err) {
			fprintf(stderr, "hw_many: thread %u: %s\n", i, strerror(err));
			_exit(3);
		}
	}
	pthread_barrier_wait(&exist_bar);
	if (write(ready, "r", 1) != 1 || read(go, &c, 1) != 1)
		_exit(4);
	pthread_barrier_wait(&go_bar);
	for (unsigned int i = 0; i < nthr; i++)
		pthread_join(th[i], NULL);
	_exit(0);
}

struct kid {
	pid_t pid;
	int ready, go;	/* our ends */
	bool reaped;
	int status;	/* its wait status once reaped */
};

/* Fork the child and wait until its threads exist. */
static bool kid_start(struct kid *k)
{
	int r[2], g[2];
	char c = 0;

	if (pipe(r))
		return false;
	if (pipe(g)) {
		close(r[0]);
		close(r[1]);
		return false;
	}
	memset(sh, 0, sizeof(*sh));
	fflush(stdout);
	k->pid = fork();
	if (k->pid == 0) {
		close(r[0]);
		close(g[1]);
		child(r[1], g[0]);
	}
	close(r[1]);
	close(g[0]);
	k->ready = r[0];
	k->go = g[1];
	k->reaped = false;
	k->status = -1;
	if (k->pid < 0 || read(k->ready, &c, 1) != 1 || c != 'r') {
		close(k->ready);
		close(k->go);
		if (k->pid > 0)
			waitpid(k->pid, NULL, 0);
		return false;
	}
	return true;
}

static void kid_go(struct kid *k)
{
	if (write(k->go, "g", 1) != 1)
		hw_diag("cannot release the child: %s", strerror(errno));
}

static void kid_end(struct kid *k)
{
	close(k->ready);
	close(k->go);
	if (!k->reaped) {
		kill(k->pid, SIGKILL);
		waitpid(k->pid, NULL, 0);
	}
}

static int tid_cmp(const void *a, const void *b)
{
	const struct hwbp_thread_count *x = a, *y = b;

	return (x->tid > y->tid) - (x->tid < y->tid);
}

/*
 * Are the rows exactly {tid of thread i: writes_of(i)}? Says what is wrong in
 * WHY. The rows come ordered by tid.
 */
static bool rows_exact(const struct hwbp_thread_count *tc, size_t n, char *why, size_t len)
{
	unsigned int wrong = 0, missing = 0;

	if (n != nthr) {
		snprintf(why, len, "%zu rows for %u threads", n, nthr);
		return false;
	}
	for (unsigned int i = 0; i < nthr; i++) {
		struct hwbp_thread_count key = { .tid = sh->tids[i] };
		const struct hwbp_thread_count *row = bsearch(&key, tc, n, sizeof(*tc), tid_cmp);

		if (!row)
			missing++;
		else if (row->hits != writes_of(i))
			wrong++;
	}
	snprintf(why, len, "%u threads without a row, %u with a wrong count", missing, wrong);
	return !missing && !wrong;
}

static void on_note(const struct hwbp_notify *n, void *arg)
{
	struct kid *k = arg;

	if (n->type == HWBP_NOTIFY_EXIT && n->tid == k->pid && !k->reaped) {
		k->reaped = true;
		k->status = n->status;
	}
}

/*
 * The descriptors the perf backend needs: a breakpoint and a side-band
 * event per thread and CPU. The kernel's default hard limit (4096) is
 * too low; root may raise it.
 */
static const char *fds_enough(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	rlim_t need = (rlim_t)nthr * (rlim_t)(cpus > 0 ? cpus : 1) * 2 + 256;
	struct rlimit rl;
	static char why[128];

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return "getrlimit failed";
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		struct rlimit more = { need, need };

		if (setrlimit(RLIMIT_NOFILE, &more)) {
			snprintf(why, sizeof(why), "needs %llu descriptors, hard limit %llu",
				 (unsigned long long)need, (unsigned long long)rl.rlim_max);
			return why;
		}
	}
	return NULL;
}

/*
 * Threads the kernel lets this machine have, less half for everyone else:
 * kernel.threads-max follows the memory (fork_init()), and the arm64
 * lane's 512 MiB guest allows 3,248 (the x86-64 lane's 2 GiB, over 10,000).
 */
static unsigned int threads_allowed(void)
{
	FILE *f = fopen("/proc/sys/kernel/threads-max", "r");
	unsigned int max = 0;

	if (f) {
		if (fscanf(f, "%u", &max) != 1)
			max = 0;
		fclose(f);
	}
	return max ? max / 2 : NTHR_MAX;
}

static void test_many(enum hwbp_backend_kind bk)
{
	const char *name = bk == HWBP_BACKEND_PTRACE ? "ptrace" : "perf";
	struct kid k = { .pid = -1 };
	/* 1..5 records of 24 bytes per thread and one exit record each:
	 * 1 MiB per CPU holds them all, wherever they land. */
	HWBP_OPTS(hwbp_session_opts, o, .target = HWBP_TARGET_PID, .per_thread = true,
		  .backend = bk, .buffer_pages = 256, .notify_fn = on_note, .notify_arg = &k);
	struct hwbp_thread_count *tc;
	struct hwbp_session *s = NULL;
	struct hwbp_point *pt = NULL;
	uint64_t hits = 0, lost = 0, want = 0, t0, t1, t2, t3, t4;
	const char *why_fds;
	char why[96] = "";
	bool exact = false;
	size_t n = 0;
	int err;

	nthr = hw_valgrind() ? NTHR_VALGRIND : bk == HWBP_BACKEND_PTRACE ? NTHR_MAX : NTHR_PERF;
	if (nthr > threads_allowed()) {
		hw_diag("%s: %u threads, not %u: kernel.threads-max is too low here", name,
			threads_allowed(), nthr);
		nthr = threads_allowed();
	}
	why_fds = bk == HWBP_BACKEND_PTRACE ? NULL : fds_enough();
	if (why_fds) {
		hw_skip("many threads (perf)", why_fds);
		return;
	}
	for (unsigned int i = 0; i < nthr; i++)
		want += writes_of(i);
	tc = calloc(nthr + 16, sizeof(*tc));
	t0 = now_ms();
	if (!tc || !kid_start(&k)) {
		hw_ok(false, "%s: %u threads: cannot start the child", name, nthr);
		free(tc);
		return;
	}
	t1 = now_ms();
	o.pid = k.pid;
	err = hwbp_session_open(&o, &s);
	if (!err)
		err = hwbp_point_add(s, (uintptr_t)&many_var, 8, HWBP_WRITE, NULL, &pt);
	if (!err)
		err = hwbp_session_apply(s);
	t2 = now_ms();
	if (!err)
		kid_go(&k);
	/* ptrace: the threads stop at each hit until we poll. perf: they run. */
	while (!err && bk == HWBP_BACKEND_PTRACE && !k.reaped) {
		err = hwbp_session_poll(s, 100, NULL, NULL);
		if (err == -EINTR)
			err = 0;
		if (now_ms() - t2 > 100000)
			err = -ETIMEDOUT;
	}
	if (!err && !k.reaped)
		k.reaped = waitpid(k.pid, &k.status, 0) == k.pid;
	t3 = now_ms();
	if (!err)
		err = hwbp_point_count(pt, &hits);
	if (!err)
		err = hwbp_point_threads(pt, tc, nthr + 16, &n);
	if (!err)
		err = hwbp_session_lost(s, &lost);
	if (!err)
		exact = rows_exact(tc, n, why, sizeof(why));
	t4 = __atomic_load_n(&sh->written_ms, __ATOMIC_ACQUIRE);
	hw_diag("%s: %u threads: started in %llu ms, attached and applied in %llu ms, "
		"written in %lld ms, exited in %llu ms", name, nthr,
		(unsigned long long)(t1 - t0), (unsigned long long)(t2 - t1),
		t4 ? (long long)(t4 - t2) : -1LL, (unsigned long long)(t3 - t2));
	hw_ok(!err && hits == want && lost == 0 && exact && k.status == 0,
	      "%s: %u threads running before attach write 1..5 times each: total %llu of %llu, "
	      "lost %llu, rows: %s (child status 0x%x, err %d%s%s)", name, nthr,
	      (unsigned long long)hits, (unsigned long long)want, (unsigned long long)lost, why,
	      (unsigned int)k.status, err, err ? ": " : "", err ? strerror(-err) : "");
	hwbp_session_close(s);
	kid_end(&k);
	free(tc);
}

int main(void)
{
	const char *why;

	hw_plan(NTESTS, 300);
	why = hw_probe();
	if (why) {
		hw_skip_rest(NTESTS, why);
		return hw_done();
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		hw_skip_rest(NTESTS, "no shared memory");
		return hw_done();
	}
	test_many(HWBP_BACKEND_PERF);
	test_many(HWBP_BACKEND_PTRACE);
	munmap(sh, sizeof(*sh));
	return hw_done();
}

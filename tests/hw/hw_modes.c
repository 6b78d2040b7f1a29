// SPDX-License-Identifier: MIT
/*
 * hw_modes.c - delivery modes and session life on real debug registers:
 * signal mode across threads, stream mode overflowing a small buffer, exec
 * and exit notifications, slot exhaustion with nothing left armed, modify
 * and remove while hits flow, system-wide counting, user-only watching.
 */
#include "hw.h"

#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

#if defined(__aarch64__)
#define NTESTS 11
#else
#define NTESTS 10
#endif

static volatile uint64_t vars[8] __attribute__((aligned(64)));
static volatile int stop_flag;

/* --- signal mode ---------------------------------------------------------- */

static unsigned long sig_calls;
static volatile int sig_bad_tid;

static void on_signal(const struct hwbp_hit *hit, void *arg)
{
	(void)arg;
	if (hit->tid != hw_gettid() || hit->addr != (uintptr_t)&vars[0])
		sig_bad_tid = 1;
	__atomic_add_fetch(&sig_calls, 1, __ATOMIC_RELAXED);
}

static void *write_vars0(void *arg)
{
	unsigned int n = (unsigned int)(uintptr_t)arg;

	for (unsigned int i = 0; i < n; i++)
		hw_store(&vars[0], 8, i);
	return NULL;
}

/*
 * Only x86-64 delivers signal-mode hits (elsewhere open is refused). Under
 * valgrind the perf SIGTRAP never reaches the handler: the writing thread
 * traps on the same store again and again and the test hangs.
 */
static bool signal_left_out(void)
{
#if defined(__x86_64__)
	return hw_valgrind();
#else
	return false;
#endif
}

static void test_signal(void)
{
	HWBP_OPTS(hwbp_session_opts, o, .delivery = HWBP_DELIVER_SIGNAL, .signal_fn = on_signal);
	struct hwbp_session *s = NULL;
	struct hwbp_point *pt = NULL;
	pthread_t th[4];
	uint64_t hits = 0;
	int err;

	if (signal_left_out()) {
		hw_left_out("signal: 5 threads", "perf's SIGTRAP never reaches the handler under "
			    "valgrind: the writing thread traps on the same store forever");
		return;
	}
	err = hwbp_session_open(&o, &s);
#if defined(__loongarch64)
	/* Not yet on LoongArch (see perf.c). */
	hw_ok(err == -EOPNOTSUPP && !s,
	      "signal: refused with EOPNOTSUPP where the trap comes before the access (%d)", err);
	return;
#endif
	if (!err)
		err = hwbp_point_add(s, (uintptr_t)&vars[0], 8, HWBP_WRITE, NULL, &pt);
	if (!err)
		err = hwbp_session_apply(s);
	sig_calls = 0;
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, write_vars0, (void *)(uintptr_t)(2000 + i));
	write_vars0((void *)(uintptr_t)1000);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	if (!err)
		err = hwbp_point_count(pt, &hits);
	hw_ok(!err && sig_calls == 9006 && hits == 9006 && !sig_bad_tid,
	      "signal: 5 threads, 9006 writes: %lu callbacks on the writing thread, count %llu "
	      "(err %d)", sig_calls, (unsigned long long)hits, err);
	hwbp_session_close(s);
}

/*
 * THREAD target, stores and loads: one callback each, after the access (the
 * word already holds the stored value: arm64 steps over the access before
 * the callback), the stores all land once, per-thread rows match, and
 * another thread's stores are not seen.
 */
static volatile uint64_t sig_expect;
static unsigned long sig_thread_calls, sig_thread_bad;

/* The watched word, read by the kernel: a load here would be a hit. */
static uint64_t peek_vars3(void)
{
	uint64_t v = ~0ull;
	struct iovec local = { &v, 8 }, remote = { (void *)&vars[3], 8 };

	syscall(SYS_process_vm_readv, getpid(), &local, 1ul, &remote, 1ul, 0ul);
	return v;
}

static void on_signal_thread(const struct hwbp_hit *hit, void *arg)
{
	(void)arg;
	if (peek_vars3() != sig_expect || hit->tid != hw_gettid() || !hit->ucontext)
		sig_thread_bad++;
	sig_thread_calls++;
}

static void *write_vars3(void *arg)
{
	(void)arg;
	for (unsigned int i = 0; i < 300; i++)
		hw_store(&vars[3], 8, 5000 + i);
	return NULL;
}

static void test_signal_thread(void)
{
	HWBP_OPTS(hwbp_session_opts, o, .target = HWBP_TARGET_THREAD,
		  .delivery = HWBP_DELIVER_SIGNAL, .signal_fn = on_signal_thread, .per_thread = true);
	struct hwbp_thread_count row = { 0, 0 };
	struct hwbp_session *s = NULL;
	struct hwbp_point *pt = NULL;
	uint64_t hits = 0, sum = 0;
	size_t nrows = 0;
	pthread_t th;
	int err;

	if (signal_left_out()) {
		hw_left_out("signal: THREAD target, stores and loads", "perf's SIGTRAP never "
			    "reaches the handler under valgrind");
		return;
	}
	err = hwbp_session_open(&o, &s);
#if defined(__loongarch64)
	hw_ok(err == -EOPNOTSUPP && !s, "signal, thread: refused on LoongArch (%d)", err);
	return;
#endif
	if (!err)
		err = hwbp_point_add(s, (uintptr_t)&vars[3], 8, HWBP_RW, NULL, &pt);
	if (!err)
		err = hwbp_session_apply(s);
	if (!err && pthread_create(&th, NULL, write_vars3, NULL) == 0)
		pthread_join(th, NULL);
	for (unsigned int i = 0; i < 1000 && !err; i++) {
		sig_expect = i;
		hw_store(&vars[3], 8, i);
	}
	for (unsigned int i = 0; i < 500 && !err; i++)
		sum += hw_load(&vars[3]);
	if (!err)
		err = hwbp_point_count(pt, &hits);
	if (!err)
		err = hwbp_point_threads(pt, &row, 1, &nrows);
	hwbp_session_close(s);
	hw_ok(!err && sig_thread_calls == 1500 && !sig_thread_bad && hits == 1500 && nrows == 1 &&
	      row.tid == hw_gettid() && row.hits == 1500 && vars[3] == 999 &&
	      sum == 500 * (999 & 0xff),
	      "signal, thread: 1000 stores + 500 loads: %lu callbacks (%lu saw a wrong value), "
	      "count %llu, row %llu, word %llu, loads summed %llu (err %d)", sig_thread_calls,
	      sig_thread_bad, (unsigned long long)hits, (unsigned long long)row.hits,
	      (unsigned long long)vars[3], (unsigned long long)sum, err);
}

#if defined(__aarch64__)
/* arm64 cannot step over an execute breakpoint in signal mode: what runs
 * after the instruction is not known. */
static void test_signal_exec(void)
{
	HWBP_OPTS(hwbp_session_opts, o, .delivery = HWBP_DELIVER_SIGNAL, .signal_fn = on_signal);
	struct hwbp_session *s = NULL;
	struct hwbp_point *pt = NULL;
	int err = hwbp_session_open(&o, &s);

	if (!err)
		err = hwbp_point_add(s, (uintptr_t)&write_vars0, 4, HWBP_EXEC, NULL, &pt);
	if (!err)
		err = hwbp_session_apply(s);
	hw_ok(err == -EOPNOTSUPP, "signal: execute points refused on arm64 (%d)", err);
	hwbp_session_close(s);
}
#endif

/* --- stream mode overflow ------------------------------------------------- */

static uint64_t stream_hits;

static int on_hit(const struct hwbp_hit *hit, void *arg)
{
	(void)arg;
	(void)hit;
	stream_hits++;
	return 0;
}

static void test_stream_overflow(void)
{
	HWBP_OPTS(hwbp_session_opts, o, .target = HWBP_TARGET_THREAD,
		  .delivery = HWBP_DELIVER_STREAM, .buffer_pages = 1);
	struct hwbp_session *s = NULL;
	struct hwbp_point *pt = NULL;
	uint64_t lost = 0, hits = 0;
	const unsigned int n = 20000;
	int err = hwbp_session_open(&o, &s);

	if (!err)
		err = hwbp_point_add(s, (uintptr_t)&vars[1], 8, HWBP_WRITE, NULL, &pt);
	if (!err)
		err = hwbp_session_apply(s);
	for (unsigned int i = 0; i < n; i++)
		hw_store(&vars[1], 8, i);
	stream_hits = 0;
	if (!err)
		err = hwbp_session_poll(s, 0, on_hit, NULL);
	if (!err) {
		hwbp_session_lost(s, &lost);
		hwbp_point_count(pt, &hits);
	}
	hw_ok(!err && lost > 0 && stream_hits + lost == n && hits == n,
	      "stream: %u writes into a 1-page buffer: %llu records + %llu lost = %llu, count %llu",
	      n, (unsigned long long)stream_hits, (unsigned long long)lost,
	      (unsigned long long)(stream_hits + lost), (unsigned long long)hits);
	hwbp_session_close(s);
}

/* --- exec and exit in the target ----------------------------------------- */

static int saw_exec, saw_exit;
static pid_t exec_child;
/* The test execs its own program (it exits at once with --exit): there
 * may be no /bin/true, e.g. in the arm64 lane's initramfs. */
static char self_path[4096], self_comm[16];

static void on_notify(const struct hwbp_notify *n, void *arg)
{
	(void)arg;
	if (n->pid != exec_child)
		return;
	if (n->type == HWBP_NOTIFY_EXEC && n->comm && !strcmp(n->comm, self_comm))
		saw_exec++;
	if (n->type == HWBP_NOTIFY_EXIT && n->tid == exec_child)
		saw_exit++;
}

static void test_exec_notify(void)
{
	HWBP_OPTS(hwbp_session_opts, o, .target = HWBP_TARGET_PID,
		  .delivery = HWBP_DELIVER_STREAM, .notify_fn = on_notify);
	struct hwbp_session *s = NULL;
	struct hwbp_point *pt = NULL;
	int go[2], err;
	char c;

	ssize_t len = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
	const char *base;

	if (len <= 0 || pipe(go))
		return;
	self_path[len] = '\0';
	base = strrchr(self_path, '/') ? strrchr(self_path, '/') + 1 : self_path;
	/* comm keeps the first 15 bytes (TASK_COMM_LEN 16). */
	memcpy(self_comm, base, strnlen(base, sizeof(self_comm) - 1));
	exec_child = fork();
	if (exec_child == 0) {
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		for (int i = 0; i < 10; i++)
			hw_store(&vars[2], 8, (uint64_t)i);
		execl(self_path, self_path, "--exit", (char *)NULL);
		_exit(127);
	}
	o.pid = exec_child;
	err = hwbp_session_open(&o, &s);
	if (!err)
		err = hwbp_point_add(s, (uintptr_t)&vars[2], 8, HWBP_WRITE, NULL, &pt);
	if (!err)
		err = hwbp_session_apply(s);
	if (write(go[1], "g", 1) != 1)
		err = -EIO;
	waitpid(exec_child, NULL, 0);
	stream_hits = 0;
	for (int i = 0; i < 10 && !err && !saw_exit; i++)
		err = hwbp_session_poll(s, 100, on_hit, NULL);
	hw_ok(!err && saw_exec == 1 && saw_exit == 1 && stream_hits == 10,
	      "pid: 10 hits, then one exec notification (of the new comm) and one exit "
	      "(%llu hits, %d exec, %d exit, err %d)", (unsigned long long)stream_hits, saw_exec,
	      saw_exit, err);
	hwbp_session_close(s);
	close(go[0]);
	close(go[1]);
}

/* --- slot exhaustion ------------------------------------------------------ */

static int raw_bp(volatile void *addr)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_BREAKPOINT;
	a.size = sizeof(a);
	a.bp_type = HW_BREAKPOINT_W;
	a.bp_addr = (uintptr_t)addr;
	a.bp_len = 8;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
}

static void test_exhaustion(void)
{
	HWBP_OPTS(hwbp_session_opts, o, .target = HWBP_TARGET_THREAD);
	struct hwbp_session *s = NULL;
	struct hwbp_point *pt[3] = { NULL, NULL, NULL };
	int other[2], more[2], err;
	uint64_t h[3] = { 9, 9, 9 };

	/* Another user holds 2 of the 4 slots of this thread. */
	other[0] = raw_bp(&vars[6]);
	other[1] = raw_bp(&vars[7]);
	err = hwbp_session_open(&o, &s);
	for (int i = 0; i < 3 && !err; i++)
		err = hwbp_point_add(s, (uintptr_t)&vars[3 + i], 8, HWBP_WRITE, NULL, &pt[i]);
	/* The plan sees the 2 free slots found at open. */
	if (!err)
		err = hwbp_session_apply(s);
	for (int i = 3; i < 6; i++)
		hw_store(&vars[i], 8, 1);
	for (int i = 0; i < 3 && s; i++)
		if (pt[i])
			hwbp_point_count(pt[i], &h[i]);
	/* Nothing of ours is armed: two more raw breakpoints still fit. */
	more[0] = raw_bp(&vars[3]);
	more[1] = raw_bp(&vars[4]);
	hw_ok(err == -ENOSPC && h[0] + h[1] + h[2] == 0 && more[0] >= 0 && more[1] >= 0,
	      "3 slots asked, 2 free (2 held by another user): ENOSPC, nothing armed (err %d)",
	      err);
	for (int i = 0; i < 2; i++) {
		if (other[i] >= 0)
			close(other[i]);
		if (more[i] >= 0)
			close(more[i]);
	}
	hwbp_session_close(s);
}

/* --- modify and remove while hits flow ------------------------------------ */

static volatile uint64_t writer_count;

/*
 * valgrind runs one thread at a time and switches only after a long slice:
 * a writer that never blocks takes millions of hits (some 10 us each) before
 * the main thread wakes from each sleep. There it yields after every 64.
 */
static void *writer(void *arg)
{
	unsigned int burst = hw_valgrind() ? 64 : 0;

	(void)arg;
	while (!stop_flag) {
		hw_store(&vars[0], 8, 1);
		writer_count++;
		if (burst && writer_count % burst == 0)
			sched_yield();
	}
	return NULL;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * SHARED: another session's point and a twin in this one watch the same
 * word, so that every write matches three debug registers at once (needs
 * exact DR6); without, PT alone, one match at a time.
 */
static void test_modify_while_flowing(bool shared)
{
	HWBP_OPTS(hwbp_session_opts, o);
	struct hwbp_session *s = NULL, *ref = NULL;
	struct hwbp_point *pt = NULL, *twin = NULL, *rp = NULL;
	uint64_t c1 = 0, c2 = 0, c3 = 0, rc = 0;
	char other[96] = "";
	pthread_t th;
	int err;

	if (shared && hw_needs_exact_dr6("modify/remove while a thread writes, with another "
					 "session and a twin"))
		return;
	err = hwbp_session_open(&o, &s);
	if (!err && shared)
		err = hwbp_session_open(&o, &ref);
	if (!err && shared)
		err = hwbp_point_add(ref, (uintptr_t)&vars[0], 8, HWBP_WRITE, NULL, &rp);
	if (!err && shared)
		err = hwbp_session_apply(ref);
	if (!err)
		err = hwbp_point_add(s, (uintptr_t)&vars[0], 8, HWBP_WRITE, NULL, &pt);
	if (!err && shared)
		err = hwbp_point_add(s, (uintptr_t)&vars[0], 8, HWBP_WRITE, NULL, &twin);
	if (err) {
		hw_ok(false, "modify/remove while a thread writes (setup: %s)", strerror(-err));
		hwbp_session_close(s);
		hwbp_session_close(ref);
		return;
	}
	stop_flag = 0;
	writer_count = 0;
	pthread_create(&th, NULL, writer, NULL);
	sleep_ms(20);
	err = hwbp_session_apply(s);
	sleep_ms(30);
	/* Move pt to a word nobody writes: its count must stop growing. */
	if (!err)
		err = hwbp_point_modify(pt, (uintptr_t)&vars[5], 8, HWBP_WRITE);
	if (!err)
		err = hwbp_session_apply(s);
	hwbp_point_count(pt, &c1);
	sleep_ms(30);
	hwbp_point_count(pt, &c2);
	/* Back onto the written word: it grows again. */
	if (!err)
		err = hwbp_point_modify(pt, (uintptr_t)&vars[0], 8, HWBP_WRITE);
	if (!err)
		err = hwbp_session_apply(s);
	sleep_ms(30);
	if (twin)
		hwbp_point_remove(twin);
	sleep_ms(10);
	hwbp_point_count(pt, &c3);
	stop_flag = 1;
	pthread_join(th, NULL);
	if (rp)
		hwbp_point_count(rp, &rc);
	if (shared)
		snprintf(other, sizeof(other), "; another session's count %llu == %llu writes",
			 (unsigned long long)rc, (unsigned long long)writer_count);
	hw_ok(!err && c1 > 0 && c2 == c1 && c3 > c2 && (!shared || rc == writer_count),
	      "modify/remove while a thread writes%s: moved away %llu -> %llu (frozen), back "
	      "%llu%s (err %d)", shared ? ", with another session and a twin" : " (one point)",
	      (unsigned long long)c1, (unsigned long long)c2, (unsigned long long)c3, other, err);
	hwbp_session_close(s);
	hwbp_session_close(ref);
}

/* --- system-wide ----------------------------------------------------------- */

static void test_system(void)
{
	HWBP_OPTS(hwbp_session_opts, o, .target = HWBP_TARGET_SYSTEM);
	struct hwbp_session *s = NULL;
	struct hwbp_point *pt = NULL;
	uint64_t hits = 0;
	int go[2], err;
	pid_t child;
	char c;

	err = hwbp_session_open(&o, &s);
	if (err == -EACCES || err == -EPERM) {
		hw_skip("system: a child's writes counted", "CPU-wide perf events not permitted");
		return;
	}
	if (pipe(go))
		return;
	child = fork();
	if (child == 0) {
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		for (int i = 0; i < 4321; i++)
			hw_store(&vars[4], 8, (uint64_t)i);
		_exit(0);
	}
	if (!err)
		err = hwbp_point_add(s, (uintptr_t)&vars[4], 8, HWBP_WRITE, NULL, &pt);
	if (!err)
		err = hwbp_session_apply(s);
	if (write(go[1], "g", 1) != 1)
		err = -EIO;
	waitpid(child, NULL, 0);
	if (!err)
		err = hwbp_point_count(pt, &hits);
	hw_ok(!err && hits == 4321, "system: a child's 4321 writes counted on every CPU (%llu, err %d)",
	      (unsigned long long)hits, err);
	hwbp_session_close(s);
	close(go[0]);
	close(go[1]);
}

/* --- user-mode only -------------------------------------------------------- */

static void test_user_only(void)
{
	HWBP_OPTS(hwbp_session_opts, o, .target = HWBP_TARGET_THREAD);
	struct hwbp_session *s = NULL;
	struct hwbp_point *pt = NULL;
	uint64_t hits = 9;
	int p[2], err;

	if (pipe(p))
		return;
	err = hwbp_session_open(&o, &s);
	if (!err)
		err = hwbp_point_add(s, (uintptr_t)&vars[6], 8, HWBP_WRITE, NULL, &pt);
	if (!err)
		err = hwbp_session_apply(s);
	/* The kernel writes the watched word in read(2): not a user access. */
	if (write(p[1], "12345678", 8) != 8 || read(p[0], (void *)&vars[6], 8) != 8)
		err = -EIO;
	hw_store(&vars[6], 8, 1);
	if (!err)
		err = hwbp_point_count(pt, &hits);
	hw_ok(!err && hits == 1, "kernel writes (read(2) into the word) not counted, user ones are "
	      "(%llu, err %d)", (unsigned long long)hits, err);
	hwbp_session_close(s);
	close(p[0]);
	close(p[1]);
}

int main(int argc, char **argv)
{
	const char *why;

	if (argc > 1 && !strcmp(argv[1], "--exit"))
		return 0;

	hw_plan(NTESTS - 2 * signal_left_out(), 120);
	why = hw_probe();
	if (why) {
		hw_skip_rest(NTESTS - 2 * signal_left_out(), why);
		return hw_done();
	}
	test_signal();
	test_signal_thread();
#if defined(__aarch64__)
	test_signal_exec();
#endif
	test_stream_overflow();
	test_exec_notify();
	test_exhaustion();
	test_modify_while_flowing(false);
	test_modify_while_flowing(true);
	test_system();
	test_user_only();
	{
		/* A session on a process that does not exist. */
		HWBP_OPTS(hwbp_session_opts, o, .target = HWBP_TARGET_PID, .pid = 0x3ffffff);
		struct hwbp_session *s = NULL;
		int err = hwbp_session_open(&o, &s);

		hw_ok(err == -ESRCH && !s, "pid that does not exist: ESRCH (%d)", err);
	}
	return hw_done();
}

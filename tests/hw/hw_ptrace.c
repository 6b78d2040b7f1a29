// SPDX-License-Identifier: MIT
/*
 * hw_ptrace.c - the ptrace backend (stop mode) on real debug registers
 *
 * Every target is a child forked from this program that waits on a pipe,
 * runs a known workload once the session is applied, and exits; the
 * session reaps it and hands its wait status over in the EXIT
 * notification. Each test asserts exact numbers:
 *   - open: SELF target, signal delivery and kernel watching are refused;
 *   - w and rw for lengths 1, 2, 4, 8 at every offset in a word, x on a
 *     function called 7 times, in stream and in count mode: every hit with
 *     its piece and the piece's exact bytes before and after, as a model of
 *     the stores predicts them;
 *   - split ranges (unaligned, longer than 8 bytes), a byte sweep and a
 *     wide store: one hit per byte (per piece touched), none outside;
 *   - old/new values of an int32 sequence, a byte stored into an 8-byte
 *     watch, reads under rw (old == value);
 *   - 8 threads started after apply (per-tid rows, stream and count mode),
 *     8 threads running before the session opens, a TID target;
 *   - fork with and without follow_fork; exec with the point moved into
 *     the new image before it runs; slot exhaustion; modify and remove
 *     while hits flow; the target's own signals (SIGUSR1, SIGTRAP) passed
 *     through; close while the target writes (it survives and exits 0).
 *
 * With "--exec-helper" the program is the image a target execs into.
 */
#include "hw.h"
#include "hwchild.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#define NTESTS 31
#define AREA 64
#define NTHR 8

static bool is_x86(void)
{
	return hwbp_arch_host() == HWBP_ARCH_X86_64;
}

/* ---------------------------------------------------------------------- */
/* Sessions on a child                                                    */

struct rec {
	struct hwbp_point *pt;
	unsigned int piece;
	uint64_t addr, len, ip;
	int32_t pid, tid;
	unsigned int nvalue;
	uint64_t old, value;
};

struct ctx {
	pid_t pid;		/* the task whose EXIT ends the run */
	bool exited;
	int status;		/* its wait status */
	int nexec;
	char comm[32];
	pid_t other_pid;	/* another process that exited (a forked child) */
	int other_status;
	struct rec *r;
	size_t n, cap;
};

static void ctx_init(struct ctx *c, pid_t pid)
{
	memset(c, 0, sizeof(*c));
	c->pid = pid;
	c->status = -1;
	c->other_status = -1;
}

static void ctx_free(struct ctx *c)
{
	free(c->r);
	c->r = NULL;
	c->n = c->cap = 0;
}

static int on_hit(const struct hwbp_hit *h, void *arg)
{
	struct ctx *c = arg;

	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 256;
		struct rec *v = realloc(c->r, cap * sizeof(*v));

		if (!v)
			return 1;
		c->r = v;
		c->cap = cap;
	}
	c->r[c->n++] = (struct rec){ h->point, h->piece, h->addr, h->len, h->ip, h->pid, h->tid,
				     h->nvalue, h->old, h->value };
	return 0;
}

static void on_note(const struct hwbp_notify *n, void *arg)
{
	struct ctx *c = arg;

	if (n->type == HWBP_NOTIFY_EXEC && n->pid == c->pid) {
		c->nexec++;
		snprintf(c->comm, sizeof(c->comm), "%s", n->comm ? n->comm : "");
	}
	if (n->type != HWBP_NOTIFY_EXIT)
		return;
	if (n->tid == c->pid) {
		c->exited = true;
		c->status = n->status;
	} else if (n->pid == n->tid) {
		c->other_pid = n->pid;
		c->other_status = n->status;
	}
}

static int open_on(struct ctx *c, enum hwbp_target tgt, pid_t pid, enum hwbp_delivery d,
		   bool per_thread, bool follow, struct hwbp_session **s)
{
	HWBP_OPTS(hwbp_session_opts, o, .target = tgt, .pid = pid, .delivery = d,
		  .backend = HWBP_BACKEND_PTRACE, .per_thread = per_thread, .follow_fork = follow,
		  .notify_fn = on_note, .notify_arg = c);

	*s = NULL;
	return hwbp_session_open(&o, s);
}

/*
 * hwbp_session_apply(), again while the plan fits but the kernel refuses a
 * slot: another program's breakpoint (a CPU-wide one of another test
 * running at the same time) can hold one for a moment.
 */
static int apply(struct hwbp_session *s)
{
	int err = hwbp_session_apply(s);

	for (int i = 0; i < 100 && err == -ENOSPC && !hwbp_session_plan(s); i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		err = hwbp_session_apply(s);
	}
	return err;
}

/* Poll until the task C waits for exits (bounded). */
static int wait_exit(struct hwbp_session *s, struct ctx *c)
{
	uint64_t end = now_ms() + 30000;

	while (!c->exited) {
		int err = hwbp_session_poll(s, 100, on_hit, c);

		if (err && err != -EINTR)
			return err;
		if (now_ms() > end)
			return -ETIMEDOUT;
	}
	return 0;
}

/* Unless ERR: apply S, release the child and run it to its end. */
static int run_child(struct hwbp_session *s, struct child *ch, struct ctx *c, int err)
{
	if (!err)
		err = apply(s);
	if (!err) {
		child_go(ch, 1);
		err = wait_exit(s, c);
	}
	return err;
}

static size_t recs_of(const struct ctx *c, const struct hwbp_point *pt)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++)
		n += c->r[i].pt == pt;
	return n;
}

static bool exited_with(int status, int code)
{
	return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == code;
}

/* "exit N", "signal N" or "no exit seen" */
static const char *status_str(int status)
{
	static char buf[32];

	if (status == -1)
		snprintf(buf, sizeof(buf), "no exit seen");
	else if (WIFEXITED(status))
		snprintf(buf, sizeof(buf), "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, sizeof(buf), "signal %d", WTERMSIG(status));
	else
		snprintf(buf, sizeof(buf), "status 0x%x", status);
	return buf;
}

/* ---------------------------------------------------------------------- */
/* Stores and loads on AREA, and what they must give                      */

/* The watched ranges lie in [16, 48); the sweeps also touch the bytes
 * around them. */
static volatile uint8_t area[AREA] __attribute__((aligned(64)));

struct op {
	char kind;		/* 'r' or 'w' */
	uint8_t off, size;
	uint64_t val;
};

static struct op ops[2 * AREA];
static unsigned int nops;

static uint8_t pattern(unsigned int i)
{
	return (uint8_t)(0x80u + i);
}

static void area_reset(void)
{
	for (unsigned int i = 0; i < AREA; i++)
		area[i] = pattern(i);
}

static uint64_t load_n(const volatile void *p, unsigned int size)
{
	switch (size) {
	case 1:
		return *(const volatile uint8_t *)p;
	case 2:
		return *(const volatile uint16_t *)p;
	case 4:
		return *(const volatile uint32_t *)p;
	default:
		return *(const volatile uint64_t *)p;
	}
}

static volatile uint64_t sink;

static void w_ops(long arg)
{
	(void)arg;
	go_wait();
	for (unsigned int i = 0; i < nops; i++) {
		if (ops[i].kind == 'r')
			sink = load_n(&area[ops[i].off], ops[i].size);
		else
			hw_store(&area[ops[i].off], ops[i].size, ops[i].val);
	}
}

/* Every byte of [4, 60) once, ascending; with RW a load before each store. */
static void ops_sweep(bool rw)
{
	nops = 0;
	for (unsigned int i = 4; i < AREA - 4; i++) {
		if (rw)
			ops[nops++] = (struct op){ 'r', (uint8_t)i, 1, 0 };
		ops[nops++] = (struct op){ 'w', (uint8_t)i, 1, i };
	}
}

static uint64_t le(const uint8_t *p, uint64_t n)
{
	uint64_t v = 0;

	for (uint64_t i = 0; i < n && i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

struct exp {
	unsigned int piece;
	uint64_t old, value;
};

/*
 * The hits OPS must give under plan PL: per access, one hit for each piece
 * it touches (in piece order), with the piece's bytes before and after.
 */
static size_t model(const struct hwbp_plan *pl, struct exp *e, size_t max)
{
	uintptr_t base = (uintptr_t)area;
	uint8_t m[AREA], before[AREA];
	size_t n = 0;

	for (unsigned int i = 0; i < AREA; i++)
		m[i] = pattern(i);
	for (unsigned int i = 0; i < nops; i++) {
		const struct op *o = &ops[i];
		bool w = o->kind == 'w';

		memcpy(before, m, sizeof(m));
		for (unsigned int b = 0; w && b < o->size; b++)
			m[o->off + b] = (uint8_t)(o->val >> (8 * b));
		if (!(pl->access & (w ? HWBP_WRITE : HWBP_READ)))
			continue;
		for (unsigned int p = 0; p < pl->nslots; p++) {
			uint64_t s = pl->slots[p].addr - base, l = pl->slots[p].len;

			if (o->off + o->size <= s || s + l <= o->off)
				continue;
			if (n < max)
				e[n] = (struct exp){ p, le(before + s, l), le(m + s, l) };
			n++;
		}
	}
	return n;
}

/* Check C's hits against the model; on a mismatch say where in WHY. */
static bool hits_match(const struct ctx *c, const struct hwbp_plan *pl, const struct exp *e,
		       size_t ne, char *why, size_t whylen)
{
	if (c->n != ne) {
		snprintf(why, whylen, "%zu hits streamed, %zu expected", c->n, ne);
		return false;
	}
	for (size_t i = 0; i < ne; i++) {
		const struct rec *r = &c->r[i];
		const struct hwbp_slot *sl = &pl->slots[e[i].piece];

		if (r->piece != e[i].piece || r->addr != sl->addr || r->len != sl->len ||
		    r->nvalue != sl->len || r->old != e[i].old || r->value != e[i].value ||
		    r->pid != c->pid || r->tid != c->pid) {
			snprintf(why, whylen,
				 "hit %zu: piece %u +%llu/%llu nvalue %u 0x%llx->0x%llx tid %d, want "
				 "piece %u +%llu/%u 0x%llx->0x%llx", i, r->piece,
				 (unsigned long long)(r->addr - (uintptr_t)area),
				 (unsigned long long)r->len, r->nvalue, (unsigned long long)r->old,
				 (unsigned long long)r->value, (int)r->tid, e[i].piece,
				 (unsigned long long)(sl->addr - (uintptr_t)area), sl->len,
				 (unsigned long long)e[i].old, (unsigned long long)e[i].value);
			return false;
		}
	}
	return true;
}

/*
 * Run OPS in a child under one point (OFF, LEN, ACC) delivered by D.
 * Return: 1 good, 0 wrong (WHY says how), -1 the host's slots cannot hold
 * the range (not a case).
 */
static int ops_case(unsigned int off, uint64_t len, enum hwbp_access acc, enum hwbp_delivery d,
		    unsigned int *nslots, char *why, size_t whylen)
{
	struct hwbp_session *s = NULL;
	struct hwbp_point *pt = NULL;
	HWBP_OPTS(hwbp_plan, pl);
	struct exp e[2 * AREA];
	struct child ch;
	struct ctx c;
	uint64_t hits = 0;
	size_t ne;
	int err, ok = 0;

	area_reset();
	if (!child_start(&ch, w_ops, 0, 60)) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		return 0;
	}
	ctx_init(&c, ch.pid);
	err = open_on(&c, HWBP_TARGET_PID, ch.pid, d, false, false, &s);
	if (!err)
		err = hwbp_point_add(s, (uintptr_t)&area[off], len, acc, NULL, &pt);
	if (!err)
		err = apply(s);
	if (err == -ENOSPC && hwbp_session_plan(s) == -ENOSPC) {
		ok = -1;
		goto out;
	}
	if (err) {
		snprintf(why, whylen, "setup: %s", strerror(-err));
		goto out;
	}
	child_go(&ch, 1);
	err = wait_exit(s, &c);
	if (!err)
		err = hwbp_point_count(pt, &hits);
	if (!err)
		err = hwbp_point_plan(pt, &pl);
	if (err) {
		snprintf(why, whylen, "%s", strerror(-err));
		goto out;
	}
	if (nslots)
		*nslots = pl.nslots;
	ne = model(&pl, e, 2 * AREA);
	if (!exited_with(c.status, 0))
		snprintf(why, whylen, "target: %s", status_str(c.status));
	else if (hits != ne)
		snprintf(why, whylen, "count %llu, want %zu", (unsigned long long)hits, ne);
	else if (d == HWBP_DELIVER_STREAM && !hits_match(&c, &pl, e, ne, why, whylen))
		;
	else if (d == HWBP_DELIVER_COUNT && c.n)
		snprintf(why, whylen, "%zu hits streamed in count mode", c.n);
	else
		ok = 1;
out:
	hwbp_session_close(s);
	child_end(&ch, c.exited);
	ctx_free(&c);
	return ok;
}

/* ---------------------------------------------------------------------- */
/* 1: opening                                                             */

static void test_refusals(void)
{
	struct hwbp_session *s = NULL;
	int err;

	{
		HWBP_OPTS(hwbp_session_opts, o, .target = HWBP_TARGET_SELF,
			  .backend = HWBP_BACKEND_PTRACE);

		err = hwbp_session_open(&o, &s);
		hw_ok(err == -EINVAL && !s, "open: SELF target refused with EINVAL (%d)", err);
	}
	{
		/* A signal mode session cannot be on another process: EINVAL by
		 * the session rules, before the backend is asked. */
		HWBP_OPTS(hwbp_session_opts, o, .target = HWBP_TARGET_PID, .pid = getppid(),
			  .delivery = HWBP_DELIVER_SIGNAL, .signal_fn = NULL,
			  .backend = HWBP_BACKEND_PTRACE);

		err = hwbp_session_open(&o, &s);
		hw_ok(err == -EINVAL && !s, "open: signal delivery on a PID target refused with "
		      "EINVAL (%d)", err);
	}
	{
		struct child ch;
		struct ctx c;

		if (!child_start(&ch, w_ops, 0, 60)) {
			hw_ok(false, "open: kernel watching refused (fork failed)");
			return;
		}
		ctx_init(&c, ch.pid);
		HWBP_OPTS(hwbp_session_opts, o, .target = HWBP_TARGET_PID, .pid = ch.pid,
			  .kernel = true, .backend = HWBP_BACKEND_PTRACE);

		err = hwbp_session_open(&o, &s);
		hw_ok(err == -EOPNOTSUPP && !s,
		      "open: kernel watching (a tracer sees user mode only) refused with "
		      "EOPNOTSUPP (%d)", err);
		hwbp_session_close(s);
		child_end(&ch, false);
	}
}

/* ---------------------------------------------------------------------- */
/* 2: lengths, offsets, accesses                                          */

static void test_sweep(enum hwbp_access acc, enum hwbp_delivery d)
{
	static const unsigned int lens[] = { 1, 2, 4, 8 };
	const char *mode = d == HWBP_DELIVER_STREAM ? "stream" : "count";
	char bad[512] = "", why[256];
	unsigned int cases = 0, na = 0;

	ops_sweep(acc == HWBP_RW);
	for (unsigned int l = 0; l < 4; l++) {
		for (unsigned int off = 0; off < 8; off++) {
			int r = ops_case(16 + off, lens[l], acc, d, NULL, why, sizeof(why));

			if (r < 0) {
				na++;
				continue;
			}
			cases++;
			if (!r && !bad[0])
				snprintf(bad, sizeof(bad), ": len %u at +%u: %s", lens[l], off, why);
		}
	}
	hw_ok(!bad[0] && cases + na == 32,
	      "%s, %s: lengths 1,2,4,8 at every offset in a word, %u cases (%u beyond the "
	      "slots): one hit per byte inside%s, none outside%s%s",
	      hwbp_access_name(acc), mode, cases, na, acc == HWBP_RW ? " per load and store" : "",
	      d == HWBP_DELIVER_STREAM ? ", exact bytes before and after" : "", bad);
}

/* A breakpoint on the first instruction of a function called 7 times. */
__attribute__((noinline, used)) void hw_ptrace_fn(void)
{
	__asm__ volatile("" ::: "memory");
}

static void (*volatile fn_ptr)(void) = hw_ptrace_fn;

static void w_calls(long arg)
{
	go_wait();
	for (long i = 0; i < arg; i++)
		fn_ptr();
}

static void test_exec_bp(enum hwbp_delivery d)
{
	uint64_t addr = (uintptr_t)hw_ptrace_fn, len = is_x86() ? 1 : 4, hits = 0;
	struct hwbp_session *s = NULL;
	struct hwbp_point *pt = NULL;
	struct child ch;
	struct ctx c;
	bool recs_ok = true;
	int err;

	if (!child_start(&ch, w_calls, 7, 60)) {
		hw_ok(false, "x: fork failed");
		return;
	}
	ctx_init(&c, ch.pid);
	err = open_on(&c, HWBP_TARGET_PID, ch.pid, d, false, false, &s);
	if (!err)
		err = hwbp_point_add(s, addr, len, HWBP_EXEC, NULL, &pt);
	err = run_child(s, &ch, &c, err);
	if (!err)
		err = hwbp_point_count(pt, &hits);
	for (size_t i = 0; i < c.n; i++)
		if (c.r[i].pt != pt || c.r[i].ip != addr || c.r[i].nvalue != 0 ||
		    c.r[i].addr != addr || c.r[i].tid != ch.pid)
			recs_ok = false;
	hw_ok(!err && hits == 7 && c.n == (d == HWBP_DELIVER_STREAM ? 7u : 0u) && recs_ok &&
	      exited_with(c.status, 0),
	      "x, %s: a breakpoint on a function counts its 7 calls: count %llu, %zu hits%s "
	      "(%s, err %d)", d == HWBP_DELIVER_STREAM ? "stream" : "count",
	      (unsigned long long)hits, c.n, recs_ok ? "" : " (wrong ip/addr/values)",
	      status_str(c.status), err);
	hwbp_session_close(s);
	child_end(&ch, c.exited);
	ctx_free(&c);
}

/* ---------------------------------------------------------------------- */
/* 3: split ranges                                                        */

static void test_range(unsigned int off, uint64_t len)
{
	HWBP_OPTS(hwbp_plan, want);
	unsigned int nslots = 0;
	char why[256] = "";
	int r, perr;

	perr = hwbp_arch_plan(hwbp_arch_host(), (uintptr_t)&area[off], len, HWBP_WRITE, NULL, &want);
	ops_sweep(false);
	r = ops_case(off, len, HWBP_WRITE, HWBP_DELIVER_STREAM, &nslots, why, sizeof(why));
	hw_ok(r == 1 && !perr && nslots == want.nslots,
	      "w: %llu bytes at +%u in a word: %u slots as planned, byte sweep over [4, 60): one "
	      "hit per byte inside with its piece and values, none outside%s%s",
	      (unsigned long long)len, off % 8, nslots, why[0] ? ": " : "", why);
}

static void test_wide_store(void)
{
	char why[256] = "";
	int r;

	/* An 8-byte store to the word at 16 touches the pieces of 19/6 that lie
	 * in it: 1@19 and 4@20 on x86-64, 19-23 on arm64; never the byte at 24.
	 * On x86-64 two debug registers match the one store (the byte sweep
	 * checks each piece alone). */
	if (hwbp_arch_host() == HWBP_ARCH_X86_64 &&
	    hw_needs_exact_dr6("w: 6 bytes at +3: an 8-byte store fires each piece it touches once"))
		return;
	nops = 0;
	ops[nops++] = (struct op){ 'w', 16, 8, 0x0102030405060708ull };
	ops[nops++] = (struct op){ 'w', 25, 1, 0x77 };
	ops[nops++] = (struct op){ 'w', 24, 1, 0x66 };
	r = ops_case(19, 6, HWBP_WRITE, HWBP_DELIVER_STREAM, NULL, why, sizeof(why));
	hw_ok(r == 1, "w: 6 bytes at +3: an 8-byte store fires each piece it touches once, a byte "
	      "store beyond the range none, one inside its piece%s%s", why[0] ? ": " : "", why);
}

/* ---------------------------------------------------------------------- */
/* 4: values                                                              */

static volatile int32_t v32 __attribute__((aligned(8)));
static volatile uint64_t v64 __attribute__((aligned(8)));
static volatile uint32_t vrw __attribute__((aligned(8)));

static void w_values(long arg)
{
	(void)arg;
	go_wait();
	v32 = 5;
	v32 = 5;
	v32 += 3;
	v32 = -1;
	hw_store((volatile uint8_t *)&v64 + 2, 1, 0xaa);
	sink = vrw;
	sink = vrw;
	vrw = 78;
	sink = vrw;
}

static bool pairs_are(const struct ctx *c, const struct hwbp_point *pt, const uint64_t (*want)[2],
		      size_t n, unsigned int nvalue, char *why, size_t whylen)
{
	size_t k = 0;

	for (size_t i = 0; i < c->n; i++) {
		const struct rec *r = &c->r[i];

		if (r->pt != pt)
			continue;
		if (k >= n || r->nvalue != nvalue || r->old != want[k][0] || r->value != want[k][1]) {
			snprintf(why, whylen, ": hit %zu is %u bytes 0x%llx->0x%llx", k, r->nvalue,
				 (unsigned long long)r->old, (unsigned long long)r->value);
			return false;
		}
		k++;
	}
	if (k != n) {
		snprintf(why, whylen, ": %zu hits, want %zu", k, n);
		return false;
	}
	return true;
}

static void test_values(void)
{
	static const uint64_t w32[][2] = { { 100, 5 }, { 5, 5 }, { 5, 8 }, { 8, 0xffffffff } };
	static const uint64_t w64[][2] = { { 0x1122334455667788ull, 0x1122334455aa7788ull } };
	static const uint64_t wrw[][2] = { { 77, 77 }, { 77, 77 }, { 77, 78 }, { 78, 78 } };
	struct hwbp_session *s = NULL;
	struct hwbp_point *p32 = NULL, *p64 = NULL, *prw = NULL;
	struct child ch;
	struct ctx c;
	char why[3][128] = { "", "", "" };
	int err;

	v32 = 100;
	v64 = 0x1122334455667788ull;
	vrw = 77;
	if (!child_start(&ch, w_values, 0, 60)) {
		for (int i = 0; i < 3; i++)
			hw_ok(false, "values: fork failed");
		return;
	}
	ctx_init(&c, ch.pid);
	err = open_on(&c, HWBP_TARGET_PID, ch.pid, HWBP_DELIVER_STREAM, false, false, &s);
	if (!err)
		err = hwbp_point_add(s, (uintptr_t)&v32, 4, HWBP_WRITE, NULL, &p32);
	if (!err)
		err = hwbp_point_add(s, (uintptr_t)&v64, 8, HWBP_WRITE, NULL, &p64);
	if (!err)
		err = hwbp_point_add(s, (uintptr_t)&vrw, 4, HWBP_RW, NULL, &prw);
	err = run_child(s, &ch, &c, err);
	hw_ok(!err && exited_with(c.status, 0) && pairs_are(&c, p32, w32, 4, 4, why[0], 128),
	      "values: int32 = 5, = 5, += 3, = -1 gives (100,5) (5,5) (5,8) (8,0xffffffff) in "
	      "order (%s, err %d)%s", status_str(c.status), err, why[0]);
	hw_ok(!err && pairs_are(&c, p64, w64, 1, 8, why[1], 128),
	      "values: a byte stored into an 8-byte watch: one hit, the whole word before and "
	      "after%s", why[1]);
	hw_ok(!err && pairs_are(&c, prw, wrw, 4, 4, why[2], 128),
	      "values: rw, load, load, store 78, load: (77,77) (77,77) (77,78) (78,78)%s", why[2]);
	hwbp_session_close(s);
	child_end(&ch, c.exited);
	ctx_free(&c);
}

/* ---------------------------------------------------------------------- */
/* 5: threads                                                             */

static volatile uint64_t shared_var __attribute__((aligned(8)));

static unsigned int thr_n(unsigned int i)
{
	return 40 + 7 * i;
}

struct tw {
	pthread_t th;
	unsigned int n;
	int go_fd;		/* read a byte before writing, or -1 */
};

static void *thr_writer(void *arg)
{
	struct tw *w = arg;
	int32_t rec[2] = { hw_gettid(), (int32_t)w->n };
	char c;

	res_put(rec, sizeof(rec));
	if (w->go_fd >= 0 && read(w->go_fd, &c, 1) != 1)
		_exit(102);
	for (unsigned int k = 0; k < w->n; k++)
		hw_store(&shared_var, 8, k);
	return NULL;
}

/* ARG 0: threads start after go; 1: they exist (blocked) before it. */
static void w_threads(long arg)
{
	struct tw w[NTHR];
	int p[2] = { -1, -1 };

	if (arg && pipe(p))
		_exit(103);
	if (!arg)
		go_wait();
	for (unsigned int i = 0; i < NTHR; i++) {
		w[i].n = thr_n(i);
		w[i].go_fd = p[0];
		if (pthread_create(&w[i].th, NULL, thr_writer, &w[i]))
			_exit(104);
	}
	if (arg) {
		go_wait();
		for (unsigned int i = 0; i < NTHR; i++)
			if (write(p[1], "g", 1) != 1)
				_exit(105);
	}
	for (unsigned int i = 0; i < NTHR; i++)
		pthread_join(w[i].th, NULL);
}

/* Are the rows exactly the reported {tid: n}? */
static bool rows_match(const struct hwbp_thread_count *tc, size_t n, const int32_t (*tid)[2],
		       unsigned int nt)
{
	if (n != nt)
		return false;
	for (unsigned int i = 0; i < nt; i++) {
		bool found = false;

		for (size_t j = 0; j < n; j++)
			if (tc[j].tid == tid[i][0] && tc[j].hits == (uint64_t)tid[i][1])
				found = true;
		if (!found)
			return false;
	}
	return true;
}

static void test_threads(bool before, enum hwbp_delivery d)
{
	struct hwbp_thread_count tc[32];
	struct hwbp_session *s = NULL;
	struct hwbp_point *pt = NULL;
	int32_t tid[NTHR][2];
	struct child ch;
	struct ctx c;
	uint64_t hits = 0, want = 0;
	size_t n = 0;
	bool got = true, streamed = true;
	int err;

	for (unsigned int i = 0; i < NTHR; i++)
		want += thr_n(i);
	if (!child_start(&ch, w_threads, before, 60)) {
		hw_ok(false, "threads: fork failed");
		return;
	}
	ctx_init(&c, ch.pid);
	/* Threads already running report their tids before we attach. */
	for (unsigned int i = 0; before && i < NTHR; i++)
		got &= child_read(&ch, tid[i], sizeof(tid[i]));
	err = open_on(&c, HWBP_TARGET_PID, ch.pid, d, true, false, &s);
	if (!err)
		err = hwbp_point_add(s, (uintptr_t)&shared_var, 8, HWBP_WRITE, NULL, &pt);
	err = run_child(s, &ch, &c, err);
	for (unsigned int i = 0; !before && i < NTHR; i++)
		got &= child_read(&ch, tid[i], sizeof(tid[i]));
	if (!err)
		err = hwbp_point_count(pt, &hits);
	if (!err)
		err = hwbp_point_threads(pt, tc, 32, &n);
	/* Stream mode: each thread's hits come with its tid, values in order. */
	for (unsigned int i = 0; got && d == HWBP_DELIVER_STREAM && i < NTHR; i++) {
		size_t k = 0;

		for (size_t j = 0; j < c.n; j++)
			if (c.r[j].tid == tid[i][0])
				k++;
		streamed &= k == (size_t)tid[i][1];
	}
	if (d == HWBP_DELIVER_COUNT)
		streamed = c.n == 0;
	hw_ok(!err && got && hits == want && rows_match(tc, n, tid, NTHR) && streamed &&
	      exited_with(c.status, 0),
	      "threads, %s: 8 threads %s write %llu times: count %llu, %zu rows exact per "
	      "tid%s (%s, err %d)", d == HWBP_DELIVER_STREAM ? "stream" : "count",
	      before ? "running before the session opens" : "started after apply (TRACECLONE)",
	      (unsigned long long)want, (unsigned long long)hits, n,
	      d == HWBP_DELIVER_STREAM ? (streamed ? ", stream per tid exact" :
					  ", stream per tid WRONG") : "",
	      status_str(c.status), err);
	hwbp_session_close(s);
	child_end(&ch, c.exited);
	ctx_free(&c);
}

/* One thread of two is the target: 30 writes by it count, 20 by main not. */
static void w_tid(long arg)
{
	struct tw w = { .n = 30 };
	int p[2];

	(void)arg;
	if (pipe(p))
		_exit(103);
	w.go_fd = p[0];
	if (pthread_create(&w.th, NULL, thr_writer, &w))
		_exit(104);
	go_wait();
	if (write(p[1], "g", 1) != 1)
		_exit(105);
	pthread_join(w.th, NULL);
	for (int i = 0; i < 20; i++)
		hw_store(&shared_var, 8, (uint64_t)i);
}

static void test_tid(void)
{
	struct hwbp_session *s = NULL;
	struct hwbp_point *pt = NULL;
	int32_t tid[2] = { 0, 0 };
	struct child ch;
	struct ctx c;
	uint64_t hits = 0;
	int err = -EIO, status = -1;

	if (!child_start(&ch, w_tid, 0, 60)) {
		hw_ok(false, "tid: fork failed");
		return;
	}
	if (child_read(&ch, tid, sizeof(tid)))
		err = 0;
	ctx_init(&c, tid[0]);
	if (!err)
		err = open_on(&c, HWBP_TARGET_TID, tid[0], HWBP_DELIVER_STREAM, false, false, &s);
	if (!err)
		err = hwbp_point_add(s, (uintptr_t)&shared_var, 8, HWBP_WRITE, NULL, &pt);
	err = run_child(s, &ch, &c, err);	/* the thread's exit */
	if (!err)
		err = hwbp_point_count(pt, &hits);
	hwbp_session_close(s);
	/* The process itself was never traced: it is ours to wait for. */
	if (!err && waitpid(ch.pid, &status, 0) != ch.pid)
		err = -errno;
	hw_ok(!err && hits == 30 && c.n == 30 && c.r[0].tid == tid[0] && exited_with(status, 0),
	      "tid: one thread of two is the target: its 30 writes counted, main's 20 not "
	      "(%llu, %zu streamed, process %s, err %d)", (unsigned long long)hits, c.n,
	      status_str(status), err);
	child_end(&ch, !err);
	ctx_free(&c);
}

/* ---------------------------------------------------------------------- */
/* 6: fork and exec                                                       */

#define FORK_N 20	/* writes by the target */
#define FORK_M 30	/* writes by the child it forks */

static void w_fork(long arg)
{
	int32_t g32;
	pid_t g;
	int st;

	(void)arg;
	go_wait();
	g = fork();
	if (g == 0) {
		for (int i = 0; i < FORK_M; i++)
			hw_store(&shared_var, 8, 1000 + (uint64_t)i);
		_exit(0);
	}
	if (g < 0)
		_exit(103);
	g32 = g;
	res_put(&g32, sizeof(g32));
	for (int i = 0; i < FORK_N; i++)
		hw_store(&shared_var, 8, (uint64_t)i);
	if (waitpid(g, &st, 0) != g)
		_exit(104);
	/* The forked child's fate is our exit status: 0, or 128 + its signal. */
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

static void test_fork(bool follow)
{
	struct hwbp_session *s = NULL;
	struct hwbp_point *pt = NULL;
	struct child ch;
	struct ctx c;
	uint64_t hits = 0, want = follow ? FORK_N + FORK_M : FORK_N;
	size_t by_g = 0;
	int32_t g = 0;
	int err;

	if (!child_start(&ch, w_fork, 0, 60)) {
		hw_ok(false, "fork: fork failed");
		return;
	}
	ctx_init(&c, ch.pid);
	err = open_on(&c, HWBP_TARGET_PID, ch.pid, HWBP_DELIVER_STREAM, false, follow, &s);
	if (!err)
		err = hwbp_point_add(s, (uintptr_t)&shared_var, 8, HWBP_WRITE, NULL, &pt);
	err = run_child(s, &ch, &c, err);
	if (!err && !child_read(&ch, &g, sizeof(g)))
		err = -EIO;
	if (!err)
		err = hwbp_point_count(pt, &hits);
	for (size_t i = 0; i < c.n; i++)
		by_g += c.r[i].pid == g;
	if (follow)
		hw_ok(!err && hits == want && c.n == want && by_g == FORK_M &&
		      exited_with(c.status, 0) && c.other_pid == g && exited_with(c.other_status, 0),
		      "fork with follow_fork: count %llu = %d + %d, %zu hits from the forked child; "
		      "it exits 0 (target %s, err %d)", (unsigned long long)hits, FORK_N, FORK_M,
		      by_g, status_str(c.status), err);
	else
		hw_ok(!err && hits == want && c.n == want && by_g == 0 && exited_with(c.status, 0),
		      "fork without follow_fork: count %llu = %d, the forked child writes %d times "
		      "unwatched and exits 0, not by SIGTRAP (target %s = the child's status, err %d)",
		      (unsigned long long)hits, FORK_N, FORK_M, status_str(c.status), err);
	hwbp_session_close(s);
	child_end(&ch, c.exited);
	ctx_free(&c);
}

static volatile uint64_t exec_var __attribute__((aligned(8))) = 1000;
static char self_path[4096];

static void w_exec(long arg)
{
	(void)arg;
	go_wait();
	for (uint64_t i = 1; i <= 3; i++)
		exec_var = 1000 + i;
	execl(self_path, self_path, "--exec-helper", (char *)NULL);
	_exit(127);
}

/* The image the target execs into: 7 writes, then exit 42 (_exit: no
 * LeakSanitizer at exit, it cannot run in a traced process). */
static void exec_helper(void)
{
	for (uint64_t i = 1; i <= 7; i++)
		exec_var = 2000 + i;
	_exit(42);
}

/* Where PID's (0: our) executable is mapped from file offset 0. */
static uint64_t exe_base(pid_t pid)
{
	char path[64], exe[4096], line[4608], name[4096];
	uint64_t base = 0;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), pid ? "/proc/%d/exe" : "/proc/self/exe", (int)pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n <= 0)
		return 0;
	exe[n] = '\0';
	snprintf(path, sizeof(path), pid ? "/proc/%d/maps" : "/proc/self/maps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (!base && fgets(line, sizeof(line), f)) {
		unsigned long long start, end, off;
		char perms[8];

		name[0] = '\0';
		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %4095[^\n]", &start, &end, perms, &off,
			   name) == 5 && off == 0 && !strcmp(name, exe))
			base = start;
	}
	fclose(f);
	return base;
}

static void test_exec(void)
{
	struct hwbp_session *s = NULL;
	struct hwbp_point *pt = NULL;
	uint64_t hits = 0, off = (uintptr_t)&exec_var - exe_base(0), moved_to = 0;
	char comm[16] = "", why[128] = "";
	const char *base;
	bool moved = false, vals = true;
	uint64_t end = now_ms() + 30000;
	struct child ch;
	struct ctx c;
	int err;

	base = strrchr(self_path, '/') ? strrchr(self_path, '/') + 1 : self_path;
	memcpy(comm, base, strnlen(base, sizeof(comm) - 1));
	if (!child_start(&ch, w_exec, 0, 60)) {
		hw_ok(false, "exec: fork failed");
		return;
	}
	ctx_init(&c, ch.pid);
	err = open_on(&c, HWBP_TARGET_PID, ch.pid, HWBP_DELIVER_STREAM, false, false, &s);
	if (!err)
		err = hwbp_point_add(s, (uintptr_t)&exec_var, 8, HWBP_WRITE, NULL, &pt);
	if (!err)
		err = apply(s);
	if (!err)
		child_go(&ch, 1);
	while (!err && !c.exited) {
		err = hwbp_session_poll(s, 100, on_hit, &c);
		/* The exec'ing thread is held until the next poll: move the point
		 * to the same variable in the new image before it runs. */
		if (!err && c.nexec == 1 && !moved) {
			uint64_t nb = exe_base(ch.pid);

			moved = true;
			moved_to = nb + off;
			if (!nb)
				err = -ENOENT;
			if (!err)
				err = hwbp_point_modify(pt, moved_to, 8, HWBP_WRITE);
			if (!err)
				err = apply(s);
		}
		if (now_ms() > end)
			err = -ETIMEDOUT;
	}
	if (!err)
		err = hwbp_point_count(pt, &hits);
	for (size_t i = 0; i < c.n; i++) {
		bool pre = i < 3;
		uint64_t o = pre ? 1000 + i : (i == 3 ? 1000 : 2000 + i - 3), v = pre ? 1001 + i :
										2001 + i - 3;

		if (c.r[i].old != o || c.r[i].value != v ||
		    c.r[i].addr != (pre ? (uintptr_t)&exec_var : moved_to)) {
			vals = false;
			snprintf(why, sizeof(why), ": hit %zu 0x%llx->0x%llx", i,
				 (unsigned long long)c.r[i].old, (unsigned long long)c.r[i].value);
			break;
		}
	}
	hw_ok(!err && c.nexec == 1 && !strcmp(c.comm, comm) && hits == 10 && c.n == 10 && vals &&
	      exited_with(c.status, 42),
	      "exec: 3 hits, one EXEC notification (comm %s), the point moved into the new image "
	      "while held: its 7 writes, values exact; EXIT carries status 42 (%d exec, count "
	      "%llu, %zu hits, %s, err %d)%s", c.comm, c.nexec, (unsigned long long)hits, c.n,
	      status_str(c.status), err, why);
	hwbp_session_close(s);
	child_end(&ch, c.exited);
	ctx_free(&c);
}

/* ---------------------------------------------------------------------- */
/* 7: slot exhaustion                                                     */

static volatile uint64_t words[HWBP_SLOTS_MAX + 1] __attribute__((aligned(64)));
static unsigned int host_nwatch;

static void w_words(long arg)
{
	go_wait();
	for (uint64_t k = 1; k <= 5; k++)
		for (long i = 0; i < arg; i++)
			hw_store(&words[i], 8, k);
}

static void test_exhaustion(bool drop_one)
{
	unsigned int n = host_nwatch + 1;
	struct hwbp_point *pt[HWBP_SLOTS_MAX + 1] = { NULL };
	struct hwbp_session *s = NULL;
	uint64_t h[HWBP_SLOTS_MAX + 1] = { 0 }, sum = 0;
	struct child ch;
	struct ctx c;
	int err, aerr = 0;
	bool exact = true;

	if (!child_start(&ch, w_words, n, 60)) {
		hw_ok(false, "exhaustion: fork failed");
		return;
	}
	ctx_init(&c, ch.pid);
	err = open_on(&c, HWBP_TARGET_PID, ch.pid, HWBP_DELIVER_STREAM, false, false, &s);
	for (unsigned int i = 0; i < n && !err; i++)
		err = hwbp_point_add(s, (uintptr_t)&words[i], 8, HWBP_WRITE, NULL, &pt[i]);
	if (!err) {
		aerr = apply(s);
		if (drop_one) {
			hwbp_point_remove(pt[n - 1]);
			pt[n - 1] = NULL;
			err = apply(s);
		}
	}
	if (!err) {
		child_go(&ch, 1);
		err = wait_exit(s, &c);
	}
	for (unsigned int i = 0; i < n && !err; i++) {
		if (pt[i])
			err = hwbp_point_count(pt[i], &h[i]);
		sum += h[i];
		if (drop_one)
			exact &= h[i] == (i < n - 1 ? 5u : 0u) && recs_of(&c, pt[i]) == h[i];
	}
	if (!drop_one)
		hw_ok(!err && aerr == -ENOSPC && sum == 0 && c.n == 0 && exited_with(c.status, 0),
		      "exhaustion: %u points for %u slots: apply gives ENOSPC; the target's writes "
		      "then stop nothing and hit nothing, it exits 0 (apply %d, %llu hits, %s, err %d)",
		      n, host_nwatch, aerr, (unsigned long long)sum, status_str(c.status), err);
	else
		hw_ok(!err && aerr == -ENOSPC && exact && c.n == 5 * (n - 1) &&
		      exited_with(c.status, 0),
		      "exhaustion: after ENOSPC one point removed, apply succeeds: 5 hits on each of "
		      "%u words, none on the removed one (%zu hits, %s, err %d)", n - 1, c.n,
		      status_str(c.status), err);
	hwbp_session_close(s);
	child_end(&ch, c.exited);
	ctx_free(&c);
}

/* ---------------------------------------------------------------------- */
/* 8: modify and remove while hits flow                                   */

#define FLOW_N 600

static volatile uint64_t flow[3][8] __attribute__((aligned(64)));	/* a, b, c */

static void w_flow(long arg)
{
	(void)arg;
	go_wait();
	for (uint64_t i = 1; i <= FLOW_N; i++) {
		flow[0][0] = i;
		flow[1][0] = i;
		flow[2][0] = i;
	}
}

/* The hits of PT at ADDR from index FROM: (i-1, i) for i = *FIRST.. with no
 * gap. Return: how many; *FIRST is set from the first one (0: none). */
static size_t run_of(const struct ctx *c, const struct hwbp_point *pt, uint64_t addr,
		     size_t from, size_t *next, uint64_t *first, bool *gapless)
{
	size_t n = 0, i;

	*first = 0;
	for (i = from; i < c->n; i++) {
		const struct rec *r = &c->r[i];

		if (r->pt != pt)
			continue;
		if (r->addr != addr)
			break;
		if (!n)
			*first = r->value;
		if (r->nvalue != 8 || r->value != *first + n || r->old != r->value - 1)
			*gapless = false;
		n++;
	}
	*next = i;
	return n;
}

static void test_flow(void)
{
	struct hwbp_session *s = NULL;
	struct hwbp_point *p = NULL, *q = NULL;
	uint64_t a = (uintptr_t)&flow[0][0], b = (uintptr_t)&flow[1][0], cc = (uintptr_t)&flow[2][0];
	uint64_t pc = 0, fa = 0, fb = 0, fq = 0, end = now_ms() + 30000;
	size_t na, nb, nq, after_rm = 0, idx, rm_at = 0, late_q = 0;
	bool moved = false, removed = false, ga = true, gb = true, gq = true;
	struct child ch;
	struct ctx c;
	int err;

	if (!child_start(&ch, w_flow, 0, 60)) {
		hw_ok(false, "flow: fork failed");
		hw_ok(false, "flow: fork failed");
		return;
	}
	ctx_init(&c, ch.pid);
	err = open_on(&c, HWBP_TARGET_PID, ch.pid, HWBP_DELIVER_STREAM, false, false, &s);
	if (!err)
		err = hwbp_point_add(s, a, 8, HWBP_WRITE, NULL, &p);
	if (!err)
		err = hwbp_point_add(s, cc, 8, HWBP_WRITE, NULL, &q);
	if (!err)
		err = apply(s);
	if (!err)
		child_go(&ch, 1);
	while (!err && !c.exited) {
		err = hwbp_session_poll(s, 100, on_hit, &c);
		if (!err && !moved && recs_of(&c, p) >= 100) {
			moved = true;
			err = hwbp_point_modify(p, b, 8, HWBP_WRITE);
			if (!err)
				err = apply(s);
		}
		if (!err && moved && !removed && recs_of(&c, p) >= 300) {
			removed = true;
			hwbp_point_remove(q);
			rm_at = c.n;
		}
		if (now_ms() > end)
			err = -ETIMEDOUT;
	}
	if (!err)
		err = hwbp_point_count(p, &pc);
	na = run_of(&c, p, a, 0, &idx, &fa, &ga);
	nb = run_of(&c, p, b, idx, &idx, &fb, &gb);
	nq = run_of(&c, q, cc, 0, &after_rm, &fq, &gq);
	for (size_t i = rm_at; removed && i < c.n; i++)
		late_q += c.r[i].pt == q;
	/* P: a = 1..k, then b = j..N with j = k or k + 1, nothing else. */
	hw_ok(!err && moved && fa == 1 && na >= 100 && ga && gb && nb &&
	      (fb == na || fb == na + 1) && fb + nb - 1 == FLOW_N && na + nb == recs_of(&c, p) &&
	      pc == na + nb && exited_with(c.status, 0),
	      "modify while hits flow: a point moved from a to b: a = 1..%zu, then b = %llu..%llu, "
	      "no gap, no repeat, every hit at its own address; count %llu = %zu + %zu (%s, err %d)",
	      na, (unsigned long long)fb, (unsigned long long)(fb + nb - 1),
	      (unsigned long long)pc, na, nb, status_str(c.status), err);
	hw_ok(!err && removed && fq == 1 && gq && nq >= 1 && nq < FLOW_N && late_q == 0 &&
	      nq == recs_of(&c, q),
	      "remove while hits flow: the other point's hits run 1..%zu without a gap and stop at "
	      "removal (%zu after it)", nq, late_q);
	hwbp_session_close(s);
	child_end(&ch, c.exited);
	ctx_free(&c);
}

/* ---------------------------------------------------------------------- */
/* 9: the target's own signals                                            */

static volatile uint64_t sig_var __attribute__((aligned(8)));
static volatile int32_t usr1_n __attribute__((aligned(8)));
static volatile int32_t trap_n __attribute__((aligned(8)));

static void on_usr1(int sig)
{
	(void)sig;
	usr1_n++;
}

static void on_trap(int sig)
{
	(void)sig;
	trap_n++;
}

static void w_signals(long arg)
{
	struct sigaction sa;

	(void)arg;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	/* SA_NODEFER: a watched access made while SIGTRAP is blocked (as it
	 * is in its own handler) makes the kernel force the debug trap, which
	 * resets the handler to SIG_DFL (force_sig_info_to_task()), so the
	 * next raise(SIGTRAP) would kill us. A tracer cannot prevent that. */
	sa.sa_handler = on_trap;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGTRAP, &sa, NULL);
	go_wait();
	sig_var = 1;
	raise(SIGUSR1);
	sig_var = 2;
	raise(SIGTRAP);
	sig_var = 3;
	raise(SIGUSR1);
	sig_var = 4;
	raise(SIGTRAP);
	sig_var = 5;
	raise(SIGUSR1);
	sig_var = 6;
	_exit(usr1_n * 10 + trap_n);
}

static void test_signals(void)
{
	static const uint64_t wv[][2] = { { 0, 1 }, { 1, 2 }, { 2, 3 }, { 3, 4 }, { 4, 5 }, { 5, 6 } };
	static const uint64_t wu[][2] = { { 0, 1 }, { 1, 2 }, { 2, 3 } };
	static const uint64_t wt[][2] = { { 0, 1 }, { 1, 2 } };
	struct hwbp_session *s = NULL;
	struct hwbp_point *pv = NULL, *pu = NULL, *ptr = NULL;
	char why[128] = "";
	struct child ch;
	struct ctx c;
	int err;

	sig_var = 0;
	usr1_n = trap_n = 0;
	if (!child_start(&ch, w_signals, 0, 60)) {
		hw_ok(false, "signals: fork failed");
		return;
	}
	ctx_init(&c, ch.pid);
	err = open_on(&c, HWBP_TARGET_PID, ch.pid, HWBP_DELIVER_STREAM, false, false, &s);
	if (!err)
		err = hwbp_point_add(s, (uintptr_t)&sig_var, 8, HWBP_WRITE, NULL, &pv);
	if (!err)
		err = hwbp_point_add(s, (uintptr_t)&usr1_n, 4, HWBP_WRITE, NULL, &pu);
	if (!err)
		err = hwbp_point_add(s, (uintptr_t)&trap_n, 4, HWBP_WRITE, NULL, &ptr);
	err = run_child(s, &ch, &c, err);
	hw_ok(!err && exited_with(c.status, 32) && pairs_are(&c, pv, wv, 6, 8, why, sizeof(why)) &&
	      pairs_are(&c, pu, wu, 3, 4, why, sizeof(why)) &&
	      pairs_are(&c, ptr, wt, 2, 4, why, sizeof(why)),
	      "signals: 3 SIGUSR1 and 2 raise(SIGTRAP) reach the target's handlers (exit 32 = "
	      "3*10+2: %s); 6 watched writes and the handlers' 3 + 2 counter writes hit exactly, "
	      "values in order "
	      "(err %d)%s", status_str(c.status), err, why);
	hwbp_session_close(s);
	child_end(&ch, c.exited);
	ctx_free(&c);
}

/* ---------------------------------------------------------------------- */
/* 10: close while the target writes                                      */

#define DET_N 4000

static volatile uint64_t det_a __attribute__((aligned(8)));
static volatile uint64_t det_b __attribute__((aligned(8)));

static void *det_thread(void *arg)
{
	(void)arg;
	for (uint64_t i = 1; i <= DET_N; i++)
		det_b = i;
	return NULL;
}

static int tracer_pid(void)
{
	char buf[4096];
	const char *p;
	ssize_t n;
	int fd = open("/proc/self/status", 0);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "TracerPid:");
	return p ? atoi(p + 10) : -1;
}

static void w_detach(long arg)
{
	pthread_t th;

	(void)arg;
	go_wait();
	if (pthread_create(&th, NULL, det_thread, NULL))
		_exit(103);
	for (uint64_t i = 1; i <= DET_N; i++)
		det_a = i;
	pthread_join(th, NULL);
	if (det_a != DET_N || det_b != DET_N)
		_exit(3);
	if (tracer_pid() != 0)
		_exit(4);
	_exit(0);
}

static void test_detach(void)
{
	struct hwbp_session *s = NULL;
	struct hwbp_point *pa = NULL, *pb = NULL;
	uint64_t end = now_ms() + 30000;
	struct child ch;
	struct ctx c;
	int err, status = -1;
	bool reaped = false;

	if (!child_start(&ch, w_detach, 0, 60)) {
		hw_ok(false, "detach: fork failed");
		return;
	}
	ctx_init(&c, ch.pid);
	err = open_on(&c, HWBP_TARGET_PID, ch.pid, HWBP_DELIVER_STREAM, false, false, &s);
	if (!err)
		err = hwbp_point_add(s, (uintptr_t)&det_a, 8, HWBP_WRITE, NULL, &pa);
	if (!err)
		err = hwbp_point_add(s, (uintptr_t)&det_b, 8, HWBP_WRITE, NULL, &pb);
	if (!err)
		err = apply(s);
	if (!err)
		child_go(&ch, 1);
	while (!err && !c.exited && c.n < 50) {
		err = hwbp_session_poll(s, 100, on_hit, &c);
		if (now_ms() > end)
			err = -ETIMEDOUT;
	}
	hwbp_session_close(s);
	if (!c.exited && waitpid(ch.pid, &status, 0) == ch.pid)
		reaped = true;
	hw_ok(!err && !c.exited && reaped && exited_with(status, 0),
	      "close while 2 threads write: after %zu hits the session closes; the target makes "
	      "its remaining writes untraced (TracerPid 0) and exits 0, no SIGTRAP (%s, err %d)",
	      c.n, status_str(status), err);
	child_end(&ch, c.exited || reaped);
	ctx_free(&c);
}

/* ---------------------------------------------------------------------- */

/* The library's log lines as TAP comments (ENOSPC explains itself). */
static void log_diag(enum hwbp_log_level level, const char *msg, void *arg)
{
	(void)level;
	(void)arg;
	hw_diag("libhwbp: %s", msg);
}

int main(int argc, char **argv)
{
	HWBP_OPTS(hwbp_host_info, hi);
	uint64_t t0 = now_ms();
	ssize_t len;

	if (argc > 1 && !strcmp(argv[1], "--exec-helper"))
		exec_helper();

	/* Under valgrind the child's code runs translated: its instructions are
	 * never fetched where an execute breakpoint watches. */
	int ntests = NTESTS - (hw_valgrind() ? 2 : 0);

	hw_plan(ntests, 240);
	hwbp_set_log(log_diag, NULL, NULL);
	len = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
	if (len > 0)
		self_path[len] = '\0';
	if (hwbp_host_probe(&hi) || !hi.ptrace.usable) {
		hw_skip_rest(ntests, hi.ptrace.reason[0] ? hi.ptrace.reason : "hwbp_host_probe() failed");
		return hw_done();
	}
	host_nwatch = hi.nwatch > 0 ? (unsigned int)hi.nwatch : 4;
	if (host_nwatch > HWBP_SLOTS_MAX)
		host_nwatch = HWBP_SLOTS_MAX;
	hw_diag("%s: %u watchpoint slots (%s), %d breakpoint slots", hwbp_arch_name(hi.arch),
		host_nwatch, hi.slots_from, hi.nbreak);

	test_refusals();
	test_sweep(HWBP_WRITE, HWBP_DELIVER_STREAM);
	test_sweep(HWBP_RW, HWBP_DELIVER_STREAM);
	test_sweep(HWBP_WRITE, HWBP_DELIVER_COUNT);
	test_sweep(HWBP_RW, HWBP_DELIVER_COUNT);
	if (hw_valgrind()) {
		hw_left_out("x: breakpoints on a function, stream and count",
			    "valgrind runs translated code: the function's instructions are never "
			    "fetched");
	} else {
		test_exec_bp(HWBP_DELIVER_STREAM);
		test_exec_bp(HWBP_DELIVER_COUNT);
	}
	test_range(16 + 3, 13);
	test_range(16, 16);
	test_range(16, 24);
	test_range(16 + 1, 9);
	test_range(16 + 6, 4);
	test_wide_store();
	test_values();
	test_threads(false, HWBP_DELIVER_STREAM);
	test_threads(false, HWBP_DELIVER_COUNT);
	test_threads(true, HWBP_DELIVER_STREAM);
	test_tid();
	test_fork(false);
	test_fork(true);
	test_exec();
	test_exhaustion(false);
	test_exhaustion(true);
	test_flow();
	test_signals();
	test_detach();
	hw_diag("%llu ms", (unsigned long long)(now_ms() - t0));
	return hw_done();
}

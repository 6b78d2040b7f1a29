// SPDX-License-Identifier: MIT
/*
 * hw_guard.c - the guard backend: watchpoints by page protection
 *
 * needs: no debug exceptions (tools/run-tests runs it on every machine)
 *
 * No debug register is used, so every test runs everywhere and none is
 * skipped for want of a breakpoint PMU. Each target is a child forked from
 * this program that waits on a pipe, runs a known workload once the session
 * is applied, and exits (its status, handed over in the EXIT notification,
 * says what it saw). No decoder is given: every access to a guarded page is
 * single-stepped with the page open, and a write to a PROT_READ page (a w
 * watch) is reported as a 1-byte write at the fault address. Each test
 * asserts exact numbers:
 *   - lengths 1 .. 4096 at offsets 1, 7 and page - 3 (some ranges cross a
 *     page): byte writes inside, beside (same page) and on other pages: one
 *     hit per byte inside, at its address with its old and new byte, none
 *     outside; the session's guard stats count every fault exactly;
 *   - 8 threads, each writing its own word of a watched array 200 times:
 *     per-tid rows of 200, stream records per tid in order;
 *   - read, write (an rw watch), pread64 and recvfrom with a watched buffer:
 *     the calls behave as without hwbp, one kernel hit each naming the call,
 *     with the bytes it moved (a short recvfrom: its 7 bytes' values);
 *   - the target's SIGSEGV handler: not run for a watched write, run for a
 *     write to its own read-only page;
 *   - the target's own mprotect of a watched page: its write there reaches
 *     its handler, no hit; after it makes the page writable again, hits;
 *   - fork without follow_fork (the child's pages are its own again: it
 *     exits 0, no hits from it) and with it (its 3 writes hit, with its pid);
 *   - refusals: the main thread's stack, its thread pointer, a __thread
 *     variable (on the control block's page), another thread's stack: apply
 *     gives -EINVAL, nothing armed, a good point added first taken back;
 *   - close restores /proc/PID/maps exactly; the target runs on and exits 0.
 */
#include "hw.h"
#include "hwchild.h"

#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#define NTESTS 48
#define PMAX 65536		/* the largest page size: each area starts a page */
#define NTHR 8
#define THR_N 200
#define NLEN 10
#define NOFF 3

/* A page-aligned area of N pages of any size up to PMAX, all its own. */
#define AREA(name, n) static volatile uint8_t name[(n) * PMAX] __attribute__((aligned(PMAX)))

static uint64_t pg;		/* the page size */

/* Release one step of the child's workload, saying so if it cannot be. */
static void release(struct child *ch)
{
	if (!child_go(ch, 1))
		hw_diag("cannot release child %d", (int)ch->pid);
}

/* ---------------------------------------------------------------------- */
/* Sessions on a child                                                    */

struct rec {
	struct hwbp_point *pt;
	uint64_t addr, len;
	enum hwbp_access access;
	int32_t pid, tid;
	unsigned int nvalue;
	uint64_t old, value;
	bool kernel;
	char syscall[16];
};

struct ctx {
	pid_t pid;		/* the task whose EXIT ends the run */
	bool exited;
	int status;		/* its wait status */
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
	struct rec *r;

	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 256;
		struct rec *v = realloc(c->r, cap * sizeof(*v));

		if (!v)
			return 1;
		c->r = v;
		c->cap = cap;
	}
	r = &c->r[c->n++];
	memset(r, 0, sizeof(*r));
	r->pt = h->point;
	r->addr = h->addr;
	r->len = h->len;
	r->access = h->access;
	r->pid = h->pid;
	r->tid = h->tid;
	r->nvalue = h->nvalue;
	r->old = h->old;
	r->value = h->value;
	r->kernel = h->kernel;
	snprintf(r->syscall, sizeof(r->syscall), "%s", h->syscall ? h->syscall : "");
	return 0;
}

static void on_note(const struct hwbp_notify *n, void *arg)
{
	struct ctx *c = arg;

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

/* A guard session on PID; count mode always with per-tid rows. */
static int open_on(struct ctx *c, pid_t pid, enum hwbp_delivery d, bool per_thread, bool follow,
		   struct hwbp_session **s)
{
	HWBP_OPTS(hwbp_session_opts, o, .target = HWBP_TARGET_PID, .pid = pid, .delivery = d,
		  .backend = HWBP_BACKEND_GUARD,
		  .per_thread = per_thread || d == HWBP_DELIVER_COUNT, .follow_fork = follow,
		  .notify_fn = on_note, .notify_arg = c);

	*s = NULL;
	return hwbp_session_open(&o, s);
}

/*
 * Poll until the task C waits for exits: -ETIMEDOUT after STALL_MS without
 * a hit (an emulated machine under load runs a stepped hit in 1-100 ms;
 * the program's alarm bounds the whole run).
 */
#define STALL_MS 30000

static int wait_exit(struct hwbp_session *s, struct ctx *c)
{
	uint64_t end = now_ms() + STALL_MS;
	size_t n = c->n;

	while (!c->exited) {
		int err = hwbp_session_poll(s, 100, on_hit, c);

		if (err && err != -EINTR)
			return err;
		if (c->n != n) {
			n = c->n;
			end = now_ms() + STALL_MS;
		}
		if (now_ms() > end)
			return -ETIMEDOUT;
	}
	return 0;
}

/* Unless ERR: apply S, release the child and run it to its end. */
static int run_child(struct hwbp_session *s, struct child *ch, struct ctx *c, int err)
{
	if (!err)
		err = hwbp_session_apply(s);
	if (!err) {
		release(ch);
		err = wait_exit(s, c);
	}
	return err;
}

static bool exited_with(int status, int code)
{
	return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == code;
}

/* "exit N", "signal N" or "no exit seen" */
static const char *status_str(int status)
{
	static char buf[4][32];
	static unsigned int k;
	char *b = buf[k++ % 4];

	if (status == -1)
		snprintf(b, 32, "no exit seen");
	else if (WIFEXITED(status))
		snprintf(b, 32, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(b, 32, "signal %d", WTERMSIG(status));
	else
		snprintf(b, 32, "status 0x%x", status);
	return b;
}

static struct hwbp_guard_stats stats_of(struct hwbp_session *s)
{
	struct hwbp_guard_stats st;

	memset(&st, 0, sizeof(st));
	st.sz = sizeof(st);
	if (hwbp_session_guard_stats(s, &st))
		memset(&st, 0xff, sizeof(st));	/* matches no expectation */
	return st;
}

static uint64_t le(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t v = 0;

	for (size_t i = 0; i < n && i < 8; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

/* Is R a 1-byte user write of OLD -> VALUE at ADDR by PID (TID 0: any)? */
static bool byte_hit(const struct rec *r, const struct hwbp_point *pt, uint64_t addr, pid_t pid,
		     pid_t tid, uint64_t old, uint64_t value)
{
	return r->pt == pt && r->addr == addr && r->len == 1 && r->access == HWBP_WRITE &&
	       r->pid == pid && (!tid || r->tid == tid) && r->nvalue == 1 && r->old == old &&
	       r->value == value && !r->kernel && !r->syscall[0];
}

static void rec_why(const struct rec *r, size_t i, char *why, size_t whylen)
{
	snprintf(why, whylen, ": hit %zu: 0x%llx/%llu %s pid %d tid %d %u bytes 0x%llx->0x%llx%s%s",
		 i, (unsigned long long)r->addr, (unsigned long long)r->len,
		 hwbp_access_name(r->access) ? hwbp_access_name(r->access) : "?", (int)r->pid,
		 (int)r->tid, r->nvalue, (unsigned long long)r->old, (unsigned long long)r->value,
		 r->kernel ? " kernel " : "", r->syscall);
}

/* ---------------------------------------------------------------------- */
/* The target's SIGSEGV handler                                           */

static sigjmp_buf segv_jb;
static volatile sig_atomic_t segv_n;
static void *volatile segv_addr;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	segv_n++;
	segv_addr = si->si_addr;
	siglongjmp(segv_jb, 1);
}

static void segv_catch(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, NULL))
		_exit(102);
}

/* ---------------------------------------------------------------------- */
/* /proc/PID/maps                                                         */

static char *maps_read(pid_t pid)
{
	char path[64];
	size_t n = 0, cap = 1 << 16;
	char *buf = malloc(cap + 1);
	int fd;

	if (!buf)
		return NULL;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		free(buf);
		return NULL;
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *v = realloc(buf, 2 * cap + 1);

			if (!v)
				break;
			buf = v;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	return buf;
}

/* The permissions ("rw-p") of the mapping holding ADDR in MAPS, or "". */
static void maps_perms(const char *maps, uint64_t addr, char perms[8])
{
	const char *l = maps;

	perms[0] = '\0';
	while (l && *l) {
		unsigned long long a, b;
		char p[8];

		if (sscanf(l, "%llx-%llx %7s", &a, &b, p) == 3 && addr >= a && addr < b) {
			memcpy(perms, p, 8);
			return;
		}
		l = strchr(l, '\n');
		if (l)
			l++;
	}
}

/* ---------------------------------------------------------------------- */
/* 1: lengths and offsets                                                 */

AREA(lbuf, 3);

static const uint64_t lens[NLEN] = { 1, 2, 3, 5, 8, 13, 64, 100, 4095, 4096 };
static uint64_t lpos[64];	/* the bytes the child writes, in order */
static unsigned int nlpos;

static uint8_t lval(unsigned int k)
{
	return (uint8_t)(0x41 + k);
}

static void lpos_add(uint64_t p)
{
	for (unsigned int i = 0; i < nlpos; i++)
		if (lpos[i] == p)
			return;
	if (p < 3 * pg && nlpos < sizeof(lpos) / sizeof(lpos[0]))
		lpos[nlpos++] = p;
}

/* A fixed set over the 3 pages, and the bytes around the range's ends. */
static void lpos_make(uint64_t off, uint64_t len)
{
	static const uint64_t low[] = { 0, 1, 2, 6, 7, 8, 9, 12, 13, 14, 19, 20, 64, 65, 70, 71,
					100, 101, 107, 108 };
	static const uint64_t mid[] = { 0, 1, 2, 9, 10, 60, 61, 92, 93, 96, 97 };

	nlpos = 0;
	for (size_t i = 0; i < sizeof(low) / sizeof(low[0]); i++)
		lpos_add(low[i]);
	lpos_add(pg / 2);
	for (uint64_t i = 4; i >= 1; i--)
		lpos_add(pg - i);
	for (size_t i = 0; i < sizeof(mid) / sizeof(mid[0]); i++)
		lpos_add(pg + mid[i]);
	lpos_add(2 * pg - 1);
	lpos_add(2 * pg);
	lpos_add(2 * pg + 3);
	lpos_add(3 * pg - 1);
	if (off)
		lpos_add(off - 1);
	lpos_add(off);
	lpos_add(off + len / 2);
	lpos_add(off + len - 1);
	lpos_add(off + len);
}

static void w_lengths(long arg)
{
	(void)arg;
	go_wait();
	for (unsigned int k = 0; k < nlpos; k++)
		lbuf[lpos[k]] = lval(k);
}

static unsigned int lstats_bad;
static char lstats_why[160];

static void test_length(uint64_t off, uint64_t len, enum hwbp_delivery d)
{
	uint64_t a = (uintptr_t)lbuf + off, hits = 0, first = off / pg, last = (off + len - 1) / pg;
	uint64_t want = 0, faults = 0;
	bool stream = d == HWBP_DELIVER_STREAM, recs = true;
	struct hwbp_guard_stats st;
	struct hwbp_session *s = NULL;
	struct hwbp_point *pt = NULL;
	char why[200] = "";
	struct child ch;
	struct ctx c;
	size_t j = 0;
	int err;

	lpos_make(off, len);
	for (unsigned int k = 0; k < nlpos; k++) {
		want += lpos[k] >= off && lpos[k] < off + len;
		faults += lpos[k] / pg >= first && lpos[k] / pg <= last;
	}
	if (!child_start(&ch, w_lengths, 0, 120)) {
		hw_ok(false, "lengths: fork failed");
		return;
	}
	ctx_init(&c, ch.pid);
	err = open_on(&c, ch.pid, d, false, false, &s);
	if (!err)
		err = hwbp_point_add(s, a, len, HWBP_WRITE, NULL, &pt);
	err = run_child(s, &ch, &c, err);
	if (!err)
		err = hwbp_point_count(pt, &hits);
	/* Stream: the bytes inside, in the order written, each its own hit. */
	for (unsigned int k = 0; stream && k < nlpos; k++) {
		if (lpos[k] < off || lpos[k] >= off + len)
			continue;
		if (j >= c.n) {
			recs = false;
			break;
		}
		if (!byte_hit(&c.r[j], pt, (uintptr_t)lbuf + lpos[k], ch.pid, ch.pid, 0, lval(k))) {
			recs = false;
			rec_why(&c.r[j], j, why, sizeof(why));
			break;
		}
		j++;
	}
	if (!stream)
		recs = c.n == 0;
	st = stats_of(s);
	if (st.faults != faults || st.steps != faults - want || st.opened != faults ||
	    st.emulated || st.bounced) {
		if (!lstats_bad++)
			snprintf(lstats_why, sizeof(lstats_why),
				 "%llu bytes at +%llu: faults %llu (want %llu), steps %llu (want "
				 "%llu), opened %llu, emulated %llu, bounced %llu",
				 (unsigned long long)len, (unsigned long long)off,
				 (unsigned long long)st.faults, (unsigned long long)faults,
				 (unsigned long long)st.steps, (unsigned long long)(faults - want),
				 (unsigned long long)st.opened, (unsigned long long)st.emulated,
				 (unsigned long long)st.bounced);
	}
	hw_ok(!err && hits == want && (stream ? c.n == want : true) && recs &&
	      exited_with(c.status, 0),
	      "lengths, %s: w %llu bytes at +%llu (pages %llu-%llu): %u byte writes over 3 pages, "
	      "%llu inside: count %llu, %zu streamed%s (%s, err %d)%s",
	      stream ? "stream" : "count", (unsigned long long)len, (unsigned long long)off,
	      (unsigned long long)first, (unsigned long long)last, nlpos,
	      (unsigned long long)want, (unsigned long long)hits, c.n,
	      stream ? ", each at its byte with 0->its value, in order" : "",
	      status_str(c.status), err, why);
	hwbp_session_close(s);
	child_end(&ch, c.exited);
	ctx_free(&c);
}

static void test_lengths(void)
{
	const uint64_t offs[NOFF] = { 1, 7, pg - 3 };

	lstats_bad = 0;
	for (unsigned int i = 0; i < NOFF; i++)
		for (unsigned int k = 0; k < NLEN; k++)
			test_length(offs[i], lens[k],
				    i == 1 ? HWBP_DELIVER_COUNT : HWBP_DELIVER_STREAM);
	hw_ok(!lstats_bad,
	      "lengths: guard stats of each of the %d sessions: a fault per write on a guarded "
	      "page, a step per write outside the range, every one opened, none emulated or "
	      "bounced (%u wrong%s%s)", NOFF * NLEN, lstats_bad, lstats_bad ? ", first: " : "",
	      lstats_bad ? lstats_why : "");
}

/* ---------------------------------------------------------------------- */
/* 2: threads                                                             */

AREA(tarea, 1);

static unsigned int thr_n;

static void *thr_writer(void *arg)
{
	unsigned int i = (unsigned int)(uintptr_t)arg;
	volatile uint64_t *w = (volatile uint64_t *)(void *)tarea + i;
	int32_t rec[2] = { hw_gettid(), (int32_t)i };

	res_put(rec, sizeof(rec));
	for (unsigned int k = 1; k <= thr_n; k++)
		*w = k;
	return NULL;
}

static void w_threads(long arg)
{
	pthread_t th[NTHR];

	(void)arg;
	go_wait();
	for (unsigned int i = 0; i < NTHR; i++)
		if (pthread_create(&th[i], NULL, thr_writer, (void *)(uintptr_t)i))
			_exit(104);
	for (unsigned int i = 0; i < NTHR; i++)
		pthread_join(th[i], NULL);
}

static void test_threads(void)
{
	struct hwbp_thread_count tc[32];
	struct hwbp_session *s = NULL;
	struct hwbp_point *pt = NULL;
	int32_t tid[NTHR][2];
	uint64_t hits = 0;
	char why[200] = "";
	bool got = true, rows = true, recs = true;
	struct child ch;
	struct ctx c;
	size_t n = 0;
	int err;

	if (!child_start(&ch, w_threads, 0, 120)) {
		hw_ok(false, "threads: fork failed");
		return;
	}
	ctx_init(&c, ch.pid);
	err = open_on(&c, ch.pid, HWBP_DELIVER_STREAM, true, false, &s);
	if (!err)
		err = hwbp_point_add(s, (uintptr_t)tarea, 64, HWBP_WRITE, NULL, &pt);
	err = run_child(s, &ch, &c, err);
	for (unsigned int i = 0; i < NTHR; i++)
		got &= child_read(&ch, tid[i], sizeof(tid[i]));
	if (!err)
		err = hwbp_point_count(pt, &hits);
	if (!err)
		err = hwbp_point_threads(pt, tc, 32, &n);
	/* Each thread's row, and its records: its own word, 0->1 .. n-1->n. */
	rows = !err && got && n == NTHR;
	for (unsigned int i = 0; rows && i < NTHR; i++) {
		bool found = false;

		for (size_t k = 0; k < n; k++)
			found |= tc[k].tid == tid[i][0] && tc[k].hits == thr_n;
		rows = found;
	}
	for (unsigned int i = 0; got && recs && i < NTHR; i++) {
		uint64_t w = (uintptr_t)tarea + 8 * (uint64_t)tid[i][1], k = 0;

		for (size_t j = 0; j < c.n && recs; j++) {
			if (c.r[j].tid != tid[i][0])
				continue;
			k++;
			if (!byte_hit(&c.r[j], pt, w, ch.pid, tid[i][0], (k - 1) & 0xff, k & 0xff)) {
				recs = false;
				rec_why(&c.r[j], j, why, sizeof(why));
			}
		}
		if (recs && k != thr_n) {
			recs = false;
			snprintf(why, sizeof(why), ": thread %u: %llu records", i,
				 (unsigned long long)k);
		}
	}
	hw_ok(!err && got && hits == (uint64_t)NTHR * thr_n && c.n == (size_t)NTHR * thr_n &&
	      rows && recs && exited_with(c.status, 0),
	      "threads: %d threads write their own word of a watched 64-byte array %u times: "
	      "count %llu, %zu rows of %u per tid %s, %zu streamed, per tid in order (%s, err "
	      "%d)%s", NTHR, thr_n, (unsigned long long)hits, n, thr_n, rows ? "exact" : "WRONG",
	      c.n, status_str(c.status), err, why);
	hwbp_session_close(s);
	child_end(&ch, c.exited);
	ctx_free(&c);
}

/* ---------------------------------------------------------------------- */
/* 3: system calls with a watched buffer                                  */

AREA(sarea, 4);		/* page 0: read, 1: write (rw), 2: pread64, 3: recvfrom */

#define SOFF 8
static const char s_read[] = "hello world";	/* 11 bytes */
static const char s_write[] = "0123456789";	/* 10 */
static const char s_sock[] = "socket!";		/* 7 */

static volatile char *sbuf(unsigned int i)
{
	return (volatile char *)(sarea + i * pg + SOFF);
}

static void w_syscalls(long arg)
{
	int pa[2], pb[2], sv[2], fd;
	unsigned char elf[8];
	char got[16];

	(void)arg;
	if (pipe(pa) || pipe(pb) || socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		_exit(103);
	fd = open("/proc/self/exe", O_RDONLY);
	if (fd < 0 || pread(fd, elf, 8, 0) != 8)
		_exit(103);
	memcpy((char *)sbuf(1), s_write, 10);
	if (write(pa[1], s_read, 11) != 11 || send(sv[0], s_sock, 7, 0) != 7)
		_exit(103);
	res_put(elf, 8);	/* ready: the session may arm */
	go_wait();
	/* read(2) into a w watch, 16 asked, 11 there. */
	if (read(pa[0], (char *)sbuf(0), 16) != 11)
		_exit(10);
	if (memcmp((const char *)sbuf(0), s_read, 11) != 0)
		_exit(11);
	/* write(2) from an rw watch: the bytes arrive. */
	if (write(pb[1], (const char *)sbuf(1), 10) != 10)
		_exit(12);
	if (read(pb[0], got, sizeof(got)) != 10 || memcmp(got, s_write, 10) != 0)
		_exit(13);
	/* pread64 of our own ELF header. */
	if (pread(fd, (char *)sbuf(2), 8, 0) != 8)
		_exit(14);
	if (memcmp((const char *)sbuf(2), elf, 8) != 0)
		_exit(15);
	/* recvfrom on a socketpair, 16 asked, 7 there. */
	if (recvfrom(sv[1], (char *)sbuf(3), 16, 0, NULL, NULL) != 7)
		_exit(16);
	if (memcmp((const char *)sbuf(3), s_sock, 7) != 0)
		_exit(17);
	_exit(0);
}

static void test_syscalls(void)
{
	static const char *const name[4] = { "read", "write", "pread64", "recvfrom" };
	static const unsigned int access[4] = { HWBP_WRITE, HWBP_RW, HWBP_WRITE, HWBP_WRITE };
	static const uint64_t len[4] = { 11, 10, 8, 7 };
	struct hwbp_point *pt[4] = { NULL, NULL, NULL, NULL };
	struct hwbp_session *s = NULL;
	struct hwbp_guard_stats st;
	uint64_t hits[4] = { 0, 0, 0, 0 }, value[4] = { 0, 0, 0, 0 };
	unsigned char elf[8] = { 0 };
	struct child ch;
	struct ctx c;
	int err;

	if (!child_start(&ch, w_syscalls, 0, 120)) {
		for (int i = 0; i < 6; i++)
			hw_ok(false, "syscalls: fork failed");
		return;
	}
	ctx_init(&c, ch.pid);
	err = child_read(&ch, elf, 8) ? 0 : -EIO;
	value[2] = le(elf, 8);
	value[3] = le(s_sock, 7);
	if (!err)
		err = open_on(&c, ch.pid, HWBP_DELIVER_STREAM, false, false, &s);
	for (unsigned int i = 0; i < 4 && !err; i++)
		err = hwbp_point_add(s, (uintptr_t)sbuf(i), 16, (enum hwbp_access)access[i], NULL,
				     &pt[i]);
	err = run_child(s, &ch, &c, err);
	for (unsigned int i = 0; i < 4 && !err; i++)
		err = hwbp_point_count(pt[i], &hits[i]);
	for (unsigned int i = 0; i < 4; i++) {
		const struct rec *r = i < c.n ? &c.r[i] : NULL;
		unsigned int nv = len[i] <= 8 ? (unsigned int)len[i] : 0;
		char why[200] = "";
		bool ok;

		/* recvfrom's values: a line of their own below. */
		ok = r && r->pt == pt[i] && r->kernel && !strcmp(r->syscall, name[i]) &&
		     r->addr == (uintptr_t)sbuf(i) && r->len == len[i] &&
		     r->access == (i == 1 ? HWBP_READ : HWBP_WRITE) && r->pid == ch.pid &&
		     r->tid == ch.pid &&
		     (i == 3 || (r->nvalue == nv && (!nv || (r->old == 0 && r->value == value[i]))));
		if (r && !ok)
			rec_why(r, i, why, sizeof(why));
		hw_ok(!err && c.n == 4 && hits[i] == 1 && ok,
		      "syscalls: %s(2) %s a %s watch: one hit, kernel, syscall \"%s\", the %llu "
		      "bytes it moved%s (count %llu, %zu hits in all, err %d)%s", name[i],
		      i == 1 ? "from" : "into", i == 1 ? "rw" : "w", name[i],
		      (unsigned long long)len[i],
		      i == 3 ? "" : nv ? ", 0 -> the data" : " (too many for values)",
		      (unsigned long long)hits[i], c.n, err, why);
	}
	/* The watch is 16 bytes, the call moved 7: those 7 are the hit, and
	 * they fit a value (the real buffer still holds the old bytes when the
	 * call returns, as the data is in the bounce area until then). */
	{
		const struct rec *r = c.n == 4 ? &c.r[3] : NULL;
		char why[200] = "";

		if (r)
			rec_why(r, 3, why, sizeof(why));
		hw_ok(!err && r && r->pt == pt[3] && r->len == 7 && r->nvalue == 7 && r->old == 0 &&
		      r->value == value[3],
		      "syscalls: recvfrom(2) of 7 bytes into a 16-byte watch: the hit's old and new "
		      "values are the 7 bytes it moved (nvalue 7, 0 -> \"socket!\")%s", why);
	}
	st = stats_of(s);
	hw_ok(!err && exited_with(c.status, 0) && st.bounced == 4 && st.faults == 0,
	      "syscalls: read, write, pread64 and recvfrom behave as without hwbp: the target "
	      "checks counts and data and exits 0 (%s); 4 calls bounced (%llu), no fault (%llu)",
	      status_str(c.status), (unsigned long long)st.bounced, (unsigned long long)st.faults);
	hwbp_session_close(s);
	child_end(&ch, c.exited);
	ctx_free(&c);
}

/* ---------------------------------------------------------------------- */
/* 4: the target's SIGSEGV handler                                        */

AREA(segarea, 1);

static void w_segv(long arg)
{
	volatile uint64_t *v = (volatile uint64_t *)(void *)segarea;
	volatile char *ro;

	(void)arg;
	segv_catch();
	ro = mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ro == MAP_FAILED)
		_exit(103);
	go_wait();
	*v = 1;					/* a hit, not the handler's */
	if (segv_n)
		_exit(10);
	if (!sigsetjmp(segv_jb, 1)) {
		*ro = 1;			/* its own fault: the handler */
		_exit(11);
	}
	if (segv_n != 1 || segv_addr != (void *)ro)
		_exit(12);
	*v = 2;
	if (segv_n != 1 || *v != 2)
		_exit(13);
	_exit(0);
}

/*
 * Run FN in a child with a write watch on the 8 bytes at A: exactly two
 * hits, 0 -> 1 and 1 -> SECOND, and the child exits 0 (10 and up: which of
 * its own checks failed). NAME and WHAT name the test.
 */
static void two_hits(const char *name, void (*fn)(long), uint64_t a, uint64_t second,
		     const char *what)
{
	struct hwbp_session *s = NULL;
	struct hwbp_point *pt = NULL;
	uint64_t hits = 0;
	char why[200] = "";
	struct child ch;
	struct ctx c;
	bool recs;
	int err;

	if (!child_start(&ch, fn, 0, 120)) {
		hw_ok(false, "%s: fork failed", name);
		return;
	}
	ctx_init(&c, ch.pid);
	err = open_on(&c, ch.pid, HWBP_DELIVER_STREAM, false, false, &s);
	if (!err)
		err = hwbp_point_add(s, a, 8, HWBP_WRITE, NULL, &pt);
	err = run_child(s, &ch, &c, err);
	if (!err)
		err = hwbp_point_count(pt, &hits);
	recs = c.n == 2 && byte_hit(&c.r[0], pt, a, ch.pid, ch.pid, 0, 1) &&
	       byte_hit(&c.r[1], pt, a, ch.pid, ch.pid, 1, second);
	for (size_t i = 0; !recs && i < c.n && !why[0]; i++)
		rec_why(&c.r[i], i, why, sizeof(why));
	hw_ok(!err && hits == 2 && recs && exited_with(c.status, 0),
	      "%s: %s (count %llu, %zu hits, %s: 0 = as said, 10 and up = which failed, err "
	      "%d)%s", name, what, (unsigned long long)hits, c.n, status_str(c.status), err, why);
	hwbp_session_close(s);
	child_end(&ch, c.exited);
	ctx_free(&c);
}

static void test_segv(void)
{
	two_hits("segv", w_segv, (uintptr_t)segarea, 2,
		 "the target's SIGSEGV handler does not run for its 2 watched writes (2 hits, "
		 "0->1, 1->2) and runs once, siglongjmp out, for a write to a page it mapped "
		 "PROT_READ itself");
}

/* ---------------------------------------------------------------------- */
/* 5: the target's own mprotect of a watched page                         */

AREA(mparea, 1);

static void w_mprotect(long arg)
{
	volatile uint64_t *v = (volatile uint64_t *)(void *)mparea;

	(void)arg;
	segv_catch();
	go_wait();
	*v = 1;					/* hit 1 */
	if (mprotect((void *)mparea, pg, PROT_READ))
		_exit(10);
	if (!sigsetjmp(segv_jb, 1)) {
		*v = 2;				/* refused: its handler, no hit */
		_exit(11);
	}
	if (segv_n != 1 || segv_addr != (void *)mparea)
		_exit(12);
	if (*v != 1)
		_exit(13);
	if (mprotect((void *)mparea, pg, PROT_READ | PROT_WRITE))
		_exit(14);
	*v = 3;					/* hit 2 */
	if (*v != 3 || segv_n != 1)
		_exit(15);
	_exit(0);
}

static void test_mprotect(void)
{
	two_hits("mprotect", w_mprotect, (uintptr_t)mparea, 3,
		 "a write (hit 0->1), the target's own mprotect(PROT_READ): its write there "
		 "reaches its SIGSEGV handler, no hit; mprotect back to RW: the next write hits "
		 "(1->3)");
}

/* ---------------------------------------------------------------------- */
/* 6: fork                                                                */

AREA(farea, 1);

static void w_fork(long arg)
{
	volatile uint64_t *v = (volatile uint64_t *)(void *)farea;
	int32_t g32;
	pid_t g;
	int st;

	(void)arg;
	go_wait();
	g = fork();
	if (g == 0) {
		*v = 1;
		*v = 2;
		*v = 3;
		_exit(*v == 3 ? 0 : 9);
	}
	if (g < 0)
		_exit(103);
	g32 = g;
	res_put(&g32, sizeof(g32));
	if (waitpid(g, &st, 0) != g)
		_exit(104);
	*v = 10;		/* the target's own write: a hit either way */
	/* The forked child's fate is our exit status: 0, or 128 + its signal. */
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

static void test_fork(bool follow)
{
	struct hwbp_session *s = NULL;
	struct hwbp_point *pt = NULL;
	uint64_t hits = 0, a = (uintptr_t)farea;
	char why[200] = "";
	int32_t g = 0;
	struct child ch;
	struct ctx c;
	size_t by_g = 0;
	bool recs;
	int err;

	if (!child_start(&ch, w_fork, 0, 120)) {
		hw_ok(false, "fork: fork failed");
		return;
	}
	ctx_init(&c, ch.pid);
	err = open_on(&c, ch.pid, HWBP_DELIVER_STREAM, false, follow, &s);
	if (!err)
		err = hwbp_point_add(s, a, 8, HWBP_WRITE, NULL, &pt);
	err = run_child(s, &ch, &c, err);
	if (!err && !child_read(&ch, &g, sizeof(g)))
		err = -EIO;
	if (!err)
		err = hwbp_point_count(pt, &hits);
	for (size_t i = 0; i < c.n; i++)
		by_g += c.r[i].pid == g;
	if (follow)
		recs = c.n == 4 && byte_hit(&c.r[0], pt, a, g, g, 0, 1) &&
		       byte_hit(&c.r[1], pt, a, g, g, 1, 2) && byte_hit(&c.r[2], pt, a, g, g, 2, 3) &&
		       byte_hit(&c.r[3], pt, a, ch.pid, ch.pid, 0, 10);
	else
		recs = c.n == 1 && byte_hit(&c.r[0], pt, a, ch.pid, ch.pid, 0, 10);
	for (size_t i = 0; !recs && i < c.n && !why[0]; i++)
		rec_why(&c.r[i], i, why, sizeof(why));
	if (follow)
		hw_ok(!err && hits == 4 && recs && by_g == 3 && exited_with(c.status, 0) &&
		      c.other_pid == g && exited_with(c.other_status, 0),
		      "fork with follow_fork: the forked child's 3 writes hit with its pid (0->1, "
		      "1->2, 2->3), then the target's own (0->10): count %llu, %zu from the child; "
		      "it exits 0 (%s; target %s, err %d)%s", (unsigned long long)hits, by_g,
		      status_str(c.other_status), status_str(c.status), err, why);
	else
		hw_ok(!err && hits == 1 && recs && by_g == 0 && exited_with(c.status, 0),
		      "fork without follow_fork: the forked child's pages are its own again: its 3 "
		      "writes neither hit nor fault, it exits 0 (the target's status: %s); the "
		      "target's own write hits (count %llu, %zu from the child, err %d)%s",
		      status_str(c.status), (unsigned long long)hits, by_g, err, why);
	hwbp_session_close(s);
	child_end(&ch, c.exited);
	ctx_free(&c);
}

/* ---------------------------------------------------------------------- */
/* 7: refusals                                                            */

AREA(garea, 1);		/* a good point, added with each refused one */

static __thread volatile uint64_t tls_var;

static void *thread_pointer(void)
{
	void *p;

#if defined(__x86_64__)
	__asm__ volatile("mov %%fs:0, %0" : "=r"(p));
#elif defined(__aarch64__)
	__asm__ volatile("mrs %0, tpidr_el0" : "=r"(p));
#else
	p = __builtin_thread_pointer();
#endif
	return p;
}

static int refuse_fd = -1;

static void *refuse_thread(void *arg)
{
	volatile uint64_t local = 0;
	uint64_t a = (uintptr_t)&local;
	char c;

	(void)arg;
	res_put(&a, sizeof(a));
	if (read(refuse_fd, &c, 1) != 1)
		_exit(105);
	local = 7;
	return (void *)(uintptr_t)(local == 7);
}

static void w_refuse(long arg)
{
	volatile uint64_t local = 0;
	uint64_t a[3] = { (uintptr_t)&local, (uintptr_t)thread_pointer(), (uintptr_t)&tls_var };
	void *ret = NULL;
	pthread_t th;
	int p[2];

	(void)arg;
	if (pipe(p))
		_exit(103);
	refuse_fd = p[0];
	res_put(a, sizeof(a));
	if (pthread_create(&th, NULL, refuse_thread, NULL))
		_exit(104);
	go_wait();
	*(volatile uint64_t *)(void *)garea = 1;
	local = 2;
	tls_var = 3;
	if (write(p[1], "g", 1) != 1 || pthread_join(th, &ret) || !ret)
		_exit(10);
	_exit(local == 2 && tls_var == 3 ? 0 : 11);
}

static void test_refuse(unsigned int which)
{
	static const char *const what[4] = {
		"a local on the main thread's stack", "the main thread's thread pointer",
		"a __thread variable of the main thread (on its control block's page)",
		"a local on another thread's stack",
	};
	struct hwbp_session *s = NULL;
	struct hwbp_point *good = NULL, *bad = NULL;
	uint64_t a[4] = { 0, 0, 0, 0 }, hits = 0, ga = (uintptr_t)garea;
	char before[8] = "", after[8] = "";
	struct hwbp_guard_stats st;
	struct child ch;
	struct ctx c;
	char *m;
	int err, aerr = 1;

	if (!child_start(&ch, w_refuse, 0, 120)) {
		hw_ok(false, "refusals: fork failed");
		return;
	}
	ctx_init(&c, ch.pid);
	err = child_read(&ch, a, 3 * sizeof(a[0])) && child_read(&ch, &a[3], sizeof(a[3])) ?
		      0 : -EIO;
	m = maps_read(ch.pid);
	if (m)
		maps_perms(m, ga, before);
	free(m);
	if (!err)
		err = open_on(&c, ch.pid, HWBP_DELIVER_STREAM, false, false, &s);
	/* The good point first: installed, then taken back when the bad one fails. */
	if (!err)
		err = hwbp_point_add(s, ga, 8, HWBP_WRITE, NULL, &good);
	if (!err)
		err = hwbp_point_add(s, a[which], 8, HWBP_WRITE, NULL, &bad);
	if (!err)
		aerr = hwbp_session_apply(s);
	m = maps_read(ch.pid);
	if (m)
		maps_perms(m, ga, after);
	free(m);
	if (!err) {
		release(&ch);
		err = wait_exit(s, &c);
	}
	if (!err)
		err = hwbp_point_count(good, &hits);
	st = stats_of(s);
	hw_ok(!err && aerr == -EINVAL && hits == 0 && c.n == 0 && st.faults == 0 && before[0] &&
	      !strcmp(before, after) && exited_with(c.status, 0),
	      "refusals: watching %s (0x%llx) with a good point: apply gives -EINVAL (%d), "
	      "nothing armed: the good page stays %s (%s), its write and the target's writes "
	      "there do not hit or fault (%zu hits, %llu faults), it exits 0 (%s, err %d)",
	      what[which], (unsigned long long)a[which], aerr, before, after, c.n,
	      (unsigned long long)st.faults, status_str(c.status), err);
	hwbp_session_close(s);
	child_end(&ch, c.exited);
	ctx_free(&c);
}

/* ---------------------------------------------------------------------- */
/* 8: close restores                                                      */

AREA(darea, 1);

static int tracer_pid(void)
{
	char buf[4096];
	const char *p;
	ssize_t n;
	int fd = open("/proc/self/status", O_RDONLY);

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
	volatile uint64_t *v = (volatile uint64_t *)(void *)darea;

	(void)arg;
	res_put("r", 1);
	go_wait();
	for (uint64_t i = 1; i <= 5; i++)
		*v = i;
	go_wait();
	for (uint64_t i = 6; i <= 105; i++)
		*v = i;
	if (*v != 105)
		_exit(3);
	if (tracer_pid() != 0)
		_exit(4);
	_exit(0);
}

static void test_detach(void)
{
	struct hwbp_session *s = NULL;
	struct hwbp_point *pt = NULL;
	uint64_t a = (uintptr_t)darea, end = now_ms() + 60000;
	char *before = NULL, *armed = NULL, *after = NULL, r = 0;
	char pb[8] = "", pa[8] = "", pc[8] = "";
	bool recs = true, same;
	struct child ch;
	struct ctx c;
	int err, status = -1;
	bool reaped = false;

	if (!child_start(&ch, w_detach, 0, 120)) {
		hw_ok(false, "detach: fork failed");
		hw_ok(false, "detach: fork failed");
		return;
	}
	ctx_init(&c, ch.pid);
	err = child_read(&ch, &r, 1) ? 0 : -EIO;
	before = maps_read(ch.pid);
	if (!err)
		err = open_on(&c, ch.pid, HWBP_DELIVER_STREAM, false, false, &s);
	if (!err)
		err = hwbp_point_add(s, a, 8, HWBP_WRITE, NULL, &pt);
	if (!err)
		err = hwbp_session_apply(s);
	if (!err) {
		armed = maps_read(ch.pid);
		release(&ch);
	}
	while (!err && !c.exited && c.n < 5) {
		err = hwbp_session_poll(s, 100, on_hit, &c);
		if (now_ms() > end)
			err = -ETIMEDOUT;
	}
	for (size_t i = 0; i < c.n && i < 5; i++)
		recs &= byte_hit(&c.r[i], pt, a, ch.pid, ch.pid, i, i + 1);
	hwbp_session_close(s);
	s = NULL;
	after = maps_read(ch.pid);
	if (before)
		maps_perms(before, a, pb);
	if (armed)
		maps_perms(armed, a, pa);
	if (after)
		maps_perms(after, a, pc);
	same = before && after && !strcmp(before, after);
	if (!same && before && after)
		hw_diag("maps before:\n%s# maps after close:\n%s", before, after);
	hw_ok(!err && c.n == 5 && recs && pb[0] == 'r' && pb[1] == 'w' && pa[0] == 'r' &&
	      pa[1] == '-' && same,
	      "detach: /proc/PID/maps after close is the text before the session, byte for byte "
	      "(the watched page %s, armed %s, after %s; %zu hits before close, err %d)", pb, pa,
	      pc, c.n, err);
	if (!c.exited) {
		release(&ch);
		if (waitpid(ch.pid, &status, 0) == ch.pid)
			reaped = true;
	}
	hw_ok(!err && !c.exited && reaped && exited_with(status, 0),
	      "detach: the target runs on untraced (TracerPid 0): 100 more writes to the "
	      "formerly watched variable, it exits 0 (%s, err %d)", status_str(status), err);
	child_end(&ch, c.exited || reaped);
	ctx_free(&c);
	free(before);
	free(armed);
	free(after);
}

/* ---------------------------------------------------------------------- */

/* The library's log lines as TAP comments (refusals explain themselves). */
static void log_diag(enum hwbp_log_level level, const char *msg, void *arg)
{
	(void)level;
	(void)arg;
	hw_diag("libhwbp: %s", msg);
}

int main(void)
{
	uint64_t t0 = now_ms(), t;
	long p = sysconf(_SC_PAGESIZE);
	/* Under valgrind the target's stack and thread pointer are valgrind's
	 * emulated ones: the registers the library reads (and the memory the
	 * kernel writes signal frames to) are valgrind's own. */
	int ntests = NTESTS - (hw_valgrind() ? 4 : 0);

	pg = p > 0 ? (uint64_t)p : 4096;
	/* Threads: 200 writes each (under valgrind 20: every stop is slow). */
	thr_n = hw_valgrind() ? 20 : THR_N;
	hw_plan(ntests, 280);
	hwbp_set_log(log_diag, NULL, NULL);
	if (pg > PMAX) {
		hw_diag("page size %llu is over %d", (unsigned long long)pg, PMAX);
		return 1;
	}
	hw_diag("%s, page size %llu", hwbp_arch_name(hwbp_arch_host()), (unsigned long long)pg);
	test_lengths();
	t = now_ms();
	hw_diag("lengths: %llu ms", (unsigned long long)(t - t0));
	test_threads();
	test_syscalls();
	test_segv();
	test_mprotect();
	test_fork(false);
	test_fork(true);
	if (hw_valgrind())
		hw_left_out("refusals: the main thread's stack, thread pointer and __thread "
			    "variable, another thread's stack",
			    "the target's stacks and thread pointers are emulated by valgrind, "
			    "not in the registers the library reads");
	else
		for (unsigned int i = 0; i < 4; i++)
			test_refuse(i);
	test_detach();
	hw_diag("%llu ms", (unsigned long long)(now_ms() - t0));
	return hw_done();
}

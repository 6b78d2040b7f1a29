// SPDX-License-Identifier: MIT
/*
 * guarded - a target for the guard backend (page protection under ptrace):
 * exact writes, reads and system calls on page-aligned globals, threads,
 * its own SIGSEGV handler and mprotect(2), fork and exec, and the memory
 * the kernel writes on its own (stacks, the thread control block, rseq)
 *
 * Usage: guarded MODE [ARG...]
 *   lengths     write one byte (LINE_G_LEN) at each of a fixed list of
 *               positions in buf (8192 bytes, page-aligned), in increasing
 *               order, byte value (pos % 251) + 1; then read each of them
 *               once again (LINE_G_LEN_READ), in the same order. It prints
 *               "positions P1 P2 ..." first. The list holds, for each
 *               offset OFF of 1, 3, 4093 and length LEN of 1 2 3 4 5 7 8 9
 *               15 16 17 31 64 100 255 256 1000 4095 4096: OFF-1, OFF,
 *               OFF+LEN/2, OFF+LEN-1 and OFF+LEN (those below 8192), and
 *               0, 2, 4095, 4096, 4097, 6000, 8191
 *   wide        stores of 8, 4, 2 and 1 bytes (LINE_G_W8, _W4, _W2, _W1)
 *               into buf at unaligned positions around buf+100..109, in
 *               this order (position, size, value):
 *                 96 8 0x0807060504030201   108 4 0x44332211
 *                 101 8 0xa8a7a6a5a4a3a2a1  99 2 0xbbaa
 *                 110 8 0x1d1c1b1a19181716  92 8 0x2f2e2d2c2b2a2928
 *                 104 1 0xcc
 *   threads N ITERS
 *               N threads (at most 16), started together; thread i writes
 *               tsh.w[i] = 1, 2, ... ITERS (LINE_G_THREAD) and after each
 *               such write tsh.pad[i] (LINE_G_PAD; tsh.pad shares the page)
 *   syscalls    system calls on guarded buffers, each checked (exit 3 and a
 *               line on stderr if any fails or gets wrong data); the data
 *               is src[i] = 0x40 + i:
 *                 read(pipe, rdbuf, 32) of 32 bytes src[0..32), then
 *                 read(pipe, rdbuf + 2048, 8) of 8 bytes src[0..8);
 *                 pread(file, prbuf, 16, 8): src[8..24);
 *                 recv(socket, rvbuf, 64) of the 24 bytes src[0..24);
 *                 wrbuf[i] = 0x60 + i for i < 16 (LINE_G_FILL), then
 *                 write(pipe, wrbuf, 16);
 *                 sdbuf[i] = 0x70 + i for i < 16 (LINE_G_FILL), then
 *                 send(socket, sdbuf, 16);
 *                 pwbuf[i] = 0x50 + i for i < 16 (LINE_G_FILL), then
 *                 pwrite(file, pwbuf, 16, 100);
 *               and prints "syscalls ok"
 *   segv        its own SIGSEGV handler; segv_var = 1 (LINE_G_SEGV), a write
 *               to a PROT_READ page it mapped itself, a write to NULL (each
 *               must reach the handler, with the right si_addr and si_code,
 *               and come back by siglongjmp), segv_var = 2; prints
 *               "handler ran 2" (exit 3 if anything else happened)
 *   segv-die    segv_var = 1, then a write to NULL with no handler
 *   mprotect    mp.var = 1 (LINE_G_MP); mprotect(&mp, PROT_READ); mp.var = 2
 *               must reach its handler (SEGV_ACCERR at &mp.var) and leave
 *               mp.var 1; mprotect(&mp, PROT_NONE): a read of mp.var must
 *               reach the handler too; mprotect(&mp, PROT_READ|PROT_WRITE);
 *               mp.var = 3 (LINE_G_MP), mp.other = 9; prints "mprotect ok"
 *   fork K      fvar = 1, 2, 3 (LINE_G_PARENT), K children each writing
 *               fvar = 101 .. 105 (LINE_G_CHILD) and checking it, then
 *               fvar = 4, 5 (LINE_G_PARENT) after waiting for them; prints
 *               "parent PID" and "child PID" per child; exit 0 when every
 *               child exited 0, else 1
 *   exec N      fvar = 1, 2 (LINE_G_PARENT), then exec itself as "write N"
 *   write N     fvar = 1 .. N (LINE_G_PARENT)
 *   s64         s64.q[i] = i + 1 for i < 8 (LINE_G_S64Q), then the last byte
 *               of s64 = 0x7f (LINE_G_S64B)
 *   five        f_int = 7; f_char = 1, 2; f_short = 10, 20, 30;
 *               f_long = 1000 .. 4000 (step 1000); f_page.v = 1 .. 5; each
 *               with its own line (LINE_G_FINT, _FCHAR, _FSHORT, _FLONG,
 *               _FPAGE), interleaved; f_other (same page as f_int) = 1 .. 6
 *   addrs       print "stack ADDR", "tls ADDR", "rseq ADDR" (or "rseq none"),
 *               "tcb ADDR": a variable on the main thread's stack, a
 *               thread-local variable, the rseq area, the thread pointer;
 *               then write the stack and TLS variables once each
 *   sleep [MS]  print "pid PID", the lines of addrs, "tstack ADDR" (a
 *               variable on the stack of a second thread, which only
 *               waits), "slow ADDR", "mapped ADDR" (a page it mapped
 *               right below the mapping of the main thread's TCB) and
 *               "ready"; then slow_var = 1, 2, ... (LINE_G_SLOW), each
 *               followed by the same value in the first long of the mapped
 *               page (LINE_G_MAPPED),
 *               one every MS milliseconds (default 10) until SIGUSR2 or
 *               SIGTERM; prints "slow N" and exits 0 if slow_var is N
 *
 * Modes lengths, wide, threads, syscalls, mprotect, s64 and five first print
 * "NAME 0xADDR" for each object they write (buf, tsh, rdbuf ..., mp.var,
 * s64, f_int ...). Every write goes through a volatile object, on its own line, marked by a
 * comment that tests/cli/guard.sh looks up. Nothing the kernel writes
 * (pipes, socket pairs, time) is kept in a global: a global may be on a
 * guarded page.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/rseq.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__clang__)
#define WRITER __attribute__((noinline, used))
#else
#define WRITER __attribute__((noinline, noipa, used))
#endif
#define PAGE 4096
#define PAGED __attribute__((aligned(PAGE)))

/* lengths and wide */
volatile unsigned char buf[2 * PAGE] PAGED;

/* threads: the watched words and the unwatched ones share one page, alone */
struct tshared {
	volatile long w[16];
	volatile long pad[16];
	char rest[PAGE - 32 * sizeof(long)];
};
struct tshared tsh PAGED;

/* syscalls: one page each */
unsigned char rdbuf[PAGE] PAGED;
unsigned char prbuf[PAGE] PAGED;
unsigned char rvbuf[PAGE] PAGED;
volatile unsigned char wrbuf[PAGE] PAGED;
volatile unsigned char sdbuf[PAGE] PAGED;
volatile unsigned char pwbuf[PAGE] PAGED;

/* segv, mprotect */
volatile int segv_var;
struct mpage {
	volatile int var;
	volatile int other;
	char rest[PAGE - 2 * sizeof(int)];
};
struct mpage mp PAGED;

/* fork, exec, write */
volatile long fvar;

/* s64 */
struct s64 {
	volatile uint64_t q[8];
};
struct s64 s64 __attribute__((aligned(64)));

/* five: four on the .bss page(s) of the program, one on a page of its own */
volatile int f_int;
volatile int f_other;
volatile unsigned char f_char;
volatile short f_short;
volatile long f_long;
struct fpage {
	volatile int v;
	char rest[PAGE - sizeof(int)];
};
struct fpage f_page PAGED;

/* addrs, sleep */
static __thread volatile int tlsvar;
volatile long slow_var;

static sigjmp_buf jb;
static volatile sig_atomic_t nsegv, stop;
static void *volatile segv_addr;
static volatile int segv_code;

static int fail(const char *what)
{
	fprintf(stderr, "guarded: %s\n", what);
	return 3;
}

/* --- lengths, wide -------------------------------------------------------- */

static const unsigned int len_offs[] = { 1, 3, 4093 };
static const unsigned int len_lens[] = { 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 64, 100,
					 255, 256, 1000, 4095, 4096 };
static const unsigned int len_more[] = { 0, 2, 4095, 4096, 4097, 6000, 8191 };

WRITER void len_write(unsigned int pos, unsigned char v)
{
	buf[pos] = v; /* LINE_G_LEN */
}

WRITER unsigned char len_read(unsigned int pos)
{
	return buf[pos]; /* LINE_G_LEN_READ */
}

static int mode_lengths(void)
{
	static unsigned char want[2 * PAGE];
	volatile unsigned char sink = 0;
	unsigned int p;

	for (size_t i = 0; i < sizeof(len_offs) / sizeof(len_offs[0]); i++) {
		for (size_t j = 0; j < sizeof(len_lens) / sizeof(len_lens[0]); j++) {
			unsigned int o = len_offs[i], l = len_lens[j];
			unsigned int at[5] = { o - 1, o, o + l / 2, o + l - 1, o + l };

			for (int k = 0; k < 5; k++)
				if (at[k] < 2 * PAGE)
					want[at[k]] = 1;
		}
	}
	for (size_t i = 0; i < sizeof(len_more) / sizeof(len_more[0]); i++)
		want[len_more[i]] = 1;
	printf("buf %p\n", (void *)buf);
	printf("positions");
	for (p = 0; p < 2 * PAGE; p++)
		if (want[p])
			printf(" %u", p);
	printf("\n");
	fflush(stdout);
	for (p = 0; p < 2 * PAGE; p++)
		if (want[p])
			len_write(p, (unsigned char)(p % 251 + 1));
	for (p = 0; p < 2 * PAGE; p++) {
		if (want[p]) {
			sink = len_read(p);
			if (sink != (unsigned char)(p % 251 + 1))
				return fail("lengths: a byte read back is not the one written");
		}
	}
	return 0;
}

WRITER void wide_store(unsigned int pos, unsigned int size, uint64_t v)
{
	volatile unsigned char *p = buf + pos;

	switch (size) {
	case 8:
		*(volatile uint64_t *)p = v; /* LINE_G_W8 */
		break;
	case 4:
		*(volatile uint32_t *)p = (uint32_t)v; /* LINE_G_W4 */
		break;
	case 2:
		*(volatile uint16_t *)p = (uint16_t)v; /* LINE_G_W2 */
		break;
	default:
		*p = (unsigned char)v; /* LINE_G_W1 */
		break;
	}
}

static int mode_wide(void)
{
	static const struct {
		unsigned int pos, size;
		uint64_t v;
	} st[] = {
		{ 96, 8, 0x0807060504030201ull }, { 108, 4, 0x44332211ull },
		{ 101, 8, 0xa8a7a6a5a4a3a2a1ull }, { 99, 2, 0xbbaaull },
		{ 110, 8, 0x1d1c1b1a19181716ull }, { 92, 8, 0x2f2e2d2c2b2a2928ull },
		{ 104, 1, 0xccull },
	};
	unsigned char mem[256] = { 0 };

	printf("buf %p\n", (void *)buf);
	fflush(stdout);

	for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
		wide_store(st[i].pos, st[i].size, st[i].v);
		for (unsigned int b = 0; b < st[i].size; b++)
			mem[st[i].pos + b] = (unsigned char)(st[i].v >> (8 * b));
	}
	for (unsigned int b = 0; b < sizeof(mem); b++)
		if (buf[b] != mem[b])
			return fail("wide: the bytes are not those stored");
	return 0;
}

/* --- threads -------------------------------------------------------------- */

static pthread_barrier_t *tbarrier;
static long titers;

WRITER void thread_write(long i, long v)
{
	tsh.w[i] = v; /* LINE_G_THREAD */
}

WRITER void thread_pad(long i, long v)
{
	tsh.pad[i] = v; /* LINE_G_PAD */
}

static void *thread_main(void *arg)
{
	long i = (long)(intptr_t)arg;

	pthread_barrier_wait(tbarrier);
	for (long k = 0; k < titers; k++) {
		thread_write(i, k + 1);
		thread_pad(i, k);
	}
	return NULL;
}

static int mode_threads(long n, long iters)
{
	pthread_barrier_t barrier;	/* on the stack: futexes never see a guarded page */
	pthread_t t[16];

	if (n < 1 || n > 16)
		return fail("threads: N must be 1 to 16");
	printf("tsh %p\n", (void *)&tsh);
	fflush(stdout);
	titers = iters;
	tbarrier = &barrier;
	pthread_barrier_init(&barrier, NULL, (unsigned int)n);
	for (long i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, thread_main, (void *)(intptr_t)i))
			return fail("threads: pthread_create");
	for (long i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	for (long i = 0; i < n; i++)
		if (tsh.w[i] != iters || tsh.pad[i] != iters - 1)
			return fail("threads: a word does not hold its last value");
	return 0;
}

/* --- syscalls ------------------------------------------------------------- */

WRITER void fill(volatile unsigned char *p, unsigned char first)
{
	for (int i = 0; i < 16; i++)
		p[i] = (unsigned char)(first + i); /* LINE_G_FILL */
}

static int mode_syscalls(void)
{
	unsigned char src[64], back[64], want[16];
	int p[2], sv[2], fd;
	ssize_t n;
	char path[] = "/tmp/guarded-XXXXXX";

	for (int i = 0; i < 64; i++)
		src[i] = (unsigned char)(0x40 + i);
	printf("rdbuf %p\nprbuf %p\nrvbuf %p\nwrbuf %p\nsdbuf %p\npwbuf %p\n", (void *)rdbuf,
	       (void *)prbuf, (void *)rvbuf, (void *)wrbuf, (void *)sdbuf, (void *)pwbuf);
	fflush(stdout);
	if (pipe(p) || socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return fail("syscalls: pipe or socketpair");
	fd = mkstemp(path);
	if (fd < 0)
		return fail("syscalls: mkstemp");
	unlink(path);
	if (write(fd, src, 64) != 64)
		return fail("syscalls: write to the file");

	/* read(2) into a w-watched page */
	if (write(p[1], src, 32) != 32)
		return fail("syscalls: write to the pipe");
	n = read(p[0], rdbuf, 32);
	if (n != 32 || memcmp(rdbuf, src, 32))
		return fail(n < 0 ? strerror(errno) : "read: wrong data");
	if (write(p[1], src, 8) != 8)
		return fail("syscalls: write to the pipe");
	n = read(p[0], rdbuf + 2048, 8);
	if (n != 8 || memcmp(rdbuf + 2048, src, 8))
		return fail(n < 0 ? strerror(errno) : "read (rdbuf + 2048): wrong data");

	/* pread(2) */
	n = pread(fd, prbuf, 16, 8);
	if (n != 16 || memcmp(prbuf, src + 8, 16))
		return fail(n < 0 ? strerror(errno) : "pread: wrong data");

	/* recv(2): asks for 64, gets the 24 there are */
	if (send(sv[0], src, 24, 0) != 24)
		return fail("syscalls: send from the stack");
	n = recv(sv[1], rvbuf, 64, 0);
	if (n != 24 || memcmp(rvbuf, src, 24))
		return fail(n < 0 ? strerror(errno) : "recv: wrong data");

	/* write(2), send(2), pwrite(2) from rw-watched pages */
	fill(wrbuf, 0x60);
	n = write(p[1], (const void *)wrbuf, 16);
	if (n != 16)
		return fail(n < 0 ? strerror(errno) : "write: short");
	for (int i = 0; i < 16; i++)
		want[i] = (unsigned char)(0x60 + i);
	if (read(p[0], back, 16) != 16 || memcmp(back, want, 16))
		return fail("write: wrong data in the pipe");

	fill(sdbuf, 0x70);
	n = send(sv[0], (const void *)sdbuf, 16, 0);
	if (n != 16)
		return fail(n < 0 ? strerror(errno) : "send: short");
	for (int i = 0; i < 16; i++)
		want[i] = (unsigned char)(0x70 + i);
	if (recv(sv[1], back, 16, 0) != 16 || memcmp(back, want, 16))
		return fail("send: wrong data in the socket");

	fill(pwbuf, 0x50);
	n = pwrite(fd, (const void *)pwbuf, 16, 100);
	if (n != 16)
		return fail(n < 0 ? strerror(errno) : "pwrite: short");
	for (int i = 0; i < 16; i++)
		want[i] = (unsigned char)(0x50 + i);
	if (pread(fd, back, 16, 100) != 16 || memcmp(back, want, 16))
		return fail("pwrite: wrong data in the file");

	printf("syscalls ok\n");
	return 0;
}

/* --- segv, mprotect ------------------------------------------------------- */

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	nsegv++;
	segv_addr = si->si_addr;
	segv_code = si->si_code;
	siglongjmp(jb, 1);
}

static void catch_segv(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
}

WRITER void set_segv(int v)
{
	segv_var = v; /* LINE_G_SEGV */
}

WRITER void poke(volatile int *p, int v)
{
	*p = v; /* LINE_G_POKE */
}

WRITER int peek(volatile int *p)
{
	return *p; /* LINE_G_PEEK */
}

static int mode_segv(void)
{
	volatile int *ro;

	catch_segv();
	set_segv(1);
	if (nsegv)
		return fail("segv: the handler ran for a watched write");
	ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ro == MAP_FAILED)
		return fail("segv: mmap");
	if (!sigsetjmp(jb, 1)) {
		poke(ro, 5);
		return fail("segv: a write to a PROT_READ page did not fault");
	}
	if (nsegv != 1 || segv_addr != (void *)ro || segv_code != SEGV_ACCERR)
		return fail("segv: the PROT_READ fault reached the handler wrong");
	if (!sigsetjmp(jb, 1)) {
		poke(NULL, 1);
		return fail("segv: a write to NULL did not fault");
	}
	if (nsegv != 2 || segv_addr != NULL || segv_code != SEGV_MAPERR)
		return fail("segv: the NULL fault reached the handler wrong");
	set_segv(2);
	if (nsegv != 2 || segv_var != 2)
		return fail("segv: the second watched write");
	printf("handler ran %d\n", (int)nsegv);
	return 0;
}

static int mode_segv_die(void)
{
	set_segv(1);
	poke(NULL, 1);
	return fail("segv-die: a write to NULL did not kill");
}

WRITER void set_mp(int v)
{
	mp.var = v; /* LINE_G_MP */
}

static int mode_mprotect(void)
{
	printf("mp.var %p\n", (void *)&mp.var);
	fflush(stdout);
	catch_segv();
	set_mp(1);
	if (mprotect(&mp, PAGE, PROT_READ))
		return fail("mprotect: PROT_READ");
	if (!sigsetjmp(jb, 1)) {
		set_mp(2);
		return fail("mprotect: a write to its own PROT_READ page did not fault");
	}
	if (nsegv != 1 || segv_addr != (void *)&mp.var || segv_code != SEGV_ACCERR)
		return fail("mprotect: the PROT_READ fault reached the handler wrong");
	if (mp.var != 1)
		return fail("mprotect: the refused write was done");
	if (mprotect(&mp, PAGE, PROT_NONE))
		return fail("mprotect: PROT_NONE");
	if (!sigsetjmp(jb, 1)) {
		peek(&mp.var);
		return fail("mprotect: a read of its own PROT_NONE page did not fault");
	}
	if (nsegv != 2 || segv_addr != (void *)&mp.var || segv_code != SEGV_ACCERR)
		return fail("mprotect: the PROT_NONE fault reached the handler wrong");
	if (mprotect(&mp, PAGE, PROT_READ | PROT_WRITE))
		return fail("mprotect: PROT_READ|PROT_WRITE");
	set_mp(3);
	mp.other = 9;
	if (nsegv != 2 || mp.var != 3 || mp.other != 9)
		return fail("mprotect: the writes after PROT_READ|PROT_WRITE");
	printf("mprotect ok\n");
	return 0;
}

/* --- fork, exec, write ---------------------------------------------------- */

WRITER void parent_write(long v)
{
	fvar = v; /* LINE_G_PARENT */
}

WRITER void child_write(long v)
{
	fvar = v; /* LINE_G_CHILD */
}

static int mode_fork(long k)
{
	int bad = 0;

	for (long v = 1; v <= 3; v++)
		parent_write(v);
	printf("parent %d\n", (int)getpid());
	fflush(stdout);
	for (long i = 0; i < k; i++) {
		pid_t pid = fork();
		int status;

		if (pid < 0)
			return fail("fork");
		if (pid == 0) {
			for (long v = 101; v <= 105; v++)
				child_write(v);
			printf("child %d\n", (int)getpid());
			fflush(stdout);
			_exit(fvar == 105 ? 0 : 3);
		}
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "guarded: child %d: status 0x%x\n", (int)pid, status);
			bad = 1;
		}
	}
	for (long v = 4; v <= 5; v++)
		parent_write(v);
	return bad || fvar != 5;
}

static int mode_write(long n)
{
	for (long v = 1; v <= n; v++)
		parent_write(v);
	return fvar == n ? 0 : 3;
}

/* --- s64, five ------------------------------------------------------------ */

WRITER void s64_q(int i, uint64_t v)
{
	s64.q[i] = v; /* LINE_G_S64Q */
}

WRITER void s64_b(int i, unsigned char v)
{
	((volatile unsigned char *)&s64)[i] = v; /* LINE_G_S64B */
}

static int mode_s64(void)
{
	printf("s64 %p\n", (void *)&s64);
	fflush(stdout);
	for (int i = 0; i < 8; i++)
		s64_q(i, (uint64_t)i + 1);
	s64_b(63, 0x7f);
	return s64.q[7] == 0x7f00000000000008ull ? 0 : fail("s64: the last word");
}

WRITER void five_int(int v)
{
	f_int = v; /* LINE_G_FINT */
}

WRITER void five_char(unsigned char v)
{
	f_char = v; /* LINE_G_FCHAR */
}

WRITER void five_short(short v)
{
	f_short = v; /* LINE_G_FSHORT */
}

WRITER void five_long(long v)
{
	f_long = v; /* LINE_G_FLONG */
}

WRITER void five_page(int v)
{
	f_page.v = v; /* LINE_G_FPAGE */
}

WRITER void five_other(int v)
{
	f_other = v; /* LINE_G_FOTHER */
}

static int mode_five(void)
{
	printf("f_int %p\nf_char %p\nf_short %p\nf_long %p\nf_page %p\nf_other %p\n",
	       (void *)&f_int, (void *)&f_char, (void *)&f_short, (void *)&f_long, (void *)&f_page.v,
	       (void *)&f_other);
	fflush(stdout);
	for (int r = 1; r <= 6; r++) {
		if (r <= 1)
			five_int(7);
		if (r <= 2)
			five_char((unsigned char)r);
		if (r <= 3)
			five_short((short)(10 * r));
		if (r <= 4)
			five_long(1000L * r);
		if (r <= 5)
			five_page(r);
		five_other(r);
	}
	if (f_int != 7 || f_char != 2 || f_short != 30 || f_long != 4000 || f_page.v != 5 ||
	    f_other != 6)
		return fail("five: the last values");
	return 0;
}

/* --- addrs, sleep --------------------------------------------------------- */

static void *rseq_area(void)
{
	if (__rseq_size == 0)
		return NULL;
	return (char *)__builtin_thread_pointer() + __rseq_offset;
}

static void print_addrs(volatile int *stackvar)
{
	void *r = rseq_area();

	printf("stack %p\n", (void *)stackvar);
	printf("tls %p\n", (void *)&tlsvar);
	if (r)
		printf("rseq %p\n", r);
	else
		printf("rseq none\n");
	printf("tcb %p\n", __builtin_thread_pointer());
}

static int mode_addrs(void)
{
	volatile int stackvar = 0;

	print_addrs(&stackvar);
	fflush(stdout);
	stackvar = 1;
	tlsvar = 1;
	return stackvar + tlsvar == 2 ? 0 : 3;
}

static volatile int *tstack;
static int tpipe[2];

static void *waiter(void *arg)
{
	volatile int mine = 0;
	char c;

	(void)arg;
	tstack = &mine;
	while (read(tpipe[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

WRITER void slow_write(long v)
{
	slow_var = v; /* LINE_G_SLOW */
}

WRITER void mapped_write(volatile long *p, long v)
{
	*p = v; /* LINE_G_MAPPED */
}

/*
 * One page mapped right below the mapping that holds the main thread's
 * control block (else anywhere): ordinary memory next to it.
 */
static volatile long *map_below_tcb(void)
{
	uintptr_t tp = (uintptr_t)__builtin_thread_pointer(), lo, hi;
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	void *p = MAP_FAILED;

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo <= tp && tp < hi) {
			p = mmap((void *)(lo - PAGE), PAGE, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
			break;
		}
	}
	if (f)
		fclose(f);
	if (p == MAP_FAILED)
		p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p;
}

static int mode_sleep(long ms)
{
	volatile int stackvar = 0;
	struct sigaction sa;
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	pthread_t t;
	long i = 0;
	volatile long *mapped = map_below_tcb();

	if (mapped == MAP_FAILED)
		return fail("sleep: mmap");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	if (pipe(tpipe) || pthread_create(&t, NULL, waiter, NULL))
		return fail("sleep: pipe or thread");
	while (!tstack)
		usleep(1000);
	tlsvar = 1;
	printf("pid %d\n", (int)getpid());
	print_addrs(&stackvar);
	printf("tstack %p\n", (void *)tstack);
	printf("slow %p\n", (void *)&slow_var);
	printf("mapped %p\n", (void *)mapped);
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		slow_write(++i);
		mapped_write(mapped, i);
		nanosleep(&ts, NULL);
	}
	if (write(tpipe[1], "x", 1) != 1)
		return fail("sleep: wake the thread");
	pthread_join(t, NULL);
	printf("slow %ld\n", i);
	return slow_var == i ? 0 : 3;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	long a = argc > 2 ? strtol(argv[2], NULL, 0) : -1;
	long b = argc > 3 ? strtol(argv[3], NULL, 0) : -1;

	if (!strcmp(mode, "lengths"))
		return mode_lengths();
	if (!strcmp(mode, "wide"))
		return mode_wide();
	if (!strcmp(mode, "threads"))
		return mode_threads(a < 0 ? 8 : a, b < 0 ? 1000 : b);
	if (!strcmp(mode, "syscalls"))
		return mode_syscalls();
	if (!strcmp(mode, "segv"))
		return mode_segv();
	if (!strcmp(mode, "segv-die"))
		return mode_segv_die();
	if (!strcmp(mode, "mprotect"))
		return mode_mprotect();
	if (!strcmp(mode, "fork"))
		return mode_fork(a < 0 ? 1 : a);
	if (!strcmp(mode, "exec")) {
		char num[32];

		parent_write(1);
		parent_write(2);
		snprintf(num, sizeof(num), "%ld", a < 0 ? 1 : a);
		execl("/proc/self/exe", argv[0], "write", num, (char *)NULL);
		return fail("exec");
	}
	if (!strcmp(mode, "write"))
		return mode_write(a < 0 ? 1 : a);
	if (!strcmp(mode, "s64"))
		return mode_s64();
	if (!strcmp(mode, "five"))
		return mode_five();
	if (!strcmp(mode, "addrs"))
		return mode_addrs();
	if (!strcmp(mode, "sleep"))
		return mode_sleep(a < 0 ? 10 : a);
	fprintf(stderr, "usage: guarded lengths|wide|threads N ITERS|syscalls|segv|segv-die|"
			"mprotect|fork K|exec N|write N|s64|five|addrs|sleep [MS]\n");
	return 2;
}

// SPDX-License-Identifier: MIT
/*
 * guard_floor.c - the kernel's price of the stops a software watchpoint
 * takes under ptrace, with nothing of hwbp in the way
 *
 * hwbp's guard backend protects the watched page in the target and takes
 * every access there as a fault: a SIGSEGV stop of the thread, a switch to
 * the tracer woken in waitpid(2), and a restart once the access is done.
 * Its floor is one signal stop and the restart: no debug register is
 * involved, so this runs on machines that deliver no debug exceptions
 * (bench/ptrace_floor's rows need them). x86-64 only for now.
 *
 * A forked child waits on a pipe. The parent PTRACE_SEIZEs it, continues
 * it and opens the pipe; the child then makes N stops of its row's kind,
 * and the parent handles each one. Rows, run interleaved for ROUNDS rounds
 * (median kept), each checking its stop count:
 *
 *   traced         the child traced, N plain stores: the baseline, 0 stops
 *   signal         the child sends itself SIGUSR1 (tgkill); the parent sees
 *                  the stop and continues it without the signal: the floor
 *   int3           an int3 instead: a stop by exception, no system call
 *   fault          a store to a PROT_READ page: SIGSEGV stop; the parent
 *                  reads the siginfo and the registers, moves the ip past
 *                  the store and continues: the stop a guard hit takes
 *   fault+emulate  also reads the old value and writes the new one through
 *                  /proc/PID/mem: the least a guard hit on a plain store
 *                  does (the child checks the last value arrived)
 *   step           PTRACE_SINGLESTEP, N single steps of a plain loop: what
 *                  a debugger's software watchpoint pays per instruction
 *   apart          N/100 (at least 1) of the signal row's stops, with a loop
 *                  of 3,000,000 stores between two (about 1 ms): what a
 *                  stop costs when the tracer has slept since the last one
 *   apart-traced   the same loops, no stop: apart's baseline
 *
 * ns/stop = (row - traced) / N (apart: over apart-traced, per stop);
 * floor = ns/stop over the signal row's.
 *
 *   guard_floor [N [ROUNDS]]      default N = 20000, ROUNDS = 3
 */
#include <stdio.h>

#if defined(__x86_64__)

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#define STORE_LEN 3 /* movq %rax, (%rdx): 48 89 02 */

static volatile uint64_t word __attribute__((aligned(8)));

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define APART_SPIN 3000000UL /* stores between two stops of the apart row */
#define APART_DIV 100 /* the apart rows make N / APART_DIV stops */

enum row { R_TRACED, R_SIGNAL, R_INT3, R_FAULT, R_EMULATE, R_STEP, R_APART, R_APART_TRACED, R_N };

static const char *const row_name[] = {
	"traced", "signal", "int3", "fault", "fault+emulate", "step", "apart", "apart-traced",
};

/* How many stops (or loops, for the baselines) ROW makes for N. */
static unsigned long row_n(enum row row, unsigned long n)
{
	if (row == R_APART || row == R_APART_TRACED)
		return n / APART_DIV ? n / APART_DIV : 1;
	return n;
}

static pid_t wait_for(pid_t pid, int *status)
{
	pid_t r;

	while ((r = waitpid(pid, status, 0)) < 0 && errno == EINTR)
		;
	return r;
}

static void guarded_store(volatile uint64_t *p, uint64_t v)
{
	__asm__ volatile("movq %0, (%1)" : : "a"(v), "d"(p) : "memory");
}

/* The child's side of ROW; exits 0 when what it checks holds. */
static void child(enum row row, unsigned long n, int go, volatile uint64_t *page)
{
	pid_t pid = getpid(), tid = (pid_t)syscall(SYS_gettid);
	char c;

	if (mprotect((void *)page, PAGE, PROT_READ))
		_exit(3);
	while (read(go, &c, 1) < 0 && errno == EINTR)
		;
	switch (row) {
	case R_TRACED:
		for (unsigned long i = 0; i < n; i++)
			word = i;
		break;
	case R_SIGNAL:
		for (unsigned long i = 0; i < n; i++)
			syscall(SYS_tgkill, pid, tid, SIGUSR1);
		break;
	case R_INT3:
		for (unsigned long i = 0; i < n; i++)
			__asm__ volatile("int3" : : : "memory");
		break;
	case R_FAULT:
	case R_EMULATE:
		for (unsigned long i = 0; i < n; i++)
			guarded_store(page, i + 1);
		if (row == R_EMULATE && page[0] != n)
			_exit(4);
		if (row == R_FAULT && page[0] != 0)
			_exit(4);
		break;
	case R_APART:
	case R_APART_TRACED:
		for (unsigned long i = 0; i < n; i++) {
			if (row == R_APART)
				syscall(SYS_tgkill, pid, tid, SIGUSR1);
			for (unsigned long j = 0; j < APART_SPIN; j++)
				word = j;
		}
		break;
	case R_STEP:
		__asm__ volatile("int3" : : : "memory"); /* the parent steps from here */
		for (unsigned long i = 0; i < n; i++)
			word = i;
		break;
	default:
		break;
	}
	_exit(0);
}

/* One run of ROW; 0 with *ns and *stops, or -1 after printing why. */
static int run(enum row row, unsigned long n, volatile uint64_t *page, uint64_t *ns,
	       unsigned long *stops)
{
	int go[2], status, mem = -1, stepping = 0;
	char c = 'g', path[64];
	uint64_t t0;
	pid_t pid;

	*stops = 0;
	if (pipe(go)) {
		perror("guard_floor: pipe");
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		perror("guard_floor: fork");
		return -1;
	}
	if (pid == 0) {
		close(go[1]);
		child(row, n, go[0], page);
	}
	close(go[0]);
	if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)(long)PTRACE_O_EXITKILL)) {
		perror("guard_floor: PTRACE_SEIZE");
		goto fail;
	}
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	mem = open(path, O_RDWR | O_CLOEXEC);
	if (mem < 0) {
		perror("guard_floor: open /proc/PID/mem");
		goto fail;
	}
	t0 = now_ns();
	if (write(go[1], &c, 1) != 1) {
		perror("guard_floor: write");
		goto fail;
	}
	for (;;) {
		enum __ptrace_request how = PTRACE_CONT;
		int sig = 0;

		if (wait_for(pid, &status) != pid) {
			perror("guard_floor: waitpid");
			goto fail;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status))
			break;
		sig = status >> 16 ? 0 : WSTOPSIG(status);
		if ((row == R_SIGNAL || row == R_APART) && sig == SIGUSR1) {
			(*stops)++;
			sig = 0;
		} else if (row == R_INT3 && sig == SIGTRAP) {
			(*stops)++;
			sig = 0;
		} else if ((row == R_FAULT || row == R_EMULATE) && sig == SIGSEGV) {
			struct user_regs_struct regs;
			siginfo_t si;
			uint64_t old;

			if (ptrace(PTRACE_GETSIGINFO, pid, NULL, &si) ||
			    ptrace(PTRACE_GETREGS, pid, NULL, &regs)) {
				perror("guard_floor: PTRACE_GETSIGINFO, PTRACE_GETREGS");
				goto fail;
			}
			if (si.si_addr != (void *)page || regs.rdx != (uintptr_t)page) {
				fprintf(stderr, "guard_floor: a fault at %p, not on the page\n",
					si.si_addr);
				goto fail;
			}
			if (row == R_EMULATE &&
			    (pread(mem, &old, sizeof(old), (off_t)regs.rdx) != sizeof(old) ||
			     pwrite(mem, &regs.rax, sizeof(regs.rax), (off_t)regs.rdx) !=
				     sizeof(regs.rax))) {
				perror("guard_floor: /proc/PID/mem");
				goto fail;
			}
			regs.rip += STORE_LEN;
			if (ptrace(PTRACE_SETREGS, pid, NULL, &regs)) {
				perror("guard_floor: PTRACE_SETREGS");
				goto fail;
			}
			(*stops)++;
			sig = 0;
		} else if (row == R_STEP && sig == SIGTRAP) {
			/* the child's int3, then one stop per step */
			if (stepping)
				(*stops)++;
			stepping = 1;
			sig = 0;
			if (*stops < n)
				how = PTRACE_SINGLESTEP;
		}
		if (ptrace(how, pid, NULL, (void *)(long)sig)) {
			perror("guard_floor: PTRACE_CONT");
			goto fail;
		}
	}
	*ns = now_ns() - t0;
	close(go[1]);
	close(mem);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "guard_floor: %s: the child did not exit 0 (status 0x%x)\n",
			row_name[row], status);
		return -1;
	}
	return 0;
fail:
	close(go[1]);
	if (mem >= 0)
		close(mem);
	kill(pid, SIGKILL);
	wait_for(pid, &status);
	return -1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 20000;
	int rounds = argc > 2 ? atoi(argv[2]) : 3;
	uint64_t t[R_N][64];
	double cost[R_N], floor_stop;
	volatile uint64_t *page;
	int fail = 0;

	if (rounds < 1 || rounds > 64)
		rounds = 3;
	if (n < 1)
		n = 20000;
	page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED) {
		perror("guard_floor: mmap");
		return 1;
	}
	printf("guard_floor: %lu stops per row, %d interleaved rounds, median\n", n, rounds);
	for (int r = 0; r < rounds; r++) {
		for (int m = 0; m < R_N; m++) {
			unsigned long stops, rn = row_n((enum row)m, n);
			unsigned long want = m == R_TRACED || m == R_APART_TRACED ? 0 : rn;

			if (run((enum row)m, rn, page, &t[m][r], &stops))
				return 1;
			if (stops != want) {
				fprintf(stderr, "guard_floor: %s: %lu stops, wanted %lu\n",
					row_name[m], stops, want);
				fail = 1;
			}
		}
	}
	for (int m = 0; m < R_N; m++) {
		qsort(t[m], (size_t)rounds, sizeof(t[m][0]), cmp_u64);
		cost[m] = (double)t[m][rounds / 2] / (double)row_n((enum row)m, n);
	}
	floor_stop = cost[R_SIGNAL] - cost[R_TRACED];
	printf("%-16s %10s %10s %8s %10s\n", "row", "ns/op", "ns/stop", "floor", "stops");
	for (int m = 0; m < R_N; m++) {
		double base = m == R_APART ? cost[R_APART_TRACED] : cost[R_TRACED];

		if (m == R_TRACED || m == R_APART_TRACED) {
			printf("%-16s %10.1f %10s %8s %10d\n", row_name[m], cost[m], "-", "-", 0);
			continue;
		}
		printf("%-16s %10.1f %10.1f %7.2fx %10lu\n", row_name[m], cost[m], cost[m] - base,
		       (cost[m] - base) / floor_stop, row_n((enum row)m, n));
	}
	printf("ns/stop: over the traced row (apart: over apart-traced); floor: over the signal row\n");
	return fail;
}

#else

int main(void)
{
	printf("guard_floor: x86-64 only for now\n");
	return 0;
}

#endif

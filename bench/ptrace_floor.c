// SPDX-License-Identifier: MIT
/*
 * ptrace_floor.c - the kernel's price of one ptrace stop per hit (stop mode)
 *
 * hwbp's ptrace backend stops the thread at every hit, so a hit costs at
 * least: the debug exception, the SIGTRAP to the tracee, a switch to the
 * tracer woken in waitpid(2), and PTRACE_CONT back. This measures that floor
 * with nothing of hwbp in the way, x86-64 only for now:
 *
 * A forked child waits on a pipe. The parent PTRACE_SEIZEs it, stops it with
 * PTRACE_INTERRUPT, sets DR0 = &word (the same address in the child after
 * fork) and DR7 = 0x90001 through PTRACE_POKEUSER, DR7 last (L0 = 1, RW0 = 01
 * write, LEN0 = 10 eight bytes; SDM vol. 3 17.2.4), continues it and opens
 * the pipe. The child writes the word N times and exits; the parent counts
 * the stops and continues each one. Rows, run interleaved for ROUNDS rounds
 * (median kept), each checking its stop count:
 *
 *   traced       the child traced, no watch: the baseline, 0 stops
 *   stop         waitpid + PTRACE_CONT per hit: N stops
 *   stop+read    also PEEKUSER DR6, POKEUSER DR6 = 0 and PEEKDATA of the
 *                word: the least a tracer that reports values does
 *
 * ns/hit = (row - traced) / N. Then hwbp itself, end to end, on
 * bench/stopwork (a program writing the global stopwork_var N times):
 *
 *   hwbp watch --backend ptrace -q -o /dev/null w:stopwork_var -- stopwork N
 *   hwbp stat --backend ptrace w:stopwork_var -- stopwork N
 *
 * timed as a whole and with N = 0, against stopwork run bare with N and 0:
 * ns/hit = ((hwbp N - hwbp 0) - (bare N - bare 0)) / N, so the start-up of
 * hwbp (symbols, probing) is left out. When hwbp refuses, the row reads
 * "n/a: " and hwbp's first line of error.
 *
 *   ptrace_floor [N [ROUNDS]]      default N = 20000, ROUNDS = 3
 *
 * hwbp and stopwork are found next to this program (BUILD/bench/../hwbp,
 * BUILD/bench/stopwork); $HWBP overrides the first.
 */
#include <stdio.h>

#if defined(__x86_64__)

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DR7_W8_SLOT0 0x90001UL
#define DR6_B0 0x1UL

static volatile uint64_t word __attribute__((aligned(8)));

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

enum row { R_TRACED, R_STOP, R_STOP_READ, R_NFLOOR };

static const char *const row_name[] = { "traced", "stop", "stop+read" };

static long dr_off(int i)
{
	return (long)offsetof(struct user, u_debugreg[i]);
}

static pid_t wait_for(pid_t pid, int *status)
{
	pid_t r;

	while ((r = waitpid(pid, status, 0)) < 0 && errno == EINTR)
		;
	return r;
}

static void reap(pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	wait_for(pid, &status);
}

/* One run of ROW; 0 with *ns and *stops, or -1 after printing why. */
static int floor_run(enum row row, unsigned long n, uint64_t *ns, unsigned long *stops)
{
	int go[2], status;
	uint64_t t0;
	pid_t pid;
	char c = 'g';

	*stops = 0;
	if (pipe(go)) {
		perror("ptrace_floor: pipe");
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		perror("ptrace_floor: fork");
		return -1;
	}
	if (pid == 0) {
		close(go[1]);
		while (read(go[0], &c, 1) < 0 && errno == EINTR)
			;
		for (unsigned long i = 0; i < n; i++)
			word = i;
		_exit(0);
	}
	close(go[0]);
	if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)(long)PTRACE_O_EXITKILL) ||
	    ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) || wait_for(pid, &status) != pid ||
	    !WIFSTOPPED(status) || status >> 16 != PTRACE_EVENT_STOP) {
		perror("ptrace_floor: PTRACE_SEIZE and PTRACE_INTERRUPT");
		goto fail;
	}
	if (row != R_TRACED &&
	    (ptrace(PTRACE_POKEUSER, pid, dr_off(0), (void *)(uintptr_t)&word) ||
	     ptrace(PTRACE_POKEUSER, pid, dr_off(7), (void *)DR7_W8_SLOT0))) {
		perror("ptrace_floor: PTRACE_POKEUSER DR0, DR7");
		goto fail;
	}
	if (ptrace(PTRACE_CONT, pid, NULL, NULL)) {
		perror("ptrace_floor: PTRACE_CONT");
		goto fail;
	}
	t0 = now_ns();
	if (write(go[1], &c, 1) != 1) {
		perror("ptrace_floor: write");
		goto fail;
	}
	for (;;) {
		int sig = 0;

		if (wait_for(pid, &status) != pid) {
			perror("ptrace_floor: waitpid");
			goto fail;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status))
			break;
		if (WSTOPSIG(status) == SIGTRAP && status >> 16 == 0) {
			(*stops)++;
			if (row == R_STOP_READ) {
				long dr6, val;

				errno = 0;
				dr6 = ptrace(PTRACE_PEEKUSER, pid, dr_off(6), NULL);
				if (errno || !(dr6 & DR6_B0) ||
				    ptrace(PTRACE_POKEUSER, pid, dr_off(6), NULL)) {
					fprintf(stderr, "ptrace_floor: DR6 0x%lx: %s\n", dr6,
						strerror(errno));
					goto fail;
				}
				val = ptrace(PTRACE_PEEKDATA, pid, (void *)(uintptr_t)&word, NULL);
				if (errno) {
					perror("ptrace_floor: PTRACE_PEEKDATA");
					goto fail;
				}
				(void)val;
			}
		} else if (status >> 16 == 0) {
			sig = WSTOPSIG(status); /* not ours: deliver it */
		}
		if (ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig)) {
			perror("ptrace_floor: PTRACE_CONT");
			goto fail;
		}
	}
	*ns = now_ns() - t0;
	close(go[1]);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "ptrace_floor: %s: the child did not exit 0 (status 0x%x)\n",
			row_name[row], status);
		return -1;
	}
	return 0;
fail:
	close(go[1]);
	reap(pid);
	return -1;
}

/* --- hwbp end to end --------------------------------------------------- */

enum cli { C_BARE, C_WATCH, C_STAT, C_N };

static const char *const cli_name[] = {
	"bare", "hwbp watch --backend ptrace", "hwbp stat --backend ptrace",
};

struct cli_run {
	char hwbp[PATH_MAX], work[PATH_MAX];
	char why[C_N][160]; /* non-empty: the row is n/a */
};

/*
 * Run ROW's command line with N writes, its output to a temporary file.
 * Returns its exit status, with the wall time in *NS, hwbp's first error
 * line in FIRST_ERR and the hit count of hwbp stat's summary in *HITS
 * (ULONG_MAX if none), each when not NULL.
 */
static int cli_exec(const struct cli_run *cr, enum cli row, unsigned long n, uint64_t *ns,
		    char *first_err, size_t errsz, unsigned long *hits)
{
	char nbuf[32], tmpl[] = "/tmp/ptrace_floor.XXXXXX", line[256];
	const char *argv[16];
	int argc = 0, fd, status;
	uint64_t t0;
	FILE *f;
	pid_t pid;

	snprintf(nbuf, sizeof(nbuf), "%lu", n);
	if (row != C_BARE) {
		argv[argc++] = cr->hwbp;
		argv[argc++] = row == C_WATCH ? "watch" : "stat";
		argv[argc++] = "--backend";
		argv[argc++] = "ptrace";
		if (row == C_WATCH) {
			argv[argc++] = "-q";
			argv[argc++] = "-o";
			argv[argc++] = "/dev/null";
		}
		argv[argc++] = "w:stopwork_var";
		argv[argc++] = "--";
	}
	argv[argc++] = cr->work;
	argv[argc++] = nbuf;
	argv[argc] = NULL;

	fd = mkstemp(tmpl);
	if (fd < 0) {
		perror("ptrace_floor: mkstemp");
		return -1;
	}
	unlink(tmpl);
	t0 = now_ns();
	pid = fork();
	if (pid < 0) {
		perror("ptrace_floor: fork");
		close(fd);
		return -1;
	}
	if (pid == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	wait_for(pid, &status);
	*ns = now_ns() - t0;

	if (first_err)
		first_err[0] = '\0';
	if (hits)
		*hits = ULONG_MAX;
	lseek(fd, 0, SEEK_SET);
	f = fdopen(fd, "r");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long h;

		line[strcspn(line, "\n")] = '\0';
		if (first_err && !first_err[0] && !strncmp(line, "hwbp: ", 6)) {
			size_t len = strlen(line) < errsz ? strlen(line) : errsz - 1;

			memcpy(first_err, line, len);
			first_err[len] = '\0';
		}
		/* hwbp stat's last line: "N hits, N lost, T s" */
		if (hits && sscanf(line, "%lu hits, ", &h) == 1)
			*hits = h;
	}
	if (f)
		fclose(f);
	else
		close(fd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void cli_find(struct cli_run *cr)
{
	char self[PATH_MAX], *slash;
	const char *env = getenv("HWBP");
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (len < 0)
		len = 0;
	self[len] = '\0';
	slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	if (snprintf(cr->work, sizeof(cr->work), "%s/stopwork", self) >= (int)sizeof(cr->work))
		cr->work[0] = '\0';
	if (env && *env)
		len = snprintf(cr->hwbp, sizeof(cr->hwbp), "%s", env);
	else
		len = snprintf(cr->hwbp, sizeof(cr->hwbp), "%s/../hwbp", self);
	if (len >= (ssize_t)sizeof(cr->hwbp))
		cr->hwbp[0] = '\0';
}

/* A first small run of each row: may it run at all? */
static void cli_check(struct cli_run *cr)
{
	uint64_t ns;
	int rc;

	for (int r = 0; r < C_N; r++) {
		char err[sizeof(cr->why[0]) - 8];

		if (r != C_BARE && access(cr->hwbp, X_OK)) {
			snprintf(cr->why[r], sizeof(cr->why[r]), "n/a: hwbp is not built");
			continue;
		}
		rc = cli_exec(cr, (enum cli)r, 10, &ns, err, sizeof(err), NULL);
		if (rc)
			snprintf(cr->why[r], sizeof(cr->why[r]), "n/a: %s",
				 err[0] ? err : "exit status not 0");
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double median(uint64_t *t, int rounds)
{
	qsort(t, (size_t)rounds, sizeof(t[0]), cmp_u64);
	return (double)t[rounds / 2];
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 20000;
	int rounds = argc > 2 ? atoi(argv[2]) : 3;
	uint64_t t[R_NFLOOR][64], ct[C_N][2][64];
	unsigned long hits[C_N] = { 0 };
	double cost[R_NFLOOR], floor_hit, bare;
	static struct cli_run cr;
	int fail = 0;

	if (rounds < 1 || rounds > 64)
		rounds = 3;
	if (n < 1)
		n = 20000;
	cli_find(&cr);
	cli_check(&cr);
	printf("ptrace_floor: %lu writes by one traced thread, %d interleaved rounds, median\n",
	       n, rounds);
	for (int r = 0; r < rounds; r++) {
		for (int m = 0; m < R_NFLOOR; m++) {
			unsigned long stops, want = m == R_TRACED ? 0 : n;

			if (floor_run((enum row)m, n, &t[m][r], &stops))
				return 1;
			if (stops != want) {
				fprintf(stderr, "ptrace_floor: %s: %lu stops, wanted %lu\n",
					row_name[m], stops, want);
				fail = 1;
			}
		}
		for (int c = 0; c < C_N; c++) {
			if (cr.why[c][0])
				continue;
			for (int z = 0; z < 2; z++) {
				unsigned long h;
				int rc = cli_exec(&cr, (enum cli)c, z ? n : 0, &ct[c][z][r], NULL, 0,
						  &h);

				if (rc) {
					snprintf(cr.why[c], sizeof(cr.why[c]),
						 "n/a: exit status %d in round %d", rc, r + 1);
					break;
				}
				if (z && c == C_STAT && h != n) {
					fprintf(stderr, "ptrace_floor: %s: %lu hits, wanted %lu\n",
						cli_name[c], h, n);
					fail = 1;
				}
				hits[c] = h;
			}
		}
	}
	for (int m = 0; m < R_NFLOOR; m++)
		cost[m] = median(t[m], rounds) / (double)n;
	floor_hit = cost[R_STOP] - cost[R_TRACED];

	printf("%-30s %10s %10s %8s %10s\n", "row", "ns/write", "ns/hit", "floor", "stops");
	for (int m = 0; m < R_NFLOOR; m++) {
		if (m == R_TRACED) {
			printf("%-30s %10.1f %10s %8s %10d\n", row_name[m], cost[m], "-", "-", 0);
			continue;
		}
		printf("%-30s %10.1f %10.1f %7.2fx %10lu\n", row_name[m], cost[m],
		       cost[m] - cost[R_TRACED], (cost[m] - cost[R_TRACED]) / floor_hit, n);
	}
	bare = 0;
	if (!cr.why[C_BARE][0])
		bare = (median(ct[C_BARE][1], rounds) - median(ct[C_BARE][0], rounds)) / (double)n;
	for (int c = C_WATCH; c < C_N; c++) {
		double per_write, fixed;
		char nhits[24] = "-";

		if (cr.why[C_BARE][0] && !cr.why[c][0])
			snprintf(cr.why[c], sizeof(cr.why[c]), "n/a: bench/stopwork does not run");
		if (cr.why[c][0]) {
			printf("%-30s %s\n", cli_name[c], cr.why[c]);
			continue;
		}
		if (hits[c] != ULONG_MAX)
			snprintf(nhits, sizeof(nhits), "%lu", hits[c]);
		fixed = median(ct[c][0], rounds);
		per_write = (median(ct[c][1], rounds) - fixed) / (double)n;
		printf("%-30s %10.1f %10.1f %7.2fx %10s   (%.1f ms with N = 0)\n", cli_name[c],
		       per_write, per_write - bare, (per_write - bare) / floor_hit, nhits,
		       fixed / 1e6);
	}
	printf("ns/hit: over the traced row (hwbp rows: over stopwork run bare); "
	       "floor: over the stop row\n");
	return fail;
}

#else

int main(void)
{
	printf("ptrace_floor: x86-64 only for now\n");
	return 0;
}

#endif

// SPDX-License-Identifier: MIT
/*
 * launch.c - start "-- COMMAND" stopped at its first instruction, and hand
 * its status back as env(1) and timeout(1) do
 *
 * hwbp seizes the child (PTRACE_SEIZE with PTRACE_O_TRACEEXEC) before it
 * execs COMMAND; the kernel stops it right after the exec, before any
 * instruction of the new program (or of its dynamic linker) runs. There
 * hwbp reads where the program was loaded and arms its watchpoints; then
 * it lets the command go (perf backend), or the library's ptrace backend
 * takes the seized child over (stop mode). Seizing rather than
 * PTRACE_TRACEME keeps group-stops visible, so job control works.
 */
#include "launch.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

/* See launch.h. */
int launch_stopped(char *const argv[], pid_t *pidp)
{
	int pfd[2], gfd[2], status, child_err = 0;
	ssize_t n;
	pid_t pid;
	char go = 0;

	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	if (pipe2(gfd, O_CLOEXEC)) {
		int err = -errno;

		close(pfd[0]);
		close(pfd[1]);
		return err;
	}
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		close(pfd[0]);
		close(pfd[1]);
		close(gfd[0]);
		close(gfd[1]);
		return err;
	}
	if (pid == 0) {
		int err;

		close(pfd[0]);
		close(gfd[1]);
		/* hwbp's own signal dispositions are not the command's. */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		/* Wait until hwbp has seized this process (or gave up). */
		if (read(gfd[0], &go, 1) != 1 || go != 1)
			_exit(CLI_CMD_HWBP_FAIL);
		execvp(argv[0], argv);
		err = errno;
		/* The pipe closes on a successful exec, so the parent reads
		 * either nothing (started) or why it could not start. */
		if (write(pfd[1], &err, sizeof(err)) < 0)
			_exit(CLI_CMD_NOEXEC);
		_exit(err == ENOENT ? CLI_CMD_NOTFOUND : CLI_CMD_NOEXEC);
	}
	close(pfd[1]);
	close(gfd[0]);
	if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)(long)PTRACE_O_TRACEEXEC)) {
		int err = -errno;

		close(gfd[1]);
		close(pfd[0]);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		return err;
	}
	go = 1;
	if (write(gfd[1], &go, 1) != 1) {
		int err = -errno;

		close(gfd[1]);
		close(pfd[0]);
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR)
			;
		return err;
	}
	close(gfd[1]);
	do
		n = read(pfd[0], &child_err, sizeof(child_err));
	while (n < 0 && errno == EINTR);
	close(pfd[0]);
	if (n == (ssize_t)sizeof(child_err)) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		return child_err == ENOENT ? -ENOENT : -child_err;
	}
	/* The exec stop (PTRACE_EVENT_EXEC), after the new image is mapped;
	 * a signal that came first is kept for the command. */
	for (;;) {
		while (waitpid(pid, &status, 0) < 0) {
			if (errno != EINTR)
				return -errno;
		}
		if (!WIFSTOPPED(status) || status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8)))
			break;
		if (ptrace(PTRACE_CONT, pid, NULL,
			   (void *)(long)(status >> 16 ? 0 : WSTOPSIG(status))))
			break;
	}
	if (!WIFSTOPPED(status) || status >> 8 != (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) {
		if (WIFSTOPPED(status))
			kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		return -ECHILD;
	}
	*pidp = pid;
	return 0;
}

/* See launch.h. */
int launch_exit_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return CLI_CMD_HWBP_FAIL;
}

/* See launch.h. */
int launch_start_error(const char *cmd, int err)
{
	if (err == -ENOENT) {
		cli_error("check the name, or give its path", "command not found: '%s'", cmd);
		return CLI_CMD_NOTFOUND;
	}
	if (err == -EACCES || err == -ENOEXEC || err == -EPERM) {
		cli_error("check that it is an executable file and that you may run it",
			  "cannot run command '%s': %s", cmd, strerror(-err));
		return CLI_CMD_NOEXEC;
	}
	cli_error(NULL, "cannot start command '%s': %s", cmd, strerror(-err));
	return CLI_CMD_NOEXEC;
}

/* --- running a launched command up to its libraries ------------------------ */

#if defined(__x86_64__)
#include <sys/user.h>
/* int3; the trap leaves the pc one byte past it. */
#define LAUNCH_TRAP_INSN 0xccu
#define LAUNCH_TRAP_MASK 0xffu
#define LAUNCH_TRAP_PC_ADJ 1
static int get_pc(pid_t pid, uint64_t *pc)
{
	struct user_regs_struct r;

	if (ptrace(PTRACE_GETREGS, pid, NULL, &r))
		return -errno;
	*pc = r.rip;
	return 0;
}

static int set_pc(pid_t pid, uint64_t pc)
{
	struct user_regs_struct r;

	if (ptrace(PTRACE_GETREGS, pid, NULL, &r))
		return -errno;
	r.rip = pc;
	return ptrace(PTRACE_SETREGS, pid, NULL, &r) ? -errno : 0;
}
#elif defined(__aarch64__)
#include <asm/ptrace.h>
#include <elf.h>
#include <sys/uio.h>
/* brk #0; the trap leaves the pc on it. */
#define LAUNCH_TRAP_INSN 0xd4200000u
#define LAUNCH_TRAP_MASK 0xffffffffu
#define LAUNCH_TRAP_PC_ADJ 0
static int regs_io(pid_t pid, struct user_pt_regs *r, int req)
{
	struct iovec iov = { r, sizeof(*r) };

	return ptrace(req, pid, (void *)NT_PRSTATUS, &iov) ? -errno : 0;
}

static int get_pc(pid_t pid, uint64_t *pc)
{
	struct user_pt_regs r;
	int err = regs_io(pid, &r, PTRACE_GETREGSET);

	if (!err)
		*pc = r.pc;
	return err;
}

static int set_pc(pid_t pid, uint64_t pc)
{
	struct user_pt_regs r;
	int err = regs_io(pid, &r, PTRACE_GETREGSET);

	if (err)
		return err;
	r.pc = pc;
	return regs_io(pid, &r, PTRACE_SETREGSET);
}
#endif

#ifdef LAUNCH_TRAP_INSN
static int poke_trap(pid_t pid, uint64_t addr, long *saved)
{
	long word;

	errno = 0;
	word = ptrace(PTRACE_PEEKTEXT, pid, (void *)addr, NULL);
	if (errno)
		return -errno;
	*saved = word;
	word = (long)(((unsigned long)word & ~(unsigned long)LAUNCH_TRAP_MASK) | LAUNCH_TRAP_INSN);
	return ptrace(PTRACE_POKETEXT, pid, (void *)addr, (void *)word) ? -errno : 0;
}

/* See launch.h. */
int launch_until_libs(pid_t pid, uint64_t dl_debug_state, uint64_t entry)
{
	uint64_t at[2] = { dl_debug_state, entry };
	long saved[2] = { 0, 0 };
	bool poked[2] = { false, false };
	uint64_t pc = 0;
	int status, err, sig = 0, which = -1;

	/* Standing on one of the stops: step off it before re-planting. */
	err = get_pc(pid, &pc);
	if (err)
		return err;
	if (pc == at[0] || pc == at[1]) {
		if (ptrace(PTRACE_SINGLESTEP, pid, NULL, NULL))
			return -errno;
		if (waitpid(pid, &status, 0) < 0 || !WIFSTOPPED(status))
			return -ECHILD;
	}
	for (int i = 0; i < 2; i++) {
		if (!at[i] || (i == 1 && at[1] == at[0]))
			continue;
		err = poke_trap(pid, at[i], &saved[i]);
		if (err)
			goto restore;
		poked[i] = true;
	}
	for (;;) {
		if (ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig)) {
			err = -errno;
			goto restore;
		}
		if (waitpid(pid, &status, 0) < 0) {
			err = -errno;
			goto restore;
		}
		if (!WIFSTOPPED(status)) {
			/* It ended before reaching its entry point. */
			return -ESRCH;
		}
		if (status >> 16) {
			sig = 0;	/* a ptrace event (group-stop): no signal */
			continue;
		}
		sig = WSTOPSIG(status);
		if (sig != SIGTRAP)
			continue;	/* its own signal: pass it on */
		sig = 0;
		err = get_pc(pid, &pc);
		if (err)
			goto restore;
		pc -= LAUNCH_TRAP_PC_ADJ;
		for (int i = 0; i < 2; i++)
			if (poked[i] && pc == at[i])
				which = i;
		if (which >= 0)
			break;
	}
	err = set_pc(pid, pc);
restore:
	for (int i = 0; i < 2; i++)
		if (poked[i])
			ptrace(PTRACE_POKETEXT, pid, (void *)at[i], (void *)saved[i]);
	if (err)
		return err;
	return which == 1 ? 1 : 0;
}

/* See launch.h. */
int launch_libs_start(struct launch_libs *ll, pid_t pid, uint64_t dl_debug_state)
{
	int err;

	memset(ll, 0, sizeof(*ll));
	ll->pid = pid;
	ll->brk = dl_debug_state;
	if (ptrace(PTRACE_SETOPTIONS, pid, NULL,
		   (void *)(long)(PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC)))
		return -errno;
	err = poke_trap(pid, dl_debug_state, &ll->saved);
	if (err)
		return err;
	ll->planted = true;
	return 0;
}

static bool is_stop_sig(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* See launch.h. */
int launch_libs_poll(struct launch_libs *ll, int *status)
{
	for (;;) {
		int st, sig, ev;
		uint64_t pc = 0;
		pid_t r = waitpid(-1, &st, __WALL | WNOHANG);

		if (r <= 0)
			return 0;
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			if (r == ll->pid) {
				*status = st;
				return 2;
			}
			continue;	/* a thread */
		}
		if (!WIFSTOPPED(st))
			continue;
		sig = WSTOPSIG(st);
		ev = st >> 16;
		if (ev == PTRACE_EVENT_STOP) {
			/* group-stop: stay stopped; else a new thread's first stop */
			ptrace(is_stop_sig(sig) ? PTRACE_LISTEN : PTRACE_CONT, r, NULL, NULL);
		} else if (ev == PTRACE_EVENT_EXEC) {
			ll->planted = false;	/* went with the old image */
			ll->held = r;
			return 3;
		} else if (ev) {
			ptrace(PTRACE_CONT, r, NULL, NULL);
		} else if (sig == SIGTRAP && ll->planted && !get_pc(r, &pc) &&
			   pc - LAUNCH_TRAP_PC_ADJ == ll->brk) {
			set_pc(r, ll->brk);
			ll->held = r;
			return 1;
		} else {
			ptrace(PTRACE_CONT, r, NULL, (void *)(long)sig);
		}
	}
}

/* See launch.h. */
void launch_libs_step(struct launch_libs *ll)
{
	pid_t t = ll->held;
	int st, sig = 0;

	if (!t)
		return;
	ll->held = 0;
	if (ll->planted) {
		/* Step the real instruction, then plant the trap again. */
		long trap;

		errno = 0;
		trap = ptrace(PTRACE_PEEKTEXT, t, (void *)ll->brk, NULL);
		ptrace(PTRACE_POKETEXT, t, (void *)ll->brk, (void *)ll->saved);
		for (;;) {
			if (ptrace(PTRACE_SINGLESTEP, t, NULL, NULL) ||
			    waitpid(t, &st, __WALL) != t || !WIFSTOPPED(st))
				return;
			if (st >> 16 == 0 && WSTOPSIG(st) == SIGTRAP)
				break;
			if (st >> 16 == 0)
				sig = WSTOPSIG(st);	/* passed on after the step */
		}
		if (!errno)
			ptrace(PTRACE_POKETEXT, t, (void *)ll->brk, (void *)trap);
	}
	ptrace(PTRACE_CONT, t, NULL, (void *)(long)sig);
}

/* Is a SIGTRAP queued for the stopped thread T, not delivered yet? */
static bool trap_queued(pid_t t)
{
	struct __ptrace_peeksiginfo_args arg = { .off = 0, .flags = 0, .nr = 8 }; /* T's own queue */
	siginfo_t si[8];
	long n = ptrace(PTRACE_PEEKSIGINFO, t, &arg, si);

	for (long i = 0; i < n && i < 8; i++)
		if (si[i].si_signo == SIGTRAP)
			return true;
	return false;
}

/* See launch.h. */
void launch_libs_stop(struct launch_libs *ll)
{
	char path[64];
	struct dirent *de;
	DIR *d;

	if (ll->held && !ll->planted) {
		ptrace(PTRACE_DETACH, ll->held, NULL, NULL);
		ll->held = 0;
	}
	snprintf(path, sizeof(path), "/proc/%d/task", (int)ll->pid);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		pid_t t = (pid_t)atoi(de->d_name);
		int st = 0, sig = 0;
		uint64_t pc = 0;

		if (t <= 0)
			continue;
		if (t != ll->held) {
			/* Stop it: a ptrace-stop is needed to detach. */
			if (ptrace(PTRACE_INTERRUPT, t, NULL, NULL))
				continue;
			/* Any ptrace-stop will do: a signal it stopped with
			 * is handed back at the detach. But the interrupt
			 * stop may come before a trap it has just taken: let
			 * it take that first, or it would die of it. */
			do {
				if (waitpid(t, &st, __WALL) != t)
					st = 0;
			} while (WIFSTOPPED(st) && st >> 16 &&
				 (st >> 16 != PTRACE_EVENT_STOP || trap_queued(t)) &&
				 !ptrace(PTRACE_CONT, t, NULL, NULL));
			if (WIFSTOPPED(st) && !(st >> 16)) {
				sig = WSTOPSIG(st);
				if (sig == SIGTRAP && ll->planted && !get_pc(t, &pc) &&
				    pc - LAUNCH_TRAP_PC_ADJ == ll->brk) {
					set_pc(t, ll->brk);	/* runs the real one */
					sig = 0;
				}
			}
			if (!WIFSTOPPED(st))
				continue;
		}
		if (ll->planted) {
			ptrace(PTRACE_POKETEXT, t, (void *)ll->brk, (void *)ll->saved);
			ll->planted = false;
		}
		ptrace(PTRACE_DETACH, t, NULL, (void *)(long)sig);
	}
	closedir(d);
	ll->held = 0;
}
#else
/* See launch.h. */
int launch_libs_start(struct launch_libs *ll, pid_t pid, uint64_t dl_debug_state)
{
	memset(ll, 0, sizeof(*ll));
	(void)pid;
	(void)dl_debug_state;
	return -EOPNOTSUPP;
}

/* See launch.h. */
int launch_libs_poll(struct launch_libs *ll, int *status)
{
	(void)ll;
	(void)status;
	return 0;
}

/* See launch.h. */
void launch_libs_step(struct launch_libs *ll)
{
	(void)ll;
}

/* See launch.h. */
void launch_libs_stop(struct launch_libs *ll)
{
	(void)ll;
}

/* See launch.h. */
int launch_until_libs(pid_t pid, uint64_t dl_debug_state, uint64_t entry)
{
	(void)pid;
	(void)dl_debug_state;
	(void)entry;
	return -EOPNOTSUPP;
}
#endif

/* See launch.h. */
uint64_t launch_entry(pid_t pid)
{
	char path[64];
	uint64_t av[2];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/auxv", (int)pid);
	f = fopen(path, "rb");
	if (!f)
		return 0;
	while (fread(av, sizeof(av), 1, f) == 1) {
		if (av[0] == 9 /* AT_ENTRY */) {
			fclose(f);
			return av[1];
		}
		if (av[0] == 0)
			break;
	}
	fclose(f);
	return 0;
}

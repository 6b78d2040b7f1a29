// SPDX-License-Identifier: MIT
/*
 * vminit.c - PID 1 of the initramfs that tests/emu/arm64-lane.sh boots.
 *
 * It mounts proc, sysfs, devtmpfs, debugfs and tmpfs, then runs every program
 * listed in /hwbp/list, one after the other, as root, with the console as its
 * stdin, stdout and stderr, so that the program's TAP reaches the host exactly
 * as the program wrote it (and a crash loses no line-buffered output).
 * Each program is framed by marker lines that carry the host's nonce, so that
 * neither a program nor the kernel can fake them:
 *
 *	@@<nonce>-BEGIN <name>@@
 *	... the program's own output, untouched ...
 *	@@<nonce>-END <name> exit=<n> | signal=<n> | timeout=<s> | error=<errno>@@
 *	@@<nonce>-KMSG@@ <kernel message logged while the program ran>
 *
 * and the run ends with "@@<nonce>-DONE <count>@@" before the VM powers off.
 * The host treats a run without DONE as a failure.
 *
 * /hwbp/list has one line per program, fields separated by tabs:
 *	NAME <tab> TIMEOUT-SECONDS <tab> PATH [<tab> ARG]...
 * /hwbp/env holds extra environment entries, one NAME=VALUE a line;
 * /hwbp/nonce holds the nonce.
 *
 * Build: aarch64-linux-gnu-gcc -static -O2 -o init vminit.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ARGS	64
#define MAX_ENV		64
#define KMSG_MAX_LEVEL	5	/* forward KERN_EMERG .. KERN_NOTICE */

static char nonce[64] = "HWBP";
static volatile sig_atomic_t alarm_fired;

static void on_alarm(int sig)
{
	(void)sig;
	alarm_fired = 1;
}

static void mount_fs(const char *type, const char *dir)
{
	mkdir(dir, 0755);
	if (mount(type, dir, type, 0, NULL) < 0 && errno != EBUSY)
		printf("vminit: cannot mount %s on %s: %s\n", type, dir, strerror(errno));
}

static void console_open(void)
{
	int fd;

	if (fcntl(1, F_GETFD) >= 0)
		return;
	mount_fs("devtmpfs", "/dev");
	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
}

static __attribute__((noreturn)) void power_off(void)
{
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

/* Read a whole small file into a static-lifetime, NUL-terminated buffer. */
static char *slurp(const char *path)
{
	static char store[3][16384];
	static int used;
	char *buf;
	ssize_t n, len = 0;
	int fd;

	if (used == 3)
		return NULL;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	buf = store[used++];
	while ((n = read(fd, buf + len, sizeof(store[0]) - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	return buf;
}

/*
 * Print the kernel messages logged since the last call (records of
 * /dev/kmsg: "PRI,SEQ,USEC,FLAGS;TEXT\n" followed by " KEY=VALUE" lines).
 */
static void kmsg_drain(int fd)
{
	char rec[2048];

	if (fd < 0)
		return;
	for (;;) {
		char *text, *nl;
		ssize_t n;
		int pri;

		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)	/* records overwritten: go on */
			continue;
		if (n <= 0)
			break;
		rec[n] = '\0';
		text = strchr(rec, ';');
		if (!text || sscanf(rec, "%d", &pri) != 1 || (pri & 7) > KMSG_MAX_LEVEL)
			continue;
		text++;
		nl = strchr(text, '\n');
		if (nl)
			*nl = '\0';
		printf("@@%s-KMSG@@ %s\n", nonce, text);
	}
}

/* Run one program; return its END status text in STATUS. */
static void run_one(char **argv, char **envp, unsigned int timeout, char *status, size_t size)
{
	pid_t pid, w;
	int st;

	pid = fork();
	if (pid < 0) {
		snprintf(status, size, "error=%d", errno);
		return;
	}
	if (pid == 0) {
		setpgid(0, 0);
		if (chdir("/hwbp") < 0)
			_exit(126);
		execve(argv[0], argv, envp);
		fprintf(stderr, "vminit: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	alarm_fired = 0;
	alarm(timeout);
	for (;;) {
		w = waitpid(-1, &st, 0);
		if (w < 0 && errno == EINTR) {
			if (alarm_fired == 1) {
				kill(-pid, SIGKILL);
				kill(pid, SIGKILL);
				alarm_fired = 2;
			}
			continue;
		}
		if (w < 0) {
			snprintf(status, size, "error=%d", errno);
			break;
		}
		if (w != pid)		/* an orphan reparented to us */
			continue;
		if (alarm_fired)
			snprintf(status, size, "timeout=%u", timeout);
		else if (WIFEXITED(st))
			snprintf(status, size, "exit=%d", WEXITSTATUS(st));
		else
			snprintf(status, size, "signal=%d", WTERMSIG(st));
		break;
	}
	alarm(0);
	/* Leftover children of the program must not outlive it. */
	kill(-pid, SIGKILL);
	while (waitpid(-1, &st, WNOHANG) > 0)
		;
}

int main(void)
{
	char *envp[MAX_ENV + 1] = { "PATH=/hwbp:/bin", "HOME=/tmp", "TERM=dumb",
				    "HWBP_IN_VM=1", "HWBP=/hwbp/hwbp" };
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	char *list, *env, *line, *save = NULL, *p;
	int nenv = 5, count = 0, kfd;

	console_open();
	setvbuf(stdout, NULL, _IOLBF, 0);
	mount_fs("proc", "/proc");
	mount_fs("sysfs", "/sys");
	mount_fs("devtmpfs", "/dev");
	mount_fs("debugfs", "/sys/kernel/debug");
	mount_fs("tmpfs", "/tmp");
	sigaction(SIGALRM, &sa, NULL);

	/*
	 * Only KERN_EMERG goes straight to the console from now on, so kernel
	 * messages cannot break into a test's output mid-line; the rest is
	 * read back from /dev/kmsg between programs.  A panic raises the
	 * console level itself, so it still shows.
	 */
	klogctl(8, NULL, 1);	/* SYSLOG_ACTION_CONSOLE_LEVEL */
	kfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (kfd >= 0)
		lseek(kfd, 0, SEEK_END);

	p = slurp("/hwbp/nonce");
	if (p) {
		p[strcspn(p, "\r\n")] = '\0';
		snprintf(nonce, sizeof(nonce), "%s", p);
	}
	env = slurp("/hwbp/env");
	for (line = env ? strtok_r(env, "\n", &save) : NULL; line && nenv < MAX_ENV;
	     line = strtok_r(NULL, "\n", &save))
		if (strchr(line, '='))
			envp[nenv++] = line;
	envp[nenv] = NULL;

	list = slurp("/hwbp/list");
	if (!list) {
		printf("@@%s-ERROR cannot read /hwbp/list: %s@@\n", nonce, strerror(errno));
		power_off();
	}
	save = NULL;
	for (line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *argv[MAX_ARGS + 1], *name, *tmo, *fsave = NULL;
		char status[32];
		int argc = 0;

		name = strtok_r(line, "\t", &fsave);
		tmo = strtok_r(NULL, "\t", &fsave);
		while (argc < MAX_ARGS && (argv[argc] = strtok_r(NULL, "\t", &fsave)))
			argc++;
		argv[argc] = NULL;
		if (!name || !tmo || argc == 0)
			continue;
		printf("@@%s-BEGIN %s@@\n", nonce, name);
		run_one(argv, envp, (unsigned int)strtoul(tmo, NULL, 10), status, sizeof(status));
		/* The program's last line may lack its newline. */
		printf("\n@@%s-END %s %s@@\n", nonce, name, status);
		kmsg_drain(kfd);
		count++;
	}
	printf("@@%s-DONE %d@@\n", nonce, count);
	power_off();
}

// SPDX-License-Identifier: MIT
/*
 * sys.c - the real system calls behind struct hwbp_sys
 *
 * Each wrapper saves and restores errno, so that signal mode's SIGTRAP
 * handler may use them without disturbing the interrupted code.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sys.h"

/* Result of a libc call that returns -1 and sets errno, as -errno. */
#define HWBP_SYS_RET(expr)				\
	({						\
		int saved_ = errno;			\
		long r_ = (long)(expr);			\
		if (r_ < 0)				\
			r_ = -errno;			\
		errno = saved_;				\
		r_;					\
	})

static int sys_perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd,
			       unsigned long flags)
{
	return (int)HWBP_SYS_RET(syscall(SYS_perf_event_open, attr, pid, cpu, group_fd,
					 flags | PERF_FLAG_FD_CLOEXEC));
}

static int sys_ioctl(int fd, unsigned long req, unsigned long arg)
{
	return (int)HWBP_SYS_RET(ioctl(fd, req, arg));
}

static int sys_mmap(int fd, size_t len, void **out)
{
	int saved = errno;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int err = p == MAP_FAILED ? -errno : 0;

	errno = saved;
	if (!err)
		*out = p;
	return err;
}

static int sys_munmap(void *addr, size_t len)
{
	return (int)HWBP_SYS_RET(munmap(addr, len));
}

static ssize_t sys_read(int fd, void *buf, size_t n)
{
	return HWBP_SYS_RET(read(fd, buf, n));
}

static int sys_open_mem(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	return (int)HWBP_SYS_RET(open(path, O_RDWR | O_CLOEXEC));
}

static ssize_t sys_pread(int fd, void *buf, size_t n, uint64_t off)
{
	return HWBP_SYS_RET(pread(fd, buf, n, (off_t)off));
}

static ssize_t sys_pwrite(int fd, const void *buf, size_t n, uint64_t off)
{
	return HWBP_SYS_RET(pwrite(fd, buf, n, (off_t)off));
}

static int sys_close(int fd)
{
	return (int)HWBP_SYS_RET(close(fd));
}

static ssize_t sys_read_file(const char *path, char *buf, size_t size)
{
	int fd = (int)HWBP_SYS_RET(open(path, O_RDONLY | O_CLOEXEC));
	size_t n = 0;

	if (fd < 0)
		return fd;
	if (!size) {
		sys_close(fd);
		return -EINVAL;
	}
	while (n < size - 1) {
		ssize_t r = sys_read(fd, buf + n, size - 1 - n);

		if (r == -EINTR)
			continue;
		if (r < 0) {
			sys_close(fd);
			return r;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	sys_close(fd);
	return (ssize_t)n;
}

static ssize_t sys_list_tasks(pid_t pid, pid_t *tids, size_t max)
{
	char path[64];
	struct dirent *de;
	size_t n = 0;
	int saved = errno;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d) {
		int err = errno == ENOENT ? -ESRCH : -errno;

		errno = saved;
		return err;
	}
	while ((de = readdir(d))) {
		char *end;
		long tid = strtol(de->d_name, &end, 10);

		if (de->d_name[0] < '0' || de->d_name[0] > '9' || *end)
			continue;
		if (n < max)
			tids[n] = (pid_t)tid;
		n++;
	}
	closedir(d);
	errno = saved;
	return (ssize_t)n;
}

static long sys_ptrace(int req, pid_t pid, void *addr, void *data)
{
	return HWBP_SYS_RET(syscall(SYS_ptrace, req, pid, addr, data));
}

static pid_t sys_waitpid(pid_t pid, int *status, int options)
{
	return (pid_t)HWBP_SYS_RET(waitpid(pid, status, options));
}

static int sys_getrlimit(int res, uint64_t *cur, uint64_t *max)
{
	struct rlimit rl;
	int err = (int)HWBP_SYS_RET(getrlimit(res, &rl));

	if (!err) {
		*cur = rl.rlim_cur;
		*max = rl.rlim_max;
	}
	return err;
}

static int sys_setrlimit(int res, uint64_t cur, uint64_t max)
{
	struct rlimit rl = { .rlim_cur = cur, .rlim_max = max };

	return (int)HWBP_SYS_RET(setrlimit(res, &rl));
}

static int sys_epoll_create(void)
{
	return (int)HWBP_SYS_RET(epoll_create1(EPOLL_CLOEXEC));
}

static int sys_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	return (int)HWBP_SYS_RET(epoll_ctl(epfd, op, fd, ev));
}

static int sys_epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout_ms)
{
	return (int)HWBP_SYS_RET(epoll_wait(epfd, evs, max, timeout_ms));
}

static pid_t sys_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static pid_t sys_getpid(void)
{
	return (pid_t)syscall(SYS_getpid);
}

static int sys_kill(pid_t pid, int sig)
{
	return (int)HWBP_SYS_RET(kill(pid, sig));
}

static int sys_tgkill(pid_t pid, pid_t tid, int sig)
{
	return (int)HWBP_SYS_RET(syscall(SYS_tgkill, pid, tid, sig));
}

static int sys_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	return (int)HWBP_SYS_RET(sigaction(sig, act, old));
}

static ssize_t sys_process_vm_readv(pid_t pid, void *buf, uint64_t addr, size_t len)
{
	struct iovec local = { buf, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };

	return HWBP_SYS_RET(process_vm_readv(pid, &local, 1, &remote, 1, 0));
}

static int sys_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	int err = pthread_sigmask(how, set, old);

	return -err;
}

static int sys_fcntl(int fd, int cmd, unsigned long arg)
{
	return (int)HWBP_SYS_RET(fcntl(fd, cmd, arg));
}

/* The plain system call, with the kernel's 8-byte signal set. */
static int sys_sigtimedwait(const void *set, void *info, const struct timespec *ts)
{
	return (int)HWBP_SYS_RET(syscall(SYS_rt_sigtimedwait, set, info, ts, (size_t)8));
}

/* Both tables start the same. */
#define HWBP_SYS_TABLE {	\
	.perf_event_open = sys_perf_event_open,	\
	.ioctl = sys_ioctl,	\
	.mmap = sys_mmap,	\
	.munmap = sys_munmap,	\
	.read = sys_read,	\
	.open_mem = sys_open_mem,	\
	.pread = sys_pread,	\
	.pwrite = sys_pwrite,	\
	.close = sys_close,	\
	.read_file = sys_read_file,	\
	.list_tasks = sys_list_tasks,	\
	.ptrace = sys_ptrace,	\
	.waitpid = sys_waitpid,	\
	.getrlimit = sys_getrlimit,	\
	.setrlimit = sys_setrlimit,	\
	.epoll_create = sys_epoll_create,	\
	.epoll_ctl = sys_epoll_ctl,	\
	.epoll_wait = sys_epoll_wait,	\
	.gettid = sys_gettid,	\
	.getpid = sys_getpid,	\
	.kill = sys_kill,	\
	.tgkill = sys_tgkill,	\
	.sigaction = sys_sigaction,	\
	.process_vm_readv = sys_process_vm_readv,	\
	.thread_sigmask = sys_sigmask,	\
	.fcntl = sys_fcntl,	\
	.sigtimedwait = sys_sigtimedwait,	\
}

const struct hwbp_sys hwbp_sys_real = HWBP_SYS_TABLE;

struct hwbp_sys hwbp_sys = HWBP_SYS_TABLE;

int hwbp_sys_online_cpus(int *cpus, int max)
{
	char buf[4096];
	ssize_t r = hwbp_sys.read_file("/sys/devices/system/cpu/online", buf, sizeof(buf));
	const char *p = buf;
	int n = 0;

	if (r < 0)
		return (int)r;
	/* "0-3,5,7-8\n" */
	while (*p >= '0' && *p <= '9') {
		char *end;
		long a = strtol(p, &end, 10), b = a;

		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		for (long c = a; c <= b; c++) {
			if (n < max)
				cpus[n] = (int)c;
			n++;
		}
		p = *end == ',' ? end + 1 : end;
	}
	return n ? n : -EINVAL;
}

void hwbp_sys_log_stderr(const char *msg)
{
	int saved = errno;

	fprintf(stderr, "libhwbp: %s\n", msg);
	errno = saved;
}

/* SPDX-License-Identifier: MIT */
/*
 * sys.h - every system call libhwbp makes, as a table of function pointers
 *
 * Only lib/backend/ and lib/sys.c reach the kernel, and they do it through
 * hwbp_sys. A unit test may swap one member for a fake (to return -EACCES,
 * -ESRCH, -ENOSPC ...) and put the original back afterwards; tests that do
 * so are single-threaded.
 *
 * Unlike libc, every member returns its result or a negative errno, and
 * never touches errno (so the members can be called from the SIGTRAP
 * handler of signal mode: they are plain system calls).
 */
#ifndef HWBP_SYS_H
#define HWBP_SYS_H

#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>

struct perf_event_attr;
struct epoll_event;
struct sigaction;
struct timespec;

/*
 * @perf_event_open: perf_event_open(2); a descriptor (O_CLOEXEC is added)
 * @ioctl:          ioctl(2) with an integer or pointer argument
 * @mmap:           a shared read/write mapping of FD; *OUT on success
 * @munmap:         munmap(2)
 * @read:           read(2); bytes read
 * @close:          close(2)
 * @read_file:      up to SIZE-1 bytes of a /proc or /sys file, NUL-ended;
 *                  bytes read
 * @list_tasks:     thread ids of process PID (/proc/PID/task); how many
 *                  there are (may exceed MAX; only MAX are written)
 * @ptrace:         ptrace(2)
 * @waitpid:        waitpid(2)
 * @getrlimit, @setrlimit: RLIMIT_NOFILE (and others)
 * @epoll_create, @epoll_ctl, @epoll_wait: epoll(7), close-on-exec
 * @gettid, @getpid: the caller's ids
 * @kill:           kill(2)
 * @tgkill:         tgkill(2)
 * @sigaction:      rt_sigaction through libc's sigaction(2)
 * @process_vm_readv: LEN bytes at ADDR in process PID into BUF; bytes read
 *                  (fewer at an unmapped page)
 * @thread_sigmask: pthread_sigmask(3) of the calling thread
 * @fcntl:          fcntl(2) with an integer or pointer argument
 * @sigtimedwait:   rt_sigtimedwait(2) on the signals in SET (a sigset_t);
 *                  the signal taken, -EAGAIN when none is pending by TS
 * @open_mem:       open /proc/PID/mem read/write, close-on-exec: a descriptor
 * @pread, @pwrite: pread(2), pwrite(2) (on /proc/PID/mem they ignore the
 *                  target's page protections, as ptrace does)
 */
struct hwbp_sys {
	int (*perf_event_open)(struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd,
			       unsigned long flags);
	int (*ioctl)(int fd, unsigned long req, unsigned long arg);
	int (*mmap)(int fd, size_t len, void **out);
	int (*munmap)(void *addr, size_t len);
	ssize_t (*read)(int fd, void *buf, size_t n);
	int (*close)(int fd);
	ssize_t (*read_file)(const char *path, char *buf, size_t size);
	ssize_t (*list_tasks)(pid_t pid, pid_t *tids, size_t max);
	long (*ptrace)(int req, pid_t pid, void *addr, void *data);
	pid_t (*waitpid)(pid_t pid, int *status, int options);
	int (*getrlimit)(int res, uint64_t *cur, uint64_t *max);
	int (*setrlimit)(int res, uint64_t cur, uint64_t max);
	int (*epoll_create)(void);
	int (*epoll_ctl)(int epfd, int op, int fd, struct epoll_event *ev);
	int (*epoll_wait)(int epfd, struct epoll_event *evs, int max, int timeout_ms);
	pid_t (*gettid)(void);
	pid_t (*getpid)(void);
	int (*kill)(pid_t pid, int sig);
	int (*tgkill)(pid_t pid, pid_t tid, int sig);
	int (*sigaction)(int sig, const struct sigaction *act, struct sigaction *old);
	ssize_t (*process_vm_readv)(pid_t pid, void *buf, uint64_t addr, size_t len);
	int (*thread_sigmask)(int how, const sigset_t *set, sigset_t *old);
	int (*fcntl)(int fd, int cmd, unsigned long arg);
	int (*sigtimedwait)(const void *set, void *info, const struct timespec *ts);
	int (*open_mem)(pid_t pid);
	ssize_t (*pread)(int fd, void *buf, size_t n, uint64_t off);
	ssize_t (*pwrite)(int fd, const void *buf, size_t n, uint64_t off);
};

/* The table in use; starts as hwbp_sys_real. */
extern struct hwbp_sys hwbp_sys;

/* The real system calls, to restore hwbp_sys from. */
extern const struct hwbp_sys hwbp_sys_real;

/*
 * hwbp_sys_online_cpus() - the online CPU numbers from
 * /sys/devices/system/cpu/online, through hwbp_sys.read_file
 *
 * Return: how many (may exceed MAX; only MAX written), or a negative errno.
 */
int hwbp_sys_online_cpus(int *cpus, int max);

/* hwbp_sys_log_stderr() - write "libhwbp: MSG\n" to stderr (the default log). */
void hwbp_sys_log_stderr(const char *msg);

#endif /* HWBP_SYS_H */

// SPDX-License-Identifier: MIT
/*
 * noperf.c - run a command as an unprivileged user whose perf_event_open fails
 *
 *   noperf [--user USER|UID] [--errno EACCES|EPERM] -- COMMAND [ARG...]
 *
 * This is the machine hwbp's ptrace backend exists for: a user who may trace
 * their own programs but is refused perf_event_open(2), as on Debian and
 * Ubuntu kernels with perf_event_paranoid at 3 or 4. Setting the sysctl would
 * change the whole machine for every test running on it; a seccomp filter
 * changes only COMMAND and its descendants.
 *
 * As root, noperf first drops to USER (default nobody, 65534): no
 * supplementary groups, then the user's group, then the user, and checks
 * that root cannot be regained. Without root it keeps the caller's identity
 * (and --user is an error). Then it sets PR_SET_NO_NEW_PRIVS, installs a
 * filter that fails perf_event_open with ERRNO (default EACCES) and allows
 * every other system call, and executes COMMAND through PATH.
 *
 * Exit status, as env(1): COMMAND's own, 125 when noperf itself fails,
 * 126 when COMMAND cannot run, 127 when it is not found.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define EXIT_OWN 125
#define EXIT_CANNOT_RUN 126
#define EXIT_NOT_FOUND 127

#define NOBODY_ID 65534

#ifndef SECCOMP_RET_KILL_PROCESS
#define SECCOMP_RET_KILL_PROCESS 0x80000000U /* Linux 4.14 */
#endif

/*
 * The filter accepts only the ABI noperf itself was built for: a program of
 * another ABI (i386 on x86-64, say) reaches the kernel's perf_event_open by a
 * different number, so letting its calls through would leave perf open.
 */
#if defined(__x86_64__)
#define NOPERF_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NOPERF_AUDIT_ARCH AUDIT_ARCH_AARCH64
#elif defined(__loongarch64)
#ifndef AUDIT_ARCH_LOONGARCH64
/* EM_LOONGARCH (258), 64-bit, little-endian; <linux/audit.h> since 6.1 */
#define AUDIT_ARCH_LOONGARCH64 (258 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE)
#endif
#define NOPERF_AUDIT_ARCH AUDIT_ARCH_LOONGARCH64
#else
#error "noperf: no AUDIT_ARCH_* for this architecture"
#endif

/*
 * x32 system calls arrive with AUDIT_ARCH_X86_64 and the number ORed with
 * __X32_SYSCALL_BIT, so they need their own check.
 */
#if defined(__x86_64__)
#define NOPERF_X32_PERF (0x40000000U | (unsigned int)__NR_perf_event_open)
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"usage: noperf [--user <user>|<uid>] [--errno (EACCES | EPERM)] -- <command> "
		"[<arg>...]\n"
		"Run <command> with perf_event_open(2) failing with the given errno.\n"
		"As root, first become <user> (default nobody, uid %d).\n"
		"\n"
		"  -u, --user <user>   become this user (name or uid); needs root\n"
		"  -e, --errno <name>  EACCES (default) or EPERM\n"
		"  -h, --help          show this help\n"
		"\n"
		"Exit status: the command's own; 125 if noperf fails; 126 if the command\n"
		"cannot run; 127 if it is not found.\n",
		NOBODY_ID);
}

/* A one-line error and exit 125; _exit so that nothing runs after a drop. */
static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	fputs("noperf: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	_exit(EXIT_OWN);
}

/* USER (name or number) to uid and gid; the default is nobody. */
static void user_lookup(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;
	unsigned long n;
	char *end;

	if (!user) {
		pw = getpwnam("nobody");
		*uid = pw ? pw->pw_uid : NOBODY_ID;
		*gid = pw ? pw->pw_gid : NOBODY_ID;
		return;
	}
	pw = getpwnam(user);
	if (pw) {
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
		return;
	}
	errno = 0;
	n = strtoul(user, &end, 10);
	if (!*user || *end || errno || n >= (unsigned long)(uid_t)-1)
		die("unknown user '%s'", user);
	*uid = (uid_t)n;
	/* A uid with no passwd entry gets the group of the same number. */
	pw = getpwuid(*uid);
	*gid = pw ? pw->pw_gid : (gid_t)n;
}

static void user_drop(uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (setgroups(0, NULL))
		die("setgroups: %s", strerror(errno));
	if (setgid(gid))
		die("setgid %u: %s", (unsigned int)gid, strerror(errno));
	if (setuid(uid))
		die("setuid %u: %s", (unsigned int)uid, strerror(errno));
	if (getresuid(&ru, &eu, &su) || getresgid(&rg, &eg, &sg))
		die("getresuid: %s", strerror(errno));
	if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid || sg != gid ||
	    getgroups(0, NULL) != 0)
		die("dropping to uid %u gid %u did not stick", (unsigned int)uid,
		    (unsigned int)gid);
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		die("uid %u can become root again", (unsigned int)uid);
}

static void filter_install(int err)
{
	struct sock_filter prog[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NOPERF_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_perf_event_open, 2, 0),
#ifdef NOPERF_X32_PERF
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NOPERF_X32_PERF, 1, 0),
#else
		BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0),
#endif
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned int)err & SECCOMP_RET_DATA)),
	};
	struct sock_fprog fprog = {
		.len = (unsigned short)(sizeof(prog) / sizeof(prog[0])),
		.filter = prog,
	};

	/* Lets a user without CAP_SYS_ADMIN install the filter (Linux 3.5). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		die("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0))
		die("cannot install the seccomp filter: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "errno", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *user = NULL;
	int err = EACCES, c;
	uid_t uid;
	gid_t gid;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:u:e:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'u':
			user = optarg;
			break;
		case 'e':
			if (!strcmp(optarg, "EACCES"))
				err = EACCES;
			else if (!strcmp(optarg, "EPERM"))
				err = EPERM;
			else
				die("unknown errno '%s': use EACCES or EPERM", optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			die("option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt)
				die("bad option '-%c' (see noperf --help)", optopt);
			die("bad option '%s' (see noperf --help)", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		die("missing command (see noperf --help)");

	if (geteuid() == 0) {
		user_lookup(user, &uid, &gid);
		user_drop(uid, gid);
	} else if (user) {
		die("--user needs root (running as uid %u)", (unsigned int)geteuid());
	}
	filter_install(err);

	execvp(argv[optind], &argv[optind]);
	c = errno;
	fprintf(stderr, "noperf: cannot run '%s': %s\n", argv[optind], strerror(c));
	_exit(c == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN);
}

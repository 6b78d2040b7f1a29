// SPDX-License-Identifier: MIT
/*
 * watch.c - the engine behind hwbp watch and hwbp stat
 *
 * Launch (or find) the target, resolve each SPEC in its real address space,
 * arm one libhwbp session, let the target run, and turn the session's hit
 * records into lines (text or JSON Lines) or tables. This file is the run
 * and its loop; watch_int.h names the files that do each step.
 */
#include "watch_int.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t watch_stop_sig;

static void watch_on_signal(int sig)
{
	watch_stop_sig = sig;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int on_hit(const struct hwbp_hit *h, void *arg)
{
	struct watch *w = arg;
	struct watch_spec *ws = hwbp_point_user(h->point);
	struct hit_view v;

	if (!ws || w->done)
		return 0;
	watch_explain_hit(w, ws, h, &v);
	/* x86 has no read-only watchpoint: an r: watch is armed rw, and the
	 * pure writes are dropped here, told apart by the decoded insn. */
	if (ws->sp.access == HWBP_READ && v.kind == HWBP_WRITE) {
		ws->filtered++;
		return 0;
	}
	if (ws->sp.access == HWBP_READ && !v.have_insn && w->arch == HWBP_ARCH_X86_64 && !w->guard)
		v.kind = HWBP_RW;
	if ((w->args->if_changed && (!v.have_old || v.old == v.value)) ||
	    (w->args->if_text && (!v.have_value || !watch_cond_holds(w->args, ws, v.value)))) {
		ws->filtered++;
		return 0;
	}
	ws->hits++;
	w->hits++;
	if (w->args->mode == WATCH_STAT) {
		watch_count_site(w, (int)(ws - w->spec), v.insn_ip, 0,
				 h->kernel ? (h->syscall ? h->syscall : "?") : NULL);
		watch_count_site(w, (int)(ws - w->spec), 0, h->tid, NULL);
	} else if (!w->args->quiet) {
		size_t off = w->lines.len;

		if (w->args->json)
			watch_print_hit_json(w, ws, h, &v, &w->lines);
		else
			watch_print_hit_text(w, ws, h, &v, &w->lines);
		if (w->lines.len > off)
			watch_batch_add(w, h->time_ns, off);
	}
	if (w->args->max_hits && w->hits >= w->args->max_hits) {
		w->done = true;
		return 1;
	}
	return 0;
}

/* Drain what the kernel has buffered; stop at --max-hits. */
static void drain(struct watch *w, int timeout_ms)
{
	if (w->count_only) {
		/* Nothing to read: wait for the target's end (or a signal). */
		struct pollfd pfd = { .fd = w->pidfd, .events = POLLIN };

		if (w->pidfd >= 0)
			poll(&pfd, 1, timeout_ms);
		else
			poll(NULL, 0, timeout_ms < 20 ? timeout_ms : 20);
		return;
	}
	/* Stop mode hands hits out in the order the threads stopped. */
	uint64_t before = w->stop_mode ? UINT64_MAX : now_ns();
	int n;

	do {
		n = hwbp_session_poll(w->s, timeout_ms, on_hit, w);
		timeout_ms = 0;
	} while (n > 0 && !w->done);
	watch_batch_flush(w, before);
}

/*
 * Library log lines: the CLI reports every failure itself in one line, so
 * the library's error lines would say it twice; warnings are shown. Set
 * HWBP_DEBUG=1 to see everything.
 */
static char watch_log_error[300];

/* See watch_int.h. */
const char *watch_log_last(void)
{
	return watch_log_error[0] ? watch_log_error : NULL;
}

static void watch_log(enum hwbp_log_level level, const char *msg, void *arg)
{
	(void)arg;
	if (level == HWBP_LOG_ERROR)
		snprintf(watch_log_error, sizeof(watch_log_error), "%s", msg);
	if (getenv("HWBP_DEBUG") || level == HWBP_LOG_WARN)
		fprintf(stderr, "hwbp: %s%s\n", level == HWBP_LOG_WARN ? "warning: " : "", msg);
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = watch_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* The backend the run uses (once the session is open) or will try first. */
static enum hwbp_backend_kind run_backend(const struct watch *w)
{
	const struct watch_args *a = w->args;

	if (w->s)
		return hwbp_session_backend_kind(w->s);
	/* As watch_session_open() picks; AUTO checks through ptrace where
	 * perf is refused, as watch_session_open() then falls back. */
	if (w->backend == HWBP_BACKEND_AUTO && (a->if_changed || a->if_text))
		return HWBP_BACKEND_PTRACE;
	return w->backend;
}

/*
 * Where the hypervisor never delivers a debug exception (DESIGN.md, "Facts
 * already checked"), every watchpoint stays silent and the run would end
 * in "0 hits" as if the program never touched the memory: refuse instead.
 * Called once every input has been checked, before the target runs a
 * single instruction of its own (a -p target: before hwbp attaches).
 * A check that cannot be made (neither backend could arm its probe) lets
 * the run go on, to fail with its own reason.
 */
static int refuse_undelivered(struct watch *w)
{
	struct hwbp_debug_check dc;

	/* guard needs no debug exception. */
	if (run_backend(w) == HWBP_BACKEND_GUARD)
		return 0;
	if (hwbp_host_debug_check(run_backend(w), &dc) ||
	    dc.delivered != HWBP_DEBUG_NOT_DELIVERED)
		return 0;
	cli_error("no watchpoint can fire here: use --backend guard or auto, or a machine or VM "
		  "that delivers them, see hwbp info",
		  "this machine does not deliver debug exceptions: %s", dc.reason);
	return -EIO;
}

/*
 * --backend auto: the guard backend where debug registers cannot do the
 * job, decided before the session opens, with the reason kept for one
 * line in w->fallback (said once the run is sure to go on):
 *   - the machine does not deliver debug exceptions (the check of
 *     refuse_undelivered(), made here already);
 *   - the SPECs resolved so far need more debug registers than the CPU has.
 */
static void pick_backend(struct watch *w)
{
	struct hwbp_debug_check dc;
	char why[300];

	w->backend = w->args->backend;
	if (w->backend != HWBP_BACKEND_AUTO)
		return;
	if (!hwbp_host_debug_check(run_backend(w), &dc) &&
	    dc.delivered == HWBP_DEBUG_NOT_DELIVERED) {
		snprintf(w->fallback, sizeof(w->fallback),
			 "hwbp: this machine does not deliver debug exceptions (%s): "
			 "using the guard backend", dc.reason);
		snprintf(w->picked, sizeof(w->picked), "this machine does not deliver debug "
			 "exceptions");
		w->backend = HWBP_BACKEND_GUARD;
	} else if (watch_slots_over(w, why, sizeof(why))) {
		snprintf(w->fallback, sizeof(w->fallback), "hwbp: %s: using the guard backend", why);
		snprintf(w->picked, sizeof(w->picked), "%s", why);
		w->backend = HWBP_BACKEND_GUARD;
	}
}

/* Resolve and arm; for a launched command, run it on through the dynamic
 * linker until every SPEC names something mapped. */
static int setup(struct watch *w)
{
	bool pending = false;
	int err;

	err = watch_sym_open(w);
	if (err)
		return err;
	for (int i = 0; i < w->nspec; i++) {
		err = watch_spec_resolve(w, &w->spec[i], !w->launched);
		if (err == -EAGAIN)
			continue;
		if (err)
			return err;
	}
	pick_backend(w);
	/* -p: every SPEC is resolved now; nothing has touched the target. */
	if (!w->launched) {
		err = refuse_undelivered(w);
		if (err)
			return err;
	}
	err = watch_session_open(w);
	if (err)
		return err;
	err = watch_arm(w, &pending);
	if (err)
		return err;
	err = watch_follow_linker(w, &pending);
	if (err)
		return err;
	/* A command: resolved and armed (a SPEC in a library needed the
	 * dynamic linker), and held before its first instruction of its own;
	 * the caller ends it on failure. */
	if (w->launched) {
		err = refuse_undelivered(w);
		if (err)
			return err;
	}
	/* Said only now, so that a refusal stays one line. */
	if (w->fallback[0])
		fprintf(stderr, "%s\n", w->fallback);
	return 0;
}

/*
 * Check the SPECs and open the output, before any process is touched.
 * Return: 0, or the exit status after reporting the error.
 */
static int prepare(struct watch *w)
{
	const struct watch_args *a = w->args;

	if (a->nspecs > WATCH_MAX_SPECS) {
		cli_error("watch the others in a second run", "too many SPECs: %d (at most %d)",
			  a->nspecs, WATCH_MAX_SPECS);
		return a->argv ? CLI_CMD_HWBP_FAIL : CLI_USAGE;
	}
	for (int i = 0; i < a->nspecs; i++) {
		char why[200];

		if (cli_spec_parse(a->specs[i], &w->spec[i].sp, why, sizeof(why))) {
			/* Most reasons name their remedy already. */
			cli_error_spec(a->specs[i],
				       strchr(why, '(') ? NULL :
				       "a SPEC is [r|w|rw|x:]LOCATION[/LEN], e.g. w:counter or "
				       "rw:config.limits[2].max",
				       "bad SPEC '%s': %s", a->specs[i], why);
			return a->argv ? CLI_CMD_HWBP_FAIL : CLI_USAGE;
		}
	}
	w->nspec = a->nspecs;
	w->out = stdout;
	if (a->output && strcmp(a->output, "-") != 0) {
		w->out = fopen(a->output, "w");
		if (!w->out) {
			cli_error("check the path and its directory's permissions",
				  "cannot write output file '%s': %m", a->output);
			return a->argv ? CLI_CMD_HWBP_FAIL : CLI_FAIL;
		}
	}
	w->color = !a->json && w->out == stdout && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	if (a->mode == WATCH_STAT) {
		w->sites = calloc(WATCH_MAX_SITES, sizeof(*w->sites));
		if (!w->sites) {
			cli_error(NULL, "out of memory");
			return a->argv ? CLI_CMD_HWBP_FAIL : CLI_FAIL;
		}
	}
	return 0;
}

/*
 * Launch the command (or find the process), resolve and arm, and let the
 * target run. Return: 0, or the exit status after reporting the error.
 */
static int start(struct watch *w)
{
	const struct watch_args *a = w->args;
	int err, status;

	install_signals();
	hwbp_set_log(watch_log, NULL, NULL);

	if (a->argv) {
		err = hwbp_launch(a->argv, &w->pid);
		if (err)
			return launch_start_error(a->argv[0], err);
		w->launched = true;
	} else {
		w->pid = a->pid;
		if (kill(w->pid, 0) && errno == ESRCH) {
			cli_error("check the pid with ps", "no such process: %d", (int)w->pid);
			return CLI_FAIL;
		}
	}

	err = setup(w);
	if (!err) {
		if (w->count_only)
			w->pidfd = (int)syscall(SYS_pidfd_open, w->pid, 0);
		w->t0 = now_ns();
		err = watch_follow_start(w);
	}
	if (!err)
		return 0;
	if (w->launched) {
		/* The command has not run a single instruction: end it. */
		kill(w->pid, SIGKILL);
		waitpid(w->pid, &status, 0);
	}
	return w->launched ? CLI_CMD_HWBP_FAIL : CLI_FAIL;
}

/* Whether the target is gone; *EXITED when its end was seen (*STATUS). */
static bool target_gone(struct watch *w, int *status, bool *exited)
{
	if (w->following_libs) {
		*exited = watch_follow_poll(w, status);
		return *exited;
	}
	if (w->stop_mode) {
		if (w->exited) {
			*exited = true;
			*status = w->status;
			return true;
		}
		return !w->launched && kill(w->pid, 0) && errno == ESRCH;
	}
	if (w->launched) {
		pid_t r = waitpid(w->pid, status, WNOHANG);

		*exited = r == w->pid;
		return *exited;
	}
	return kill(w->pid, 0) && errno == ESRCH;
}

/*
 * Report hits until the target ends, a signal, --duration or --max-hits.
 * Return: whether the target's end was seen (its wait status in *STATUS).
 */
static bool watch_loop(struct watch *w, int *status)
{
	uint64_t deadline = 0;
	bool exited = false;

	if (w->args->duration_ms)
		deadline = w->t0 + w->args->duration_ms * 1000000u;
	while (!watch_stop_sig && !w->done) {
		uint64_t t = now_ns();
		int tmo = 200;

		if (deadline) {
			if (t >= deadline)
				break;
			if ((deadline - t) / 1000000u < (uint64_t)tmo)
				tmo = (int)((deadline - t) / 1000000u) + 1;
		}
		drain(w, w->following_libs && tmo > 5 ? 5 : tmo);
		if (w->exec_pending && !w->done)
			watch_rearm_after_exec(w);
		if (target_gone(w, status, &exited))
			break;
	}
	return exited;
}

/*
 * The end of the run: the last hits, the report, the target let go.
 * Return: the exit status (the command's own, with -- COMMAND).
 */
static int finish(struct watch *w, bool exited, int status)
{
	uint64_t dur;
	int rc;

	if (w->following_libs) {
		hwbp_dl_close(w->dl);
		w->dl = NULL;
	}
	/* Whatever the kernel still holds belongs to the run. */
	if (!w->done)
		drain(w, 0);
	dur = now_ns() - w->t0;

	watch_batch_flush(w, UINT64_MAX);
	for (int i = 0; i < w->nspec && w->count_only; i++) {
		uint64_t n = 0;

		if (w->spec[i].pt && !hwbp_point_count(w->spec[i].pt, &n)) {
			w->spec[i].hits += n;
			w->hits += n;
		}
	}
	/* Disarm before anything else: the target runs on unwatched. */
	if (w->args->mode == WATCH_STAT)
		watch_print_stat(w, dur);
	else
		watch_print_summary(w, dur);
	hwbp_session_close(w->s);
	w->s = NULL;
	fflush(w->out);
	if (w->launched) {
		if (!exited) {
			if (watch_stop_sig && watch_stop_sig != SIGINT)
				kill(w->pid, watch_stop_sig);
			while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
				;
		}
		rc = launch_exit_status(status);
	} else {
		rc = CLI_OK;
	}
	watch_say_pending(w);
	/* Nothing was ever watched: hwbp failed at its job. */
	if (!w->armed && watch_npending(w))
		rc = w->launched ? CLI_CMD_HWBP_FAIL : CLI_FAIL;
	return rc;
}

/* See watch.h. */
int watch_run(const struct watch_args *a)
{
	struct watch w = { .args = a, .pidfd = -1 };
	int status = 0, rc;

	rc = prepare(&w);
	if (!rc)
		rc = start(&w);
	if (!rc) {
		bool exited = watch_loop(&w, &status);

		rc = finish(&w, exited, status);
	}
	hwbp_session_close(w.s);
	hwbp_sym_close(w.sym);
	if (w.out && w.out != stdout && fclose(w.out) && rc == CLI_OK) {
		cli_error(NULL, "cannot write output file '%s': %m", a->output);
		rc = CLI_FAIL;
	}
	if (w.pidfd >= 0)
		close(w.pidfd);
	free(w.sites);
	free(w.batch);
	text_free(&w.lines);
	return rc;
}

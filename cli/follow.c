// SPDX-License-Identifier: MIT
/*
 * follow.c - following the target: the session (perf, or ptrace where the
 * kernel refuses perf), the libraries it loads, its execs, and the SPECs that
 * wait for a library
 */
#include "watch_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* The x86-64 general registers in the perf numbering (asm/perf_regs.h):
 * AX..SP are 0..7, R8..R15 are 16..23. */
#define X86_PERF_GPRS (UINT64_C(0xff) | UINT64_C(0xff) << 16)

/* The library tells of the target's end and of its execs. */
static void on_notify(const struct hwbp_notify *n, void *arg)
{
	struct watch *w = arg;

	if (n->type == HWBP_NOTIFY_EXIT && n->pid == w->pid && n->tid == w->pid &&
	    n->status != -1) {
		w->exited = true;
		w->status = n->status;
	} else if (n->type == HWBP_NOTIFY_EXEC && n->pid == w->pid) {
		w->exec_pending = true;
	}
}

/* What hwbp watch samples with each hit (hwbp stat samples nothing). */
static void session_sampling(const struct watch_args *a, struct hwbp_session_opts *so)
{
	so->sample = HWBP_SAMPLE_REGS;
	if (a->backtrace) {
		so->sample |= HWBP_SAMPLE_CALLCHAIN | HWBP_SAMPLE_STACK;
		/* 4 KiB of stack unwinds the usual frames; root may lock
		 * 2 MiB per CPU so that a burst of hits fits. */
		so->sample_stack_user = 4096;
		if (geteuid() == 0)
			so->buffer_pages = 512;
	} else if (so->backend == HWBP_BACKEND_PTRACE || so->backend == HWBP_BACKEND_GUARD ||
		   a->quiet) {
		/* ptrace and guard read the values; -q prints none: sampling
		 * user registers costs a tenth of a hit */
		so->sample = 0;
	} else if (hwbp_arch_host() == HWBP_ARCH_X86_64) {
		/* A store's address and source are general registers:
		 * the 16 of them, without ip, flags, cs and ss, are a
		 * third of the kernel's cost of the full set. */
		so->sample_regs_user = X86_PERF_GPRS;
	}
}

/* Why the session on W's target did not open (with BACKEND), and what to do. */
static void session_error(const struct watch *w, enum hwbp_backend_kind backend, int err)
{
	const char *hint = NULL;

	if ((err == -EACCES || err == -EPERM) &&
	    (backend == HWBP_BACKEND_PTRACE || backend == HWBP_BACKEND_GUARD))
		hint = "run as the process's owner or root (Yama: kernel.yama.ptrace_scope)";
	else if (err == -EACCES || err == -EPERM)
		hint = "run as root, lower kernel.perf_event_paranoid with sysctl, grant "
		       "CAP_PERFMON, or use --backend ptrace";
	else if (err == -EBUSY)
		hint = "detach the debugger that traces it, or use --backend perf";
	else if (err == -EOPNOTSUPP && backend == HWBP_BACKEND_PTRACE)
		hint = "use --backend perf";
	else if (err == -EOPNOTSUPP && backend == HWBP_BACKEND_GUARD)
		hint = "this libhwbp has no guard backend here: use --backend perf or ptrace";
	else if (err == -EOPNOTSUPP)
		hint = "this kernel or CPU has no breakpoint PMU (see hwbp info)";
	else if (err == -ESRCH)
		hint = "check the pid with ps";
	if (backend == HWBP_BACKEND_GUARD && w->picked[0])
		cli_error(hint, "cannot watch process %d with the guard backend, which auto "
			  "picked as %s: %s", (int)w->pid, w->picked, strerror(-err));
	else if (err == -EBUSY && hwbp_process_tracer(w->pid) > 0)
		cli_error(hint, "cannot watch process %d: it is already traced by process %d",
			  (int)w->pid, hwbp_process_tracer(w->pid));
	else
		cli_error(hint, "cannot watch process %d: %s", (int)w->pid, strerror(-err));
}

/* See watch_int.h. */
int watch_session_open(struct watch *w)
{
	const struct watch_args *a = w->args;
	HWBP_OPTS(hwbp_session_opts, so, .target = HWBP_TARGET_PID, .pid = w->pid,
		  .delivery = HWBP_DELIVER_STREAM, .backend = w->backend,
		  .follow_fork = a->follow_fork, .notify_fn = on_notify, .notify_arg = w,
		  /* 512 KiB per CPU: twice the library's default, and still
		   * within kernel.perf_event_mlock_kb for users without
		   * CAP_IPC_LOCK */
		  .buffer_pages = 128);
	int err;

	/* Conditions need the values only a stopped thread gives. */
	if (so.backend == HWBP_BACKEND_AUTO && (a->if_changed || a->if_text))
		so.backend = HWBP_BACKEND_PTRACE;
	/* stat -q prints only totals: the counters give them exactly, at the
	 * price of a bare breakpoint, without a record per hit. (Not for r: on
	 * x86, whose writes are told apart record by record.) */
	w->count_only = a->mode == WATCH_STAT && a->quiet && so.backend != HWBP_BACKEND_PTRACE &&
			so.backend != HWBP_BACKEND_GUARD && !a->if_changed && !a->if_text;
	for (int i = 0; i < w->nspec && w->count_only; i++)
		if (w->spec[i].sp.access == HWBP_READ && w->arch == HWBP_ARCH_X86_64)
			w->count_only = false;
	if (w->count_only)
		so.delivery = HWBP_DELIVER_COUNT;
	if (a->mode == WATCH_WATCH)
		session_sampling(a, &so);
	/* guard: the library completes a plain store itself, without opening
	 * the page for a single step, when the decoder says it is one. */
	if (so.backend == HWBP_BACKEND_GUARD) {
		so.decode = hwbp_sym_guard_decode;
		so.decode_arg = &w->arch;
	}
	err = hwbp_session_open(&so, &w->s);
	if ((err == -EACCES || err == -EPERM) && so.backend == HWBP_BACKEND_AUTO) {
		so.delivery = HWBP_DELIVER_STREAM;
		w->count_only = false;
		char why[120] = "";
		char buf[16];
		FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");

		if (f && fgets(buf, sizeof(buf), f))
			snprintf(why, sizeof(why), ", kernel.perf_event_paranoid = %d", atoi(buf));
		if (f)
			fclose(f);
		snprintf(w->fallback, sizeof(w->fallback),
			 "hwbp: perf refused (%s%s): using the ptrace backend", strerror(-err), why);
		so.backend = HWBP_BACKEND_PTRACE;
		if (a->mode == WATCH_WATCH && !a->backtrace)
			so.sample = 0;
		err = hwbp_session_open(&so, &w->s);
	}
	w->guard = !err && hwbp_session_backend_kind(w->s) == HWBP_BACKEND_GUARD;
	w->stop_mode = w->guard || (!err && hwbp_session_backend_kind(w->s) == HWBP_BACKEND_PTRACE);
	/* auto's pick, in a libhwbp without guard here: the caller goes on
	 * as auto went before guard existed, so say nothing. */
	if (err == -EOPNOTSUPP && so.backend == HWBP_BACKEND_GUARD && w->picked[0])
		return err;
	if (err)
		session_error(w, so.backend, err);
	return err;
}

/* See watch_int.h. */
int watch_npending(const struct watch *w)
{
	int n = 0;

	for (int i = 0; i < w->nspec; i++)
		n += w->spec[i].dl_pending;
	return n;
}

/* See watch_int.h. */
void watch_say_pending(const struct watch *w)
{
	for (int i = 0; i < w->nspec; i++) {
		const struct watch_spec *ws = &w->spec[i];

		if (ws->dl_pending)
			fprintf(stderr, "hwbp: '%s' was never watched: the program did not load %s\n",
				ws->sp.text, ws->sp.loc.object);
	}
}

/* See watch_int.h. */
int watch_follow_linker(struct watch *w, bool *pending)
{
	int err;

	while (*pending && !w->dl_pending) {
		struct hwbp_sym_loc dl;
		struct cli_loc dl_loc;
		uint64_t entry;
		char why[200];

		/* Symbols of libraries: stop again once the dynamic linker has
		 * mapped them, before their constructors run. */
		if (cli_loc_parse("_dl_debug_state", &dl_loc, why, sizeof(why)) ||
		    hwbp_sym_resolve(w->sym, &dl_loc, &dl, why, sizeof(why)))
			dl.addr = 0;
		w->dl_debug_state = dl.addr;
		if (hwbp_launch_entry(w->pid, &entry))
			entry = 0;
		err = hwbp_launch_run_to_libs(w->pid, dl.addr, entry);
		if (err < 0) {
			cli_error(NULL, "cannot follow the dynamic linker of '%s': %s",
				  w->args->argv[0], strerror(-err));
			return err;
		}
		hwbp_sym_refresh(w->sym);
		for (int i = 0; i < w->nspec; i++) {
			if (w->spec[i].resolved)
				continue;
			int e = watch_spec_resolve(w, &w->spec[i], err == 1);

			if (e && e != -EAGAIN)
				return e;
		}
		err = watch_arm(w, pending);
		if (err)
			return err;
	}
	return 0;
}

/* See watch_int.h. */
int watch_follow_start(struct watch *w)
{
	int err;

	/* perf: the watchpoints need no tracer, unless a SPEC waits for a
	 * library the program will dlopen(). ptrace: the library traces. */
	if (w->launched && !w->stop_mode && w->dl_pending) {
		err = hwbp_dl_follow(w->pid, w->dl_debug_state, &w->dl);
		if (err) {
			cli_error(NULL, "cannot follow the libraries '%s' loads: %s", w->args->argv[0],
				  strerror(-err));
			return err;
		}
		w->following_libs = true;
	} else if (w->launched && !w->stop_mode && (err = hwbp_launch_release(w->pid))) {
		cli_error(NULL, "cannot start command '%s': %s", w->args->argv[0], strerror(-err));
		return err;
	}
	return 0;
}

/* See watch_int.h. */
bool watch_follow_poll(struct watch *w, int *status)
{
	enum hwbp_dl_event ev = hwbp_dl_poll(w->dl, status);
	bool done = ev == HWBP_DL_EXEC;

	if (ev == HWBP_DL_MAPPED) {
		watch_arm_loaded_libs(w);
		hwbp_dl_resume(w->dl);
		done = !w->dl_pending;	/* nothing waits for a library any more */
	}
	if (ev == HWBP_DL_EXITED) {
		w->following_libs = false;
		return true;
	}
	if (done) {
		hwbp_dl_close(w->dl);
		w->dl = NULL;
		w->following_libs = false;
	}
	return false;
}

/* See watch_int.h. */
void watch_arm_loaded_libs(struct watch *w)
{
	bool pending;

	hwbp_sym_refresh(w->sym);
	w->dl_pending = false;
	for (int i = 0; i < w->nspec; i++) {
		struct watch_spec *ws = &w->spec[i];

		if (!ws->dl_pending)
			continue;
		int err = watch_spec_resolve(w, ws, false);

		if (err == -EAGAIN)
			w->dl_pending = true;
		else
			ws->dl_pending = false;
	}
	if (watch_arm(w, &pending))
		fprintf(stderr, "hwbp: cannot watch the newly loaded library's symbols\n");
}

/* See watch_int.h. */
void watch_rearm_after_exec(struct watch *w)
{
	int err;

	w->exec_pending = false;
	hwbp_sym_close(w->sym);
	w->sym = NULL;
	err = hwbp_sym_open_pid(w->pid, &w->sym);
	if (err) {
		w->sym = NULL;
		fprintf(stderr, "hwbp: process %d called exec: cannot read the new image (%s), "
			"nothing is watched in it\n", (int)w->pid,
			err == -ENOENT || err == -ESRCH ? "it has ended" : strerror(-err));
	}
	hwbp_sym_defer_types(w->sym, true);
	for (int i = 0; i < w->nspec; i++) {
		struct watch_spec *ws = &w->spec[i];

		uint64_t n = 0;

		if (!ws->pt)
			continue;
		/* stat -q: the old image's count, from the counter that goes */
		if (w->count_only && !hwbp_point_count(ws->pt, &n)) {
			ws->hits += n;
			w->hits += n;
		}
		hwbp_point_remove(ws->pt);
		ws->pt = NULL;
		ws->resolved = false;
		if (!w->sym)
			continue;
		err = watch_spec_resolve(w, ws, false);
		if (!err) {
			HWBP_OPTS(hwbp_point_opts, wo, .label = ws->sp.text, .user = ws);
			err = hwbp_point_add(w->s, ws->loc.addr, ws->loc.len, ws->arm, &wo, &ws->pt);
		}
		if (err) {
			ws->resolved = false;
			fprintf(stderr, "hwbp: process %d called exec: '%s' is not in the new image, "
				"no longer watched\n", (int)w->pid, ws->sp.text);
		} else {
			fprintf(stderr, "hwbp: process %d called exec: '%s' watched again at "
				"0x%" PRIx64 "\n", (int)w->pid, ws->sp.text, ws->loc.addr);
		}
	}
	err = hwbp_session_apply(w->s);
	if (err)
		fprintf(stderr, "hwbp: process %d called exec: cannot watch the new image: %s\n",
			(int)w->pid, strerror(-err));
}

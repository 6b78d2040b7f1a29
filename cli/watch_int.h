/* SPDX-License-Identifier: MIT */
/*
 * watch_int.h - what the files of hwbp watch and hwbp stat share: the run's
 * state (struct watch) and the steps each file does for watch.c, the run
 */
#ifndef HWBP_CLI_WATCH_INT_H
#define HWBP_CLI_WATCH_INT_H

#include <stddef.h>

#include "launch.h"
#include "sym/sym.h"
#include "watch.h"

#define WATCH_MAX_SPECS 32
#define WATCH_MAX_FRAMES 64
#define WATCH_MAX_SITES 4096

/* Per SPEC: what it resolved to, and what the run saw. */
struct watch_spec {
	struct cli_spec sp;
	struct hwbp_sym_loc loc;
	bool resolved;
	bool dl_pending;		/* its OBJECT is not loaded yet */
	enum hwbp_access arm;		/* what is asked of the library */
	struct hwbp_point *pt;
	uint64_t hits;			/* records reported for it */
	uint64_t filtered;		/* writes dropped from an x86 r: watch */
};

/* stat: hits by accessing instruction and by thread. */
struct watch_site {
	int spec;
	uint64_t ip;
	int32_t tid;			/* 0 in the per-location rows */
	uint64_t hits;
	char syscall[24];		/* guard: the kernel's access in this call */
};

struct watch {
	const struct watch_args *args;
	FILE *out;
	struct hwbp_sym_ctx *sym;
	struct hwbp_session *s;
	enum hwbp_arch arch;
	struct watch_spec spec[WATCH_MAX_SPECS];
	int nspec;
	pid_t pid;
	bool launched;
	bool stop_mode;			/* ptrace or guard: hwbp traces the target */
	bool guard;			/* guard backend: page protection */
	enum hwbp_backend_kind backend;	/* to open the session with: --backend,
					 * or what watch_pick_backend() chose */
	char fallback[400];		/* "perf refused ...: using ptrace", said
					 * once the run is sure to go on */
	char picked[300];		/* why auto picked guard, short */
	bool no_guard;			/* ... and this libhwbp had none */
	bool count_only;		/* stat -q: the kernel's counters, no records */
	int pidfd;			/* count_only: readable when the target ends */
	bool exited;			/* the target's end was seen */
	int status;			/* ... and its wait status */
	bool exec_pending;		/* the target exec'd: re-resolve the SPECs */
	bool dl_pending;		/* some SPEC waits for a dlopen() */
	bool armed;			/* some SPEC was ever watched */
	uint64_t dl_debug_state;	/* the dynamic linker's hook, or 0 */
	struct hwbp_dl *dl;		/* following dlopen() (launched, perf) */
	bool following_libs;
	uint64_t hits;			/* records reported */
	uint64_t t0;			/* CLOCK_MONOTONIC at arming, ns */
	bool done;			/* --max-hits reached */
	struct watch_site *sites;
	size_t nsites;
	bool sites_full;
	bool color;
	/* Hits of one drain, printed in time order: each CPU has its own
	 * ring buffer, so records arrive ordered per CPU only. */
	struct watch_line *batch;
	size_t nbatch, batch_cap;
	struct text lines;		/* their text, one after the other */
};

struct watch_line {
	uint64_t time_ns;
	uint64_t seq;
	size_t off, len;		/* in watch.lines */
};

struct hit_view {
	uint64_t insn_ip;		/* the accessing instruction */
	bool have_insn;
	struct hwbp_sym_insn insn;
	bool have_value;
	uint64_t value;
	bool have_old;			/* stop mode: the bytes before */
	uint64_t old;
	bool partial;			/* guard: value and old are of the hit's
					 * addr/len, a part of the SPEC's bytes */
	enum hwbp_access kind;		/* what the instruction did */
	struct hwbp_sym_where where;	/* last: see watch_explain_hit() */
};

/* --- resolve.c: SPECs to watched points ---------------------------------- */

/*
 * watch_spec_resolve() - resolve one SPEC in the target
 * @final: no later chance (the libraries are all loaded)
 *
 * Return: 0, -EAGAIN when it may resolve once more libraries are loaded
 * (launch only), or a negative errno after reporting the error.
 */
int watch_spec_resolve(struct watch *w, struct watch_spec *ws, bool final);

/*
 * watch_sym_open() - open the symbols of the target and learn its arch
 * Return: 0, or a negative errno after reporting the error.
 */
int watch_sym_open(struct watch *w);

/*
 * watch_arm() - watch every resolved SPEC not watched yet and apply the
 * session; *PENDING tells whether some SPEC is not resolved yet
 * Return: 0, or a negative errno after reporting the error.
 */
int watch_arm(struct watch *w, bool *pending);

/*
 * watch_slots_over() - whether the resolved SPECs together need more debug
 * registers than this CPU has (identical slots counted once); if so, one
 * line saying so in WHY ("w:s64 needs 8 debug registers, the CPU has 4").
 */
bool watch_slots_over(struct watch *w, char *why, size_t len);

/* The library's last error line (its reason for a refusal) since
 * watch_log_forget(), or NULL. */
const char *watch_log_last(void);
void watch_log_forget(void);

/* --- explain.c: what a hit did --------------------------------------------- */

/*
 * watch_explain_hit() - explain a hit: the accessing instruction (on x86 a
 * data watchpoint traps after it, so decode forward from the function start
 * to the instruction that ends at the reported ip), its access kind, and the
 * value written when it is exactly known.
 */
void watch_explain_hit(struct watch *w, const struct watch_spec *ws, const struct hwbp_hit *h,
		       struct hit_view *v);

/* The value as the user thinks of it: signed where DWARF says so. */
void watch_value_text(struct watch *w, struct watch_spec *ws, uint64_t v, char *buf, size_t len);

/* --if: compare as the watched integer's DWARF type (width, signedness). */
bool watch_cond_holds(const struct watch_args *a, const struct watch_spec *ws, uint64_t v);

/* The hit's backtrace, at most MAX frames in IPS, the first the accessing
 * instruction; returns the number of frames. */
unsigned int watch_hit_stack(struct watch *w, const struct hwbp_hit *h, const struct hit_view *v,
			     uint64_t *ips, unsigned int max);

/* --- report.c: hit lines, the summary and the stat tables ---------------- */

/* One hit as a JSON Lines record, or a text line, appended to OUT. */
void watch_print_hit_json(struct watch *w, const struct watch_spec *ws, const struct hwbp_hit *h,
			  const struct hit_view *v, struct text *out);
void watch_print_hit_text(struct watch *w, struct watch_spec *ws, const struct hwbp_hit *h,
			  const struct hit_view *v, struct text *out);

/* stat: count a hit of SPEC at IP (TID 0), or by thread TID (IP 0);
 * SYSCALL names the system call of a kernel access (guard), else NULL. */
void watch_count_site(struct watch *w, int spec, uint64_t ip, int32_t tid, const char *syscall);

/* The end of a run of hwbp watch: the summary line or record. */
void watch_print_summary(struct watch *w, uint64_t dur_ns);

/* The end of a run of hwbp stat: a table per SPEC, then the totals. */
void watch_print_stat(struct watch *w, uint64_t dur_ns);

/* --- order.c: hit lines in time order -------------------------------------- */

/* Hold the line just written to w->lines from OFF on. */
void watch_batch_add(struct watch *w, uint64_t time_ns, size_t off);

/*
 * watch_batch_flush() - print the held lines of hits older than BEFORE, in
 * time order, and keep the others. A drain that starts at time D reads
 * every record of a hit before D, whichever CPU's buffer holds it; a later
 * hit may still be on its way into a buffer read earlier in the drain, so
 * its line waits for the next drain rather than come out ahead of an older
 * one.
 */
void watch_batch_flush(struct watch *w, uint64_t before);

/* --- follow.c: the target's session, libraries, exec and children -------- */

/*
 * watch_session_open() - open the session on the target with w->backend:
 * auto means perf where the kernel allows it, else ptrace, said in
 * w->fallback
 * Return: 0, or a negative errno after reporting the error; -EOPNOTSUPP
 * unreported when auto picked guard (w->picked) and this libhwbp has none.
 */
int watch_session_open(struct watch *w);

/*
 * watch_follow_linker() - run a launched command on through the dynamic
 * linker until every SPEC names something mapped (or waits for a dlopen())
 * @pending: in and out, as watch_arm() sets it
 * Return: 0, or a negative errno after reporting the error.
 */
int watch_follow_linker(struct watch *w, bool *pending);

/*
 * watch_follow_start() - let a launched command run: detached (perf), or
 * still traced to follow its dlopen() calls when a SPEC waits for one
 * Return: 0, or a negative errno after reporting the error.
 */
int watch_follow_start(struct watch *w);

/*
 * watch_follow_poll() - while following dlopen(): arm what a newly loaded
 * library holds, and see the command end
 * Return: true when it ended (its wait status in *STATUS).
 */
bool watch_follow_poll(struct watch *w, int *status);

/* A library was mapped (the command is held on the dynamic linker's
 * hook): arm the SPECs that were waiting for it. */
void watch_arm_loaded_libs(struct watch *w);

/*
 * watch_rearm_after_exec() - the target called execve(): what was watched
 * is gone with the old image (the kernel removed it at the exec). Resolve
 * each SPEC again in the new one and watch what it still names; drop the
 * others, saying so. (In stop mode the exec'ing thread waits for this: the
 * library holds it until the next poll.)
 */
void watch_rearm_after_exec(struct watch *w);

/* SPECs still waiting for their OBJECT to be loaded. */
int watch_npending(const struct watch *w);

/* Said at the end of the run, one line each, after the report. */
void watch_say_pending(const struct watch *w);

#endif /* HWBP_CLI_WATCH_INT_H */

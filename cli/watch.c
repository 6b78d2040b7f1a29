// SPDX-License-Identifier: MIT
/*
 * watch.c - the engine behind hwbp watch and hwbp stat
 *
 * Launch (or find) the target, resolve each SPEC in its real address space,
 * arm one libhwbp session, let the target run, and turn the session's hit
 * records into lines (text or JSON Lines) or tables.
 */
#include "watch.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "launch.h"
#include "sym/sym.h"

#define WATCH_MAX_SPECS 32
#define WATCH_MAX_FRAMES 64
#define WATCH_MAX_SITES 4096

static volatile sig_atomic_t watch_stop_sig;

static void watch_on_signal(int sig)
{
	watch_stop_sig = sig;
}

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
	bool stop_mode;			/* ptrace backend: hwbp traces the target */
	char fallback[200];		/* "perf refused ...: using ptrace", said
					 * once the run is sure to go on */
	bool count_only;		/* stat -q: the kernel's counters, no records */
	int pidfd;			/* count_only: readable when the target ends */
	bool exited;			/* the target's end was seen */
	int status;			/* ... and its wait status */
	bool exec_pending;		/* the target exec'd: re-resolve the SPECs */
	bool dl_pending;		/* some SPEC waits for a dlopen() */
	bool armed;			/* some SPEC was ever watched */
	uint64_t dl_debug_state;	/* the dynamic linker's hook, or 0 */
	struct launch_libs libs;	/* following dlopen() (launch, perf) */
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

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The default length of a numeric SPEC, as perf's mem: events. */
static uint64_t addr_default_len(enum hwbp_arch arch, enum hwbp_access access)
{
	if (access != HWBP_EXEC)
		return 4;
	return arch == HWBP_ARCH_X86_64 ? 1 : 4;
}

/*
 * Resolve one SPEC in the target. Returns 0, -EAGAIN when it may resolve
 * once more libraries are loaded (launch only), or a negative errno after
 * reporting the error.
 */
static int resolve_spec(struct watch *w, struct watch_spec *ws, bool final)
{
	char why[320] = "";
	int err;

	if (ws->sp.is_addr) {
		ws->loc.addr = ws->sp.addr;
		ws->loc.kind = HWBP_SYM_ADDR;
		ws->loc.len = 0;
	} else {
		err = hwbp_sym_resolve(w->sym, ws->sp.location, &ws->loc, why, sizeof(why));
		/* --if compares as the type says. */
		if (!err && w->args->if_text)
			hwbp_sym_loc_type(w->sym, &ws->loc);
		if (err == -ENXIO && final && w->launched && !w->stop_mode && w->dl_debug_state) {
			/* OBJECT is not loaded: armed when the program dlopen()s it. */
			if (!ws->dl_pending)
				fprintf(stderr, "hwbp: '%s': %s; watched once the program loads it\n",
					ws->sp.text, why);
			ws->dl_pending = true;
			w->dl_pending = true;
			return -EAGAIN;
		}
		if ((err == -ENOENT || err == -ENXIO) && !final)
			return -EAGAIN;
		if (err == -ENODATA) {
			cli_error_spec(ws->sp.text,
				       "rebuild it with symbols (-g), or give a numeric address",
				       "cannot resolve '%s': %s", ws->sp.text,
				       why[0] ? why : "the binary is stripped");
			return err;
		}
		if (err) {
			char sugg[256] = "";
			char hint[300];

			if (err == -ENOENT && !strpbrk(ws->sp.location, ".[:+") &&
			    hwbp_sym_suggest(w->sym, ws->sp.location, sugg, sizeof(sugg)) > 0)
				snprintf(hint, sizeof(hint), "did you mean %s?", sugg);
			else
				snprintf(hint, sizeof(hint),
					 "check the name with nm or gdb; a library's symbol is "
					 "OBJECT:SYMBOL, e.g. libfoo.so:table");
			if (err == -ENOENT && !why[0])
				snprintf(why, sizeof(why), "no symbol '%s'", ws->sp.location);
			cli_error_spec(ws->sp.text, hint, "cannot resolve '%s': %s", ws->sp.text,
				       why[0] ? why : strerror(-err));
			return err;
		}
	}
	/* A function without an access means "break when it runs". */
	if (ws->loc.kind == HWBP_SYM_FUNC && !ws->sp.access_given)
		ws->sp.access = HWBP_EXEC;
	if (!ws->sp.len) {
		if (ws->sp.access == HWBP_EXEC)
			ws->loc.len = addr_default_len(w->arch, HWBP_EXEC);
		else if (!ws->loc.len)
			ws->loc.len = addr_default_len(w->arch, ws->sp.access);
	} else {
		ws->loc.len = ws->sp.len;
	}
	ws->arm = ws->sp.access;
	ws->resolved = true;
	return 0;
}

/* --- reporting hits -------------------------------------------------------- */

/* The x86-64 general registers in the perf numbering (asm/perf_regs.h):
 * AX..SP are 0..7, R8..R15 are 16..23. */
#define X86_PERF_GPRS (UINT64_C(0xff) | UINT64_C(0xff) << 16)

/* The user registers of a hit, indexed by perf register number; those not
 * sampled read as zero, so only sampled ones may be asked for. */
static unsigned int hit_regs(const struct hwbp_hit *h, uint64_t *regs, unsigned int max)
{
	unsigned int n = 0, k = 0;

	if (!h->regs || !h->regs_abi)
		return 0;
	memset(regs, 0, max * sizeof(*regs));
	for (unsigned int bit = 0; bit < 64 && k < h->nr_regs; bit++) {
		if (!(h->regs_mask >> bit & 1))
			continue;
		if (bit < max) {
			regs[bit] = h->regs[k];
			n = bit + 1;
		}
		k++;
	}
	return n;
}

struct hit_view {
	uint64_t insn_ip;		/* the accessing instruction */
	bool have_insn;
	struct hwbp_sym_insn insn;
	bool have_value;
	uint64_t value;
	bool have_old;			/* stop mode: the bytes before */
	uint64_t old;
	enum hwbp_access kind;		/* what the instruction did */
	struct hwbp_sym_where where;	/* last: see explain_hit() */
};

/*
 * Explain a hit: the accessing instruction (on x86 a data watchpoint traps
 * after it, so decode forward from the function start to the instruction
 * that ends at the reported ip), its access kind, and the value written
 * when it is exactly known.
 */
static void explain_hit(struct watch *w, const struct watch_spec *ws, const struct hwbp_hit *h,
			struct hit_view *v)
{
	struct hwbp_sym_where fw;
	uint64_t regs[40];
	unsigned int nregs;

	/* All but the long paths of where (set by hwbp_sym_addr_info()):
	 * this runs for every hit. */
	memset(v, 0, offsetof(struct hit_view, where) + HWBP_SYM_WHERE_SHORT);
	v->where.module_path[0] = v->where.file_path[0] = '\0';
	v->insn_ip = h->ip;
	v->kind = ws->arm == HWBP_EXEC ? HWBP_EXEC : h->access;
	if (ws->arm == HWBP_EXEC)
		goto where;
	if (w->arch == HWBP_ARCH_X86_64) {
		if (!hwbp_sym_addr_info(w->sym, h->ip, &fw) && fw.has_func &&
		    fw.func_start < h->ip &&
		    !hwbp_sym_insn_before(w->sym, fw.func_start, h->ip, &v->insn)) {
			v->have_insn = true;
			v->insn_ip = v->insn.addr;
		} else if (!hwbp_sym_addr_info(w->sym, h->ip - 1, &fw) && fw.has_func &&
			   fw.func_start < h->ip &&
			   !hwbp_sym_insn_before(w->sym, fw.func_start, h->ip, &v->insn)) {
			/* The trap ip is past the end of the function. */
			v->have_insn = true;
			v->insn_ip = v->insn.addr;
		}
	} else if (!hwbp_sym_insn_at(w->sym, h->ip, &v->insn)) {
		v->have_insn = true;
	}
	if (v->have_insn && v->insn.access)
		v->kind = v->insn.access;
	nregs = hit_regs(h, regs, sizeof(regs) / sizeof(regs[0]));
	if (v->have_insn && nregs && v->insn.access == HWBP_WRITE && v->insn.nmem == 1 &&
	    v->insn.value_src != HWBP_SYM_VALUE_UNKNOWN) {
		uint64_t ea, val;
		unsigned int size = v->insn.mem[0].size;

		/* Exactly known only when the store covers the watched piece
		 * from its first byte: then the piece holds the low bytes. */
		if (!hwbp_sym_insn_ea(&v->insn, 0, regs, nregs, &ea) &&
		    !hwbp_sym_insn_value(&v->insn, regs, nregs, &val) && size &&
		    ea <= ws->loc.addr && ea + size >= ws->loc.addr + ws->loc.len &&
		    ws->loc.len <= 8) {
			uint64_t shift = (ws->loc.addr - ea) * 8;

			val = shift >= 64 ? 0 : val >> shift;
			if (ws->loc.len < 8)
				val &= (UINT64_C(1) << (ws->loc.len * 8)) - 1;
			v->value = val;
			v->have_value = true;
		}
	}
	/* Stop mode read the bytes themselves: exact, before and after. */
	if (h->nvalue && h->addr == ws->loc.addr && h->len == ws->loc.len) {
		v->value = h->value;
		v->have_value = true;
		v->old = h->old;
		v->have_old = true;
	}
where:
	if (hwbp_sym_addr_info(w->sym, v->insn_ip, &v->where))
		memset(&v->where, 0, HWBP_SYM_WHERE_SHORT);
}

/* The value as the user thinks of it: signed where DWARF says so. */
static void value_text(struct watch *w, struct watch_spec *ws, uint64_t v, char *buf, size_t len)
{
	/* The type decides only when the sign bit is set: look it up then. */
	if (ws->loc.type_later && ws->loc.len && ws->loc.len <= 8 &&
	    (v >> (ws->loc.len * 8 - 1) & 1))
		hwbp_sym_loc_type(w->sym, &ws->loc);
	if (ws->loc.has_type && ws->loc.enc == HWBP_SYM_ENC_SIGNED && ws->loc.len <= 8 &&
	    ws->loc.len == ws->loc.enc_size) {
		unsigned int bits = (unsigned int)ws->loc.len * 8;
		int64_t s = bits == 64 ? (int64_t)v :
			    (int64_t)(v << (64 - bits)) >> (64 - bits);

		snprintf(buf, len, "%" PRId64, s);
	} else {
		snprintf(buf, len, "%" PRIu64, v);
	}
}

/* --if: compare as the watched integer's DWARF type (width, signedness). */
static bool cond_holds(const struct watch_args *a, const struct watch_spec *ws, uint64_t v)
{
	unsigned int bits = ws->loc.len >= 8 ? 64 : (unsigned int)ws->loc.len * 8;
	uint64_t n = a->if_val;
	bool sgn = ws->loc.has_type ? ws->loc.enc == HWBP_SYM_ENC_SIGNED : a->if_neg;
	int c;

	if (bits < 64) {
		v &= (UINT64_C(1) << bits) - 1;
		n &= (UINT64_C(1) << bits) - 1;
	}
	if (a->if_op == CMP_AND)
		return (v & n) != 0;
	if (sgn) {
		int64_t x = bits == 64 ? (int64_t)v : (int64_t)(v << (64 - bits)) >> (64 - bits);
		int64_t y = bits == 64 ? (int64_t)n : (int64_t)(n << (64 - bits)) >> (64 - bits);

		c = (x > y) - (x < y);
	} else {
		c = (v > n) - (v < n);
	}
	switch (a->if_op) {
	case CMP_EQ: return c == 0;
	case CMP_NE: return c != 0;
	case CMP_LT: return c < 0;
	case CMP_GT: return c > 0;
	case CMP_LE: return c <= 0;
	case CMP_GE: return c >= 0;
	default: return false;
	}
}

static unsigned int hit_stack(struct watch *w, const struct hwbp_hit *h, const struct hit_view *v,
			      uint64_t *ips, unsigned int max)
{
	unsigned int n = 0;

	/* DWARF unwinding of the sampled stack works without frame pointers;
	 * the kernel's frame-pointer chain is the fallback. */
	if (h->stack && h->stack_size && h->regs) {
		uint64_t regs[40];
		unsigned int nregs = hit_regs(h, regs, sizeof(regs) / sizeof(regs[0]));

		if (nregs && hwbp_sym_unwind(w->sym, regs, h->stack, h->stack_size, h->sp, ips, max,
					     &n))
			n = 0;
	}
	if (n < 2 && h->nr_ips) {
		n = h->nr_ips < max ? h->nr_ips : max;
		memcpy(ips, h->ips, n * sizeof(*ips));
	}
	/* The first frame is the accessing instruction itself. */
	if (n)
		ips[0] = v->insn_ip;
	return n;
}

static void print_hit_json(struct watch *w, const struct watch_spec *ws, const struct hwbp_hit *h,
			   const struct hit_view *v, struct text *out)
{
	struct json j;

	json_begin_text(&j, out);
	json_str(&j, "type", "hit");
	json_str(&j, "spec", ws->sp.text);
	json_hex(&j, "addr", h->addr);
	json_uint(&j, "len", h->len);
	json_str(&j, "access", hwbp_access_name(v->kind));
	json_int(&j, "pid", h->pid);
	json_int(&j, "tid", h->tid);
	if (h->cpu >= 0)
		json_int(&j, "cpu", h->cpu);
	if (h->time_ns)
		json_uint(&j, "time_ns", h->time_ns);
	json_hex(&j, "ip", v->insn_ip);
	if (v->where.has_func) {
		json_str(&j, "func", v->where.func);
		json_uint(&j, "offset", v->where.offset);
	}
	if (v->where.has_line) {
		json_str(&j, "file", v->where.file);
		json_uint(&j, "line", v->where.line);
	}
	if (v->have_old)
		json_hex(&j, "old", v->old);
	if (v->have_value)
		json_hex(&j, "value", v->value);
	if (w->args->backtrace) {
		uint64_t ips[WATCH_MAX_FRAMES];
		unsigned int n = hit_stack(w, h, v, ips, WATCH_MAX_FRAMES);

		json_arr_open(&j, "stack");
		for (unsigned int i = 0; i < n; i++) {
			struct hwbp_sym_where fw;

			json_obj_open(&j, NULL);
			json_hex(&j, "ip", ips[i]);
			/* Return addresses point after the call: look up ip-1. */
			if (!hwbp_sym_addr_info(w->sym, i ? ips[i] - 1 : ips[i], &fw)) {
				if (fw.has_func)
					json_str(&j, "func", fw.func);
				if (fw.has_line) {
					json_str(&j, "file", fw.file);
					json_uint(&j, "line", fw.line);
				}
			}
			json_obj_close(&j);
		}
		json_arr_close(&j);
	}
	json_end(&j);
}

static void print_hit_text(struct watch *w, struct watch_spec *ws, const struct hwbp_hit *h,
			   const struct hit_view *v, struct text *out)
{
	char where[600] = "", val[96] = "";
	double t = h->time_ns && h->time_ns >= w->t0 ? (double)(h->time_ns - w->t0) / 1e9 : 0;

	if (v->where.has_func)
		snprintf(where, sizeof(where), "%s+%" PRIu64, v->where.func, v->where.offset);
	else
		snprintf(where, sizeof(where), "0x%" PRIx64, v->insn_ip);
	if (v->where.has_line) {
		size_t l = strlen(where);

		snprintf(where + l, sizeof(where) - l, " (%s:%u)", v->where.file, v->where.line);
	}
	if (v->have_value && v->have_old) {
		char num[32], was[32];

		value_text(w, ws, v->old, was, sizeof(was));
		value_text(w, ws, v->value, num, sizeof(num));
		snprintf(val, sizeof(val), "  %s -> %s", was, num);
	} else if (v->have_value) {
		char num[32];

		value_text(w, ws, v->value, num, sizeof(num));
		snprintf(val, sizeof(val), "  = %s", num);
	}
	text_printf(out, "%s%10.6f%s  %-16s  tid %-7d %-2s  %s%s\n", w->color ? "\033[2m" : "", t,
		    w->color ? "\033[0m" : "", ws->sp.text, h->tid, hwbp_access_name(v->kind), where,
		    val);
	if (w->args->backtrace) {
		uint64_t ips[WATCH_MAX_FRAMES];
		unsigned int n = hit_stack(w, h, v, ips, WATCH_MAX_FRAMES);

		for (unsigned int i = 1; i < n; i++) {
			struct hwbp_sym_where fw;

			if (hwbp_sym_addr_info(w->sym, ips[i] - 1, &fw))
				memset(&fw, 0, sizeof(fw));
			text_printf(out, "%38s0x%-14" PRIx64 " %s", "", ips[i],
				    fw.has_func ? fw.func : "??");
			if (fw.has_line)
				text_printf(out, " (%s:%u)", fw.file, fw.line);
			text_putc(out, '\n');
		}
	}
}

static void count_site(struct watch *w, int spec, uint64_t ip, int32_t tid)
{
	for (size_t i = 0; i < w->nsites; i++) {
		if (w->sites[i].spec == spec && w->sites[i].ip == ip && w->sites[i].tid == tid) {
			w->sites[i].hits++;
			return;
		}
	}
	if (w->nsites == WATCH_MAX_SITES) {
		w->sites_full = true;
		return;
	}
	w->sites[w->nsites++] = (struct watch_site){ spec, ip, tid, 1 };
}

/* Hold the line just written to w->lines from OFF on. */
static void batch_add(struct watch *w, uint64_t time_ns, size_t off)
{
	if (w->nbatch == w->batch_cap) {
		size_t cap = w->batch_cap ? 2 * w->batch_cap : 256;
		struct watch_line *b = realloc(w->batch, cap * sizeof(*b));

		if (!b) {
			/* Out of memory: print it now, out of order if need be. */
			fwrite(w->lines.data + off, 1, w->lines.len - off, w->out);
			w->lines.len = off;
			return;
		}
		w->batch = b;
		w->batch_cap = cap;
	}
	w->batch[w->nbatch] = (struct watch_line){ time_ns, w->nbatch, off, w->lines.len - off };
	w->nbatch++;
}

static int line_cmp(const void *a, const void *b)
{
	const struct watch_line *x = a, *y = b;

	if (x->time_ns != y->time_ns)
		return x->time_ns < y->time_ns ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Print the held lines of hits older than BEFORE, in time order, and keep
 * the others. A drain that starts at time D reads every record of a hit
 * before D, whichever CPU's buffer holds it; a later hit may still be on
 * its way into a buffer read earlier in the drain, so its line waits for
 * the next drain rather than come out ahead of an older one.
 */
static void batch_flush(struct watch *w, uint64_t before)
{
	size_t n = 0, k = 0, run_off = 0, run_len = 0;
	struct text keep = { 0 };

	if (!w->nbatch)
		return;
	qsort(w->batch, w->nbatch, sizeof(*w->batch), line_cmp);
	/* Lines that lie one after the other in w->lines (one CPU's, or
	 * hits already in time order) go out in one write. */
	for (; n < w->nbatch && w->batch[n].time_ns < before; n++) {
		const struct watch_line *l = &w->batch[n];

		if (run_len && l->off == run_off + run_len) {
			run_len += l->len;
			continue;
		}
		if (run_len)
			fwrite(w->lines.data + run_off, 1, run_len, w->out);
		run_off = l->off;
		run_len = l->len;
	}
	if (run_len)
		fwrite(w->lines.data + run_off, 1, run_len, w->out);
	for (size_t i = n; i < w->nbatch; i++)
		text_put(&keep, w->lines.data + w->batch[i].off, w->batch[i].len);
	if (keep.failed) {
		/* Out of memory: print the rest now rather than lose it. */
		for (size_t i = n; i < w->nbatch; i++)
			fwrite(w->lines.data + w->batch[i].off, 1, w->batch[i].len, w->out);
		n = w->nbatch;
		text_free(&keep);
	}
	for (size_t i = n, off = 0; i < w->nbatch; i++) {
		size_t len = w->batch[i].len;

		w->batch[k] = w->batch[i];
		w->batch[k].seq = k;
		w->batch[k].off = off;
		off += len;
		k++;
	}
	w->nbatch = k;
	if (k) {
		text_free(&w->lines);
		w->lines = keep;
	} else {
		text_clear(&w->lines);	/* its memory serves the next drain */
	}
	if (n)
		fflush(w->out);
}

static int on_hit(const struct hwbp_hit *h, void *arg)
{
	struct watch *w = arg;
	struct watch_spec *ws = hwbp_point_user(h->point);
	struct hit_view v;

	if (!ws || w->done)
		return 0;
	explain_hit(w, ws, h, &v);
	/* x86 has no read-only watchpoint: an r: watch is armed rw, and the
	 * pure writes are dropped here, told apart by the decoded insn. */
	if (ws->sp.access == HWBP_READ && v.kind == HWBP_WRITE) {
		ws->filtered++;
		return 0;
	}
	if (ws->sp.access == HWBP_READ && !v.have_insn && w->arch == HWBP_ARCH_X86_64)
		v.kind = HWBP_RW;
	if ((w->args->if_changed && (!v.have_old || v.old == v.value)) ||
	    (w->args->if_text && (!v.have_value || !cond_holds(w->args, ws, v.value)))) {
		ws->filtered++;
		return 0;
	}
	ws->hits++;
	w->hits++;
	if (w->args->mode == WATCH_STAT) {
		count_site(w, (int)(ws - w->spec), v.insn_ip, 0);
		count_site(w, (int)(ws - w->spec), 0, h->tid);
	} else if (!w->args->quiet) {
		size_t off = w->lines.len;

		if (w->args->json)
			print_hit_json(w, ws, h, &v, &w->lines);
		else
			print_hit_text(w, ws, h, &v, &w->lines);
		if (w->lines.len > off)
			batch_add(w, h->time_ns, off);
	}
	if (w->args->max_hits && w->hits >= w->args->max_hits) {
		w->done = true;
		return 1;
	}
	return 0;
}

/* --- the run --------------------------------------------------------------- */

/* An execute breakpoint where no instruction can start (arm64 and
 * LoongArch instructions are 4-byte aligned). */
static bool exec_misaligned(const struct watch *w, const struct watch_spec *ws)
{
	return ws->arm == HWBP_EXEC && w->arch != HWBP_ARCH_X86_64 && (ws->loc.addr & 3);
}

/* Why hwbp_watch() refused WS, and what to do about it. */
static const char *arm_why(const struct watch *w, const struct watch_spec *ws, int err)
{
	if (err == -EINVAL && exec_misaligned(w, ws))
		return "no instruction starts there";
	return strerror(-err);
}

static const char *arm_hint(const struct watch *w, const struct watch_spec *ws, int err)
{
	if (err == -EINVAL && exec_misaligned(w, ws))
		return "instructions are 4-byte aligned: give a multiple of 4";
	return NULL;
}

static int arm_specs(struct watch *w, bool *pending)
{
	int err;

	*pending = false;
	for (int i = 0; i < w->nspec; i++) {
		struct watch_spec *ws = &w->spec[i];

		if (ws->pt)
			continue;
		if (!ws->resolved) {
			*pending = true;
			continue;
		}
		HWBP_OPTS(hwbp_watch_opts, wo, .label = ws->sp.text, .user = ws);
		err = hwbp_watch(w->s, ws->loc.addr, ws->loc.len, ws->arm, &wo, &ws->pt);
		w->armed |= !err;
		if (err) {
			cli_error_spec(ws->sp.text, arm_hint(w, ws, err),
				       "cannot watch '%s' at 0x%" PRIx64 "/%" PRIu64 ": %s",
				       ws->sp.text, ws->loc.addr, ws->loc.len, arm_why(w, ws, err));
			return err;
		}
	}
	err = hwbp_session_apply(w->s);
	if (err == -ENOSPC) {
		HWBP_OPTS(hwbp_need, nd);
		unsigned int nat = 0;
		const char *at = NULL;
		char names[300] = "";

		for (int i = 0; i < w->nspec; i++) {
			size_t l = strlen(names);

			if (!w->spec[i].pt)
				continue;
			snprintf(names + l, sizeof(names) - l, "%s%s", l ? ", " : "",
				 w->spec[i].sp.text);
			at = w->spec[i].sp.text;
			nat++;
		}
		hwbp_session_need(w->s, &nd);
		if (nd.shared || !nd.need_break || !nd.need_watch)
			cli_error_spec(nat == 1 ? at : NULL,
				       "watch fewer or shorter ranges, or aligned ones: see hwbp encode",
				       "cannot watch %s: needs %u debug registers, %u free", names,
				       nd.need_watch + nd.need_break,
				       nd.shared || nd.need_watch ? nd.free_watch : nd.free_break);
		else
			cli_error_spec(nat == 1 ? at : NULL,
				       "watch fewer or shorter ranges, or aligned ones: see hwbp encode",
				       "cannot watch %s: needs %u watchpoint and %u breakpoint "
				       "registers, %u and %u free",
				       names, nd.need_watch, nd.need_break, nd.free_watch,
				       nd.free_break);
		return err;
	}
	if (err) {
		const char *hint = NULL;

		if (err == -EACCES || err == -EPERM)
			hint = "run as root, or lower kernel.perf_event_paranoid (sysctl), or grant "
			       "CAP_PERFMON";
		cli_error(hint, "cannot arm the watchpoints: %s", strerror(-err));
	}
	return err;
}

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

/* TracerPid of PID, 0 when untraced, -1 when unknown. */
static int tracer_of(pid_t pid)
{
	char path[64], line[128];
	int tracer = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "TracerPid:", 10))
			tracer = atoi(line + 10);
	fclose(f);
	return tracer;
}

static int open_session(struct watch *w)
{
	const struct watch_args *a = w->args;
	HWBP_OPTS(hwbp_session_opts, so, .target = HWBP_TARGET_PID, .pid = w->pid,
		  .delivery = HWBP_DELIVER_STREAM, .backend = a->backend,
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
			!a->if_changed && !a->if_text;
	for (int i = 0; i < w->nspec && w->count_only; i++)
		if (w->spec[i].sp.access == HWBP_READ && w->arch == HWBP_ARCH_X86_64)
			w->count_only = false;
	if (w->count_only)
		so.delivery = HWBP_DELIVER_COUNT;
	if (a->mode == WATCH_WATCH) {
		so.sample = HWBP_SAMPLE_REGS;
		if (a->backtrace) {
			so.sample |= HWBP_SAMPLE_CALLCHAIN | HWBP_SAMPLE_STACK;
			/* 4 KiB of stack unwinds the usual frames; root may lock
			 * 2 MiB per CPU so that a burst of hits fits. */
			so.sample_stack_user = 4096;
			if (geteuid() == 0)
				so.buffer_pages = 512;
		} else if (so.backend == HWBP_BACKEND_PTRACE || a->quiet) {
			/* ptrace reads the values; -q prints none: sampling
			 * user registers costs a tenth of a hit */
			so.sample = 0;
		} else if (hwbp_arch_host() == HWBP_ARCH_X86_64) {
			/* A store's address and source are general registers:
			 * the 16 of them, without ip, flags, cs and ss, are a
			 * third of the kernel's cost of the full set. */
			so.sample_regs_user = X86_PERF_GPRS;
		}
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
	w->stop_mode = !err && !strcmp(hwbp_session_backend(w->s), "ptrace");
	if (err) {
		const char *hint = NULL;

		if ((err == -EACCES || err == -EPERM) && so.backend == HWBP_BACKEND_PTRACE)
			hint = "run as the process's owner or root (Yama: kernel.yama.ptrace_scope)";
		else if (err == -EACCES || err == -EPERM)
			hint = "run as root, lower kernel.perf_event_paranoid with sysctl, grant "
			       "CAP_PERFMON, or use --backend ptrace";
		else if (err == -EBUSY)
			hint = "detach the debugger that traces it, or use --backend perf";
		else if (err == -EOPNOTSUPP && so.backend == HWBP_BACKEND_PTRACE)
			hint = "use --backend perf";
		else if (err == -EOPNOTSUPP)
			hint = "this kernel or CPU has no breakpoint PMU (see hwbp info)";
		else if (err == -ESRCH)
			hint = "check the pid with ps";
		if (err == -EBUSY && tracer_of(w->pid) > 0)
			cli_error(hint, "cannot watch process %d: it is already traced by process %d",
				  (int)w->pid, tracer_of(w->pid));
		else
			cli_error(hint, "cannot watch process %d: %s", (int)w->pid, strerror(-err));
	}
	return err;
}

/* SPECs still waiting for their OBJECT to be loaded. */
static int npending(const struct watch *w)
{
	int n = 0;

	for (int i = 0; i < w->nspec; i++)
		n += w->spec[i].dl_pending;
	return n;
}

/* Said at the end of the run, one line each, after the report. */
static void say_pending(const struct watch *w)
{
	for (int i = 0; i < w->nspec; i++) {
		const struct watch_spec *ws = &w->spec[i];
		const char *colon = strchr(ws->sp.location, ':');

		if (ws->dl_pending)
			fprintf(stderr, "hwbp: '%s' was never watched: the program did not load %.*s\n",
				ws->sp.text, colon ? (int)(colon - ws->sp.location) : 0,
				ws->sp.location);
	}
}

/* The summary record's common fields (DESIGN.md); the caller ends it. */
static void summary_begin(struct watch *w, struct json *j, uint64_t lost, uint64_t dur_ns)
{
	json_begin(j, w->out);
	json_str(j, "type", "summary");
	json_uint(j, "hits", w->hits);
	json_uint(j, "lost", lost);
	json_uint(j, "duration_ns", dur_ns);
	if (!npending(w))
		return;
	/* SPECs whose OBJECT the program never loaded */
	json_arr_open(j, "pending");
	for (int i = 0; i < w->nspec; i++)
		if (w->spec[i].dl_pending)
			json_str(j, NULL, w->spec[i].sp.text);
	json_arr_close(j);
}

static void print_summary(struct watch *w, uint64_t dur_ns)
{
	uint64_t lost = 0;

	hwbp_session_lost(w->s, &lost);
	if (w->args->json) {
		struct json j;

		summary_begin(w, &j, lost, dur_ns);
		json_arr_open(&j, "points");
		for (int i = 0; i < w->nspec; i++) {
			struct watch_spec *ws = &w->spec[i];
			uint64_t count = 0;

			json_obj_open(&j, NULL);
			json_str(&j, "spec", ws->sp.text);
			if (ws->resolved) {
				json_hex(&j, "addr", ws->loc.addr);
				json_uint(&j, "len", ws->loc.len);
			}
			json_uint(&j, "hits", ws->hits);
			if (ws->pt && !hwbp_point_count(ws->pt, &count))
				json_uint(&j, "count", count);
			json_obj_close(&j);
		}
		json_arr_close(&j);
		json_end(&j);
		return;
	}
	fprintf(w->out, "%" PRIu64 " hit%s, %" PRIu64 " lost, %.3f s\n", w->hits,
		w->hits == 1 ? "" : "s", lost, (double)dur_ns / 1e9);
	if (w->nspec > 1 || lost)
		for (int i = 0; i < w->nspec; i++)
			fprintf(w->out, "  %-24s %" PRIu64 "\n", w->spec[i].sp.text, w->spec[i].hits);
}

static int site_cmp(const void *a, const void *b)
{
	const struct watch_site *x = a, *y = b;

	if (x->spec != y->spec)
		return x->spec < y->spec ? -1 : 1;
	if (x->hits != y->hits)
		return x->hits > y->hits ? -1 : 1;
	if (x->ip != y->ip)
		return x->ip < y->ip ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

static void print_stat(struct watch *w, uint64_t dur_ns)
{
	uint64_t lost = 0;

	hwbp_session_lost(w->s, &lost);
	if (w->nsites)
		qsort(w->sites, w->nsites, sizeof(*w->sites), site_cmp);
	for (int i = 0; i < w->nspec; i++) {
		struct watch_spec *ws = &w->spec[i];
		uint64_t count = ws->hits;

		if (w->args->json) {
			struct json j;

			json_begin(&j, w->out);
			json_str(&j, "type", "stat");
			json_str(&j, "spec", ws->sp.text);
			if (ws->resolved) {
				json_hex(&j, "addr", ws->loc.addr);
				json_uint(&j, "len", ws->loc.len);
			}
			json_uint(&j, "hits", count);
			if (w->count_only) {
				/* -q: totals only, from the counters */
				json_end(&j);
				continue;
			}
			json_arr_open(&j, "locations");
			for (size_t k = 0; k < w->nsites; k++) {
				const struct watch_site *st = &w->sites[k];
				struct hwbp_sym_where fw;

				if (st->spec != i || st->tid)
					continue;
				json_obj_open(&j, NULL);
				json_hex(&j, "ip", st->ip);
				if (!hwbp_sym_addr_info(w->sym, st->ip, &fw)) {
					if (fw.has_func) {
						json_str(&j, "func", fw.func);
						json_uint(&j, "offset", fw.offset);
					}
					if (fw.has_line) {
						json_str(&j, "file", fw.file);
						json_uint(&j, "line", fw.line);
					}
				}
				json_uint(&j, "hits", st->hits);
				json_obj_close(&j);
			}
			json_arr_close(&j);
			json_arr_open(&j, "threads");
			for (size_t k = 0; k < w->nsites; k++) {
				const struct watch_site *st = &w->sites[k];

				if (st->spec != i || !st->tid)
					continue;
				json_obj_open(&j, NULL);
				json_int(&j, "tid", st->tid);
				json_uint(&j, "hits", st->hits);
				json_obj_close(&j);
			}
			json_arr_close(&j);
			json_end(&j);
			continue;
		}
		fprintf(w->out, "%s: %" PRIu64 " hit%s", ws->sp.text, count, count == 1 ? "" : "s");
		if (ws->resolved)
			fprintf(w->out, " at 0x%" PRIx64 "/%" PRIu64, ws->loc.addr, ws->loc.len);
		fputc('\n', w->out);
		if (!count || w->count_only)
			continue;
		fprintf(w->out, "  %10s  %-32s %s\n", "hits", "location", "source");
		for (size_t k = 0; k < w->nsites; k++) {
			const struct watch_site *st = &w->sites[k];
			struct hwbp_sym_where fw;
			char loc[300], src[300] = "";

			if (st->spec != i || st->tid)
				continue;
			if (!hwbp_sym_addr_info(w->sym, st->ip, &fw) && fw.has_func)
				snprintf(loc, sizeof(loc), "%s+%" PRIu64, fw.func, fw.offset);
			else
				snprintf(loc, sizeof(loc), "0x%" PRIx64, st->ip), fw.has_line = false;
			if (fw.has_line)
				snprintf(src, sizeof(src), "%s:%u", fw.file, fw.line);
			fprintf(w->out, "  %10" PRIu64 "  %-32s %s\n", st->hits, loc, src);
		}
		fprintf(w->out, "  %10s  %s\n", "hits", "thread");
		for (size_t k = 0; k < w->nsites; k++) {
			const struct watch_site *st = &w->sites[k];

			if (st->spec == i && st->tid)
				fprintf(w->out, "  %10" PRIu64 "  tid %d\n", st->hits, st->tid);
		}
	}
	if (w->args->json) {
		struct json j;

		summary_begin(w, &j, lost, dur_ns);
		json_end(&j);
	} else {
		fprintf(w->out, "%" PRIu64 " hit%s, %" PRIu64 " lost, %.3f s%s\n", w->hits,
			w->hits == 1 ? "" : "s", lost, (double)dur_ns / 1e9,
			w->sites_full ? " (too many locations: table cut)" : "");
	}
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
	batch_flush(w, before);
}

/*
 * Library log lines: the CLI reports every failure itself in one line, so
 * the library's error lines would say it twice; warnings are shown. Set
 * HWBP_DEBUG=1 to see everything.
 */
static void watch_log(enum hwbp_log_level level, const char *msg, void *arg)
{
	(void)arg;
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
		return w->stop_mode ? HWBP_BACKEND_PTRACE : HWBP_BACKEND_PERF;
	/* As open_session() picks; AUTO checks through ptrace where perf is
	 * refused, as open_session() then falls back. */
	if (a->backend == HWBP_BACKEND_AUTO && (a->if_changed || a->if_text))
		return HWBP_BACKEND_PTRACE;
	return a->backend;
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

	if (hwbp_host_debug_check(run_backend(w), &dc) ||
	    dc.delivered != HWBP_DEBUG_NOT_DELIVERED)
		return 0;
	cli_error("nothing can be watched here: run it on a machine or VM that delivers them, "
		  "see hwbp info",
		  "this machine does not deliver debug exceptions: %s", dc.reason);
	return -EIO;
}

/* Resolve and arm; for a launched command, run it on through the dynamic
 * linker until every SPEC names something mapped. */
static int setup(struct watch *w)
{
	bool pending = false;
	int err;

	err = hwbp_sym_open_pid(w->pid, &w->sym);
	/* Types only where a value needs one: see value_text(). */
	hwbp_sym_defer_types(w->sym, true);
	if (err == -EACCES || err == -EPERM) {
		cli_error("run as the process's owner or root; perf also needs "
			  "kernel.perf_event_paranoid <= 2 (sysctl) or CAP_PERFMON",
			  "cannot watch process %d: %s", (int)w->pid, strerror(-err));
		return err;
	}
	if (err) {
		cli_error(NULL, "cannot read the symbols of process %d: %s", (int)w->pid,
			  strerror(-err));
		return err;
	}
	w->arch = hwbp_sym_arch(w->sym);
	if (w->arch == HWBP_ARCH_NONE)
		w->arch = hwbp_arch_host();
	for (int i = 0; i < w->nspec; i++) {
		err = resolve_spec(w, &w->spec[i], !w->launched);
		if (err == -EAGAIN)
			continue;
		if (err)
			return err;
	}
	/* -p: every SPEC is resolved now; nothing has touched the target. */
	if (!w->launched) {
		err = refuse_undelivered(w);
		if (err)
			return err;
	}
	err = open_session(w);
	if (err)
		return err;
	err = arm_specs(w, &pending);
	if (err)
		return err;
	while (pending && !w->dl_pending) {
		struct hwbp_sym_loc dl;
		char why[200];

		/* Symbols of libraries: stop again once the dynamic linker has
		 * mapped them, before their constructors run. */
		if (hwbp_sym_resolve(w->sym, "_dl_debug_state", &dl, why, sizeof(why)))
			dl.addr = 0;
		w->dl_debug_state = dl.addr;
		err = launch_until_libs(w->pid, dl.addr, launch_entry(w->pid));
		if (err < 0) {
			cli_error(NULL, "cannot follow the dynamic linker of '%s': %s",
				  w->args->argv[0], strerror(-err));
			return err;
		}
		hwbp_sym_refresh(w->sym);
		for (int i = 0; i < w->nspec; i++) {
			if (w->spec[i].resolved)
				continue;
			int e = resolve_spec(w, &w->spec[i], err == 1);

			if (e && e != -EAGAIN)
				return e;
		}
		err = arm_specs(w, &pending);
		if (err)
			return err;
	}
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

/* A library was mapped (the command is held on the dynamic linker's
 * hook): arm the SPECs that were waiting for it. */
static void arm_loaded_libs(struct watch *w)
{
	bool pending;

	hwbp_sym_refresh(w->sym);
	w->dl_pending = false;
	for (int i = 0; i < w->nspec; i++) {
		struct watch_spec *ws = &w->spec[i];

		if (!ws->dl_pending)
			continue;
		int err = resolve_spec(w, ws, false);

		if (err == -EAGAIN)
			w->dl_pending = true;
		else
			ws->dl_pending = false;
	}
	if (arm_specs(w, &pending))
		fprintf(stderr, "hwbp: cannot watch the newly loaded library's symbols\n");
}

/*
 * The target called execve(): what was watched is gone with the old image
 * (the kernel removed it at the exec). Resolve each SPEC again in the new
 * one and watch what it still names; drop the others, saying so. (In stop
 * mode the exec'ing thread waits for this: the library holds it until the
 * next poll.)
 */
static void rearm_after_exec(struct watch *w)
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
		err = resolve_spec(w, ws, false);
		if (!err) {
			HWBP_OPTS(hwbp_watch_opts, wo, .label = ws->sp.text, .user = ws);
			err = hwbp_watch(w->s, ws->loc.addr, ws->loc.len, ws->arm, &wo, &ws->pt);
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

/* See watch.h. */
int watch_run(const struct watch_args *a)
{
	struct watch w = { .args = a, .pidfd = -1 };
	int status = 0, rc, err;
	bool exited = false;
	uint64_t deadline = 0;

	if (a->nspecs > WATCH_MAX_SPECS) {
		cli_error("watch the others in a second run", "too many SPECs: %d (at most %d)",
			  a->nspecs, WATCH_MAX_SPECS);
		return a->argv ? CLI_CMD_HWBP_FAIL : CLI_USAGE;
	}
	for (int i = 0; i < a->nspecs; i++) {
		char why[200];

		if (cli_spec_parse(a->specs[i], &w.spec[i].sp, why, sizeof(why))) {
			/* Most reasons name their remedy already. */
			cli_error_spec(a->specs[i],
				       strchr(why, '(') ? NULL :
				       "a SPEC is [r|w|rw|x:]LOCATION[/LEN], e.g. w:counter or "
				       "rw:config.limits[2].max",
				       "bad SPEC '%s': %s", a->specs[i], why);
			return a->argv ? CLI_CMD_HWBP_FAIL : CLI_USAGE;
		}
	}
	w.nspec = a->nspecs;
	w.out = stdout;
	if (a->output && strcmp(a->output, "-") != 0) {
		w.out = fopen(a->output, "w");
		if (!w.out) {
			cli_error("check the path and its directory's permissions",
				  "cannot write output file '%s': %m", a->output);
			return a->argv ? CLI_CMD_HWBP_FAIL : CLI_FAIL;
		}
	}
	w.color = !a->json && w.out == stdout && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	if (a->mode == WATCH_STAT) {
		w.sites = calloc(WATCH_MAX_SITES, sizeof(*w.sites));
		if (!w.sites) {
			cli_error(NULL, "out of memory");
			rc = a->argv ? CLI_CMD_HWBP_FAIL : CLI_FAIL;
			goto out_file;
		}
	}
	install_signals();
	hwbp_set_log(watch_log, NULL, NULL);

	if (a->argv) {
		err = launch_stopped(a->argv, &w.pid);
		if (err) {
			rc = launch_start_error(a->argv[0], err);
			goto out_file;
		}
		w.launched = true;
	} else {
		w.pid = a->pid;
		if (kill(w.pid, 0) && errno == ESRCH) {
			cli_error("check the pid with ps", "no such process: %d", (int)w.pid);
			rc = CLI_FAIL;
			goto out_file;
		}
	}

	err = setup(&w);
	if (err) {
		if (w.launched) {
			/* The command has not run a single instruction: end it. */
			kill(w.pid, SIGKILL);
			waitpid(w.pid, &status, 0);
		}
		rc = w.launched ? CLI_CMD_HWBP_FAIL : CLI_FAIL;
		goto out;
	}
	if (w.count_only)
		w.pidfd = (int)syscall(SYS_pidfd_open, w.pid, 0);
	w.t0 = now_ns();
	if (a->duration_ms)
		deadline = w.t0 + a->duration_ms * 1000000u;
	/* perf: the watchpoints need no tracer, unless a SPEC waits for a
	 * library the program will dlopen(). ptrace: the library traces. */
	if (w.launched && !w.stop_mode && w.dl_pending) {
		err = launch_libs_start(&w.libs, w.pid, w.dl_debug_state);
		if (!err && ptrace(PTRACE_CONT, w.pid, NULL, NULL))
			err = -errno;
		if (err) {
			cli_error(NULL, "cannot follow the libraries '%s' loads: %s", a->argv[0],
				  strerror(-err));
			kill(w.pid, SIGKILL);
			waitpid(w.pid, &status, 0);
			rc = CLI_CMD_HWBP_FAIL;
			goto out;
		}
		w.following_libs = true;
	} else if (w.launched && !w.stop_mode && ptrace(PTRACE_DETACH, w.pid, NULL, NULL)) {
		cli_error(NULL, "cannot start command '%s': %m", a->argv[0]);
		kill(w.pid, SIGKILL);
		waitpid(w.pid, &status, 0);
		rc = CLI_CMD_HWBP_FAIL;
		goto out;
	}

	while (!watch_stop_sig && !w.done) {
		uint64_t t = now_ns();
		int tmo = 200;

		if (deadline) {
			if (t >= deadline)
				break;
			if ((deadline - t) / 1000000u < (uint64_t)tmo)
				tmo = (int)((deadline - t) / 1000000u) + 1;
		}
		drain(&w, w.following_libs && tmo > 5 ? 5 : tmo);
		if (w.exec_pending && !w.done)
			rearm_after_exec(&w);
		if (w.following_libs) {
			int r = launch_libs_poll(&w.libs, &status);

			if (r == 1) {
				arm_loaded_libs(&w);
				launch_libs_step(&w.libs);
				r = w.dl_pending ? 0 : 3;
			}
			if (r == 2) {
				exited = true;
				w.following_libs = false;
				break;
			}
			if (r == 3) {
				launch_libs_stop(&w.libs);
				w.following_libs = false;
			}
		} else if (w.stop_mode) {
			if (w.exited) {
				exited = true;
				status = w.status;
				break;
			}
			if (!w.launched && kill(w.pid, 0) && errno == ESRCH)
				break;
		} else if (w.launched) {
			pid_t r = waitpid(w.pid, &status, WNOHANG);

			if (r == w.pid) {
				exited = true;
				break;
			}
		} else if (kill(w.pid, 0) && errno == ESRCH) {
			break;
		}
	}
	if (w.following_libs)
		launch_libs_stop(&w.libs);
	/* Whatever the kernel still holds belongs to the run. */
	if (!w.done)
		drain(&w, 0);
	uint64_t dur = now_ns() - w.t0;

	batch_flush(&w, UINT64_MAX);
	for (int i = 0; i < w.nspec && w.count_only; i++) {
		uint64_t n = 0;

		if (w.spec[i].pt && !hwbp_point_count(w.spec[i].pt, &n)) {
			w.spec[i].hits += n;
			w.hits += n;
		}
	}
	/* Disarm before anything else: the target runs on unwatched. */
	if (a->mode == WATCH_STAT)
		print_stat(&w, dur);
	else
		print_summary(&w, dur);
	hwbp_session_close(w.s);
	w.s = NULL;
	fflush(w.out);
	if (w.launched) {
		if (!exited) {
			if (watch_stop_sig && watch_stop_sig != SIGINT)
				kill(w.pid, watch_stop_sig);
			while (waitpid(w.pid, &status, 0) < 0 && errno == EINTR)
				;
		}
		rc = launch_exit_status(status);
	} else {
		rc = CLI_OK;
	}
	say_pending(&w);
	/* Nothing was ever watched: hwbp failed at its job. */
	if (!w.armed && npending(&w))
		rc = w.launched ? CLI_CMD_HWBP_FAIL : CLI_FAIL;
out:
	hwbp_session_close(w.s);
	hwbp_sym_close(w.sym);
out_file:
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

// SPDX-License-Identifier: MIT
/*
 * report.c - the three outputs of a run: a text line or a JSON Lines record
 * per hit, the summary, and hwbp stat's tables
 */
#include "watch_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* See watch_int.h. */
void watch_print_hit_json(struct watch *w, const struct watch_spec *ws, const struct hwbp_hit *h,
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
	if (h->kernel) {
		/* guard: the kernel made the access inside a system call; no
		 * instruction of the target's own did (DESIGN.md, Backends). */
		json_str(&j, "by", "kernel");
		if (h->syscall)
			json_str(&j, "syscall", h->syscall);
	} else {
		json_hex(&j, "ip", v->insn_ip);
	}
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
		unsigned int n = watch_hit_stack(w, h, v, ips, WATCH_MAX_FRAMES);

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

/* See watch_int.h. */
void watch_print_hit_text(struct watch *w, struct watch_spec *ws, const struct hwbp_hit *h,
			  const struct hit_view *v, struct text *out)
{
	char where[600] = "", val[96] = "";
	double t = h->time_ns && h->time_ns >= w->t0 ? (double)(h->time_ns - w->t0) / 1e9 : 0;

	if (h->kernel)
		snprintf(where, sizeof(where), "by the kernel in %s(2)",
			 h->syscall ? h->syscall : "a system call");
	else if (v->where.has_func)
		snprintf(where, sizeof(where), "%s+%" PRIu64, v->where.func, v->where.offset);
	else
		snprintf(where, sizeof(where), "0x%" PRIx64, v->insn_ip);
	if (v->where.has_line) {
		size_t l = strlen(where);

		snprintf(where + l, sizeof(where) - l, " (%s:%u)", v->where.file, v->where.line);
	}
	if (v->have_value && v->have_old && v->partial) {
		/* guard: the bytes the access touched, inside a longer SPEC */
		snprintf(val, sizeof(val), "  +%" PRIu64 "/%" PRIu64 " %" PRIu64 " -> %" PRIu64,
			 h->addr - ws->loc.addr, h->len, v->old, v->value);
	} else if (v->have_value && v->have_old) {
		char num[32], was[32];

		watch_value_text(w, ws, v->old, was, sizeof(was));
		watch_value_text(w, ws, v->value, num, sizeof(num));
		snprintf(val, sizeof(val), "  %s -> %s", was, num);
	} else if (v->have_value) {
		char num[32];

		watch_value_text(w, ws, v->value, num, sizeof(num));
		snprintf(val, sizeof(val), "  = %s", num);
	}
	text_printf(out, "%s%10.6f%s  %-16s  tid %-7d %-2s  %s%s\n", w->color ? "\033[2m" : "", t,
		    w->color ? "\033[0m" : "", ws->sp.text, h->tid, hwbp_access_name(v->kind), where,
		    val);
	if (w->args->backtrace) {
		uint64_t ips[WATCH_MAX_FRAMES];
		unsigned int n = watch_hit_stack(w, h, v, ips, WATCH_MAX_FRAMES);

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

/* See watch_int.h. */
void watch_count_site(struct watch *w, int spec, uint64_t ip, int32_t tid, const char *syscall)
{
	struct watch_site *st;

	/* A kernel access is one row per system call, wherever it came from. */
	if (syscall)
		ip = 0;
	for (size_t i = 0; i < w->nsites; i++) {
		st = &w->sites[i];
		if (st->spec == spec && st->ip == ip && st->tid == tid &&
		    !strcmp(st->syscall, syscall ? syscall : "")) {
			st->hits++;
			return;
		}
	}
	if (w->nsites == WATCH_MAX_SITES) {
		w->sites_full = true;
		return;
	}
	st = &w->sites[w->nsites++];
	*st = (struct watch_site){ .spec = spec, .ip = ip, .tid = tid, .hits = 1 };
	snprintf(st->syscall, sizeof(st->syscall), "%s", syscall ? syscall : "");
}

/* What a guard session did: the summary's guard_* fields; false for the
 * other backends. */
static bool guard_stats(const struct watch *w, struct hwbp_guard_stats *gs)
{
	memset(gs, 0, sizeof(*gs));
	gs->sz = sizeof(*gs);
	return w->guard && !hwbp_session_guard_stats(w->s, gs);
}

/* The text summary's second line under guard. */
static void guard_text(const struct watch *w)
{
	struct hwbp_guard_stats gs;

	if (guard_stats(w, &gs))
		fprintf(w->out, "guard: %" PRIu64 " steps over unwatched bytes, %" PRIu64
			" stores emulated, %" PRIu64 " accesses stepped with the page open, %" PRIu64
			" system calls bounced, %" PRIu64 " run with their pages open\n", gs.steps,
			gs.emulated, gs.opened, gs.bounced, gs.calls_opened);
}

/* The summary record's common fields (DESIGN.md); the caller ends it. */
static void summary_begin(struct watch *w, struct json *j, uint64_t lost, uint64_t dur_ns)
{
	json_begin(j, w->out);
	json_str(j, "type", "summary");
	json_uint(j, "hits", w->hits);
	json_uint(j, "lost", lost);
	json_uint(j, "duration_ns", dur_ns);
	{
		struct hwbp_guard_stats gs;

		if (guard_stats(w, &gs)) {
			json_uint(j, "guard_steps", gs.steps);
			json_uint(j, "guard_emulated", gs.emulated);
			json_uint(j, "guard_opened", gs.opened);
			json_uint(j, "guard_bounced", gs.bounced);
			json_uint(j, "guard_calls_opened", gs.calls_opened);
		}
	}
	if (!watch_npending(w))
		return;
	/* SPECs whose OBJECT the program never loaded */
	json_arr_open(j, "pending");
	for (int i = 0; i < w->nspec; i++)
		if (w->spec[i].dl_pending)
			json_str(j, NULL, w->spec[i].sp.text);
	json_arr_close(j);
}

/* See watch_int.h. */
void watch_print_summary(struct watch *w, uint64_t dur_ns)
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
	guard_text(w);
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

/* See watch_int.h. */
void watch_print_stat(struct watch *w, uint64_t dur_ns)
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
				if (st->syscall[0]) {
					json_str(&j, "by", "kernel");
					json_str(&j, "syscall", st->syscall);
					json_uint(&j, "hits", st->hits);
					json_obj_close(&j);
					continue;
				}
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
			if (st->syscall[0]) {
				snprintf(loc, sizeof(loc), "by the kernel in %s(2)", st->syscall);
				fprintf(w->out, "  %10" PRIu64 "  %-32s\n", st->hits, loc);
				continue;
			}
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
		guard_text(w);
	}
}

// SPDX-License-Identifier: MIT
/*
 * resolve.c - SPECs to watched points: each SPEC resolved in the target's
 * address space (symbol, DWARF path or address), then armed in the session
 */
#include "watch_int.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

/* The default length of a numeric SPEC, as perf's mem: events. */
static uint64_t addr_default_len(enum hwbp_arch arch, enum hwbp_access access)
{
	if (access != HWBP_EXEC)
		return 4;
	return arch == HWBP_ARCH_X86_64 ? 1 : 4;
}

/* See watch_int.h. */
int watch_spec_resolve(struct watch *w, struct watch_spec *ws, bool final)
{
	char why[320] = "";
	int err;

	if (ws->sp.is_addr) {
		ws->loc.addr = ws->sp.addr;
		ws->loc.kind = HWBP_SYM_ADDR;
		ws->loc.len = 0;
	} else {
		err = hwbp_sym_resolve(w->sym, &ws->sp.loc, &ws->loc, why, sizeof(why));
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

			if (err == -ENOENT && ws->sp.loc.plain &&
			    hwbp_sym_suggest(w->sym, &ws->sp.loc, sugg, sizeof(sugg)) > 0)
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

/* See watch_int.h. */
int watch_sym_open(struct watch *w)
{
	int err = hwbp_sym_open_pid(w->pid, &w->sym);

	/* Types only where a value needs one: see watch_value_text(). */
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
	return 0;
}

/* An execute breakpoint where no instruction can start (arm64 and
 * LoongArch instructions are 4-byte aligned). */
static bool exec_misaligned(const struct watch *w, const struct watch_spec *ws)
{
	return ws->arm == HWBP_EXEC && w->arch != HWBP_ARCH_X86_64 && (ws->loc.addr & 3);
}

/* Why hwbp_point_add() refused WS, and what to do about it. */
static const char *arm_why(const struct watch *w, const struct watch_spec *ws, int err)
{
	if (err == -EINVAL && exec_misaligned(w, ws))
		return "no instruction starts there";
	/* guard refuses memory the kernel writes itself, and says which */
	if (err == -EINVAL && w->guard && watch_log_last())
		return watch_log_last();
	return strerror(-err);
}

static const char *arm_hint(const struct watch *w, const struct watch_spec *ws, int err)
{
	if (err == -EINVAL && exec_misaligned(w, ws))
		return "instructions are 4-byte aligned: give a multiple of 4";
	if (err == -EINVAL && w->guard)
		return "the guard backend cannot protect memory the kernel writes itself (stacks, "
		       "thread control blocks, shared mappings): use --backend perf or ptrace";
	return NULL;
}

/*
 * The guard backend refused a range at apply ("guard: cannot watch
 * 0xADDR/LEN: why"): say it of the SPEC that asked for it, when one did.
 */
static void guard_refusal(const struct watch *w, const char *hint, const char *msg)
{
	unsigned long long addr;
	unsigned int len;
	int n = 0;

	if (sscanf(msg, "guard: cannot watch 0x%llx/%u: %n", &addr, &len, &n) == 2 && n > 0) {
		for (int i = 0; i < w->nspec; i++) {
			const struct watch_spec *ws = &w->spec[i];

			if (ws->pt && ws->loc.addr == addr && ws->loc.len == len) {
				cli_error_spec(ws->sp.text, hint, "cannot watch '%s': %s", ws->sp.text,
					       msg + n);
				return;
			}
		}
	}
	cli_error(hint, "cannot arm the watchpoints: %s", msg);
}

/* See watch_int.h. */
int watch_arm(struct watch *w, bool *pending)
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
		HWBP_OPTS(hwbp_point_opts, wo, .label = ws->sp.text, .user = ws);
		watch_log_forget();
		err = hwbp_point_add(w->s, ws->loc.addr, ws->loc.len, ws->arm, &wo, &ws->pt);
		w->armed |= !err;
		if (err) {
			cli_error_spec(ws->sp.text, arm_hint(w, ws, err),
				       "cannot watch '%s' at 0x%" PRIx64 "/%" PRIu64 ": %s",
				       ws->sp.text, ws->loc.addr, ws->loc.len, arm_why(w, ws, err));
			return err;
		}
	}
	watch_log_forget();
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
		/* The planner's count: shared slots once, every point's pieces */
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

		if ((err == -EACCES || err == -EPERM) && w->stop_mode)
			hint = "run as the process's owner or root (Yama: kernel.yama.ptrace_scope)";
		else if (err == -EACCES || err == -EPERM)
			hint = "run as root, or lower kernel.perf_event_paranoid (sysctl), or grant "
			       "CAP_PERFMON";
		else if (err == -EINVAL && w->guard)
			hint = "the guard backend cannot protect memory the kernel writes itself "
			       "(stacks, thread control blocks, shared mappings): use --backend perf "
			       "or ptrace";
		if (err == -EINVAL && w->guard && watch_log_last())
			guard_refusal(w, hint, watch_log_last());
		else
			cli_error(hint, "cannot arm the watchpoints: %s", strerror(-err));
	}
	return err;
}

/* Slots of every SPEC's plan, identical ones once: WATCH_MAX_SPECS plans
 * of at most 2 * HWBP_SLOTS_MAX slots each. */
struct slot_set {
	struct hwbp_slot slot[WATCH_MAX_SPECS * 2 * HWBP_SLOTS_MAX];
	unsigned int n;
};

static bool slot_set_add(struct slot_set *set, const struct hwbp_slot *sl)
{
	for (unsigned int i = 0; i < set->n; i++) {
		const struct hwbp_slot *o = &set->slot[i];

		if (o->type == sl->type && o->addr == sl->addr && o->len == sl->len &&
		    o->access == sl->access)
			return false;
	}
	if (set->n < sizeof(set->slot) / sizeof(set->slot[0]))
		set->slot[set->n++] = *sl;
	return true;
}

/* See watch_int.h. */
bool watch_slots_over(struct watch *w, char *why, size_t len)
{
	static struct slot_set set;
	struct hwbp_pool pool = hwbp_arch_pool(w->arch);
	uint64_t need_watch = 0, need_break = 0;
	unsigned int nnames = 0;
	bool shared = w->arch == HWBP_ARCH_X86_64;
	uint64_t nwatch = (uint64_t)__builtin_popcount(pool.watch);
	uint64_t nbreak = (uint64_t)__builtin_popcount(pool.brk);
	char names[300] = "";

	set.n = 0;
	for (int i = 0; i < w->nspec; i++) {
		const struct watch_spec *ws = &w->spec[i];
		struct hwbp_pool all = { UINT32_MAX, UINT32_MAX };
		HWBP_OPTS(hwbp_plan, plan);
		size_t l = strlen(names);
		int err;

		if (!ws->resolved)
			continue;
		/* Every slot the architecture has, so that the count is the
		 * request's own, not what is left of a pool. */
		err = hwbp_arch_plan(w->arch, ws->loc.addr, ws->loc.len, ws->arm, &all, &plan);
		if (err == -ENOSPC) {
			need_watch += plan.need_watch;
			need_break += plan.need_break;
		} else if (!err) {
			for (unsigned int k = 0; k < plan.nslots; k++) {
				if (!slot_set_add(&set, &plan.slots[k]))
					continue;
				if (plan.slots[k].type == HWBP_SLOT_WATCH)
					need_watch++;
				else
					need_break++;
			}
		} else {
			continue;	/* refused later, with its own reason */
		}
		snprintf(names + l, sizeof(names) - l, "%s%s", l ? ", " : "", ws->sp.text);
		nnames++;
	}
	if (!nnames)
		return false;
	/* The architecture's usual counts are exact on x86-64; arm64 and
	 * LoongArch CPUs have from 2 to 16 of each: ask the kernel. */
	if (!shared && (need_watch > 2 || need_break > 2)) {
		HWBP_OPTS(hwbp_host_info, hi);

		if (!hwbp_host_probe(&hi) && hi.arch == w->arch) {
			if (hi.nwatch >= 0)
				nwatch = (uint64_t)hi.nwatch;
			if (hi.nbreak >= 0)
				nbreak = (uint64_t)hi.nbreak;
		}
	}
	if (shared && need_watch + need_break > nwatch) {
		snprintf(why, len, "%s need%s %" PRIu64 " debug registers, the CPU has %" PRIu64, names,
			 nnames == 1 ? "s" : "", need_watch + need_break, nwatch);
		return true;
	}
	if (!shared && need_watch > nwatch) {
		snprintf(why, len, "%s need%s %" PRIu64 " watchpoint registers, the CPU has %" PRIu64,
			 names, nnames == 1 ? "s" : "", need_watch, nwatch);
		return true;
	}
	if (!shared && need_break > nbreak) {
		snprintf(why, len, "%s need%s %" PRIu64 " breakpoint registers, the CPU has %" PRIu64,
			 names, nnames == 1 ? "s" : "", need_break, nbreak);
		return true;
	}
	return false;
}

// SPDX-License-Identifier: MIT
/* cmd_info.c - hwbp info: what this machine and user can do */
#include "show.h"

#include <errno.h>
#include <string.h>
#include <sys/utsname.h>

enum { OPT_JSON = 'j', OPT_OUTPUT = 'o' };

static const struct cli_opt info_opts[] = {
	{ "json", OPT_JSON, NULL, "print a JSON object" },
	{ "output", OPT_OUTPUT, "<file>", "write the result to <file>" },
	{ NULL, 0, NULL, NULL },
};

static void backend_json(struct json *j, const char *key, const struct hwbp_backend_status *st)
{
	json_obj_open(j, key);
	json_bool(j, "usable", st->usable);
	if (!st->usable)
		json_str(j, "reason", st->reason);
	json_obj_close(j);
}

static void backend_text(FILE *f, const char *name, const struct hwbp_backend_status *st)
{
	if (st->usable)
		fprintf(f, "  %-8s usable\n", name);
	else
		fprintf(f, "  %-8s not usable: %s\n", name, st->reason);
}

/*
 * The guard backend arms no debug register: it needs ptrace of the user's
 * own children and nothing else, so it works wherever the ptrace probe got
 * as far as arming (even when no debug exception came), and not where
 * ptrace itself was refused.
 */
static void guard_status(const struct hwbp_host_info *hi, struct hwbp_backend_status *st)
{
	memset(st, 0, sizeof(*st));
	if (hi->arch == HWBP_ARCH_NONE) {
		st->err = -EOPNOTSUPP;
		snprintf(st->reason, sizeof(st->reason), "no libhwbp backend for this architecture");
	} else if (!hi->ptrace.usable && (hi->ptrace.err == -EPERM || hi->ptrace.err == -EACCES)) {
		st->err = hi->ptrace.err;
		snprintf(st->reason, sizeof(st->reason), "ptrace not permitted: %.*s",
			 (int)sizeof(st->reason) - 32, hi->ptrace.reason);
	} else {
		st->usable = true;
	}
}

/* The verdict of hwbp_host_debug_check() in one word. */
static const char *debug_word(enum hwbp_debug_verdict v)
{
	switch (v) {
	case HWBP_DEBUG_DELIVERED: return "delivered";
	case HWBP_DEBUG_NOT_DELIVERED: return "not delivered";
	default: return "unknown";
	}
}

static int cmd_info(int argc, char **argv)
{
	HWBP_OPTS(hwbp_host_info, hi);
	struct hwbp_backend_status guard;
	const char *outpath = NULL;
	bool json = false;
	struct utsname un;
	char *arg;
	FILE *out;
	int c;

	cli_json_errors_from_args(argc, argv);
	while ((c = cli_getopt(&cli_cmd_info, argc, argv, &arg)) != -1) {
		switch (c) {
		case OPT_JSON:
			json = true;
			break;
		case OPT_OUTPUT:
			outpath = arg;
			break;
		default:
			return CLI_USAGE;
		}
	}
	if (optind < argc) {
		cli_error("usage: hwbp info [--json]", "unexpected argument '%s'", argv[optind]);
		return CLI_USAGE;
	}
	if (uname(&un))
		memset(&un, 0, sizeof(un));
	hwbp_host_probe(&hi);
	guard_status(&hi, &guard);
	out = show_open_output(outpath);
	if (!out)
		return CLI_FAIL;

	const char *arch = hwbp_arch_name(hi.arch) ? hwbp_arch_name(hi.arch) : un.machine;

	if (json) {
		struct json j;

		json_begin(&j, out);
		json_str(&j, "type", "info");
		json_str(&j, "version", hwbp_version());
		json_str(&j, "arch", arch);
		json_str(&j, "kernel", un.release);
		json_obj_open(&j, "slots");
		json_int(&j, "watch", hi.nwatch);
		json_int(&j, "break", hi.nbreak);
		json_bool(&j, "shared", hi.shared_slots);
		json_str(&j, "source", hi.slots_from);
		if (hi.debug_arch)
			json_hex(&j, "debug_arch", hi.debug_arch);
		json_obj_close(&j);
		json_int(&j, "perf_event_paranoid", hi.perf_event_paranoid);
		if (hi.ptrace_scope >= 0)
			json_int(&j, "ptrace_scope", hi.ptrace_scope);
		else
			json_null(&j, "ptrace_scope");
		json_obj_open(&j, "credentials");
		json_bool(&j, "root", hi.root);
		json_bool(&j, "cap_perfmon", hi.cap_perfmon);
		json_bool(&j, "cap_sys_admin", hi.cap_sys_admin);
		json_bool(&j, "cap_sys_ptrace", hi.cap_sys_ptrace);
		json_obj_close(&j);
		json_obj_open(&j, "backends");
		backend_json(&j, "perf", &hi.perf);
		backend_json(&j, "ptrace", &hi.ptrace);
		backend_json(&j, "guard", &guard);
		json_obj_close(&j);
		json_obj_open(&j, "debug_exceptions");
		if (hi.debug.delivered == HWBP_DEBUG_UNKNOWN)
			json_null(&j, "delivered");
		else
			json_bool(&j, "delivered", hi.debug.delivered == HWBP_DEBUG_DELIVERED);
		json_str(&j, "reason", hi.debug.reason);
		json_obj_close(&j);
		json_end(&j);
	} else {
		fprintf(out, "hwbp %s on %s, Linux %s\n", hwbp_version(), arch, un.release);
		if (hi.shared_slots)
			fprintf(out, "slots:    %d, shared by watchpoints and breakpoints (%s)\n",
				hi.nwatch, hi.slots_from);
		else
			fprintf(out, "slots:    %d watchpoints, %d breakpoints (%s)\n", hi.nwatch,
				hi.nbreak, hi.slots_from);
		if (hi.debug_arch)
			fprintf(out, "debug:    architecture 0x%x\n", hi.debug_arch);
		fprintf(out, "perf_event_paranoid: %d\n", hi.perf_event_paranoid);
		if (hi.ptrace_scope >= 0)
			fprintf(out, "ptrace_scope (Yama): %d\n", hi.ptrace_scope);
		else
			fprintf(out, "ptrace_scope (Yama): not present\n");
		fprintf(out, "user:     %s%s%s%s\n", hi.root ? "root" : "not root",
			hi.cap_perfmon ? ", CAP_PERFMON" : "",
			hi.cap_sys_admin ? ", CAP_SYS_ADMIN" : "",
			hi.cap_sys_ptrace ? ", CAP_SYS_PTRACE" : "");
		fprintf(out, "backends:\n");
		backend_text(out, "perf", &hi.perf);
		backend_text(out, "ptrace", &hi.ptrace);
		if (guard.usable)
			fprintf(out, "  %-8s usable (page protection under ptrace; any length, any "
				"number of points)\n", "guard");
		else
			backend_text(out, "guard", &guard);
		fprintf(out, "debug exceptions: %s (%s)\n", debug_word(hi.debug.delivered),
			hi.debug.reason);
	}
	return show_close_output(out, outpath);
}

const struct cli_cmd cli_cmd_info = {
	.name = "info",
	.run = cmd_info,
	.synopsis = "info [--json] [-o <file>]",
	.summary = "show what this machine and user can do",
	.opts = info_opts,
	.details =
		"Reports the architecture, the debug-register slots as the kernel and CPU\n"
		"give them, perf_event_paranoid, Yama's ptrace_scope, the credentials that\n"
		"matter, and for each backend (perf, ptrace) whether it works here, found\n"
		"by arming a real watchpoint in a short-lived child; then guard, which\n"
		"needs no debug register, only ptrace of the user's own children; last,\n"
		"whether this machine delivers debug exceptions at all (some virtual\n"
		"machines never do: there --backend auto uses guard, and perf and ptrace\n"
		"are refused).\n",
};

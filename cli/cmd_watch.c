// SPDX-License-Identifier: MIT
/* cmd_watch.c - hwbp watch: report every access to the watched memory */
#include "watch.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_JSON = 'j', OPT_BACKTRACE = 'g', OPT_OUTPUT = 'o', OPT_QUIET = 'q', OPT_PID = 'p',
	OPT_MAX_HITS = 256, OPT_DURATION, OPT_BACKEND, OPT_FOLLOW_FORK, OPT_NO_FOLLOW_FORK, OPT_IF, OPT_IF_CHANGED,
};

const struct cli_opt watch_opts[] = {
	{ "pid", OPT_PID, "<pid>", "attach to a running process (all its threads)" },
	{ "json", OPT_JSON, NULL, "print JSON Lines: one record per hit, then a summary" },
	{ "backtrace", OPT_BACKTRACE, NULL, "add a symbolized backtrace to each hit" },
	{ "max-hits", OPT_MAX_HITS, "<n>", "stop watching after <n> hits" },
	{ "duration", OPT_DURATION, "<seconds>", "stop watching after <seconds>" },
	{ "backend", OPT_BACKEND, "<name>", "auto (default), perf, ptrace or guard (page\n"
					    "protection: any length, any number of SPECs)" },
	{ "no-follow-fork", OPT_NO_FOLLOW_FORK, NULL, "watch only the target, not the children it\n"
						      "forks (they are followed by default)" },
	{ "follow-fork", OPT_FOLLOW_FORK, NULL, "watch the children the target forks (the default)" },
	{ "if-changed", OPT_IF_CHANGED, NULL, "report only accesses that changed the bytes (stop mode)" },
	{ "if", OPT_IF, "<cond>", "report only hits where 'value OP N' holds, OP one of\n"
				  "== != < > <= >= & (stop mode)" },
	{ "output", OPT_OUTPUT, "<file>", "write the report to <file> (the command keeps stdout)" },
	{ "quiet", OPT_QUIET, NULL, "print no hits, only the summary; stat: only the totals,\n"
				    "counted by the kernel with no record per hit" },
	{ NULL, 0, NULL, NULL },
};

/* See watch.h. */
int watch_parse_if(const char *text, struct watch_args *a, char *why, size_t len)
{
	static const struct {
		const char *op;
		enum watch_cmp cmp;
	} ops[] = {	/* two-character operators first */
		{ "==", CMP_EQ }, { "!=", CMP_NE }, { "<=", CMP_LE }, { ">=", CMP_GE },
		{ "<", CMP_LT }, { ">", CMP_GT }, { "&", CMP_AND },
	};
	const char *p = text;
	char *end = NULL;
	size_t i;

	while (*p == ' ')
		p++;
	if (strncmp(p, "value", 5) != 0) {
		snprintf(why, len, "it must start with 'value'");
		return -1;
	}
	p += 5;
	while (*p == ' ')
		p++;
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strncmp(p, ops[i].op, strlen(ops[i].op)))
			break;
	if (i == sizeof(ops) / sizeof(ops[0])) {
		snprintf(why, len, "no operator (== != < > <= >= &)");
		return -1;
	}
	p += strlen(ops[i].op);
	while (*p == ' ')
		p++;
	a->if_neg = *p == '-';
	errno = 0;
	if (a->if_neg)
		a->if_val = (uint64_t)strtoll(p, &end, 0);
	else
		a->if_val = strtoull(p, &end, 0);
	if (!end)
		end = (char *)(uintptr_t)p;
	while (*end == ' ')
		end++;
	if (errno || end == p || *end) {
		snprintf(why, len, "'%s' is not a number", p);
		return -1;
	}
	a->if_op = ops[i].cmp;
	a->if_text = text;
	return 0;
}

/* The index of the "--" in ARGV, or -1. */
static int find_dashes(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--"))
			return i;
	return -1;
}

/* Take option C (its argument ARG) into A; 0, or -1 after reporting it. */
static int parse_opt(int c, char *arg, struct watch_args *a, bool *have_pid)
{
	uint64_t v;

	switch (c) {
	case OPT_PID:
		if (cli_parse_u64(arg, &v) || v == 0 || v > 0x7fffffff) {
			cli_error("give a process id, e.g. -p 4242", "bad pid '%s'", arg);
			return -1;
		}
		a->pid = (pid_t)v;
		*have_pid = true;
		break;
	case OPT_JSON:
		a->json = true;
		break;
	case OPT_BACKTRACE:
		a->backtrace = true;
		break;
	case OPT_QUIET:
		a->quiet = true;
		break;
	case OPT_FOLLOW_FORK:
		a->follow_fork = true;
		break;
	case OPT_NO_FOLLOW_FORK:
		a->follow_fork = false;
		break;
	case OPT_OUTPUT:
		a->output = arg;
		break;
	case OPT_IF_CHANGED:
		a->if_changed = true;
		break;
	case OPT_IF: {
		char why[120];

		if (watch_parse_if(arg, a, why, sizeof(why))) {
			cli_error("write it as 'value OP NUMBER', e.g. --if 'value == 42'",
				  "bad --if '%s': %s", arg, why);
			return -1;
		}
		break;
	}
	case OPT_MAX_HITS:
		if (cli_parse_u64(arg, &v) || v == 0) {
			cli_error("give a positive number, e.g. --max-hits 10",
				  "bad --max-hits '%s'", arg);
			return -1;
		}
		a->max_hits = v;
		break;
	case OPT_DURATION: {
		char *end;
		double d = strtod(arg, &end);

		if (*end || end == arg || !(d > 0) || !isfinite(d) || d > 1e9) {
			cli_error("give seconds, e.g. --duration 2.5", "bad --duration '%s'", arg);
			return -1;
		}
		a->duration_ms = (uint64_t)(d * 1000.0 + 0.5);
		if (!a->duration_ms)
			a->duration_ms = 1;
		break;
	}
	case OPT_BACKEND:
		if (!strcmp(arg, "auto"))
			a->backend = HWBP_BACKEND_AUTO;
		else if (!strcmp(arg, "perf"))
			a->backend = HWBP_BACKEND_PERF;
		else if (!strcmp(arg, "ptrace"))
			a->backend = HWBP_BACKEND_PTRACE;
		else if (!strcmp(arg, "guard"))
			a->backend = HWBP_BACKEND_GUARD;
		else {
			cli_error("use auto, perf, ptrace or guard", "unknown backend '%s'", arg);
			return -1;
		}
		break;
	default:
		return -1;
	}
	return 0;
}

/* What the options, SPECs and target say together; 0, or -1 after
 * reporting what does not fit. */
static int check_args(const struct cli_cmd *cmd, const struct watch_args *a, bool have_pid)
{
	if (a->nspecs == 0) {
		char hint[80];

		snprintf(hint, sizeof(hint), "e.g. hwbp %s w:counter -- ./app", cmd->name);
		cli_error(hint, "%s needs at least one SPEC", cmd->name);
		return -1;
	}
	if (have_pid && a->argv) {
		cli_error("use either -p PID or -- COMMAND",
			  "conflicting options: -p and -- COMMAND");
		return -1;
	}
	if ((a->if_changed || a->if_text) && a->backend == HWBP_BACKEND_PERF) {
		cli_error("use --backend ptrace, guard or auto, which stop the thread at each hit",
			  "--if and --if-changed need the old and new values: the perf backend "
			  "does not stop the target");
		return -1;
	}
	if (!have_pid && !a->argv) {
		cli_error("add -- COMMAND to launch a program, or -p PID to attach",
			  "%s needs a target", cmd->name);
		return -1;
	}
	return 0;
}

/* See watch.h. */
int watch_parse(const struct cli_cmd *cmd, enum watch_mode mode, int argc, char **argv,
		struct watch_args *a)
{
	bool have_pid = false;
	char *arg;
	int c, dashes, bad;

	memset(a, 0, sizeof(*a));
	a->mode = mode;
	a->follow_fork = true;
	/* "--" ends hwbp's options: what follows is the command, untouched. */
	dashes = find_dashes(argc, argv);
	cli_json_errors_from_args(argc, argv);
	/* With a command, hwbp's own failure is 125 whatever it is, so that
	 * the command's own exit 2 tells apart (as env(1) does). */
	bad = dashes > 0 && argv[dashes + 1] ? CLI_CMD_HWBP_FAIL : CLI_USAGE;
	if (dashes > 0)
		argc = dashes;
	while ((c = cli_getopt(cmd, argc, argv, &arg)) != -1)
		if (parse_opt(c, arg, a, &have_pid))
			return bad;
	a->specs = argv + optind;
	a->nspecs = argc - optind;
	if (dashes > 0) {
		if (!argv[dashes + 1]) {
			cli_error("give the command after '--', e.g. -- ./app --port 8080",
				  "missing command after '--'");
			return bad;
		}
		a->argv = argv + dashes + 1;
	}
	return check_args(cmd, a, have_pid) ? bad : 0;
}

static int cmd_watch(int argc, char **argv)
{
	struct watch_args a;
	int rc = watch_parse(&cli_cmd_watch, WATCH_WATCH, argc, argv, &a);

	return rc ? rc : watch_run(&a);
}

const struct cli_cmd cli_cmd_watch = {
	.name = "watch",
	.run = cmd_watch,
	.synopsis = "watch [options] <spec>... (-- <command> [<arg>...] | -p <pid>)",
	.summary = "report every access to watched memory, as it happens",
	.opts = watch_opts,
	.details =
		"A SPEC is [<access>:]<location>[/<len>]: access w (default), r, rw or x;\n"
		"location 0x<addr>, <symbol>, <symbol>+<off>, <object>:<symbol> (e.g.\n"
		"libfoo.so:table) or a path into a global or static variable\n"
		"(config.limits[2].max); len defaults to the size of the variable.\n"
		"\n"
		"Each hit shows the thread, the accessing instruction as function+offset and\n"
		"file:line, the kind of access, and the value when it is exactly known.\n"
		"\n"
		"Backends: perf (the default) does not stop the target; ptrace stops the\n"
		"accessing thread at each hit and shows the exact old and new values\n"
		"(old -> new); --if and --if-changed need it and choose it. With auto, hwbp\n"
		"falls back to ptrace when the kernel refuses perf (perf_event_paranoid).\n"
		"guard uses no debug register: it protects the watched pages in the target\n"
		"(traced as with ptrace) and reports each access to the watched bytes, any\n"
		"length and any number of SPECs, with old -> new values. auto picks it, saying\n"
		"why in one line, where the machine does not deliver debug exceptions or the\n"
		"SPECs need more debug registers than the CPU has. Under guard, what the\n"
		"kernel does to watched bytes in read(2), write(2), pread64, pwrite64,\n"
		"recvfrom or sendto (recv, send) is a hit too, \"by the kernel in read(2)\"\n"
		"(JSON: \"by\":\"kernel\",\"syscall\":\"read\", no ip or line); other system\n"
		"calls are not reported (one with an argument pointing into a watched page\n"
		"runs with the page open: guard_calls_opened). Accesses to unwatched bytes\n"
		"on a watched page are stepped over unreported; the summary counts them\n"
		"(guard_steps, and guard_emulated, guard_opened, guard_bounced). An x: SPEC\n"
		"under guard is a software breakpoint instruction, put back when hwbp leaves.\n"
		"\n"
		"Children the target forks are watched too (as perf record follows them),\n"
		"each hit naming the child's pid; --no-follow-fork watches the target alone.\n"
		"At an exec the old image's watchpoints are gone before the new image runs;\n"
		"each SPEC is resolved again in the new image, or dropped, saying so. An\n"
		"<object>:<symbol> whose object is never loaded is named at the end (125 if\n"
		"nothing was ever watched).\n"
		"\n"
		"Exit status: with -- <command>, the command's own status (128+N if signal\n"
		"N killed it), 125 for any failure of hwbp (a bad command line too), 126/127\n"
		"if the command could not be run; with -p, 0 after a clean detach, 1 if the\n"
		"request failed, 2 for a bad command line. Each refusal is one line naming\n"
		"the input and the remedy; with --json also an {\"type\":\"error\"} record.\n"
		"\n"
		"Some virtual machines never deliver debug exceptions: no watchpoint can\n"
		"fire there (hwbp info says so). There auto uses guard; with --backend perf\n"
		"or ptrace, once the command line and the SPECs are checked, hwbp watch and\n"
		"hwbp stat refuse such a machine, 125 before the command runs (1 with -p,\n"
		"before hwbp attaches), rather than report 0 hits.\n"
		"\n"
		"Example: hwbp watch w:config.limit -- ./server --port 8080\n",
};

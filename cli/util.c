// SPDX-License-Identifier: MIT
/* util.c - option tables and messages for the CLI */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Where --json puts the error records, or NULL: see cli_set_json_errors(). */
static FILE *cli_json_errors;

/* See cli.h. */
void cli_set_json_errors(FILE *f)
{
	cli_json_errors = f;
}

/* See cli.h. */
void cli_json_errors_from_args(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j"))
			cli_set_json_errors(stdout);
}

static void cli_verror(const char *spec, const char *hint, const char *fmt, va_list ap)
{
	char msg[1024];
	size_t l;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* One line per refusal: the remedy goes in the same line. */
	l = strlen(msg);
	if (hint && l < sizeof(msg))
		snprintf(msg + l, sizeof(msg) - l, " (%s)", hint);
	fprintf(stderr, "hwbp: %s\n", msg);
	if (cli_json_errors) {
		json_error(cli_json_errors, spec, msg);
		fflush(cli_json_errors);
	}
}

void cli_error(const char *hint, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_verror(NULL, hint, fmt, ap);
	va_end(ap);
}

void cli_error_spec(const char *spec, const char *hint, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_verror(spec, hint, fmt, ap);
	va_end(ap);
}

/* --- option tables ------------------------------------------------------ */

#define CLI_MAX_OPTS 40

int cli_getopt(const struct cli_cmd *cmd, int argc, char **argv, char **optarg_out)
{
	struct option lo[CLI_MAX_OPTS + 1];
	char so[3 * CLI_MAX_OPTS + 3];
	size_t n = 0, k = 0;
	int c;

	/* Options may follow operands (GNU order); "--" ends them, so a
	 * launched command's own options are left alone. ':' reports a
	 * missing argument. */
	so[k++] = ':';
	for (const struct cli_opt *o = cmd->opts; o && o->lng && n < CLI_MAX_OPTS; o++, n++) {
		lo[n] = (struct option){ o->lng, o->arg ? required_argument : no_argument,
					 NULL, o->shrt };
		if (o->shrt > 0 && o->shrt < 256) {
			so[k++] = (char)o->shrt;
			if (o->arg)
				so[k++] = ':';
		}
	}
	memset(&lo[n], 0, sizeof(lo[n]));
	so[k] = '\0';

	opterr = 0;
	c = getopt_long(argc, argv, so, lo, NULL);
	*optarg_out = optarg;
	if (c == '?') {
		char hint[64];

		snprintf(hint, sizeof(hint), "see 'hwbp help %s'", cmd->name);
		if (optopt && optopt < 256)
			cli_error(hint, "unknown option '-%c' for '%s'", optopt, cmd->name);
		else
			cli_error(hint, "unknown option '%s' for '%s'", argv[optind - 1], cmd->name);
		return '?';
	}
	if (c == ':') {
		char hint[64];

		snprintf(hint, sizeof(hint), "see 'hwbp help %s'", cmd->name);
		cli_error(hint, "option '%s' needs an argument", argv[optind - 1]);
		return '?';
	}
	return c;
}

void cli_print_help(const struct cli_cmd *cmd, FILE *f)
{
	fprintf(f, "usage: hwbp %s\n\n%s\n", cmd->synopsis, cmd->summary);
	if (cmd->opts && cmd->opts->lng) {
		fputs("\nOptions:\n", f);
		for (const struct cli_opt *o = cmd->opts; o->lng; o++) {
			char left[64];

			if (o->shrt > 0 && o->shrt < 256)
				snprintf(left, sizeof(left), "-%c, --%s%s%s", o->shrt, o->lng,
					 o->arg ? " " : "", o->arg ? o->arg : "");
			else
				snprintf(left, sizeof(left), "    --%s%s%s", o->lng,
					 o->arg ? " " : "", o->arg ? o->arg : "");
			/* Continuation lines of a help text line up under it. */
			fprintf(f, "  %-26s ", left);
			for (const char *h = o->help; *h; h++) {
				fputc(*h, f);
				if (*h == '\n')
					fprintf(f, "%29s", "");
			}
			fputc('\n', f);
		}
	}
	if (cmd->details)
		fprintf(f, "\n%s", cmd->details);
}

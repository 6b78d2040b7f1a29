// SPDX-License-Identifier: MIT
/* util.c - option tables, messages, numbers and SPEC parsing for the CLI */
#include "cli.h"

#include <ctype.h>
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

int cli_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		if (!isxdigit((unsigned char)s[2]))
			return -EINVAL;
		v = strtoull(s + 2, &end, 16);
	} else {
		v = strtoull(s, &end, 10);
	}
	if (errno == ERANGE)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
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

/* --- SPEC ----------------------------------------------------------------- */

static const struct {
	const char *prefix;
	enum hwbp_access access;
} cli_access_prefixes[] = {
	{ "rw:", HWBP_RW }, { "r:", HWBP_READ }, { "w:", HWBP_WRITE }, { "x:", HWBP_EXEC },
};

/* See cli.h. Examples: "w:counter", "0x1000/8", "rw:config.limits[2].max",
 * "libfoo.so:table/16", "x:main". */
int cli_spec_parse(const char *text, struct cli_spec *out, char *why, size_t whylen)
{
	struct cli_spec sp = { .text = text, .access = HWBP_WRITE };
	const char *loc = text;
	const char *slash;
	size_t loclen;

	for (size_t i = 0; i < sizeof(cli_access_prefixes) / sizeof(cli_access_prefixes[0]); i++) {
		size_t pl = strlen(cli_access_prefixes[i].prefix);

		if (!strncmp(text, cli_access_prefixes[i].prefix, pl)) {
			sp.access = cli_access_prefixes[i].access;
			sp.access_given = true;
			loc = text + pl;
			break;
		}
	}
	if (!sp.access_given) {
		/* "q:0x10" or "wr:counter" is a mistyped access, not an object
		 * called "q": objects have longer names ("libfoo.so:table"). */
		size_t pre = strspn(text, "abcdefghijklmnopqrstuvwxyz");

		if (pre >= 1 && pre <= 2 && text[pre] == ':') {
			snprintf(why, whylen, "unknown access '%.*s' (use r, w, rw or x)", (int)pre,
				 text);
			return -EINVAL;
		}
	}

	slash = strrchr(loc, '/');
	loclen = strlen(loc);
	if (slash && slash[1] && isdigit((unsigned char)slash[1])) {
		uint64_t len;

		if (cli_parse_u64(slash + 1, &len)) {
			snprintf(why, whylen, "bad length '%s' (a number of bytes, e.g. /8)", slash + 1);
			return -EINVAL;
		}
		if (len == 0) {
			snprintf(why, whylen, "length 0 watches nothing (give at least 1 byte)");
			return -EINVAL;
		}
		sp.len = len;
		loclen = (size_t)(slash - loc);
	} else if (slash && !slash[1]) {
		snprintf(why, whylen, "missing length after '/'");
		return -EINVAL;
	} else if (slash && slash[1] == '-') {
		snprintf(why, whylen, "bad length '%s' (a number of bytes, e.g. /8)", slash + 1);
		return -EINVAL;
	}
	if (loclen == 0) {
		snprintf(why, whylen, "missing location (an address, symbol or variable)");
		return -EINVAL;
	}
	if (loclen >= sizeof(sp.location)) {
		snprintf(why, whylen, "location is too long");
		return -EINVAL;
	}
	memcpy(sp.location, loc, loclen);
	sp.location[loclen] = '\0';

	if (!strncmp(sp.location, "0x", 2) || !strncmp(sp.location, "0X", 2) ||
	    isdigit((unsigned char)sp.location[0])) {
		if (cli_parse_u64(sp.location, &sp.addr) || strncasecmp(sp.location, "0x", 2) != 0) {
			snprintf(why, whylen, "bad address '%s' (write it in hex, e.g. 0x4040a0)",
				 sp.location);
			return -EINVAL;
		}
		sp.is_addr = true;
		if (sp.len && sp.addr + (sp.len - 1) < sp.addr) {
			snprintf(why, whylen,
				 "range 0x%llx/%llu runs past the end of the address space",
				 (unsigned long long)sp.addr, (unsigned long long)sp.len);
			return -EINVAL;
		}
	}
	*out = sp;
	return 0;
}

// SPDX-License-Identifier: MIT
/* spec.c - the SPEC grammar: ACCESS, LOCATION (address, OBJECT:, NAME, +OFF,
 * the C path in NAME) and LEN, parsed once for the whole command */
#include "spec.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* See spec.h. */
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

/* --- LOCATION ------------------------------------------------------------- */

/* A number as C writes it (decimal, 0x hex, 0 octal), from S; *END past it. */
static int loc_parse_uint(const char *s, const char **end, uint64_t *v)
{
	char *e;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &e, 0);
	if (errno || e == s)
		return -EINVAL;
	*end = e;
	return 0;
}

static bool loc_ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '$';
}

static void loc_bad(struct cli_loc *l, enum cli_loc_bad bad, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Record what is malformed and where resolving reports it. */
static void loc_bad(struct cli_loc *l, enum cli_loc_bad bad, const char *fmt, ...)
{
	va_list ap;

	l->bad = bad;
	l->err = -EINVAL;
	va_start(ap, fmt);
	vsnprintf(l->why, sizeof(l->why), fmt, ap);
	va_end(ap);
}

/* An identifier at P into BUF; the end of it, or NULL if none or too long. */
static const char *loc_ident(const char *p, char *buf, size_t len)
{
	const char *q = p;

	while (loc_ident_char(*q))
		q++;
	if (q == p || (size_t)(q - p) >= len)
		return NULL;
	memcpy(buf, p, (size_t)(q - p));
	buf[q - p] = '\0';
	return q;
}

/*
 * NAME read as a path: [FUNC::]VAR, then .MEMBER and [INDEX] steps.
 * Example: "count_calls::calls" gives func "count_calls", var "calls";
 * "config.limits[2].max" var "config", steps .limits, [2], .max.
 */
static void loc_parse_path(struct cli_loc *l)
{
	const char *name = l->name, *p, *q;

	p = loc_ident(name, l->var, sizeof(l->var));
	if (!p) {
		loc_bad(l, CLI_LOC_BAD_VAR, "bad location '%s'", name);
		return;
	}
	if (p[0] == ':' && p[1] == ':') {
		memcpy(l->func, l->var, sizeof(l->func));
		p = loc_ident(p + 2, l->var, sizeof(l->var));
		if (!p) {
			loc_bad(l, CLI_LOC_BAD_VAR, "bad location '%s': no variable after '::'", name);
			return;
		}
	}
	while (*p) {
		struct cli_loc_step *st = &l->step[l->nsteps];

		if (l->nsteps == CLI_LOC_STEPS_MAX) {
			loc_bad(l, CLI_LOC_BAD_STEP, "bad location '%s': too many steps", name);
			return;
		}
		if (*p == '.') {
			q = ++p;
			while (loc_ident_char(*q))
				q++;
			if (q == p || (size_t)(q - p) >= CLI_LOC_NAME_MAX) {
				loc_bad(l, CLI_LOC_BAD_STEP,
					"bad location '%s': member name expected after '.'", name);
				return;
			}
			*st = (struct cli_loc_step){ .at = (unsigned short)(p - name),
						     .len = (unsigned short)(q - p) };
			p = q;
		} else if (*p == '[') {
			uint64_t idx;

			if (loc_parse_uint(p + 1, &q, &idx) != 0 || *q != ']') {
				loc_bad(l, CLI_LOC_BAD_STEP, "bad location '%s': number expected in []",
					name);
				return;
			}
			*st = (struct cli_loc_step){ .is_index = true, .index = idx };
			p = q + 1;
		} else {
			loc_bad(l, CLI_LOC_BAD_STEP, "bad location '%s' at '%s'", name, p);
			return;
		}
		l->nsteps++;
	}
}

/*
 * Split "OBJECT:REST" at the first ':' that is not part of "::". Example:
 * "libc.so.6:environ" -> "libc.so.6", "environ"; "bump::calls" -> "", whole.
 */
static int loc_split_object(const char *text, char *object, size_t len, const char **rest)
{
	const char *p;

	for (p = text; *p; p++) {
		if (p[0] == ':' && p[1] == ':') {
			p++;
			continue;
		}
		if (p[0] == ':') {
			if ((size_t)(p - text) >= len || p == text)
				return -EINVAL;
			memcpy(object, text, (size_t)(p - text));
			object[p - text] = '\0';
			*rest = p + 1;
			return 0;
		}
	}
	object[0] = '\0';
	*rest = text;
	return 0;
}

/* See spec.h. */
int cli_loc_parse(const char *text, struct cli_loc *out, char *why, size_t whylen)
{
	const char *rest, *plus;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!strncmp(text, "0x", 2) || !strncmp(text, "0X", 2) || isdigit((unsigned char)text[0])) {
		if (cli_parse_u64(text, &out->addr) || strncasecmp(text, "0x", 2) != 0) {
			snprintf(why, whylen, "bad address '%s' (write it in hex, e.g. 0x4040a0)",
				 text);
			return -EINVAL;
		}
		out->is_addr = true;
		return 0;
	}
	out->plain = !strpbrk(text, ".[:+");
	if (loc_split_object(text, out->object, sizeof(out->object), &rest) != 0 || !*rest) {
		out->object[0] = '\0';
		loc_bad(out, CLI_LOC_BAD_OBJECT, "bad location '%s'", text);
		return 0;
	}
	plus = strchr(rest, '+');
	if (plus) {
		const char *end;

		out->has_off = true;
		if (loc_parse_uint(plus + 1, &end, &out->off) != 0 || *end) {
			loc_bad(out, CLI_LOC_BAD_NAME, "bad offset in '%s'", text);
			return 0;
		}
	}
	n = plus ? (size_t)(plus - rest) : strlen(rest);
	if (n >= sizeof(out->name)) {
		loc_bad(out, CLI_LOC_BAD_NAME, "name too long in '%s'", text);
		return 0;
	}
	memcpy(out->name, rest, n);
	out->name[n] = '\0';
	if (!n) {
		loc_bad(out, CLI_LOC_BAD_NAME, "bad location '%s'", text);
		return 0;
	}
	loc_parse_path(out);
	return 0;
}

/* --- SPEC ----------------------------------------------------------------- */

static const struct {
	const char *prefix;
	enum hwbp_access access;
} cli_access_prefixes[] = {
	{ "rw:", HWBP_RW }, { "r:", HWBP_READ }, { "w:", HWBP_WRITE }, { "x:", HWBP_EXEC },
};

/* See spec.h. Examples: "w:counter", "0x1000/8", "rw:config.limits[2].max",
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

	if (cli_loc_parse(sp.location, &sp.loc, why, whylen))
		return -EINVAL;
	if (sp.loc.is_addr) {
		sp.is_addr = true;
		sp.addr = sp.loc.addr;
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

// SPDX-License-Identifier: MIT
/*
 * json.c - a small streaming JSON Lines writer for hwbp's --json output
 *
 * An object is built in a text buffer and written whole: to its FILE by
 * json_end() (json_begin()), or left in the caller's buffer
 * (json_begin_text(), the path of every hit).
 */
#include "cli.h"

#include <string.h>

static void json_write_string(struct text *t, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

	text_putc(t, '"');
	/* Plain runs in one copy. */
	for (const unsigned char *p = (const unsigned char *)s;; p++) {
		if (*p >= 0x20 && *p != '"' && *p != '\\')
			continue;
		text_put(t, run, (size_t)((const char *)p - run));
		if (!*p)
			break;
		run = (const char *)p + 1;
		switch (*p) {
		case '"': text_puts(t, "\\\""); break;
		case '\\': text_puts(t, "\\\\"); break;
		case '\n': text_puts(t, "\\n"); break;
		case '\r': text_puts(t, "\\r"); break;
		case '\t': text_puts(t, "\\t"); break;
		default: {
			char u[6] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 0xf] };

			text_put(t, u, sizeof(u));
			break;
		}
		}
	}
	text_putc(t, '"');
}

/* Separator and key before a value at the current depth. */
static void json_lead(struct json *j, const char *key)
{
	if (!j->first[j->depth])
		text_putc(j->t, ',');
	j->first[j->depth] = false;
	if (key) {
		json_write_string(j->t, key);
		text_putc(j->t, ':');
	}
}

static void json_push(struct json *j, char c)
{
	text_putc(j->t, c);
	if (j->depth < (int)(sizeof(j->first) / sizeof(j->first[0])) - 1)
		j->depth++;
	j->first[j->depth] = true;
}

void json_begin_text(struct json *j, struct text *t)
{
	memset(j, 0, sizeof(*j));
	j->t = t;
	j->first[0] = true;
	json_push(j, '{');
}

void json_begin(struct json *j, FILE *f)
{
	json_begin_text(j, &j->own);
	j->f = f;
}

void json_end(struct json *j)
{
	while (j->depth > 1) {
		/* Unbalanced callers still produce valid JSON. */
		text_putc(j->t, '}');
		j->depth--;
	}
	text_put(j->t, "}\n", 2);
	j->depth = 0;
	if (j->f) {
		if (j->own.len)
			fwrite(j->own.data, 1, j->own.len, j->f);
		text_free(&j->own);
	}
}

void json_key(struct json *j, const char *key)
{
	json_lead(j, key);
}

void json_obj_open(struct json *j, const char *key)
{
	json_lead(j, key);
	json_push(j, '{');
}

void json_obj_close(struct json *j)
{
	text_putc(j->t, '}');
	j->depth--;
}

void json_arr_open(struct json *j, const char *key)
{
	json_lead(j, key);
	json_push(j, '[');
}

void json_arr_close(struct json *j)
{
	text_putc(j->t, ']');
	j->depth--;
}

void json_str(struct json *j, const char *key, const char *val)
{
	json_lead(j, key);
	json_write_string(j->t, val);
}

void json_int(struct json *j, const char *key, long long val)
{
	json_lead(j, key);
	text_sdec(j->t, val);
}

void json_uint(struct json *j, const char *key, unsigned long long val)
{
	json_lead(j, key);
	text_udec(j->t, val);
}

void json_hex(struct json *j, const char *key, unsigned long long val)
{
	json_lead(j, key);
	text_putc(j->t, '"');
	text_hex(j->t, val);
	text_putc(j->t, '"');
}

void json_bool(struct json *j, const char *key, bool val)
{
	json_lead(j, key);
	text_puts(j->t, val ? "true" : "false");
}

void json_null(struct json *j, const char *key)
{
	json_lead(j, key);
	text_puts(j->t, "null");
}

void json_error(FILE *f, const char *spec, const char *msg)
{
	struct json j;

	json_begin(&j, f);
	json_str(&j, "type", "error");
	if (spec)
		json_str(&j, "spec", spec);
	json_str(&j, "message", msg);
	json_end(&j);
}

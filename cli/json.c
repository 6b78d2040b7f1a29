// SPDX-License-Identifier: MIT
/* json.c - a small streaming JSON Lines writer for hwbp's --json output */
#include "cli.h"

#include <string.h>

void json_write_string(FILE *f, const char *s)
{
	const char *run = s;

	fputc('"', f);
	/* Plain runs in one write: this is on the path of every hit. */
	for (const unsigned char *p = (const unsigned char *)s;; p++) {
		const char *esc = NULL;

		if (*p >= 0x20 && *p != '"' && *p != '\\')
			continue;
		fwrite(run, 1, (size_t)((const char *)p - run), f);
		if (!*p)
			break;
		run = (const char *)p + 1;
		switch (*p) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		default: break;
		}
		if (esc)
			fputs(esc, f);
		else
			fprintf(f, "\\u%04x", *p);
	}
	fputc('"', f);
}

/* Separator and key before a value at the current depth. */
static void json_lead(struct json *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
	if (key) {
		json_write_string(j->f, key);
		fputc(':', j->f);
	}
}

static void json_push(struct json *j, char c)
{
	fputc(c, j->f);
	if (j->depth < (int)(sizeof(j->first) / sizeof(j->first[0])) - 1)
		j->depth++;
	j->first[j->depth] = true;
}

void json_begin(struct json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->first[0] = true;
	json_push(j, '{');
}

void json_end(struct json *j)
{
	while (j->depth > 1) {
		/* Unbalanced callers still produce valid JSON. */
		fputc('}', j->f);
		j->depth--;
	}
	fputs("}\n", j->f);
	j->depth = 0;
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
	fputc('}', j->f);
	j->depth--;
}

void json_arr_open(struct json *j, const char *key)
{
	json_lead(j, key);
	json_push(j, '[');
}

void json_arr_close(struct json *j)
{
	fputc(']', j->f);
	j->depth--;
}

void json_str(struct json *j, const char *key, const char *val)
{
	json_lead(j, key);
	json_write_string(j->f, val);
}

void json_int(struct json *j, const char *key, long long val)
{
	json_lead(j, key);
	fprintf(j->f, "%lld", val);
}

void json_uint(struct json *j, const char *key, unsigned long long val)
{
	json_lead(j, key);
	fprintf(j->f, "%llu", val);
}

void json_hex(struct json *j, const char *key, unsigned long long val)
{
	json_lead(j, key);
	fprintf(j->f, "\"0x%llx\"", val);
}

void json_bool(struct json *j, const char *key, bool val)
{
	json_lead(j, key);
	fputs(val ? "true" : "false", j->f);
}

void json_null(struct json *j, const char *key)
{
	json_lead(j, key);
	fputs("null", j->f);
}

void json_error(FILE *f, const char *msg)
{
	struct json j;

	json_begin(&j, f);
	json_str(&j, "type", "error");
	json_str(&j, "message", msg);
	json_end(&j);
}

// SPDX-License-Identifier: MIT
/*
 * text.c - a growable text buffer for the lines hwbp prints per hit
 *
 * A hit's line is built here and written with one fwrite() later: stdio's
 * per-character calls on a memory stream were most of the reader's time
 * at the highest hit rates (about 90,000 hits per second per thread).
 */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Room for N more bytes and a NUL; false (and ->failed) when out of memory. */
static bool text_room(struct text *t, size_t n)
{
	size_t cap;
	char *p;

	if (t->failed)
		return false;
	if (t->len + n + 1 <= t->cap)
		return true;
	cap = t->cap ? t->cap : 256;
	while (cap < t->len + n + 1)
		cap *= 2;
	p = realloc(t->data, cap);
	if (!p) {
		t->failed = true;
		return false;
	}
	t->data = p;
	t->cap = cap;
	return true;
}

void text_put(struct text *t, const char *s, size_t n)
{
	if (!n || !text_room(t, n))
		return;
	memcpy(t->data + t->len, s, n);
	t->len += n;
	t->data[t->len] = '\0';
}

void text_puts(struct text *t, const char *s)
{
	text_put(t, s, strlen(s));
}

void text_putc(struct text *t, char c)
{
	if (!text_room(t, 1))
		return;
	t->data[t->len++] = c;
	t->data[t->len] = '\0';
}

void text_printf(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!text_room(t, 128))
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->data + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= t->cap - t->len) {
		/* Did not fit: make room and format again. */
		if (!text_room(t, (size_t)n))
			return;
		va_start(ap, fmt);
		vsnprintf(t->data + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
	}
	t->len += (size_t)n;
}

void text_udec(struct text *t, uint64_t v)
{
	char buf[20];
	size_t i = sizeof(buf);

	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	text_put(t, buf + i, sizeof(buf) - i);
}

void text_sdec(struct text *t, int64_t v)
{
	if (v < 0) {
		text_putc(t, '-');
		/* -(INT64_MIN) does not fit an int64_t; it fits a uint64_t. */
		text_udec(t, (uint64_t)0 - (uint64_t)v);
	} else {
		text_udec(t, (uint64_t)v);
	}
}

void text_hex(struct text *t, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char buf[18];
	size_t i = sizeof(buf);

	do {
		buf[--i] = digits[v & 0xf];
		v >>= 4;
	} while (v);
	buf[--i] = 'x';
	buf[--i] = '0';
	text_put(t, buf + i, sizeof(buf) - i);
}

void text_clear(struct text *t)
{
	t->len = 0;
	t->failed = false;
	if (t->data)
		t->data[0] = '\0';
}

void text_free(struct text *t)
{
	free(t->data);
	*t = (struct text){ 0 };
}

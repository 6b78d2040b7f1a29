// SPDX-License-Identifier: MIT
/*
 * maps.c - the text of /proc/PID/maps as mappings, for the guard backend
 *
 * One line per mapping, as fs/proc/task_mmu.c show_map_vma() prints it:
 *
 *   7ffd4df8c000-7ffd4dfad000 rw-p 00000000 00:00 0                          [stack]
 *   start-end perms offset major:minor inode, then blanks up to the name
 *
 * The name is the rest of the line: a path may hold spaces, the kernel
 * escapes a newline in it as "\012" (seq_path() with "\n"), and an unlinked
 * file ends in " (deleted)" (d_path()).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "guard/plan.h"

/* Parse hex digits at *P into *V; false if there are none or too many. */
static bool parse_hex(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;
	int n = 0;

	for (;; s++, n++) {
		unsigned int d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned int)(*s - '0');
		else if (*s >= 'a' && *s <= 'f')
			d = (unsigned int)(*s - 'a' + 10);
		else if (*s >= 'A' && *s <= 'F')
			d = (unsigned int)(*s - 'A' + 10);
		else
			break;
		if (n == 16)
			return false;
		x = x << 4 | d;
	}
	*p = s;
	*v = x;
	return n > 0;
}

static bool parse_dec(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;

	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (x > (UINT64_MAX - 9) / 10)
			return false;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*p = s;
	*v = x;
	return true;
}

static bool skip(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

static bool parse_perms(const char **p, struct hwbp_guard_map *m)
{
	const char *s = *p;

	m->prot = 0;
	if (s[0] == 'r')
		m->prot |= PROT_READ;
	else if (s[0] != '-')
		return false;
	if (s[1] == 'w')
		m->prot |= PROT_WRITE;
	else if (s[1] != '-')
		return false;
	if (s[2] == 'x')
		m->prot |= PROT_EXEC;
	else if (s[2] != '-')
		return false;
	if (s[3] == 's')
		m->shared = true;
	else if (s[3] == 'p')
		m->shared = false;
	else
		return false;
	*p = s + 4;
	return true;
}

static enum hwbp_guard_kind name_kind(const char *name)
{
	static const struct {
		const char *name;
		bool prefix;
		enum hwbp_guard_kind kind;
	} pseudo[] = {
		{ "[heap]", false, HWBP_GUARD_HEAP },
		{ "[stack]", false, HWBP_GUARD_STACK },
		{ "[stack:", true, HWBP_GUARD_STACK },
		{ "[vdso]", false, HWBP_GUARD_VDSO },
		{ "[vvar", true, HWBP_GUARD_VVAR },
		{ "[vsyscall]", false, HWBP_GUARD_VSYSCALL },
		{ "[anon:", true, HWBP_GUARD_ANON },
	};

	if (!*name)
		return HWBP_GUARD_ANON;
	if (name[0] != '[')
		return HWBP_GUARD_FILE;
	for (size_t i = 0; i < sizeof(pseudo) / sizeof(pseudo[0]); i++) {
		size_t n = strlen(pseudo[i].name);

		if (pseudo[i].prefix ? !strncmp(name, pseudo[i].name, n)
				     : !strcmp(name, pseudo[i].name))
			return pseudo[i].kind;
	}
	return HWBP_GUARD_PSEUDO;
}

/*
 * Parse the line [LINE, END) into M; its name is copied to *NAMES, which
 * advances. False for a malformed line.
 */
static bool parse_line(const char *line, const char *end, struct hwbp_guard_map *m,
		       char **names)
{
	static const char deleted[] = " (deleted)";
	const size_t dlen = sizeof(deleted) - 1;
	const char *p = line;
	uint64_t major, minor;
	size_t n;

	memset(m, 0, sizeof(*m));
	if (!parse_hex(&p, &m->start) || !skip(&p, '-') || !parse_hex(&p, &m->end) ||
	    !skip(&p, ' ') || !parse_perms(&p, m) || !skip(&p, ' ') ||
	    !parse_hex(&p, &m->offset) || !skip(&p, ' ') || !parse_hex(&p, &major) ||
	    !skip(&p, ':') || !parse_hex(&p, &minor) || !skip(&p, ' ') ||
	    !parse_dec(&p, &m->inode))
		return false;
	if (p < end && *p != ' ')
		return false;
	while (p < end && *p == ' ')
		p++;
	n = (size_t)(end - p);
	if (m->inode && n > dlen && !memcmp(end - dlen, deleted, dlen)) {
		m->deleted = true;
		n -= dlen;
	}
	memcpy(*names, p, n);
	(*names)[n] = '\0';
	m->name = *names;
	*names += n + 1;
	m->kind = name_kind(m->name);
	return m->start < m->end;
}

static int map_cmp(const void *a, const void *b)
{
	const struct hwbp_guard_map *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

/* See plan.h. */
int hwbp_guard_maps_parse(const char *text, struct hwbp_guard_maps **out, char *why,
			  size_t whylen)
{
	size_t len = strlen(text), lines = 1, nline = 0;
	struct hwbp_guard_maps *maps;
	char *names;

	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	maps = calloc(1, sizeof(*maps));
	if (!maps)
		return -ENOMEM;
	maps->map = calloc(lines, sizeof(*maps->map));
	maps->names = malloc(len + lines);
	if (!maps->map || !maps->names) {
		hwbp_guard_maps_free(maps);
		return -ENOMEM;
	}
	names = maps->names;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		const char *end = nl ? nl : p + strlen(p);

		nline++;
		if (end > p && !parse_line(p, end, &maps->map[maps->n], &names)) {
			hwbp_arch_why(why, whylen, "maps line %zu is malformed: '%.*s'", nline,
				 (int)(end - p > 80 ? 80 : end - p), p);
			hwbp_guard_maps_free(maps);
			return -EINVAL;
		}
		maps->n += end > p;
		p = nl ? nl + 1 : end;
	}
	qsort(maps->map, maps->n, sizeof(*maps->map), map_cmp);
	for (size_t i = 1; i < maps->n; i++) {
		if (maps->map[i].start < maps->map[i - 1].end) {
			hwbp_arch_why(why, whylen,
				 "maps lines overlap: %" PRIx64 "-%" PRIx64 " and %" PRIx64
				 "-%" PRIx64,
				 maps->map[i - 1].start, maps->map[i - 1].end, maps->map[i].start,
				 maps->map[i].end);
			hwbp_guard_maps_free(maps);
			return -EINVAL;
		}
	}
	*out = maps;
	return 0;
}

/* See plan.h. */
void hwbp_guard_maps_free(struct hwbp_guard_maps *maps)
{
	if (!maps)
		return;
	free(maps->map);
	free(maps->names);
	free(maps);
}

/* See plan.h. */
const struct hwbp_guard_map *hwbp_guard_maps_find(const struct hwbp_guard_maps *maps,
						  uint64_t addr)
{
	size_t lo = 0, hi = maps ? maps->n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct hwbp_guard_map *m = &maps->map[mid];

		if (addr < m->start)
			hi = mid;
		else if (addr >= m->end)
			lo = mid + 1;
		else
			return m;
	}
	return NULL;
}

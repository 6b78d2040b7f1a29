// SPDX-License-Identifier: MIT
/*
 * test_guard_plan.c - the guard backend's pure core (lib/guard/): maps
 * parsing, the pages each set of ranges protects and restores, on 4, 16 and
 * 64 KiB pages, every refusal with its reason, fault classification at
 * the exact edges of the ranges, the copy a forked child gets, and the
 * target's own mprotect replayed over guarded and unguarded pages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "guard/plan.h"

#define KB 1024ull
#define MB (1024 * KB)
#define NONE PROT_NONE
#define R PROT_READ
#define RW (PROT_READ | PROT_WRITE)
#define RX (PROT_READ | PROT_EXEC)
#define RWX (PROT_READ | PROT_WRITE | PROT_EXEC)

/* The layout of /proc/self/maps on this machine, with odd names added. */
static const char real_maps[] =
	"555555554000-555555556000 r--p 00000000 fe:00 247134                     /usr/bin/demo\n"
	"555555556000-55555555b000 r-xp 00002000 fe:00 247134                     /usr/bin/demo\n"
	"55555555b000-55555555e000 r--p 00007000 fe:00 247134                     /usr/bin/demo\n"
	"55555555e000-55555555f000 r--p 00009000 fe:00 247134                     /usr/bin/demo\n"
	"55555555f000-555555560000 rw-p 0000a000 fe:00 247134                     /usr/bin/demo\n"
	"555555560000-555555581000 rw-p 00000000 00:00 0                          [heap]\n"
	"7ffff7a00000-7ffff7b00000 rw-p 00000000 00:00 0 \n"
	"7ffff7b00000-7ffff7b10000 rw-s 00000000 00:05 1234                       /dev/shm/ring buffer\n"
	"7ffff7b10000-7ffff7b12000 rw-p 00001000 fe:00 99                         /tmp/my data/lib x.so (deleted)\n"
	"7ffff7c85000-7ffff7c8c000 r--s 00000000 fe:00 332280                     /usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache\n"
	"7ffff7d00000-7ffff7d01000 ---p 00000000 00:00 0 \n"
	"7ffff7d01000-7ffff7d02000 rw-p 00000000 00:00 0                          [anon:glibc.malloc]\n"
	"7ffff7fc1000-7ffff7fc5000 r--p 00000000 00:00 0                          [vvar]\n"
	"7ffff7fc5000-7ffff7fc7000 r--p 00000000 00:00 0                          [vvar_vclock]\n"
	"7ffff7fc7000-7ffff7fc9000 r-xp 00000000 00:00 0                          [vdso]\n"
	"7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]\n"
	"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";

static struct hwbp_guard_set *mkset(uint64_t page, const char *text)
{
	struct hwbp_guard_maps *maps = NULL;
	struct hwbp_guard_set *set = NULL;
	char why[256] = "";

	assert_int_equal(hwbp_guard_maps_parse(text, &maps, why, sizeof(why)), 0);
	assert_int_equal(hwbp_guard_set_create(page, &set), 0);
	assert_int_equal(hwbp_guard_set_maps(set, maps, why, sizeof(why)), 0);
	return set;
}

static void add_ok(struct hwbp_guard_set *set, uint64_t addr, uint64_t len,
		   enum hwbp_access access, uint64_t cookie)
{
	char why[256] = "";
	int err = hwbp_guard_range_add(set, addr, len, access, cookie, why, sizeof(why));

	if (err)
		fail_msg("add 0x%llx/%llu: %d %s", (unsigned long long)addr,
			 (unsigned long long)len, err, why);
}

static void refused(struct hwbp_guard_set *set, uint64_t addr, uint64_t len,
		    enum hwbp_access access, const char *reason)
{
	char why[256] = "";

	assert_int_equal(hwbp_guard_range_add(set, addr, len, access, 999, why, sizeof(why)),
			 -EINVAL);
	assert_string_equal(why, reason);
}

static void expect_runs(size_t n, const struct hwbp_guard_run *got, size_t ngot,
			const struct hwbp_guard_run *want)
{
	assert_int_equal(ngot, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(got[i].addr, want[i].addr);
		assert_int_equal(got[i].len, want[i].len);
		assert_int_equal(got[i].orig, want[i].orig);
		assert_int_equal(got[i].prot, want[i].prot);
	}
}

#define RUNS(set, ...)                                                                    \
	do {                                                                              \
		const struct hwbp_guard_run want_[] = { __VA_ARGS__ };                    \
		struct hwbp_guard_run got_[16];                                           \
		size_t n_ = hwbp_guard_set_runs(set, got_, 16);                           \
		expect_runs(sizeof(want_) / sizeof(want_[0]), got_, n_, want_);           \
	} while (0)

#define CHANGES(set, ...)                                                                 \
	do {                                                                              \
		const struct hwbp_guard_run want_[] = { __VA_ARGS__ };                    \
		struct hwbp_guard_run got_[16];                                           \
		size_t n_ = hwbp_guard_set_changes(set, got_, 16);                        \
		expect_runs(sizeof(want_) / sizeof(want_[0]), got_, n_, want_);           \
	} while (0)

#define RESTORE(set, ...)                                                                 \
	do {                                                                              \
		const struct hwbp_guard_run want_[] = { __VA_ARGS__ };                    \
		struct hwbp_guard_run got_[16];                                           \
		size_t n_ = hwbp_guard_set_restore(set, got_, 16);                        \
		expect_runs(sizeof(want_) / sizeof(want_[0]), got_, n_, want_);           \
	} while (0)

static enum hwbp_guard_verdict classify(const struct hwbp_guard_set *set, uint64_t addr,
					uint64_t size, enum hwbp_access kind, size_t *nhits,
					uint64_t *cookies, size_t max)
{
	struct hwbp_guard_fault f;

	assert_int_equal(hwbp_guard_set_classify(set, addr, size, kind, cookies, max, &f), 0);
	if (nhits)
		*nhits = f.nhits;
	return f.verdict;
}

static enum hwbp_guard_verdict verdict(const struct hwbp_guard_set *set, uint64_t addr,
				       uint64_t size, enum hwbp_access kind)
{
	return classify(set, addr, size, kind, NULL, NULL, 0);
}

/* --- maps ------------------------------------------------------------------- */

static void test_maps_real_text(void **state)
{
	struct hwbp_guard_maps *m = NULL;
	const struct hwbp_guard_map *x;
	char why[128];

	(void)state;
	assert_int_equal(hwbp_guard_maps_parse(real_maps, &m, why, sizeof(why)), 0);
	assert_int_equal(m->n, 17);
	x = &m->map[1];
	assert_int_equal(x->start, 0x555555556000);
	assert_int_equal(x->end, 0x55555555b000);
	assert_int_equal(x->prot, RX);
	assert_false(x->shared);
	assert_int_equal(x->offset, 0x2000);
	assert_int_equal(x->inode, 247134);
	assert_int_equal(x->kind, HWBP_GUARD_FILE);
	assert_string_equal(x->name, "/usr/bin/demo");
	assert_int_equal(m->map[5].kind, HWBP_GUARD_HEAP);
	x = &m->map[6];
	assert_int_equal(x->kind, HWBP_GUARD_ANON);
	assert_string_equal(x->name, "");
	x = &m->map[7];
	assert_true(x->shared);
	assert_int_equal(x->prot, RW);
	assert_string_equal(x->name, "/dev/shm/ring buffer");
	assert_false(x->deleted);
	x = &m->map[8];
	assert_true(x->deleted);
	assert_string_equal(x->name, "/tmp/my data/lib x.so");
	assert_int_equal(m->map[9].prot, R);
	assert_true(m->map[9].shared);
	assert_int_equal(m->map[10].prot, NONE);
	assert_int_equal(m->map[11].kind, HWBP_GUARD_ANON);
	assert_string_equal(m->map[11].name, "[anon:glibc.malloc]");
	assert_int_equal(m->map[12].kind, HWBP_GUARD_VVAR);
	assert_int_equal(m->map[13].kind, HWBP_GUARD_VVAR);
	assert_int_equal(m->map[14].kind, HWBP_GUARD_VDSO);
	assert_int_equal(m->map[15].kind, HWBP_GUARD_STACK);
	x = &m->map[16];
	assert_int_equal(x->kind, HWBP_GUARD_VSYSCALL);
	assert_int_equal(x->prot, PROT_EXEC);
	assert_int_equal(x->end, 0xffffffffff601000);

	assert_ptr_equal(hwbp_guard_maps_find(m, 0x555555554000), &m->map[0]);
	assert_ptr_equal(hwbp_guard_maps_find(m, 0x555555555fff), &m->map[0]);
	assert_ptr_equal(hwbp_guard_maps_find(m, 0x555555556000), &m->map[1]);
	assert_null(hwbp_guard_maps_find(m, 0x555555553fff));
	assert_null(hwbp_guard_maps_find(m, 0x7ffff7b12000));
	assert_ptr_equal(hwbp_guard_maps_find(m, 0x7ffffffff000 - 1), &m->map[15]);
	hwbp_guard_maps_free(m);
	hwbp_guard_maps_free(NULL);
}

static void test_maps_odd_lines(void **state)
{
	static const char text[] =
		"20000-21000 rw-p 00000000 00:00 0                          [stack:4243]\n"
		"10000-11000 r--p 00000000 fe:00 7                          /x (deleted)\n"
		"\n"
		"30000-31000 rw-s 00000000 00:01 8                          /memfd:ring (deleted)\n"
		"40000-41000 r--p 00000000 fe:00 9                          /odd\\012name\n"
		"50000-51000 rw-p 00000000 00:00 0                          [mystery]\n"
		"60000-61000 r--p 00000000 fe:00 0                          anon_inode:[perf_event]";
	struct hwbp_guard_maps *m = NULL;

	(void)state;
	assert_int_equal(hwbp_guard_maps_parse(text, &m, NULL, 0), 0);
	assert_int_equal(m->n, 6);
	/* sorted by address */
	assert_string_equal(m->map[0].name, "/x");
	assert_true(m->map[0].deleted);
	assert_int_equal(m->map[1].kind, HWBP_GUARD_STACK);
	assert_string_equal(m->map[2].name, "/memfd:ring");
	assert_true(m->map[2].shared);
	assert_string_equal(m->map[3].name, "/odd\\012name");
	assert_int_equal(m->map[4].kind, HWBP_GUARD_PSEUDO);
	assert_int_equal(m->map[5].kind, HWBP_GUARD_FILE);
	assert_string_equal(m->map[5].name, "anon_inode:[perf_event]");
	hwbp_guard_maps_free(m);

	assert_int_equal(hwbp_guard_maps_parse("", &m, NULL, 0), 0);
	assert_int_equal(m->n, 0);
	hwbp_guard_maps_free(m);
}

static void test_maps_malformed(void **state)
{
	static const char *const bad[] = {
		"zzz\n",
		"10000-11000 rw-q 00000000 00:00 0\n",
		"11000-10000 rw-p 00000000 00:00 0\n",
		"10000-11000 rw-p 00000000 00:00\n",
		"10000-11000 rw-p 00000000 00:00 0x\n",
		"10000 rw-p 00000000 00:00 0\n",
		"10000-11000 rwxp0 00000000 00:00 0\n",
		"1000000000000000a-11000 rw-p 00000000 00:00 0\n",
	};
	struct hwbp_guard_maps *m = (struct hwbp_guard_maps *)&m;
	char why[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(hwbp_guard_maps_parse(bad[i], &m, why, sizeof(why)), -EINVAL);
		assert_ptr_equal(m, (struct hwbp_guard_maps *)&m);
		assert_non_null(strstr(why, "maps line 1 is malformed"));
	}
	assert_int_equal(hwbp_guard_maps_parse("10000-11000 rw-p 00000000 00:00 0\n"
					       "12000-13000 rw-p 0000000g 00:00 0\n",
					       &m, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "maps line 2 is malformed"));
	assert_int_equal(hwbp_guard_maps_parse("10000-12000 rw-p 00000000 00:00 0\n"
					       "11000-13000 rw-p 00000000 00:00 0\n",
					       &m, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "maps lines overlap: 10000-12000 and 11000-13000");
}

/* --- runs ------------------------------------------------------------------- */

static void test_set_create_page_sizes(void **state)
{
	static const uint64_t bad[] = { 0, 1, 2048, 3 * 4096, 4096 + 1, 2 * MB };
	struct hwbp_guard_set *set = (struct hwbp_guard_set *)&set;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(hwbp_guard_set_create(bad[i], &set), -EINVAL);
		assert_ptr_equal(set, (struct hwbp_guard_set *)&set);
	}
	for (uint64_t p = 4 * KB; p <= MB; p *= 2) {
		assert_int_equal(hwbp_guard_set_create(p, &set), 0);
		hwbp_guard_set_destroy(set);
	}
	hwbp_guard_set_destroy(NULL);
}

/* The example of plan.h. */
static void test_runs_header_example(void **state)
{
	struct hwbp_guard_set *set = mkset(4 * KB, "10000-14000 rw-p 00000000 00:00 0\n");

	(void)state;
	add_ok(set, 0x10ff8, 16, HWBP_WRITE, 1);
	add_ok(set, 0x12000, 1, HWBP_RW, 2);
	RUNS(set, { 0x10000, 0x2000, RW, R }, { 0x12000, 0x1000, RW, NONE });
	hwbp_guard_set_destroy(set);
}

/* Every length 1..4096 at odd offsets: the pages holding the bytes, no more. */
static void test_lengths_at_odd_offsets(void **state)
{
	static const uint64_t offs[] = { 1, 3, 0x7ff, 0xfff };
	struct hwbp_guard_set *set = mkset(4 * KB, "10000000-10010000 rw-p 00000000 00:00 0\n");
	struct hwbp_guard_run got[4];

	(void)state;
	for (size_t o = 0; o < sizeof(offs) / sizeof(offs[0]); o++) {
		for (uint64_t len = 1; len <= 4096; len++) {
			uint64_t addr = 0x10002000 + offs[o];
			uint64_t lo = addr & ~0xfffull, hi = ((addr + len - 1) & ~0xfffull) + 0x1000;

			add_ok(set, addr, len, len % 2 ? HWBP_WRITE : HWBP_RW, 7);
			assert_int_equal(hwbp_guard_set_runs(set, got, 4), 1);
			assert_int_equal(got[0].addr, lo);
			assert_int_equal(got[0].len, hi - lo);
			assert_int_equal(got[0].orig, RW);
			assert_int_equal(got[0].prot, len % 2 ? R : NONE);
			assert_false(hwbp_guard_range_dormant(set, 7));
			assert_int_equal(hwbp_guard_range_remove(set, 7), 0);
			assert_int_equal(hwbp_guard_set_runs(set, got, 4), 0);
		}
	}
	assert_int_equal(hwbp_guard_range_remove(set, 7), -ENOENT);
	hwbp_guard_set_destroy(set);
}

static void test_several_ranges_on_one_page(void **state)
{
	struct hwbp_guard_set *set = mkset(4 * KB, "10000-14000 rw-p 00000000 00:00 0\n");

	(void)state;
	add_ok(set, 0x11010, 4, HWBP_WRITE, 1);
	add_ok(set, 0x11020, 8, HWBP_WRITE, 2);
	RUNS(set, { 0x11000, 0x1000, RW, R });
	add_ok(set, 0x11800, 2, HWBP_RW, 3);
	add_ok(set, 0x11012, 4, HWBP_READ, 4);	/* overlaps range 1 */
	RUNS(set, { 0x11000, 0x1000, RW, NONE });
	assert_int_equal(hwbp_guard_set_commit(set), 0);
	assert_int_equal(hwbp_guard_range_remove(set, 3), 0);
	RUNS(set, { 0x11000, 0x1000, RW, NONE });	/* range 4 still reads */
	CHANGES(set);
	assert_int_equal(hwbp_guard_range_remove(set, 4), 0);
	RUNS(set, { 0x11000, 0x1000, RW, R });
	CHANGES(set, { 0x11000, 0x1000, RW, R });
	assert_int_equal(hwbp_guard_set_commit(set), 0);
	CHANGES(set);
	assert_int_equal(hwbp_guard_range_remove(set, 1), 0);
	CHANGES(set);
	assert_int_equal(hwbp_guard_range_remove(set, 2), 0);
	RUNS(set);
	CHANGES(set, { 0x11000, 0x1000, RW, RW });
	hwbp_guard_set_destroy(set);
}

static void test_remove_restores_each_page(void **state)
{
	struct hwbp_guard_set *set = mkset(4 * KB, "10000-20000 rw-p 00000000 00:00 0\n");
	struct hwbp_guard_run got[8];

	(void)state;
	add_ok(set, 0x11ffc, 8, HWBP_WRITE, 1);		/* pages 0x11000, 0x12000 */
	add_ok(set, 0x12ff0, 0x20, HWBP_READ, 2);	/* pages 0x12000, 0x13000 */
	add_ok(set, 0x16000, 0x2000, HWBP_WRITE, 3);	/* pages 0x16000, 0x17000 */
	RUNS(set, { 0x11000, 0x1000, RW, R }, { 0x12000, 0x2000, RW, NONE },
	     { 0x16000, 0x2000, RW, R });
	CHANGES(set, { 0x11000, 0x1000, RW, R }, { 0x12000, 0x2000, RW, NONE },
		{ 0x16000, 0x2000, RW, R });
	assert_int_equal(hwbp_guard_set_restore(set, got, 8), 0);
	assert_int_equal(hwbp_guard_set_commit(set), 0);
	CHANGES(set);

	assert_int_equal(hwbp_guard_range_remove(set, 2), 0);
	/* 0x12000 falls back to range 1's write guard, 0x13000 to its original */
	CHANGES(set, { 0x12000, 0x1000, RW, R }, { 0x13000, 0x1000, RW, RW });
	RUNS(set, { 0x11000, 0x2000, RW, R }, { 0x16000, 0x2000, RW, R });
	/* restore goes by what was committed, in as few calls as it can */
	assert_int_equal(hwbp_guard_set_restore(set, got, 8), 2);
	expect_runs(2, got, 2, (const struct hwbp_guard_run[]){
		{ 0x11000, 0x3000, RW, RW }, { 0x16000, 0x2000, RW, RW } });
	assert_int_equal(hwbp_guard_set_commit(set), 0);
	assert_int_equal(hwbp_guard_set_restore(set, got, 1), 2);	/* room for one */
	assert_int_equal(got[0].addr, 0x11000);
	assert_int_equal(got[0].len, 0x2000);
	assert_int_equal(hwbp_guard_range_remove(set, 1), 0);
	assert_int_equal(hwbp_guard_range_remove(set, 3), 0);
	CHANGES(set, { 0x11000, 0x2000, RW, RW }, { 0x16000, 0x2000, RW, RW });
	assert_int_equal(hwbp_guard_set_commit(set), 0);
	assert_int_equal(hwbp_guard_set_restore(set, got, 8), 0);
	hwbp_guard_set_destroy(set);
}

/* Adjacent pages with the same original and new protection are one run. */
static void test_runs_merge_across_mappings(void **state)
{
	struct hwbp_guard_set *set = mkset(4 * KB, real_maps);

	(void)state;
	/* the program's .data (rw-p, file) and [heap] (rw-p) are adjacent */
	add_ok(set, 0x55555555fff8, 16, HWBP_WRITE, 1);
	RUNS(set, { 0x55555555f000, 0x2000, RW, R });
	/* its .rodata (r--p) before .data: read watch on both, two originals */
	add_ok(set, 0x55555555eff0, 0x20, HWBP_READ, 2);
	RUNS(set, { 0x55555555e000, 0x1000, R, NONE }, { 0x55555555f000, 0x1000, RW, NONE },
	     { 0x555555560000, 0x1000, RW, R });
	hwbp_guard_set_destroy(set);
}

static void test_dormant_ranges(void **state)
{
	struct hwbp_guard_set *set = mkset(4 * KB, real_maps);
	struct hwbp_guard_run got[4];

	(void)state;
	add_ok(set, 0x55555555b100, 8, HWBP_WRITE, 1);	/* r--p: can never be written */
	assert_true(hwbp_guard_range_dormant(set, 1));
	assert_int_equal(hwbp_guard_set_runs(set, got, 4), 0);
	add_ok(set, 0x7ffff7d00010, 8, HWBP_RW, 2);	/* ---p */
	assert_true(hwbp_guard_range_dormant(set, 2));
	assert_int_equal(hwbp_guard_set_runs(set, got, 4), 0);
	add_ok(set, 0x55555555b200, 8, HWBP_RW, 3);	/* r--p but readable */
	assert_false(hwbp_guard_range_dormant(set, 3));
	RUNS(set, { 0x55555555b000, 0x1000, R, NONE });
	/* a dormant write range spanning into a writable page is not dormant */
	add_ok(set, 0x55555555eff8, 16, HWBP_WRITE, 4);
	assert_false(hwbp_guard_range_dormant(set, 4));
	RUNS(set, { 0x55555555b000, 0x1000, R, NONE }, { 0x55555555f000, 0x1000, RW, R });
	assert_false(hwbp_guard_range_dormant(set, 42));
	hwbp_guard_set_destroy(set);
}

/* 4, 16 and 64 KiB pages: the same requests, each page size's own runs. */
static void test_page_sizes(void **state)
{
	static const uint64_t pages[] = { 4 * KB, 16 * KB, 64 * KB };
	char why[256];

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		uint64_t p = pages[i], base = 0x40000000;
		char text[256];
		struct hwbp_guard_set *set;

		uint64_t mid = base + 4 * p, end = base + 16 * p;

		snprintf(text, sizeof(text),
			 "%" PRIx64 "-%" PRIx64 " r--p 00000000 fe:00 5 /lib/x.so\n"
			 "%" PRIx64 "-%" PRIx64 " rw-p 00000000 00:00 0\n",
			 base, mid, mid, end);
		set = mkset(p, text);
		add_ok(set, base + 5 * p + 5, 2, HWBP_WRITE, 1);
		add_ok(set, base + 7 * p - 1, 2, HWBP_WRITE, 2);	/* pages 6 and 7 */
		add_ok(set, base + 4 * p - 4, 8, HWBP_READ, 3);		/* pages 3 and 4 */
		RUNS(set, { base + 3 * p, p, R, NONE }, { base + 4 * p, p, RW, NONE },
		     { base + 5 * p, 3 * p, RW, R });
		assert_int_equal(hwbp_guard_set_commit(set), 0);
		assert_int_equal(verdict(set, base + 5 * p + 5, 1, HWBP_WRITE), HWBP_GUARD_HIT);
		assert_int_equal(verdict(set, base + 5 * p + 4, 1, HWBP_WRITE), HWBP_GUARD_STEP);
		assert_int_equal(verdict(set, base + 6 * p - 1, 1, HWBP_WRITE), HWBP_GUARD_STEP);
		assert_int_equal(verdict(set, base + 8 * p, 1, HWBP_WRITE), HWBP_GUARD_FOREIGN);
		assert_int_equal(verdict(set, base + 3 * p, 1, HWBP_READ), HWBP_GUARD_STEP);
		assert_int_equal(verdict(set, base + 4 * p - 4, 8, HWBP_READ), HWBP_GUARD_HIT);
		assert_int_equal(hwbp_guard_range_remove(set, 2), 0);
		CHANGES(set, { base + 6 * p, 2 * p, RW, RW });
		hwbp_guard_set_destroy(set);
	}

	/* maps of 4 KiB pages given to a 64 KiB set: refused, nothing taken */
	{
		struct hwbp_guard_maps *m = NULL;
		struct hwbp_guard_set *set = NULL;

		assert_int_equal(hwbp_guard_maps_parse(real_maps, &m, NULL, 0), 0);
		assert_int_equal(hwbp_guard_set_create(64 * KB, &set), 0);
		assert_int_equal(hwbp_guard_set_maps(set, m, why, sizeof(why)), -EINVAL);
		assert_string_equal(why, "mapping 555555554000-555555556000 is not aligned to the "
					 "page size 65536");
		hwbp_guard_set_destroy(set);
		hwbp_guard_maps_free(m);
	}
}

/* A 1 MiB and a 1 GiB range: a few runs, computed from the edges only. */
static void test_big_ranges(void **state)
{
	struct hwbp_guard_set *set = mkset(4 * KB, "200000000-300000000 rw-p 00000000 00:00 0\n");
	size_t nhits;
	uint64_t cookie = 0;

	(void)state;
	add_ok(set, 0x200100000, MB, HWBP_WRITE, 1);
	RUNS(set, { 0x200100000, MB, RW, R });
	add_ok(set, 0x210000001, 1024 * MB, HWBP_RW, 2);
	RUNS(set, { 0x200100000, MB, RW, R }, { 0x210000000, 1024 * MB + 4 * KB, RW, NONE });
	add_ok(set, 0x200180000, MB, HWBP_READ, 3);	/* half over range 1 */
	RUNS(set, { 0x200100000, 512 * KB, RW, R }, { 0x200180000, MB, RW, NONE },
	     { 0x210000000, 1024 * MB + 4 * KB, RW, NONE });
	assert_int_equal(hwbp_guard_set_commit(set), 0);
	assert_int_equal(classify(set, 0x2001fffff, 1, HWBP_WRITE, &nhits, &cookie, 1),
			 HWBP_GUARD_HIT);
	assert_int_equal(nhits, 1);
	assert_int_equal(cookie, 1);
	assert_int_equal(verdict(set, 0x200200000, 1, HWBP_WRITE), HWBP_GUARD_STEP);
	assert_int_equal(verdict(set, 0x200280000, 1, HWBP_WRITE), HWBP_GUARD_FOREIGN);
	assert_int_equal(verdict(set, 0x210000000, 1, HWBP_READ), HWBP_GUARD_STEP);
	assert_int_equal(verdict(set, 0x210000001, 1, HWBP_READ), HWBP_GUARD_HIT);
	assert_int_equal(verdict(set, 0x230000000, 8, HWBP_RW), HWBP_GUARD_HIT);
	assert_int_equal(verdict(set, 0x250000000, 1, HWBP_WRITE), HWBP_GUARD_HIT);	/* last */
	assert_int_equal(verdict(set, 0x250000001, 1, HWBP_WRITE), HWBP_GUARD_STEP);
	assert_int_equal(verdict(set, 0x250001000, 1, HWBP_WRITE), HWBP_GUARD_FOREIGN);
	hwbp_guard_set_destroy(set);
}

/* Maps read again after the commit show hwbp's protection; the original stays. */
static void test_new_maps_keep_the_original(void **state)
{
	struct hwbp_guard_set *set = mkset(4 * KB, "10000-14000 rw-p 00000000 00:00 0\n");
	struct hwbp_guard_maps *m = NULL;
	char why[256];

	(void)state;
	add_ok(set, 0x11000, 8, HWBP_WRITE, 1);
	add_ok(set, 0x12000, 8, HWBP_READ, 2);
	assert_int_equal(hwbp_guard_set_commit(set), 0);
	assert_int_equal(hwbp_guard_maps_parse("10000-11000 rw-p 00000000 00:00 0\n"
					       "11000-12000 r--p 00000000 00:00 0\n"
					       "12000-13000 ---p 00000000 00:00 0\n"
					       "13000-14000 rw-p 00000000 00:00 0\n"
					       "20000-21000 rw-p 00000000 00:00 0\n",
					       &m, why, sizeof(why)), 0);
	assert_int_equal(hwbp_guard_set_maps(set, m, why, sizeof(why)), 0);
	RUNS(set, { 0x11000, 0x1000, RW, R }, { 0x12000, 0x1000, RW, NONE });
	assert_false(hwbp_guard_range_dormant(set, 1));
	assert_int_equal(verdict(set, 0x11000, 4, HWBP_WRITE), HWBP_GUARD_HIT);
	assert_int_equal(verdict(set, 0x12008, 4, HWBP_WRITE), HWBP_GUARD_STEP);
	assert_int_equal(hwbp_guard_range_remove(set, 1), 0);
	assert_int_equal(hwbp_guard_range_remove(set, 2), 0);
	CHANGES(set, { 0x11000, 0x2000, RW, RW });

	/* new maps without a guarded range's memory: refused, the old maps stay */
	add_ok(set, 0x13000, 8, HWBP_WRITE, 3);
	assert_int_equal(hwbp_guard_maps_parse("10000-13000 rw-p 00000000 00:00 0\n", &m, why,
					       sizeof(why)), 0);
	assert_int_equal(hwbp_guard_set_maps(set, m, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "0x13000/8 is in unmapped memory at 0x13000: there is no page "
				 "to guard");
	hwbp_guard_maps_free(m);
	RUNS(set, { 0x13000, 0x1000, RW, R });
	hwbp_guard_set_destroy(set);
}

/* --- a forked child, and the target's own mprotect ------------------------------ */

static const char clone_maps[] =
	"10000-18000 rw-p 00000000 00:00 0\n"
	"18000-1a000 r--p 00000000 fe:00 5                          /lib/x.so\n"
	"1a000-1b000 rw-p 00000000 00:00 0                          [stack]\n";

static void test_clone_copies_everything(void **state)
{
	const struct hwbp_guard_forbid forbid[] = { { 0x17000, 0x100, HWBP_GUARD_TCB, 77 } };
	struct hwbp_guard_set *set = mkset(4 * KB, clone_maps);
	struct hwbp_guard_set *copy = (struct hwbp_guard_set *)&copy;
	char why[256];

	(void)state;
	assert_int_equal(hwbp_guard_set_forbid(set, forbid, 1, why, sizeof(why)), 0);
	add_ok(set, 0x11000, 8, HWBP_WRITE, 1);
	add_ok(set, 0x12ff8, 16, HWBP_RW, 2);		/* pages 0x12000, 0x13000 */
	add_ok(set, 0x18010, 4, HWBP_READ, 3);		/* r--p */
	assert_int_equal(hwbp_guard_set_commit(set), 0);
	add_ok(set, 0x15000, 8, HWBP_WRITE, 4);		/* wanted, not committed */
	assert_int_equal(hwbp_guard_set_clone(set, &copy), 0);
	assert_ptr_not_equal(copy, set);
	assert_int_equal(hwbp_guard_set_page(copy), 4 * KB);
	assert_int_equal(hwbp_guard_set_nranges(copy), 4);

	/* the same wanted and committed runs, ranges, maps and forbid list */
	RUNS(copy, { 0x11000, 0x1000, RW, R }, { 0x12000, 0x2000, RW, NONE },
	     { 0x15000, 0x1000, RW, R }, { 0x18000, 0x1000, R, NONE });
	CHANGES(copy, { 0x15000, 0x1000, RW, R });
	RESTORE(copy, { 0x11000, 0x3000, RW, RW }, { 0x18000, 0x1000, R, R });
	assert_int_equal(verdict(copy, 0x11000, 1, HWBP_WRITE), HWBP_GUARD_HIT);
	assert_int_equal(verdict(copy, 0x18010, 1, HWBP_READ), HWBP_GUARD_HIT);
	assert_int_equal(verdict(copy, 0x15000, 1, HWBP_WRITE), HWBP_GUARD_FOREIGN);
	assert_false(hwbp_guard_range_dormant(copy, 3));
	assert_int_equal(hwbp_guard_range_add(copy, 0x16000, 1, HWBP_WRITE, 4, why, sizeof(why)),
			 -EEXIST);
	refused(copy, 0x17010, 8, HWBP_WRITE,
		"0x17010/8 is in the thread control block of thread 77: the kernel writes the "
		"thread id there at exit (CLONE_CHILD_CLEARTID)");
	refused(copy, 0x1a000, 8, HWBP_WRITE,
		"0x1a000/8 is on [stack]: the kernel writes signal frames there");
	refused(copy, 0x1b000, 8, HWBP_WRITE,
		"0x1b000/8 is in unmapped memory at 0x1b000: there is no page to guard");

	/* the child changes: the parent does not */
	assert_int_equal(hwbp_guard_range_remove(copy, 1), 0);
	assert_int_equal(hwbp_guard_range_remove(copy, 2), 0);
	add_ok(copy, 0x10000, 8, HWBP_RW, 5);
	assert_int_equal(hwbp_guard_set_reprotect(copy, 0x18000, 0x1000, RW), 0);
	assert_int_equal(hwbp_guard_set_forbid(copy, NULL, 0, why, sizeof(why)), 0);
	assert_int_equal(hwbp_guard_set_commit(copy), 0);
	RUNS(copy, { 0x10000, 0x1000, RW, NONE }, { 0x15000, 0x1000, RW, R },
	     { 0x18000, 0x1000, RW, NONE });
	assert_int_equal(hwbp_guard_set_nranges(copy), 3);
	assert_int_equal(hwbp_guard_set_nranges(set), 4);
	RUNS(set, { 0x11000, 0x1000, RW, R }, { 0x12000, 0x2000, RW, NONE },
	     { 0x15000, 0x1000, RW, R }, { 0x18000, 0x1000, R, NONE });
	CHANGES(set, { 0x15000, 0x1000, RW, R });
	RESTORE(set, { 0x11000, 0x3000, RW, RW }, { 0x18000, 0x1000, R, R });
	refused(set, 0x17010, 8, HWBP_WRITE,
		"0x17010/8 is in the thread control block of thread 77: the kernel writes the "
		"thread id there at exit (CLONE_CHILD_CLEARTID)");

	/* the parent changes: the child does not */
	assert_int_equal(hwbp_guard_range_remove(set, 3), 0);
	assert_int_equal(hwbp_guard_set_reprotect(set, 0x15000, 0x1000, R), 0);
	RUNS(set, { 0x11000, 0x1000, RW, R }, { 0x12000, 0x2000, RW, NONE });
	RUNS(copy, { 0x10000, 0x1000, RW, NONE }, { 0x15000, 0x1000, RW, R },
	     { 0x18000, 0x1000, RW, NONE });

	/* the child outlives the parent, names and all */
	hwbp_guard_set_destroy(set);
	RESTORE(copy, { 0x10000, 0x1000, RW, RW }, { 0x15000, 0x1000, RW, RW },
		{ 0x18000, 0x1000, RW, RW });
	refused(copy, 0x1a000, 8, HWBP_WRITE,
		"0x1a000/8 is on [stack]: the kernel writes signal frames there");
	hwbp_guard_set_destroy(copy);
}

static void test_clone_of_an_empty_set(void **state)
{
	struct hwbp_guard_set *set = NULL, *copy = NULL;
	struct hwbp_guard_run got[4];

	(void)state;
	assert_int_equal(hwbp_guard_set_create(16 * KB, &set), 0);
	assert_int_equal(hwbp_guard_set_clone(set, &copy), 0);
	assert_int_equal(hwbp_guard_set_page(copy), 16 * KB);
	assert_int_equal(hwbp_guard_set_nranges(copy), 0);
	assert_int_equal(hwbp_guard_set_runs(copy, got, 4), 0);
	refused(copy, 0x10000, 1, HWBP_WRITE,
		"0x10000/1 is in unmapped memory at 0x10000: there is no page to guard");
	hwbp_guard_set_destroy(set);
	hwbp_guard_set_destroy(copy);

	/* maps, but no range */
	set = mkset(4 * KB, "");
	assert_int_equal(hwbp_guard_set_clone(set, &copy), 0);
	assert_int_equal(hwbp_guard_set_reprotect(copy, 0x10000, 0x1000, R), 0);
	assert_int_equal(hwbp_guard_set_runs(copy, got, 4), 0);
	hwbp_guard_set_destroy(set);
	hwbp_guard_set_destroy(copy);
}

/* The example of plan.h, then the same pages made rw- and --- again. */
static void test_reprotect_read_only_then_back(void **state)
{
	struct hwbp_guard_set *set = mkset(4 * KB, "10000-14000 rw-p 00000000 00:00 0\n");

	(void)state;
	add_ok(set, 0x11000, 8, HWBP_WRITE, 1);
	add_ok(set, 0x12000, 8, HWBP_RW, 2);
	assert_int_equal(hwbp_guard_set_commit(set), 0);
	RESTORE(set, { 0x11000, 0x2000, RW, RW });

	/* r--: the write range is dormant, the read/write one needs --- */
	assert_int_equal(hwbp_guard_set_reprotect(set, 0x11000, 0x2000, R), 0);
	RUNS(set, { 0x12000, 0x1000, R, NONE });
	CHANGES(set, { 0x12000, 0x1000, R, NONE });
	RESTORE(set);
	assert_true(hwbp_guard_range_dormant(set, 1));
	assert_false(hwbp_guard_range_dormant(set, 2));
	/* a write there is the target's own fault now, and nothing is guarded yet */
	assert_int_equal(verdict(set, 0x11000, 1, HWBP_WRITE), HWBP_GUARD_FOREIGN);
	assert_int_equal(verdict(set, 0x12000, 1, HWBP_READ), HWBP_GUARD_FOREIGN);
	assert_int_equal(hwbp_guard_set_commit(set), 0);
	CHANGES(set);
	RESTORE(set, { 0x12000, 0x1000, R, R });
	assert_int_equal(verdict(set, 0x12000, 1, HWBP_READ), HWBP_GUARD_HIT);
	assert_int_equal(verdict(set, 0x12000, 1, HWBP_WRITE), HWBP_GUARD_FOREIGN);

	/* rw- again: the write range needs r-- again */
	assert_int_equal(hwbp_guard_set_reprotect(set, 0x11000, 0x2000, RW), 0);
	RUNS(set, { 0x11000, 0x1000, RW, R }, { 0x12000, 0x1000, RW, NONE });
	CHANGES(set, { 0x11000, 0x1000, RW, R }, { 0x12000, 0x1000, RW, NONE });
	RESTORE(set);
	assert_false(hwbp_guard_range_dormant(set, 1));
	assert_int_equal(hwbp_guard_set_commit(set), 0);
	RESTORE(set, { 0x11000, 0x2000, RW, RW });
	assert_int_equal(verdict(set, 0x11000, 1, HWBP_WRITE), HWBP_GUARD_HIT);

	/* ---: both dormant, nothing to guard or restore */
	assert_int_equal(hwbp_guard_set_reprotect(set, 0x11000, 0x2000, NONE), 0);
	RUNS(set);
	CHANGES(set);
	RESTORE(set);
	assert_true(hwbp_guard_range_dormant(set, 1));
	assert_true(hwbp_guard_range_dormant(set, 2));
	assert_int_equal(verdict(set, 0x12000, 1, HWBP_READ), HWBP_GUARD_FOREIGN);
	hwbp_guard_set_destroy(set);
}

/* Only the pages given change: the mapping is split at both ends. */
static void test_reprotect_splits_the_mapping(void **state)
{
	struct hwbp_guard_set *set = mkset(4 * KB, "10000-14000 rw-p 00000000 00:00 0\n");

	(void)state;
	assert_int_equal(hwbp_guard_set_reprotect(set, 0x11000, 1, R), 0);	/* one page */
	add_ok(set, 0x10ff8, 16, HWBP_WRITE, 1);
	RUNS(set, { 0x10000, 0x1000, RW, R });
	assert_false(hwbp_guard_range_dormant(set, 1));
	add_ok(set, 0x11ff8, 16, HWBP_RW, 2);
	RUNS(set, { 0x10000, 0x1000, RW, R }, { 0x11000, 0x1000, R, NONE },
	     { 0x12000, 0x1000, RW, NONE });
	add_ok(set, 0x11100, 8, HWBP_WRITE, 3);
	assert_true(hwbp_guard_range_dormant(set, 3));
	hwbp_guard_set_destroy(set);
}

/*
 * A page in the middle of a committed run: the run is cut around it, and
 * committing then restoring gives the target's own protection as original.
 */
static void test_reprotect_cuts_a_committed_run(void **state)
{
	struct hwbp_guard_set *set = mkset(4 * KB, "10000-20000 rw-p 00000000 00:00 0\n");
	struct hwbp_guard_maps *m = NULL;
	char why[256];

	(void)state;
	add_ok(set, 0x11000, 0x4000, HWBP_WRITE, 1);	/* pages 0x11000..0x14000 */
	assert_int_equal(hwbp_guard_set_commit(set), 0);

	/* the target makes 0x12000 rw- again (LEN 1: the whole page) */
	assert_int_equal(hwbp_guard_set_reprotect(set, 0x12000, 1, RW), 0);
	RUNS(set, { 0x11000, 0x4000, RW, R });
	CHANGES(set, { 0x12000, 0x1000, RW, R });
	RESTORE(set, { 0x11000, 0x1000, RW, RW }, { 0x13000, 0x2000, RW, RW });
	assert_int_equal(verdict(set, 0x12000, 1, HWBP_WRITE), HWBP_GUARD_FOREIGN);
	assert_int_equal(verdict(set, 0x13000, 1, HWBP_WRITE), HWBP_GUARD_HIT);

	/* then rwx: guarded as r-x on top of it */
	assert_int_equal(hwbp_guard_set_reprotect(set, 0x12000, 0x1000, RWX), 0);
	RUNS(set, { 0x11000, 0x1000, RW, R }, { 0x12000, 0x1000, RWX, RX },
	     { 0x13000, 0x2000, RW, R });
	CHANGES(set, { 0x12000, 0x1000, RWX, RX });
	assert_int_equal(hwbp_guard_set_commit(set), 0);
	CHANGES(set);
	RESTORE(set, { 0x11000, 0x1000, RW, RW }, { 0x12000, 0x1000, RWX, RWX },
		{ 0x13000, 0x2000, RW, RW });
	assert_int_equal(verdict(set, 0x12000, 1, HWBP_WRITE), HWBP_GUARD_HIT);

	/* maps read again show hwbp's protection: the committed originals stay */
	assert_int_equal(hwbp_guard_maps_parse("10000-11000 rw-p 00000000 00:00 0\n"
					       "11000-12000 r--p 00000000 00:00 0\n"
					       "12000-13000 r-xp 00000000 00:00 0\n"
					       "13000-15000 r--p 00000000 00:00 0\n"
					       "15000-20000 rw-p 00000000 00:00 0\n",
					       &m, why, sizeof(why)), 0);
	assert_int_equal(hwbp_guard_set_maps(set, m, why, sizeof(why)), 0);
	RUNS(set, { 0x11000, 0x1000, RW, R }, { 0x12000, 0x1000, RWX, RX },
	     { 0x13000, 0x2000, RW, R });
	CHANGES(set);

	/* over the run's first page and the free page before it: cut at the start */
	assert_int_equal(hwbp_guard_set_reprotect(set, 0x10000, 0x2000, R), 0);
	RUNS(set, { 0x12000, 0x1000, RWX, RX }, { 0x13000, 0x2000, RW, R });
	CHANGES(set);
	RESTORE(set, { 0x12000, 0x1000, RWX, RWX },
		{ 0x13000, 0x2000, RW, RW });
	/* over the run's last page and past it: cut at the end */
	assert_int_equal(hwbp_guard_set_reprotect(set, 0x14000, 0x3000, NONE), 0);
	RUNS(set, { 0x12000, 0x1000, RWX, RX }, { 0x13000, 0x1000, RW, R });
	RESTORE(set, { 0x12000, 0x1000, RWX, RWX },
		{ 0x13000, 0x1000, RW, RW });
	/* over all of it */
	assert_int_equal(hwbp_guard_set_reprotect(set, 0x10000, 0x10000, RW), 0);
	RUNS(set, { 0x11000, 0x4000, RW, R });
	CHANGES(set, { 0x11000, 0x4000, RW, R });
	RESTORE(set);
	assert_int_equal(hwbp_guard_set_commit(set), 0);
	RESTORE(set, { 0x11000, 0x4000, RW, RW });
	hwbp_guard_set_destroy(set);
}

/* Pages hwbp never guarded: only the recorded protection changes. */
static void test_reprotect_unguarded_pages(void **state)
{
	struct hwbp_guard_set *set = mkset(4 * KB, "10000-14000 rw-p 00000000 00:00 0\n"
						   "20000-22000 rw-p 00001000 fe:00 6 /lib/y.so\n");

	(void)state;
	add_ok(set, 0x11000, 8, HWBP_WRITE, 1);
	assert_int_equal(hwbp_guard_set_commit(set), 0);
	assert_int_equal(hwbp_guard_set_reprotect(set, 0x13000, 0x1000, R), 0);
	RUNS(set, { 0x11000, 0x1000, RW, R });
	CHANGES(set);
	RESTORE(set, { 0x11000, 0x1000, RW, RW });
	add_ok(set, 0x13000, 8, HWBP_WRITE, 2);
	assert_true(hwbp_guard_range_dormant(set, 2));
	add_ok(set, 0x13ff0, 8, HWBP_RW, 3);
	RUNS(set, { 0x11000, 0x1000, RW, R }, { 0x13000, 0x1000, R, NONE });

	/* across a gap and into a file mapping: the gap stays unmapped */
	assert_int_equal(hwbp_guard_set_reprotect(set, 0x14000, 0xd000, R), 0);
	add_ok(set, 0x20ff8, 8, HWBP_WRITE, 4);
	assert_true(hwbp_guard_range_dormant(set, 4));
	add_ok(set, 0x21000, 8, HWBP_WRITE, 5);
	assert_false(hwbp_guard_range_dormant(set, 5));
	RUNS(set, { 0x11000, 0x1000, RW, R }, { 0x13000, 0x1000, R, NONE },
	     { 0x21000, 0x1000, RW, R });
	refused(set, 0x15000, 8, HWBP_WRITE,
		"0x15000/8 is in unmapped memory at 0x15000: there is no page to guard");
	hwbp_guard_set_destroy(set);
}

static void test_reprotect_bad_input(void **state)
{
	struct hwbp_guard_set *set = mkset(16 * KB, "40000-60000 rw-p 00000000 00:00 0\n");

	(void)state;
	add_ok(set, 0x44000, 8, HWBP_WRITE, 1);
	assert_int_equal(hwbp_guard_set_commit(set), 0);
	assert_int_equal(hwbp_guard_set_reprotect(set, 0x44000, 0, R), -EINVAL);
	assert_int_equal(hwbp_guard_set_reprotect(set, 0x41000, 0x4000, R), -EINVAL);
	assert_int_equal(hwbp_guard_set_reprotect(set, 0x44001, 1, R), -EINVAL);
	assert_int_equal(hwbp_guard_set_reprotect(set, 0xffffffffffff8000, 0x10000, R), -EINVAL);
	assert_int_equal(hwbp_guard_set_reprotect(set, 0xffffffffffffc000, 0x4000, R), -EINVAL);
	assert_int_equal(hwbp_guard_set_reprotect(set, 0x44000, UINT64_MAX, R), -EINVAL);
	assert_int_equal(hwbp_guard_set_reprotect(set, 0x44000, 0x4000, R | PROT_GROWSDOWN),
			 -EINVAL);
	assert_int_equal(hwbp_guard_set_reprotect(set, 0x44000, 0x4000, 0x10), -EINVAL);
	/* nothing changed */
	RUNS(set, { 0x44000, 0x4000, RW, R });
	CHANGES(set);
	RESTORE(set, { 0x44000, 0x4000, RW, RW });
	assert_false(hwbp_guard_range_dormant(set, 1));
	/* the last page below the top is fine, though nothing is mapped there */
	assert_int_equal(hwbp_guard_set_reprotect(set, 0xffffffffffff8000, 0x4000, R), 0);
	RUNS(set, { 0x44000, 0x4000, RW, R });
	hwbp_guard_set_destroy(set);
}

/* --- refusals --------------------------------------------------------------- */

static void test_refusals_of_kernel_memory(void **state)
{
	struct hwbp_guard_set *set = mkset(4 * KB, real_maps);
	struct hwbp_guard_run got[4];

	(void)state;
	refused(set, 0x7fffffffe000, 8, HWBP_WRITE,
		"0x7fffffffe000/8 is on [stack]: the kernel writes signal frames there");
	refused(set, 0x7ffff7fc7100, 4, HWBP_READ,
		"0x7ffff7fc7100/4 is in [vdso]: the kernel's own code page, which hwbp never "
		"protects");
	refused(set, 0x7ffff7fc1000, 8, HWBP_READ,
		"0x7ffff7fc1000/8 is in [vvar]: the kernel updates it (the clocks) without a fault");
	refused(set, 0x7ffff7fc6000, 8, HWBP_RW,
		"0x7ffff7fc6000/8 is in [vvar_vclock]: the kernel updates it (the clocks) without "
		"a fault");
	refused(set, 0xffffffffff600000, 8, HWBP_READ,
		"0xffffffffff600000/8 is in [vsyscall]: a fixed kernel page that mprotect cannot "
		"change");
	refused(set, 0x7ffff7b00010, 4, HWBP_WRITE,
		"0x7ffff7b00010/4 is in a shared mapping of /dev/shm/ring buffer: another "
		"process can write it unseen");
	refused(set, 0x7ffff7c85000, 4, HWBP_READ,
		"0x7ffff7c85000/4 is in a shared mapping of "
		"/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache: another process can write "
		"it unseen");
	refused(set, 0x1000, 8, HWBP_WRITE,
		"0x1000/8 is in unmapped memory at 0x1000: there is no page to guard");
	/* runs into the gap after the deleted library */
	refused(set, 0x7ffff7b11ff8, 16, HWBP_WRITE,
		"0x7ffff7b11ff8/16 is in unmapped memory at 0x7ffff7b12000: there is no page to "
		"guard");
	/* the heap's last page, and the deleted library's, each before a gap */
	add_ok(set, 0x555555580ff8, 8, HWBP_WRITE, 1);
	add_ok(set, 0x7ffff7b11ff8, 8, HWBP_WRITE, 2);
	assert_int_equal(hwbp_guard_set_runs(set, got, 4), 2);
	/* a range spanning a private and a shared mapping */
	refused(set, 0x7ffff7affff8, 16, HWBP_WRITE,
		"0x7ffff7affff8/16 is in a shared mapping of /dev/shm/ring buffer: another "
		"process can write it unseen");
	hwbp_guard_set_destroy(set);
}

static void test_refusals_of_bad_requests(void **state)
{
	struct hwbp_guard_set *set = mkset(4 * KB, real_maps);
	char why[256];

	(void)state;
	refused(set, 0x555555560000, 0, HWBP_WRITE, "0x555555560000/0: length 0");
	refused(set, 0xfffffffffffffff0, 0x20, HWBP_WRITE,
		"0xfffffffffffffff0/32: wraps past the top of the address space");
	refused(set, 0xfffffffffffff000, 8, HWBP_WRITE,
		"0xfffffffffffff000/8: its last page ends the address space, where no user page "
		"is");
	refused(set, 0x555555556000, 4, HWBP_EXEC,
		"0x555555556000/4: only r, w and rw are guarded by page protection (x is a "
		"software breakpoint)");
	add_ok(set, 0x555555560000, 8, HWBP_WRITE, 5);
	assert_int_equal(hwbp_guard_range_add(set, 0x555555560100, 8, HWBP_WRITE, 5, why,
					      sizeof(why)), -EEXIST);
	assert_string_equal(why, "0x555555560100/8: cookie 5 is in use");
	RUNS(set, { 0x555555560000, 0x1000, RW, R });
	hwbp_guard_set_destroy(set);

	/* before any maps, everything is unmapped */
	assert_int_equal(hwbp_guard_set_create(4 * KB, &set), 0);
	refused(set, 0x10000, 1, HWBP_WRITE,
		"0x10000/1 is in unmapped memory at 0x10000: there is no page to guard");
	hwbp_guard_set_destroy(set);
}

static void test_refusals_of_thread_memory(void **state)
{
	const struct hwbp_guard_forbid forbid[] = {
		{ 0x7ffff7a80000, 0x10000, HWBP_GUARD_THREAD_STACK, 4242 },
		{ 0x7ffff7a40100, 0x700, HWBP_GUARD_TCB, 4243 },
		{ 0x7ffff7a50fe0, 32, HWBP_GUARD_RSEQ, 4243 },
		{ 0x7ffff7a60000, 0, HWBP_GUARD_RSEQ, 1 },	/* ignored */
	};
	struct hwbp_guard_set *set = mkset(4 * KB, real_maps);
	char why[256];

	(void)state;
	assert_int_equal(hwbp_guard_set_forbid(set, forbid, 4, why, sizeof(why)), 0);
	refused(set, 0x7ffff7a81000, 8, HWBP_WRITE,
		"0x7ffff7a81000/8 is on the stack of thread 4242: the kernel writes signal frames "
		"there");
	/* not on the stack, but on its first page */
	refused(set, 0x7ffff7a7fff0, 0x20, HWBP_WRITE,
		"0x7ffff7a7fff0/32 is on the stack of thread 4242: the kernel writes signal "
		"frames there");
	refused(set, 0x7ffff7a8fff8, 16, HWBP_READ,
		"0x7ffff7a8fff8/16 is on the stack of thread 4242: the kernel writes signal "
		"frames there");
	refused(set, 0x7ffff7a40010, 8, HWBP_WRITE,
		"0x7ffff7a40010/8 shares page 0x7ffff7a40000 with the thread control block of "
		"thread 4243: the kernel writes the thread id there at exit "
		"(CLONE_CHILD_CLEARTID)");
	refused(set, 0x7ffff7a3fff8, 9, HWBP_WRITE,
		"0x7ffff7a3fff8/9 shares page 0x7ffff7a40000 with the thread control block of "
		"thread 4243: the kernel writes the thread id there at exit "
		"(CLONE_CHILD_CLEARTID)");
	refused(set, 0x7ffff7a50fd0, 0x40, HWBP_RW,
		"0x7ffff7a50fd0/64 is in the rseq area of thread 4243: the kernel writes it at "
		"every preemption and migration");
	/* the pages next to them are fine */
	add_ok(set, 0x7ffff7a7fff0, 0x10, HWBP_WRITE, 1);
	add_ok(set, 0x7ffff7a90000, 8, HWBP_WRITE, 2);
	add_ok(set, 0x7ffff7a3fff8, 8, HWBP_WRITE, 3);
	add_ok(set, 0x7ffff7a41000, 8, HWBP_WRITE, 4);
	add_ok(set, 0x7ffff7a60000, 8, HWBP_WRITE, 5);

	/* a new list that reaches a guarded page is refused, the old one stays */
	const struct hwbp_guard_forbid more[] = {
		{ 0x7ffff7a90ff0, 0x20, HWBP_GUARD_THREAD_STACK, 4250 },
	};
	assert_int_equal(hwbp_guard_set_forbid(set, more, 1, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "0x7ffff7a90000/8 shares page 0x7ffff7a90000 with the stack of "
				 "thread 4250: the kernel writes signal frames there");
	refused(set, 0x7ffff7a81000, 8, HWBP_WRITE,
		"0x7ffff7a81000/8 is on the stack of thread 4242: the kernel writes signal frames "
		"there");
	assert_int_equal(hwbp_guard_set_forbid(set, NULL, 0, why, sizeof(why)), 0);
	add_ok(set, 0x7ffff7a81000, 8, HWBP_WRITE, 6);
	hwbp_guard_set_destroy(set);
}

/* --- classification ----------------------------------------------------------- */

static void test_classify_range_edges(void **state)
{
	struct hwbp_guard_set *set = mkset(4 * KB, "10000-20000 rw-p 00000000 00:00 0\n"
						   "20000-21000 r--p 00000000 00:00 0\n");
	uint64_t c[4];
	size_t n;

	(void)state;
	add_ok(set, 0x10ff0, 8, HWBP_WRITE, 1);
	/* nothing is guarded until the engine commits */
	assert_int_equal(verdict(set, 0x10ff0, 1, HWBP_WRITE), HWBP_GUARD_FOREIGN);
	assert_int_equal(hwbp_guard_set_commit(set), 0);
	assert_int_equal(verdict(set, 0x10fef, 1, HWBP_WRITE), HWBP_GUARD_STEP);
	assert_int_equal(verdict(set, 0x10ff0, 1, HWBP_WRITE), HWBP_GUARD_HIT);
	assert_int_equal(verdict(set, 0x10ff7, 1, HWBP_WRITE), HWBP_GUARD_HIT);
	assert_int_equal(verdict(set, 0x10ff8, 1, HWBP_WRITE), HWBP_GUARD_STEP);
	assert_int_equal(verdict(set, 0x10fe8, 8, HWBP_WRITE), HWBP_GUARD_STEP);
	assert_int_equal(verdict(set, 0x10fe9, 8, HWBP_WRITE), HWBP_GUARD_HIT);
	assert_int_equal(verdict(set, 0x10ff7, 8, HWBP_WRITE), HWBP_GUARD_HIT);
	assert_int_equal(verdict(set, 0x10ff8, 8, HWBP_WRITE), HWBP_GUARD_STEP);
	assert_int_equal(verdict(set, 0x10ff0, 8, HWBP_RW), HWBP_GUARD_HIT);
	/* a read on an r-- page cannot fault because of hwbp */
	assert_int_equal(verdict(set, 0x10ff0, 8, HWBP_READ), HWBP_GUARD_FOREIGN);
	/* neighbour pages are not guarded */
	assert_int_equal(verdict(set, 0x10fff, 1, HWBP_WRITE), HWBP_GUARD_STEP);
	assert_int_equal(verdict(set, 0x11000, 1, HWBP_WRITE), HWBP_GUARD_FOREIGN);
	assert_int_equal(verdict(set, 0x0ffff, 1, HWBP_WRITE), HWBP_GUARD_FOREIGN);
	/* an access crossing from a guarded page into a free one */
	assert_int_equal(verdict(set, 0x10ffc, 8, HWBP_WRITE), HWBP_GUARD_STEP);
	/* unmapped memory, and memory the target could not write anyway */
	assert_int_equal(verdict(set, 0x30000, 4, HWBP_WRITE), HWBP_GUARD_FOREIGN);
	assert_int_equal(verdict(set, 0x20000, 4, HWBP_WRITE), HWBP_GUARD_FOREIGN);
	assert_int_equal(verdict(set, 0x1fffe, 4, HWBP_WRITE), HWBP_GUARD_FOREIGN);

	/* read and read/write ranges: the page is PROT_NONE */
	add_ok(set, 0x12100, 0x100, HWBP_READ, 2);
	add_ok(set, 0x121f0, 0x20, HWBP_RW, 3);
	add_ok(set, 0x121f8, 1, HWBP_WRITE, 4);
	add_ok(set, 0x121f8, 1, HWBP_WRITE, 5);	/* the same byte twice */
	assert_int_equal(hwbp_guard_set_commit(set), 0);
	assert_int_equal(verdict(set, 0x120ff, 1, HWBP_READ), HWBP_GUARD_STEP);
	assert_int_equal(classify(set, 0x12100, 1, HWBP_READ, &n, c, 4), HWBP_GUARD_HIT);
	assert_int_equal(n, 1);
	assert_int_equal(c[0], 2);
	/* a write to a read range's bytes is not a hit, but the page faults */
	assert_int_equal(verdict(set, 0x12100, 1, HWBP_WRITE), HWBP_GUARD_STEP);
	assert_int_equal(classify(set, 0x121f8, 1, HWBP_READ, &n, c, 4), HWBP_GUARD_HIT);
	assert_int_equal(n, 2);
	assert_int_equal(c[0], 2);
	assert_int_equal(c[1], 3);
	assert_int_equal(classify(set, 0x121f8, 1, HWBP_WRITE, &n, c, 4), HWBP_GUARD_HIT);
	assert_int_equal(n, 3);
	assert_int_equal(c[0], 3);
	assert_int_equal(c[1], 4);
	assert_int_equal(c[2], 5);
	assert_int_equal(classify(set, 0x121f0, 16, HWBP_RW, &n, c, 2), HWBP_GUARD_HIT);
	assert_int_equal(n, 4);	/* all counted, two written */
	assert_int_equal(c[0], 2);
	assert_int_equal(c[1], 3);
	assert_int_equal(classify(set, 0x12210, 1, HWBP_WRITE, &n, c, 4), HWBP_GUARD_STEP);
	assert_int_equal(n, 0);
	assert_int_equal(verdict(set, 0x1220f, 1, HWBP_WRITE), HWBP_GUARD_HIT);

	/* after remove and commit the page is the target's again */
	for (uint64_t k = 2; k <= 5; k++)
		assert_int_equal(hwbp_guard_range_remove(set, k), 0);
	assert_int_equal(verdict(set, 0x12100, 1, HWBP_READ), HWBP_GUARD_STEP);
	assert_int_equal(hwbp_guard_set_commit(set), 0);
	assert_int_equal(verdict(set, 0x12100, 1, HWBP_READ), HWBP_GUARD_FOREIGN);
	hwbp_guard_set_destroy(set);
}

static void test_classify_bad_input(void **state)
{
	struct hwbp_guard_set *set = mkset(4 * KB, "10000-20000 rw-p 00000000 00:00 0\n");
	struct hwbp_guard_fault f;

	(void)state;
	assert_int_equal(hwbp_guard_set_classify(set, 0x10000, 0, HWBP_WRITE, NULL, 0, &f),
			 -EINVAL);
	assert_int_equal(hwbp_guard_set_classify(set, UINT64_MAX, 2, HWBP_WRITE, NULL, 0, &f),
			 -EINVAL);
	assert_int_equal(hwbp_guard_set_classify(set, 0x10000, 1, HWBP_EXEC, NULL, 0, &f),
			 -EINVAL);
	assert_int_equal(hwbp_guard_set_classify(set, UINT64_MAX, 1, HWBP_WRITE, NULL, 0, &f), 0);
	assert_int_equal(f.verdict, HWBP_GUARD_FOREIGN);
	hwbp_guard_set_destroy(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maps_real_text),
		cmocka_unit_test(test_maps_odd_lines),
		cmocka_unit_test(test_maps_malformed),
		cmocka_unit_test(test_set_create_page_sizes),
		cmocka_unit_test(test_runs_header_example),
		cmocka_unit_test(test_lengths_at_odd_offsets),
		cmocka_unit_test(test_several_ranges_on_one_page),
		cmocka_unit_test(test_remove_restores_each_page),
		cmocka_unit_test(test_runs_merge_across_mappings),
		cmocka_unit_test(test_dormant_ranges),
		cmocka_unit_test(test_page_sizes),
		cmocka_unit_test(test_big_ranges),
		cmocka_unit_test(test_new_maps_keep_the_original),
		cmocka_unit_test(test_clone_copies_everything),
		cmocka_unit_test(test_clone_of_an_empty_set),
		cmocka_unit_test(test_reprotect_read_only_then_back),
		cmocka_unit_test(test_reprotect_splits_the_mapping),
		cmocka_unit_test(test_reprotect_cuts_a_committed_run),
		cmocka_unit_test(test_reprotect_unguarded_pages),
		cmocka_unit_test(test_reprotect_bad_input),
		cmocka_unit_test(test_refusals_of_kernel_memory),
		cmocka_unit_test(test_refusals_of_bad_requests),
		cmocka_unit_test(test_refusals_of_thread_memory),
		cmocka_unit_test(test_classify_range_edges),
		cmocka_unit_test(test_classify_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

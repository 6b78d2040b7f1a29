// SPDX-License-Identifier: MIT
/*
 * test_guard_plan.c - the guard backend's pure core (lib/guard/): the
 * text of /proc/PID/maps, as this machine prints it and with odd names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "guard/plan.h"

#define NONE PROT_NONE
#define R PROT_READ
#define RW (PROT_READ | PROT_WRITE)
#define RX (PROT_READ | PROT_EXEC)

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maps_real_text),
		cmocka_unit_test(test_maps_odd_lines),
		cmocka_unit_test(test_maps_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: MIT
/*
 * test_spec.c - the SPEC grammar (cli/spec.c): ACCESS and LEN, a LOCATION
 * split into OBJECT, NAME, +OFF and the C path in NAME, and a malformed
 * location kept with the stage at which resolving reports it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "spec.h"

static void parse_ok(const char *text, struct cli_loc *l)
{
	char why[200] = "";

	if (cli_loc_parse(text, l, why, sizeof(why)))
		fail_msg("parse '%s': %s", text, why);
}

static void assert_member(const struct cli_loc *l, unsigned int i, const char *member)
{
	assert_true(i < l->nsteps);
	assert_false(l->step[i].is_index);
	assert_int_equal(l->step[i].len, strlen(member));
	assert_memory_equal(l->name + l->step[i].at, member, strlen(member));
}

static void test_spec_loc_object_path_and_offset(void **state)
{
	static struct cli_loc l;

	(void)state;
	parse_ok("libfoo.so:tab.rows[2]+4", &l);
	assert_false(l.is_addr);
	assert_int_equal(l.bad, CLI_LOC_OK);
	assert_string_equal(l.object, "libfoo.so");
	assert_string_equal(l.name, "tab.rows[2]");
	assert_true(l.has_off);
	assert_int_equal(l.off, 4);
	assert_false(l.plain);
	assert_string_equal(l.func, "");
	assert_string_equal(l.var, "tab");
	assert_int_equal(l.nsteps, 2);
	assert_member(&l, 0, "rows");
	assert_true(l.step[1].is_index);
	assert_int_equal(l.step[1].index, 2);
}

static void test_spec_loc_func_var_and_plain_name(void **state)
{
	static struct cli_loc l;

	(void)state;
	parse_ok("count_calls::calls", &l);
	assert_string_equal(l.object, "");
	assert_string_equal(l.func, "count_calls");
	assert_string_equal(l.var, "calls");
	assert_int_equal(l.nsteps, 0);
	assert_false(l.plain);

	parse_ok("counter", &l);
	assert_true(l.plain);
	assert_false(l.has_off);
	assert_string_equal(l.name, "counter");
	assert_string_equal(l.var, "counter");

	/* C's numbers in offsets and indexes: 0x hex, 0 octal. */
	parse_ok("arr[0x3]+010", &l);
	assert_int_equal(l.step[0].index, 3);
	assert_int_equal(l.off, 8);
}

static void expect_bad(const char *text, enum cli_loc_bad bad, unsigned int nsteps,
		       const char *why)
{
	static struct cli_loc l;

	parse_ok(text, &l);
	if (l.bad != bad)
		fail_msg("parse '%s': bad %d, want %d (%s)", text, l.bad, bad, l.why);
	assert_int_equal(l.err, -EINVAL);
	assert_int_equal(l.nsteps, nsteps);
	assert_string_equal(l.why, why);
}

static void test_spec_loc_malformed_kept_with_its_stage(void **state)
{
	(void)state;
	expect_bad(":counter", CLI_LOC_BAD_OBJECT, 0, "bad location ':counter'");
	expect_bad("libc.so.6:", CLI_LOC_BAD_OBJECT, 0, "bad location 'libc.so.6:'");
	expect_bad("counter+zz", CLI_LOC_BAD_NAME, 0, "bad offset in 'counter+zz'");
	expect_bad("libc.so.6:+4", CLI_LOC_BAD_NAME, 0, "bad location 'libc.so.6:+4'");
	expect_bad("-x", CLI_LOC_BAD_VAR, 0, "bad location '-x'");
	expect_bad("f::", CLI_LOC_BAD_VAR, 0, "bad location 'f::': no variable after '::'");
	expect_bad("config.limits[x]", CLI_LOC_BAD_STEP, 1,
		   "bad location 'config.limits[x]': number expected in []");
	expect_bad("config..limit", CLI_LOC_BAD_STEP, 0,
		   "bad location 'config..limit': member name expected after '.'");
	expect_bad("foo-bar", CLI_LOC_BAD_STEP, 0, "bad location 'foo-bar' at '-bar'");
}

/* ELF symbols such as "completed.0" or "memcpy@GLIBC_2.14" read as paths
 * (or malformed ones), but NAME keeps them whole for the symbol lookup. */
static void test_spec_loc_dotted_symbol_keeps_its_name(void **state)
{
	static struct cli_loc l;

	(void)state;
	parse_ok("completed.0", &l);
	assert_string_equal(l.name, "completed.0");
	assert_int_equal(l.bad, CLI_LOC_OK);
	assert_member(&l, 0, "0");
	parse_ok("memcpy@GLIBC_2.14", &l);
	assert_string_equal(l.name, "memcpy@GLIBC_2.14");
	assert_int_equal(l.bad, CLI_LOC_BAD_STEP);
}

static void test_spec_addr_only_in_hex(void **state)
{
	static struct cli_loc l;
	char why[200] = "";

	(void)state;
	parse_ok("0x4040a0", &l);
	assert_true(l.is_addr);
	assert_int_equal(l.addr, 0x4040a0);
	assert_int_equal(cli_loc_parse("0x12g", &l, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "bad address '0x12g' (write it in hex, e.g. 0x4040a0)");
	assert_int_equal(cli_loc_parse("4096", &l, why, sizeof(why)), -EINVAL);
}

static void test_spec_access_len_and_location(void **state)
{
	static struct cli_spec sp;
	char why[200] = "";

	(void)state;
	assert_int_equal(cli_spec_parse("rw:config.limits[1].max/2", &sp, why, sizeof(why)), 0);
	assert_int_equal(sp.access, HWBP_RW);
	assert_true(sp.access_given);
	assert_int_equal(sp.len, 2);
	assert_string_equal(sp.location, "config.limits[1].max");
	assert_string_equal(sp.loc.var, "config");
	assert_int_equal(sp.loc.nsteps, 3);
	assert_member(&sp.loc, 2, "max");

	assert_int_equal(cli_spec_parse("0x1000/8", &sp, why, sizeof(why)), 0);
	assert_true(sp.is_addr);
	assert_int_equal(sp.addr, 0x1000);
	assert_int_equal(sp.access, HWBP_WRITE);

	assert_int_equal(cli_spec_parse("q:counter", &sp, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "unknown access 'q' (use r, w, rw or x)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_loc_object_path_and_offset),
		cmocka_unit_test(test_spec_loc_func_var_and_plain_name),
		cmocka_unit_test(test_spec_loc_malformed_kept_with_its_stage),
		cmocka_unit_test(test_spec_loc_dotted_symbol_keeps_its_name),
		cmocka_unit_test(test_spec_addr_only_in_hex),
		cmocka_unit_test(test_spec_access_len_and_location),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

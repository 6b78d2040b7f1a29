// SPDX-License-Identifier: MIT
/*
 * test_sym.c - symbols, DWARF paths, lines, instruction decoding and
 * unwinding against real target processes (build/tests/targets/counter-*)
 *
 * The targets print the addresses of their globals; every resolved address
 * is compared with what the target itself printed. The targets are found in
 * $HWBP_TARGET_DIR, else $HWBP_BUILD/tests/targets, else build/tests/targets.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "sym/sym.h"

/* ------------------------------------------------------------------------
 * Target processes
 * ------------------------------------------------------------------------ */

#define MAX_NAMES 32

struct target {
	pid_t pid;
	int in;		/* its stdin */
	FILE *out;	/* its stdout */
	unsigned int n;
	char name[MAX_NAMES][64];
	uint64_t addr[MAX_NAMES];
	char path[PATH_MAX];
};

static const char *variants[] = { "counter-O0", "counter-O2", "counter-O0-nopie",
				  "counter-O2-nopie" };
#define NVARIANTS (sizeof(variants) / sizeof(variants[0]))

static void target_path(const char *name, char *buf, size_t len)
{
	const char *dir = getenv("HWBP_TARGET_DIR"), *build = getenv("HWBP_BUILD");
	char rel[PATH_MAX];

	if (dir)
		snprintf(rel, sizeof(rel), "%s/%s", dir, name);
	else
		snprintf(rel, sizeof(rel), "%s/tests/targets/%s", build ? build : "build", name);
	if (!realpath(rel, buf))
		snprintf(buf, len, "%s", rel);
}

/* Read lines "NAME 0xADDR" until a line equal to UNTIL. */
static void target_read(struct target *t, const char *until)
{
	char line[256];

	alarm(20);
	while (fgets(line, sizeof(line), t->out)) {
		char name[64];
		unsigned long long a;

		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, until, strlen(until)) == 0) {
			alarm(0);
			return;
		}
		if (sscanf(line, "%63s 0x%llx", name, &a) == 2 && t->n < MAX_NAMES) {
			snprintf(t->name[t->n], sizeof(t->name[t->n]), "%s", name);
			t->addr[t->n++] = a;
		}
	}
	fail_msg("target %s ended before '%s'", t->path, until);
}

static bool traceme;	/* the next target_start() stops the target at exec */

/* Start PATH with -w and ARGS (NULL-terminated), stopped on its stdin at "ready". */
static void target_start(struct target *t, const char *path, ...)
{
	const char *argv[16];
	int in[2], out[2];
	unsigned int argc = 0;
	va_list ap;

	memset(t, 0, sizeof(*t));
	snprintf(t->path, sizeof(t->path), "%s", path);
	argv[argc++] = path;
	argv[argc++] = "-w";
	va_start(ap, path);
	while (argc < 15 && (argv[argc] = va_arg(ap, const char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	t->pid = fork();
	assert_true(t->pid >= 0);
	if (t->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		if (traceme)
			ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		execv(path, (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	t->in = in[1];
	t->out = fdopen(out[0], "r");
	assert_non_null(t->out);
	if (!traceme)
		target_read(t, "ready");
}

static uint64_t target_addr(const struct target *t, const char *name)
{
	unsigned int i;

	for (i = 0; i < t->n; i++) {
		if (strcmp(t->name[i], name) == 0)
			return t->addr[i];
	}
	fail_msg("target did not print '%s'", name);
	return 0;
}

/* Let the target run to the end; it must exit 0. */
static void target_finish(struct target *t)
{
	char buf[256];
	int status;

	close(t->in);
	alarm(20);
	while (fgets(buf, sizeof(buf), t->out))
		;
	fclose(t->out);
	assert_int_equal(waitpid(t->pid, &status, 0), t->pid);
	alarm(0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static struct hwbp_sym_ctx *open_target(const struct target *t)
{
	struct hwbp_sym_ctx *ctx = NULL;

	assert_int_equal(hwbp_sym_open_pid(t->pid, &ctx), 0);
	assert_non_null(ctx);
	assert_int_equal(hwbp_sym_arch(ctx), HWBP_ARCH_X86_64);
	return ctx;
}

/* LOC parsed as the command parses a SPEC's location, then resolved. */
static int resolve_text(struct hwbp_sym_ctx *ctx, const char *loc, struct hwbp_sym_loc *out,
			char *why, size_t why_len)
{
	struct cli_loc parsed;
	int err;

	memset(out, 0, sizeof(*out));
	err = cli_loc_parse(loc, &parsed, why, why_len);
	return err ? err : hwbp_sym_resolve(ctx, &parsed, out, why, why_len);
}

static int suggest_text(struct hwbp_sym_ctx *ctx, const char *name, char *buf, size_t len)
{
	struct cli_loc parsed;
	char why[256];

	if (cli_loc_parse(name, &parsed, why, sizeof(why)))
		return -EINVAL;
	return hwbp_sym_suggest(ctx, &parsed, buf, len);
}

static void resolve_ok(struct hwbp_sym_ctx *ctx, const char *loc, struct hwbp_sym_loc *out)
{
	char why[256] = "";
	int err = resolve_text(ctx, loc, out, why, sizeof(why));

	if (err)
		fail_msg("resolve '%s': %d (%s)", loc, err, why);
}

/* Resolve LOC and check it lands on the address the target printed for NAME. */
static void check_loc(struct hwbp_sym_ctx *ctx, const struct target *t, const char *loc,
		      const char *name, uint64_t len, enum hwbp_sym_encoding enc,
		      unsigned int enc_size)
{
	struct hwbp_sym_loc l;

	resolve_ok(ctx, loc, &l);
	if (l.addr != target_addr(t, name))
		fail_msg("%s: '%s' at %#" PRIx64 ", target says %#" PRIx64, t->path, loc, l.addr,
			 target_addr(t, name));
	assert_int_equal(l.len, len);
	assert_int_equal(l.kind, HWBP_SYM_OBJECT);
	assert_string_equal(l.module, strrchr(t->path, '/') + 1);
	assert_true(l.has_type);
	assert_int_equal(l.enc, enc);
	assert_int_equal(l.enc_size, enc_size);
}

/* ------------------------------------------------------------------------
 * Resolution
 * ------------------------------------------------------------------------ */

static void test_sym_resolve_globals_match_target(void **state)
{
	unsigned int v;

	(void)state;
	for (v = 0; v < NVARIANTS; v++) {
		char path[PATH_MAX], loc[PATH_MAX + 16];
		struct hwbp_sym_ctx *ctx;
		struct hwbp_sym_loc l;
		struct target t;

		target_path(variants[v], path, sizeof(path));
		target_start(&t, path, (char *)NULL);
		ctx = open_target(&t);

		check_loc(ctx, &t, "counter", "counter", 8, HWBP_SYM_ENC_SIGNED, 8);
		resolve_ok(ctx, "counter", &l);
		assert_string_equal(l.type, "long int");
		assert_string_equal(l.symbol, "counter");
		check_loc(ctx, &t, "config.limits[2].max", "config.limits[2].max", 4,
			  HWBP_SYM_ENC_SIGNED, 4);
		check_loc(ctx, &t, "config.limit", "config.limit", 4, HWBP_SYM_ENC_SIGNED, 4);
		check_loc(ctx, &t, "config.name", "config.name", 16, HWBP_SYM_ENC_NONE, 16);
		resolve_ok(ctx, "config.name", &l);
		assert_string_equal(l.type, "char[16]");
		check_loc(ctx, &t, "config", "config", 52, HWBP_SYM_ENC_NONE, 52);
		resolve_ok(ctx, "config", &l);
		assert_string_equal(l.type, "struct config");
		check_loc(ctx, &t, "tconfig.limits[1].min", "tconfig.limits[1].min", 4,
			  HWBP_SYM_ENC_SIGNED, 4);
		check_loc(ctx, &t, "hidden", "hidden", 4, HWBP_SYM_ENC_SIGNED, 4);
		check_loc(ctx, &t, "arr[3]", "arr[3]", 4, HWBP_SYM_ENC_SIGNED, 4);
		check_loc(ctx, &t, "grid[1][2]", "grid[1][2]", 2, HWBP_SYM_ENC_SIGNED, 2);
		check_loc(ctx, &t, "flag", "flag", 1, HWBP_SYM_ENC_UNSIGNED, 1);
		check_loc(ctx, &t, "ratio", "ratio", 8, HWBP_SYM_ENC_FLOAT, 8);
		check_loc(ctx, &t, "ptr", "ptr", 8, HWBP_SYM_ENC_POINTER, 8);

		/* grid[1] is a row: short[4], 8 bytes at grid[1][0]. */
		resolve_ok(ctx, "grid[1]", &l);
		assert_int_equal(l.addr, target_addr(&t, "grid[1][2]") - 4);
		assert_int_equal(l.len, 8);
		assert_string_equal(l.type, "short int[4]");

		/* SYMBOL+OFFSET, decimal and hex: the rest of the symbol. */
		resolve_ok(ctx, "counter+4", &l);
		assert_int_equal(l.addr, target_addr(&t, "counter") + 4);
		assert_int_equal(l.len, 4);
		assert_false(l.has_type);
		resolve_ok(ctx, "config+0x18", &l);
		assert_int_equal(l.addr, target_addr(&t, "config.limits[2].max"));
		assert_int_equal(l.len, 52 - 0x18);

		/* OBJECT:SYMBOL with the module's basename. */
		snprintf(loc, sizeof(loc), "%s:counter", variants[v]);
		resolve_ok(ctx, loc, &l);
		assert_int_equal(l.addr, target_addr(&t, "counter"));
		snprintf(loc, sizeof(loc), "%s:config.limits[2].max", variants[v]);
		resolve_ok(ctx, loc, &l);
		assert_int_equal(l.addr, target_addr(&t, "config.limits[2].max"));

		/* Functions. */
		resolve_ok(ctx, "bump_counter", &l);
		assert_int_equal(l.kind, HWBP_SYM_FUNC);
		assert_int_equal(l.addr, target_addr(&t, "bump_counter"));
		assert_true(l.len > 0);
		assert_false(l.has_type);

		/* Static local: count_calls::calls, 4 bytes, inside the executable. */
		resolve_ok(ctx, "count_calls::calls", &l);
		assert_int_equal(l.len, 4);
		assert_int_equal(l.enc, HWBP_SYM_ENC_SIGNED);
		assert_string_equal(l.module, variants[v]);

		/* A bare address passes through. */
		snprintf(loc, sizeof(loc), "%#" PRIx64, target_addr(&t, "counter"));
		resolve_ok(ctx, loc, &l);
		assert_int_equal(l.kind, HWBP_SYM_ADDR);
		assert_int_equal(l.addr, target_addr(&t, "counter"));
		assert_int_equal(l.len, 0);

		hwbp_sym_close(ctx);
		target_finish(&t);
	}
}

/* Deferred types: the length from st_size at once, the type on demand. */
static void test_sym_defer_types_looks_up_later(void **state)
{
	char path[PATH_MAX];
	struct hwbp_sym_ctx *ctx;
	struct hwbp_sym_loc l;
	struct target t;

	(void)state;
	target_path("counter-O0", path, sizeof(path));
	target_start(&t, path, (char *)NULL);
	ctx = open_target(&t);
	hwbp_sym_defer_types(ctx, true);
	resolve_ok(ctx, "counter", &l);
	assert_int_equal(l.addr, target_addr(&t, "counter"));
	assert_int_equal(l.len, 8);
	assert_true(l.type_later);
	assert_false(l.has_type);
	assert_int_equal(hwbp_sym_loc_type(ctx, &l), 0);
	assert_false(l.type_later);
	assert_true(l.has_type);
	assert_int_equal(l.enc, HWBP_SYM_ENC_SIGNED);
	assert_string_equal(l.type, "long int");
	/* A DWARF path is typed at once: it needs the type to resolve. */
	resolve_ok(ctx, "config.limit", &l);
	assert_false(l.type_later);
	assert_true(l.has_type);
	/* SYMBOL+OFF has no type of its own. */
	resolve_ok(ctx, "counter+4", &l);
	assert_false(l.type_later);
	assert_false(l.has_type);
	hwbp_sym_defer_types(ctx, false);
	resolve_ok(ctx, "counter", &l);
	assert_false(l.type_later);
	assert_true(l.has_type);
	hwbp_sym_close(ctx);
	target_finish(&t);
}

static void test_sym_resolve_libc_object_symbol(void **state)
{
	char path[PATH_MAX];
	struct hwbp_sym_ctx *ctx;
	struct hwbp_sym_loc l, l2;
	struct hwbp_sym_where w;
	struct target t;

	(void)state;
	target_path("counter-O2", path, sizeof(path));
	target_start(&t, path, (char *)NULL);
	ctx = open_target(&t);
	resolve_ok(ctx, "libc.so.6:environ", &l);
	assert_string_equal(l.module, "libc.so.6");
	assert_int_equal(l.kind, HWBP_SYM_OBJECT);
	assert_int_equal(l.len, 8);
	/* "libc.so" names libc.so.6 too. */
	resolve_ok(ctx, "libc.so:environ", &l2);
	assert_int_equal(l2.addr, l.addr);
	assert_int_equal(hwbp_sym_addr_info(ctx, l.addr, &w), 0);
	assert_true(w.has_module);
	assert_string_equal(w.module, "libc.so.6");
	resolve_ok(ctx, "libc.so.6:malloc", &l);
	assert_int_equal(l.kind, HWBP_SYM_FUNC);
	hwbp_sym_close(ctx);
	target_finish(&t);
}

static void expect_err(struct hwbp_sym_ctx *ctx, const char *loc, int err, const char *why_has)
{
	char why[256] = "";
	struct hwbp_sym_loc l;
	int got = resolve_text(ctx, loc, &l, why, sizeof(why));

	if (got != err)
		fail_msg("resolve '%s': got %d (%s), want %d", loc, got, why, err);
	if (why_has && !strstr(why, why_has))
		fail_msg("resolve '%s': reason '%s' lacks '%s'", loc, why, why_has);
}

static void test_sym_resolve_errors_say_what_is_wrong(void **state)
{
	char path[PATH_MAX], buf[256] = "";
	struct hwbp_sym_ctx *ctx;
	struct target t;

	(void)state;
	target_path("counter-O0", path, sizeof(path));
	target_start(&t, path, (char *)NULL);
	ctx = open_target(&t);

	expect_err(ctx, "countr", -ENOENT, "countr");
	assert_true(suggest_text(ctx, "countr", buf, sizeof(buf)) >= 1);
	assert_int_equal(strncmp(buf, "counter", 7), 0);
	assert_true(buf[7] == '\0' || buf[7] == ',');
	assert_int_equal(suggest_text(ctx, "cnfig", buf, sizeof(buf)) >= 1, 1);
	assert_non_null(strstr(buf, "config"));
	assert_int_equal(suggest_text(ctx, "zzzzzzzzzzzzq", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");

	expect_err(ctx, "config.limt", -ENOENT, "no member 'limt' in struct config");
	expect_err(ctx, "config.limt", -ENOENT, "did you mean 'limit'");
	expect_err(ctx, "config.limits[9].max", -ENOENT,
		   "index 9 out of range for config.limits[4]");
	expect_err(ctx, "config.limits[2].mx", -ENOENT, "no member 'mx'");
	expect_err(ctx, "grid[1][4]", -ENOENT, "index 4 out of range for grid[1][4]");
	expect_err(ctx, "counter[1]", -ENOENT, "not an array");
	expect_err(ctx, "counter.x", -ENOENT, "not a struct");
	expect_err(ctx, "ptr[1]", -EOPNOTSUPP, "pointer");
	expect_err(ctx, "count_calls::nope", -ENOENT, "no static variable 'nope'");
	expect_err(ctx, "nosuchlib.so:counter", -ENXIO, "no module 'nosuchlib.so'");
	expect_err(ctx, "config..limit", -EINVAL, NULL);
	expect_err(ctx, "config.limits[x]", -EINVAL, NULL);
	expect_err(ctx, "counter+zz", -EINVAL, NULL);
	expect_err(ctx, "0x12g", -EINVAL, NULL);

	hwbp_sym_close(ctx);
	target_finish(&t);
}

static void test_sym_resolve_stripped_is_enodata(void **state)
{
	char path[PATH_MAX], copy[] = "/tmp/hwbp-test-sym-XXXXXX", cmd[PATH_MAX * 2 + 64];
	struct hwbp_sym_ctx *ctx;
	struct hwbp_sym_loc l;
	struct target t;
	int fd;

	(void)state;
	target_path("counter-O2", path, sizeof(path));
	fd = mkstemp(copy);
	assert_true(fd >= 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "strip -o %s %s", copy, path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(chmod(copy, 0755), 0);
	target_start(&t, copy, (char *)NULL);
	ctx = open_target(&t);
	expect_err(ctx, "counter", -ENODATA, "stripped");
	expect_err(ctx, "config.limit", -ENODATA, NULL);
	/* libc is not stripped of its dynamic symbols. */
	resolve_ok(ctx, "libc.so.6:environ", &l);
	hwbp_sym_close(ctx);
	target_finish(&t);
	unlink(copy);
}

/* Stopped right after exec only the executable and ld.so are mapped. */
static void test_sym_open_pid_at_exec(void **state)
{
	char path[PATH_MAX];
	struct hwbp_sym_ctx *ctx;
	struct hwbp_sym_loc l, m;
	struct target t;
	int status;

	(void)state;
	target_path("counter-O2", path, sizeof(path));
	traceme = true;
	target_start(&t, path, (char *)NULL);
	traceme = false;
	alarm(20);
	assert_int_equal(waitpid(t.pid, &status, 0), t.pid);
	alarm(0);
	assert_true(WIFSTOPPED(status));
	assert_int_equal(WSTOPSIG(status), SIGTRAP);
	ctx = open_target(&t);
	resolve_ok(ctx, "counter", &l);
	resolve_ok(ctx, "config.limits[2].max", &m);
	resolve_ok(ctx, "ld-linux-x86-64.so.2:_r_debug", &m);
	assert_string_equal(m.module, "ld-linux-x86-64.so.2");
	expect_err(ctx, "libc.so.6:environ", -ENXIO, "no module");
	resolve_ok(ctx, "config.limits[2].max", &m);
	assert_int_equal(ptrace(PTRACE_DETACH, t.pid, NULL, NULL), 0);
	target_read(&t, "ready");
	assert_int_equal(l.addr, target_addr(&t, "counter"));
	assert_int_equal(m.addr, target_addr(&t, "config.limits[2].max"));
	/* Now libc is there. */
	assert_int_equal(hwbp_sym_refresh(ctx), 0);
	resolve_ok(ctx, "libc.so.6:environ", &l);
	hwbp_sym_close(ctx);
	target_finish(&t);
}

/* A fully stripped binary whose symbols and DWARF are in a .gnu_debuglink file. */
static void test_sym_resolve_through_debuglink(void **state)
{
	char path[PATH_MAX], dir[] = "/tmp/hwbp-test-sym-XXXXXX", exe[PATH_MAX + 32];
	char cmd[8 * PATH_MAX];
	struct hwbp_sym_ctx *ctx;
	struct hwbp_sym_loc l;
	struct hwbp_sym_where w;
	struct target t;

	(void)state;
	target_path("counter-O2", path, sizeof(path));
	assert_non_null(mkdtemp(dir));
	snprintf(exe, sizeof(exe), "%s/counter-dbg", dir);
	snprintf(cmd, sizeof(cmd),
		 "objcopy --only-keep-debug %s %s.debug && strip -o %s %s && "
		 "objcopy --add-gnu-debuglink=%s.debug %s",
		 path, exe, exe, path, exe, exe);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(chmod(exe, 0755), 0);
	target_start(&t, exe, (char *)NULL);
	ctx = open_target(&t);
	resolve_ok(ctx, "counter", &l);
	assert_int_equal(l.addr, target_addr(&t, "counter"));
	resolve_ok(ctx, "config.limits[2].max", &l);
	assert_int_equal(l.addr, target_addr(&t, "config.limits[2].max"));
	assert_int_equal(hwbp_sym_addr_info(ctx, target_addr(&t, "set_limit"), &w), 0);
	assert_string_equal(w.func, "set_limit");
	assert_true(w.has_line);
	assert_string_equal(w.file, "counter.c");
	hwbp_sym_close(ctx);
	target_finish(&t);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(hwbp_sym_open_pid(INT_MAX, &ctx), -ESRCH);
}

static void test_sym_refresh_sees_dlopen(void **state)
{
	char path[PATH_MAX], lib[PATH_MAX];
	struct hwbp_sym_ctx *ctx;
	struct hwbp_sym_loc l;
	struct target t;

	(void)state;
	target_path("counter-O0", path, sizeof(path));
	target_path("libdemo.so", lib, sizeof(lib));
	target_start(&t, path, "-l", lib, (char *)NULL);
	ctx = open_target(&t);
	expect_err(ctx, "libdemo.so:demo_value", -ENXIO, "no module 'libdemo.so'");
	/* Let it dlopen, then look again. */
	assert_int_equal(write(t.in, "x", 1), 1);
	target_read(&t, "dlopen");
	assert_int_equal(hwbp_sym_refresh(ctx), 0);
	resolve_ok(ctx, "libdemo.so:demo_value", &l);
	assert_string_equal(l.module, "libdemo.so");
	assert_int_equal(l.len, 4);
	resolve_ok(ctx, "libdemo.so:demo_state.slots[1]", &l);
	assert_int_equal(l.len, 4);
	{
		struct hwbp_sym_loc s;

		resolve_ok(ctx, "demo_state", &s);
		assert_int_equal(l.addr, s.addr + 8 + 4);
		assert_int_equal(s.len, 24);
	}
	hwbp_sym_close(ctx);
	target_finish(&t);
}

static void test_sym_open_file_uses_bias(void **state)
{
	char lib[PATH_MAX];
	struct hwbp_sym_ctx *a, *b;
	struct hwbp_sym_loc la, lb;
	struct hwbp_sym_where w;

	(void)state;
	target_path("libdemo.so", lib, sizeof(lib));
	assert_int_equal(hwbp_sym_open_file(lib, 0, &a), 0);
	assert_int_equal(hwbp_sym_open_file(lib, 0x7f0000000000, &b), 0);
	resolve_ok(a, "demo_value", &la);
	resolve_ok(b, "demo_value", &lb);
	assert_int_equal(lb.addr - la.addr, 0x7f0000000000);
	resolve_ok(b, "demo_set", &lb);
	assert_int_equal(hwbp_sym_addr_info(b, lb.addr + 1, &w), 0);
	assert_true(w.has_func);
	assert_string_equal(w.func, "demo_set");
	assert_int_equal(w.offset, 1);
	assert_true(w.has_line);
	assert_string_equal(w.file, "libdemo.c");
	hwbp_sym_close(a);
	hwbp_sym_close(b);
	assert_int_equal(hwbp_sym_open_file("/nonexistent/x", 0, &a), -ENOENT);
	hwbp_sym_close(NULL);
}

/* ------------------------------------------------------------------------
 * Lines and instructions in the target's own code
 * ------------------------------------------------------------------------ */

/* Line number of the line holding MARKER in FILE. */
static unsigned int marker_line(const char *file, const char *marker)
{
	char line[512];
	unsigned int n = 0;
	FILE *f = fopen(file, "r");

	if (!f)
		fail_msg("cannot open source %s", file);
	while (fgets(line, sizeof(line), f)) {
		n++;
		if (strstr(line, marker)) {
			fclose(f);
			return n;
		}
	}
	fclose(f);
	fail_msg("no %s in %s", marker, file);
	return 0;
}

/* The instructions of function FUNC whose memory operand is the rip-relative ADDR. */
static unsigned int insns_touching(struct hwbp_sym_ctx *ctx, const char *func, uint64_t addr,
				   struct hwbp_sym_insn *found, unsigned int max)
{
	struct hwbp_sym_loc f;
	uint64_t ip;
	unsigned int n = 0;

	resolve_ok(ctx, func, &f);
	assert_int_equal(f.kind, HWBP_SYM_FUNC);
	for (ip = f.addr; ip < f.addr + f.len;) {
		struct hwbp_sym_insn in;
		unsigned int i;

		assert_int_equal(hwbp_sym_insn_at(ctx, ip, &in), 0);
		for (i = 0; i < in.nmem; i++) {
			uint64_t ea;

			if (in.mem[i].pc_rel && hwbp_sym_insn_ea(&in, i, NULL, 0, &ea) == 0 &&
			    ea == addr && n < max)
				found[n++] = in;
		}
		ip += in.len;
	}
	return n;
}

static void check_line(struct hwbp_sym_ctx *ctx, uint64_t ip, const char *func,
		       const char *marker)
{
	struct hwbp_sym_where w;

	assert_int_equal(hwbp_sym_addr_info(ctx, ip, &w), 0);
	assert_true(w.has_module);
	assert_true(w.has_func);
	assert_string_equal(w.func, func);
	assert_int_equal(w.func_start + w.offset, ip);
	assert_true(w.has_line);
	assert_string_equal(w.file, "counter.c");
	assert_int_equal(w.file_path[0], '/');
	if (w.line != marker_line(w.file_path, marker))
		fail_msg("%s at %#" PRIx64 ": line %u, %s is on %u", func, ip, w.line, marker,
			 marker_line(w.file_path, marker));
}

static void test_sym_addr_info_names_function_and_line(void **state)
{
	unsigned int v;

	(void)state;
	for (v = 0; v < NVARIANTS; v++) {
		struct hwbp_sym_insn in[4];
		struct hwbp_sym_ctx *ctx;
		struct hwbp_sym_where w;
		char path[PATH_MAX];
		struct target t;
		unsigned int n, i;

		target_path(variants[v], path, sizeof(path));
		target_start(&t, path, (char *)NULL);
		ctx = open_target(&t);

		assert_int_equal(hwbp_sym_addr_info(ctx, target_addr(&t, "bump_counter"), &w), 0);
		assert_string_equal(w.func, "bump_counter");
		assert_int_equal(w.offset, 0);
		assert_string_equal(w.module, variants[v]);
		assert_true(w.func_size > 0);

		n = insns_touching(ctx, "bump_counter", target_addr(&t, "counter"), in, 4);
		assert_true(n >= 1);
		for (i = 0; i < n; i++)
			check_line(ctx, in[i].addr, "bump_counter", "LINE_BUMP");
		n = insns_touching(ctx, "read_counter", target_addr(&t, "counter"), in, 4);
		assert_int_equal(n, 1);
		check_line(ctx, in[0].addr, "read_counter", "LINE_READ");
		n = insns_touching(ctx, "set_limit", target_addr(&t, "config.limit"), in, 4);
		assert_int_equal(n, 1);
		check_line(ctx, in[0].addr, "set_limit", "LINE_LIMIT");
		n = insns_touching(ctx, "set_max", target_addr(&t, "config.limits[2].max"), in, 4);
		assert_int_equal(n, 1);
		check_line(ctx, in[0].addr, "set_max", "LINE_MAX");

		assert_int_equal(hwbp_sym_addr_info(ctx, 8, &w), -ENOENT);
		hwbp_sym_close(ctx);
		target_finish(&t);
	}
}

/* Every instruction of FUNC comes back from insn_before(its end). */
static void check_before_roundtrip(struct hwbp_sym_ctx *ctx, const char *func)
{
	struct hwbp_sym_loc f;
	struct hwbp_sym_where w;
	uint64_t ip;
	unsigned int count = 0;

	resolve_ok(ctx, func, &f);
	for (ip = f.addr; ip < f.addr + f.len;) {
		struct hwbp_sym_insn in, back;

		assert_int_equal(hwbp_sym_insn_at(ctx, ip, &in), 0);
		assert_int_equal(in.addr, ip);
		/* The caller's way: func_start of ip_after - 1. */
		assert_int_equal(hwbp_sym_addr_info(ctx, ip + in.len - 1, &w), 0);
		assert_int_equal(w.func_start, f.addr);
		assert_int_equal(hwbp_sym_insn_before(ctx, w.func_start, ip + in.len, &back), 0);
		assert_int_equal(back.addr, ip);
		assert_int_equal(back.len, in.len);
		assert_string_equal(back.text, in.text);
		ip += in.len;
		count++;
	}
	assert_int_equal(ip, f.addr + f.len);
	assert_true(count >= 2);
}

static void test_sym_insn_before_finds_each_instruction(void **state)
{
	static const char *funcs[] = { "bump_counter", "read_counter", "set_limit", "set_max",
				       "set_name", "set_grid", "main" };
	unsigned int v, i;

	(void)state;
	for (v = 0; v < NVARIANTS; v++) {
		struct hwbp_sym_ctx *ctx;
		struct hwbp_sym_insn in;
		char path[PATH_MAX];
		struct target t;
		struct hwbp_sym_loc f;

		target_path(variants[v], path, sizeof(path));
		target_start(&t, path, (char *)NULL);
		ctx = open_target(&t);
		for (i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++)
			check_before_roundtrip(ctx, funcs[i]);
		/* An address inside an instruction ends none. */
		resolve_ok(ctx, "main", &f);
		assert_int_equal(hwbp_sym_insn_at(ctx, f.addr, &in), 0);
		if (in.len > 1)
			assert_int_equal(hwbp_sym_insn_before(ctx, f.addr, f.addr + 1, &in),
					 -ENOENT);
		hwbp_sym_close(ctx);
		target_finish(&t);
	}
}

static void test_sym_insn_access_in_target_writers(void **state)
{
	unsigned int v;

	(void)state;
	for (v = 0; v < NVARIANTS; v++) {
		bool o2 = strstr(variants[v], "O2") != NULL;
		uint64_t regs[HWBP_SYM_X86_64_NREGS], val;
		struct hwbp_sym_insn in[4] = { 0 };
		struct hwbp_sym_ctx *ctx;
		char path[PATH_MAX];
		struct target t;
		unsigned int n, i, r = 0, w = 0, rw = 0;

		target_path(variants[v], path, sizeof(path));
		target_start(&t, path, (char *)NULL);
		ctx = open_target(&t);

		/* counter++: -O2 one "add qword [rip+x], 1"; -O0 a load then a store of rax. */
		n = insns_touching(ctx, "bump_counter", target_addr(&t, "counter"), in, 4);
		for (i = 0; i < n; i++) {
			assert_int_equal(in[i].nmem, 1);
			assert_int_equal(in[i].mem[0].size, 8);
			r += in[i].access == HWBP_READ;
			w += in[i].access == HWBP_WRITE;
			rw += in[i].access == HWBP_RW;
			if (in[i].access == HWBP_RW) {
				assert_int_equal(in[i].value_src, HWBP_SYM_VALUE_UNKNOWN);
				assert_int_equal(hwbp_sym_insn_value(&in[i], regs, 24, &val),
						 -ENODATA);
			}
			if (in[i].access == HWBP_WRITE) {
				assert_int_equal(in[i].value_src, HWBP_SYM_VALUE_REG);
				assert_int_equal(in[i].reg, 0);	/* PERF_REG_X86_AX */
			}
		}
		if (o2) {
			assert_int_equal(n, 1);
			assert_int_equal(rw, 1);
		} else {
			assert_int_equal(n, 2);
			assert_int_equal(r, 1);
			assert_int_equal(w, 1);
		}

		/* config.limit = 42: a store of the immediate, 4 bytes. */
		n = insns_touching(ctx, "set_limit", target_addr(&t, "config.limit"), in, 4);
		assert_int_equal(n, 1);
		assert_int_equal(in[0].access, HWBP_WRITE);
		assert_int_equal(in[0].mem[0].size, 4);
		assert_int_equal(in[0].value_src, HWBP_SYM_VALUE_IMM);
		assert_int_equal(in[0].imm, 42);
		assert_int_equal(hwbp_sym_insn_value(&in[0], NULL, 0, &val), 0);
		assert_int_equal(val, 42);

		/* config.limits[2].max = v: a 32-bit register store (edi at -O2, eax at -O0). */
		n = insns_touching(ctx, "set_max", target_addr(&t, "config.limits[2].max"), in, 4);
		assert_int_equal(n, 1);
		assert_int_equal(in[0].access, HWBP_WRITE);
		assert_int_equal(in[0].mem[0].size, 4);
		assert_int_equal(in[0].value_src, HWBP_SYM_VALUE_REG);
		assert_int_equal(in[0].reg, o2 ? 5 : 0);	/* PERF_REG_X86_DI : AX */
		memset(regs, 0, sizeof(regs));
		regs[in[0].reg] = 0x1234567800000007ull;
		assert_int_equal(hwbp_sym_insn_value(&in[0], regs, 24, &val), 0);
		assert_int_equal(val, 7);

		/* return counter: a load. */
		n = insns_touching(ctx, "read_counter", target_addr(&t, "counter"), in, 4);
		assert_int_equal(n, 1);
		assert_int_equal(in[0].access, HWBP_READ);
		assert_int_equal(in[0].value_src, HWBP_SYM_VALUE_UNKNOWN);

		hwbp_sym_close(ctx);
		target_finish(&t);
	}
}

/* ------------------------------------------------------------------------
 * Pure decoding
 * ------------------------------------------------------------------------ */

static void decode(enum hwbp_arch arch, const char *hex, struct hwbp_sym_insn *in)
{
	uint8_t code[16];
	size_t n = 0;

	while (hex[0] && hex[1] && n < sizeof(code)) {
		unsigned int b;

		if (hex[0] == ' ') {
			hex++;
			continue;
		}
		assert_int_equal(sscanf(hex, "%2x", &b), 1);
		code[n++] = (uint8_t)b;
		hex += 2;
	}
	assert_int_equal(hwbp_sym_insn_decode(arch, code, n, 0x1000, in), 0);
	assert_int_equal(in->len, n);
}

static void test_sym_insn_x86_vectors(void **state)
{
	uint64_t regs[HWBP_SYM_X86_64_NREGS] = { 0 }, v;
	struct hwbp_sym_insn in;
	/* push rbp; mov rbp, rsp; mov rax, [rip+0x10]; ret */
	static const uint8_t fn[] = { 0x55, 0x48, 0x89, 0xe5, 0x48, 0x8b, 0x05, 0x10,
				      0x00, 0x00, 0x00, 0xc3 };

	(void)state;
	/* mov [rip+0x1000], rax */
	decode(HWBP_ARCH_X86_64, "48 89 05 00 10 00 00", &in);
	assert_int_equal(in.access, HWBP_WRITE);
	assert_int_equal(in.nmem, 1);
	assert_int_equal(in.mem[0].size, 8);
	assert_true(in.mem[0].pc_rel);
	assert_int_equal(hwbp_sym_insn_ea(&in, 0, regs, 24, &v), 0);
	assert_int_equal(v, 0x1000 + 7 + 0x1000);
	assert_int_equal(in.value_src, HWBP_SYM_VALUE_REG);
	assert_int_equal(in.reg, 0);
	/* add qword [rip+0x1000], 1 */
	decode(HWBP_ARCH_X86_64, "48 83 05 00 10 00 00 01", &in);
	assert_int_equal(in.access, HWBP_RW);
	assert_int_equal(in.value_src, HWBP_SYM_VALUE_UNKNOWN);
	/* mov rcx, [rbx+8] */
	decode(HWBP_ARCH_X86_64, "48 8b 4b 08", &in);
	assert_int_equal(in.access, HWBP_READ);
	assert_int_equal(in.mem[0].base, 1);	/* PERF_REG_X86_BX */
	assert_int_equal(in.mem[0].disp, 8);
	regs[1] = 0x5000;
	assert_int_equal(hwbp_sym_insn_ea(&in, 0, regs, 24, &v), 0);
	assert_int_equal(v, 0x5008);
	/* mov [rbx+r9*4], eax */
	decode(HWBP_ARCH_X86_64, "42 89 04 8b", &in);
	assert_int_equal(in.access, HWBP_WRITE);
	assert_int_equal(in.mem[0].index, 17);	/* PERF_REG_X86_R9 */
	assert_int_equal(in.mem[0].scale, 4);
	regs[17] = 3;
	assert_int_equal(hwbp_sym_insn_ea(&in, 0, regs, 24, &v), 0);
	assert_int_equal(v, 0x5000 + 12);
	assert_int_equal(hwbp_sym_insn_ea(&in, 0, regs, 8, &v), -EINVAL);
	/* mov byte [rip+0x10], ah: the value is bits 8..15 of rax */
	decode(HWBP_ARCH_X86_64, "88 25 10 00 00 00", &in);
	assert_int_equal(in.mem[0].size, 1);
	assert_int_equal(in.value_src, HWBP_SYM_VALUE_REG);
	assert_int_equal(in.reg_shift, 8);
	regs[0] = 0xabcd;
	assert_int_equal(hwbp_sym_insn_value(&in, regs, 24, &v), 0);
	assert_int_equal(v, 0xab);
	/* mov qword [rip+0x10], -1: sign-extended immediate */
	decode(HWBP_ARCH_X86_64, "48 c7 05 10 00 00 00 ff ff ff ff", &in);
	assert_int_equal(in.value_src, HWBP_SYM_VALUE_IMM);
	assert_int_equal(hwbp_sym_insn_value(&in, NULL, 0, &v), 0);
	assert_int_equal(v, UINT64_MAX);
	/* lea rax, [rip+0x10]: no memory access */
	decode(HWBP_ARCH_X86_64, "48 8d 05 10 00 00 00", &in);
	assert_int_equal(in.nmem, 0);
	assert_int_equal(in.access, 0);
	/* rep stosq: writes rax at [rdi] */
	decode(HWBP_ARCH_X86_64, "f3 48 ab", &in);
	assert_int_equal(in.access, HWBP_WRITE);
	assert_int_equal(in.value_src, HWBP_SYM_VALUE_REG);
	assert_int_equal(in.reg, 0);
	/* mov rax, fs:[0x28]: the segment base is not in the registers */
	decode(HWBP_ARCH_X86_64, "64 48 8b 04 25 28 00 00 00", &in);
	assert_int_equal(in.access, HWBP_READ);
	assert_true(in.mem[0].segment);
	assert_int_equal(hwbp_sym_insn_ea(&in, 0, regs, 24, &v), -EOPNOTSUPP);
	/* lock xadd [rdi], eax */
	decode(HWBP_ARCH_X86_64, "f0 0f c1 07", &in);
	assert_int_equal(in.access, HWBP_RW);
	assert_int_equal(in.value_src, HWBP_SYM_VALUE_UNKNOWN);

	/* The header's worked example. */
	assert_int_equal(hwbp_sym_insn_before_buf(HWBP_ARCH_X86_64, fn, sizeof(fn), 0x1000,
						  0x100b, &in), 0);
	assert_int_equal(in.addr, 0x1004);
	assert_int_equal(in.len, 7);
	assert_int_equal(in.access, HWBP_READ);
	assert_int_equal(hwbp_sym_insn_before_buf(HWBP_ARCH_X86_64, fn, sizeof(fn), 0x1000,
						  0x1001, &in), 0);
	assert_int_equal(in.addr, 0x1000);
	assert_int_equal(hwbp_sym_insn_before_buf(HWBP_ARCH_X86_64, fn, sizeof(fn), 0x1000,
						  0x1003, &in), -ENOENT);
	assert_int_equal(hwbp_sym_insn_before_buf(HWBP_ARCH_X86_64, fn, sizeof(fn), 0x1000,
						  0x1000 + sizeof(fn) + 1, &in), -ENOENT);
	assert_int_equal(hwbp_sym_insn_decode(HWBP_ARCH_LOONGARCH64, fn, 4, 0, &in), -EOPNOTSUPP);
}

static void test_sym_insn_arm64_vectors(void **state)
{
	uint64_t regs[HWBP_SYM_ARM64_NREGS] = { 0 }, v;
	struct hwbp_sym_insn in;

	(void)state;
	/* str w1, [x0, #8] */
	decode(HWBP_ARCH_ARM64, "01 08 00 b9", &in);
	assert_int_equal(in.access, HWBP_WRITE);
	assert_int_equal(in.mem[0].size, 4);
	assert_int_equal(in.mem[0].base, 0);
	assert_int_equal(in.mem[0].disp, 8);
	assert_int_equal(in.value_src, HWBP_SYM_VALUE_REG);
	assert_int_equal(in.reg, 1);
	regs[0] = 0x4000;
	regs[1] = 0xffffffff00000005ull;
	assert_int_equal(hwbp_sym_insn_ea(&in, 0, regs, 33, &v), 0);
	assert_int_equal(v, 0x4008);
	assert_int_equal(hwbp_sym_insn_value(&in, regs, 33, &v), 0);
	assert_int_equal(v, 5);
	/* ldr x2, [x3] */
	decode(HWBP_ARCH_ARM64, "62 00 40 f9", &in);
	assert_int_equal(in.access, HWBP_READ);
	assert_int_equal(in.mem[0].size, 8);
	assert_int_equal(in.mem[0].base, 3);
	/* stp x29, x30, [sp, #-16]! */
	decode(HWBP_ARCH_ARM64, "fd 7b bf a9", &in);
	assert_int_equal(in.access, HWBP_WRITE);
	assert_int_equal(in.mem[0].size, 16);
	assert_int_equal(in.mem[0].base, 31);
	assert_int_equal(in.mem[0].disp, -16);
	assert_true(in.mem[0].pre_post_index);
	assert_int_equal(in.value_src, HWBP_SYM_VALUE_UNKNOWN);
	/* strb wzr, [x0] */
	decode(HWBP_ARCH_ARM64, "1f 00 00 39", &in);
	assert_int_equal(in.access, HWBP_WRITE);
	assert_int_equal(in.mem[0].size, 1);
	assert_int_equal(in.value_src, HWBP_SYM_VALUE_IMM);
	assert_int_equal(in.imm, 0);
	/* ldrsw x0, [x1, #4]: 4 bytes read into an 8-byte register */
	decode(HWBP_ARCH_ARM64, "20 04 80 b9", &in);
	assert_int_equal(in.access, HWBP_READ);
	assert_int_equal(in.mem[0].size, 4);
	assert_int_equal(in.mem[0].disp, 4);
	/* ldr x0, [x0, x2] */
	decode(HWBP_ARCH_ARM64, "00 68 62 f8", &in);
	assert_int_equal(in.mem[0].base, 0);
	assert_int_equal(in.mem[0].index, 2);
	regs[2] = 0x10;
	assert_int_equal(hwbp_sym_insn_ea(&in, 0, regs, 33, &v), 0);
	assert_int_equal(v, 0x4010);
	/* ldxr x1, [x2] */
	decode(HWBP_ARCH_ARM64, "41 7c 5f c8", &in);
	assert_int_equal(in.access, HWBP_READ);
	assert_int_equal(in.mem[0].size, 8);
	/* add x0, x1, x2: no memory */
	decode(HWBP_ARCH_ARM64, "20 00 02 8b", &in);
	assert_int_equal(in.nmem, 0);
}

/* The guard decoder on the instruction in HEX at 0x1000, faulting at FAULT. */
static int guard_decode(enum hwbp_arch arch, const char *hex, const uint64_t *regs,
			unsigned int nregs, uint64_t fault, struct hwbp_insn *out)
{
	uint8_t code[16];
	size_t n = 0;

	while (hex[0] && hex[1] && n < sizeof(code)) {
		unsigned int b;

		if (hex[0] == ' ') {
			hex++;
			continue;
		}
		assert_int_equal(sscanf(hex, "%2x", &b), 1);
		code[n++] = (uint8_t)b;
		hex += 2;
	}
	memset(out, 0xa5, sizeof(*out));
	out->sz = sizeof(*out);
	return hwbp_sym_guard_decode(code, n, 0x1000, regs, nregs, fault, out, &arch);
}

static void test_sym_guard_decode_x86_plain_stores_only(void **state)
{
	uint64_t regs[HWBP_SYM_X86_64_NREGS] = { 0 };
	struct hwbp_insn in;

	(void)state;
	regs[0] = 0x1122334455667788ull;	/* rax */
	regs[2] = 0x10;				/* rcx */
	regs[5] = 0x5000;			/* rdi */
	regs[4] = 0x6000;			/* rsi */
	/* mov qword [rip+0x1000], rax: next insn 0x1007, so EA 0x2007 */
	assert_int_equal(guard_decode(HWBP_ARCH_X86_64, "48 89 05 00 10 00 00", regs, 24,
				      0x2009, &in), 0);
	assert_int_equal(in.len, 7);
	assert_int_equal(in.access, HWBP_WRITE);
	assert_int_equal(in.addr, 0x2007);
	assert_int_equal(in.size, 8);
	assert_true(in.store);
	assert_int_equal(in.value, 0x1122334455667788ull);
	/* mov byte [rdi+rcx*1+3], 7 */
	assert_int_equal(guard_decode(HWBP_ARCH_X86_64, "c6 44 0f 03 07", regs, 24, 0x5013, &in),
			 0);
	assert_int_equal(in.len, 5);
	assert_int_equal(in.addr, 0x5013);
	assert_int_equal(in.size, 1);
	assert_true(in.store);
	assert_int_equal(in.value, 7);
	/* ... and a fault outside its one byte is not this operand's */
	assert_int_equal(guard_decode(HWBP_ARCH_X86_64, "c6 44 0f 03 07", regs, 24, 0x5014, &in),
			 -ENOENT);
	/* mov dword [rdi], eax: truncated to the operand size */
	assert_int_equal(guard_decode(HWBP_ARCH_X86_64, "89 07", regs, 24, 0x5002, &in), 0);
	assert_int_equal(in.size, 4);
	assert_true(in.store);
	assert_int_equal(in.value, 0x55667788);
	/* add [rax], ecx: read-modify-write, flags too */
	regs[0] = 0x7000;
	assert_int_equal(guard_decode(HWBP_ARCH_X86_64, "01 08", regs, 24, 0x7000, &in), 0);
	assert_int_equal(in.access, HWBP_RW);
	assert_int_equal(in.addr, 0x7000);
	assert_int_equal(in.size, 4);
	assert_false(in.store);
	/* mov ecx, [rax+4]: a load */
	assert_int_equal(guard_decode(HWBP_ARCH_X86_64, "8b 48 04", regs, 24, 0x7005, &in), 0);
	assert_int_equal(in.access, HWBP_READ);
	assert_false(in.store);
	/* movsb: the operand that holds the fault (the store to [rdi]), but
	 * it moves rsi and rdi too */
	assert_int_equal(guard_decode(HWBP_ARCH_X86_64, "a4", regs, 24, 0x5000, &in), 0);
	assert_int_equal(in.access, HWBP_WRITE);
	assert_int_equal(in.addr, 0x5000);
	assert_int_equal(in.size, 1);
	assert_false(in.store);
	assert_int_equal(guard_decode(HWBP_ARCH_X86_64, "a4", regs, 24, 0x6000, &in), 0);
	assert_int_equal(in.access, HWBP_READ);
	assert_int_equal(in.addr, 0x6000);
	/* rep stosq: a store, but rdi and rcx move */
	assert_int_equal(guard_decode(HWBP_ARCH_X86_64, "f3 48 ab", regs, 24, 0x5000, &in), 0);
	assert_int_equal(in.access, HWBP_WRITE);
	assert_false(in.store);
	/* xchg [rdi], eax */
	assert_int_equal(guard_decode(HWBP_ARCH_X86_64, "87 07", regs, 24, 0x5000, &in), 0);
	assert_int_equal(in.access, HWBP_RW);
	assert_false(in.store);
	/* mov dword fs:[0x10], eax: the only operand, its address unknown */
	assert_int_equal(guard_decode(HWBP_ARCH_X86_64, "64 89 04 25 10 00 00 00", regs, 24,
				      0x7ff0001010, &in), 0);
	assert_int_equal(in.access, HWBP_WRITE);
	assert_int_equal(in.addr, 0x7ff0001010);
	assert_int_equal(in.size, 4);
	assert_false(in.store);
	/* lea: no memory access at all */
	assert_int_equal(guard_decode(HWBP_ARCH_X86_64, "48 8d 05 10 00 00 00", regs, 24, 0x1017,
				      &in), -ENOENT);
	/* a register missing from the file: the address is not known */
	assert_int_equal(guard_decode(HWBP_ARCH_X86_64, "89 07", regs, 4, 0x5000, &in), -ENOENT);
	/* not an instruction */
	assert_int_equal(guard_decode(HWBP_ARCH_X86_64, "0f 0b", regs, 24, 0x5000, &in), -ENOENT);
	assert_int_equal(guard_decode(HWBP_ARCH_X86_64, "ff", regs, 24, 0x5000, &in), -EINVAL);
	/* LoongArch has no decoder here */
	assert_int_equal(guard_decode(HWBP_ARCH_LOONGARCH64, "00 00 00 00", regs, 24, 0, &in),
			 -EOPNOTSUPP);
	/* A library that knows a shorter struct gets only what it knows. */
	{
		static const uint8_t mov[] = { 0x89, 0x07 };
		enum hwbp_arch a = HWBP_ARCH_X86_64;

		memset(&in, 0xa5, sizeof(in));
		in.sz = offsetof(struct hwbp_insn, addr);
		assert_int_equal(hwbp_sym_guard_decode(mov, sizeof(mov), 0x1000, regs, 24, 0x5000,
						       &in, &a), 0);
		assert_int_equal(in.len, 2);
		assert_int_equal(in.access, HWBP_WRITE);
		assert_int_equal(in.addr, 0xa5a5a5a5a5a5a5a5ull);
		in.sz = 4;
		assert_int_equal(hwbp_sym_guard_decode(mov, sizeof(mov), 0x1000, regs, 24, 0x5000,
						       &in, &a), -EINVAL);
	}
}

static void test_sym_guard_decode_arm64_plain_stores_only(void **state)
{
	uint64_t regs[HWBP_SYM_ARM64_NREGS] = { 0 };
	struct hwbp_insn in;

	(void)state;
	regs[0] = 0x4000;
	regs[1] = 0x1122334455667788ull;
	regs[2] = 0x99;
	/* str x1, [x0, #8] */
	assert_int_equal(guard_decode(HWBP_ARCH_ARM64, "01 04 00 f9", regs, 33, 0x400c, &in), 0);
	assert_int_equal(in.len, 4);
	assert_int_equal(in.access, HWBP_WRITE);
	assert_int_equal(in.addr, 0x4008);
	assert_int_equal(in.size, 8);
	assert_true(in.store);
	assert_int_equal(in.value, 0x1122334455667788ull);
	/* str w1, [x0, #8]: 4 bytes of x1 */
	assert_int_equal(guard_decode(HWBP_ARCH_ARM64, "01 08 00 b9", regs, 33, 0x4008, &in), 0);
	assert_int_equal(in.size, 4);
	assert_true(in.store);
	assert_int_equal(in.value, 0x55667788);
	/* strb wzr, [x0] */
	assert_int_equal(guard_decode(HWBP_ARCH_ARM64, "1f 00 00 39", regs, 33, 0x4000, &in), 0);
	assert_int_equal(in.size, 1);
	assert_true(in.store);
	assert_int_equal(in.value, 0);
	/* stlr x1, [x0]: a store with ordering, nothing else */
	assert_int_equal(guard_decode(HWBP_ARCH_ARM64, "01 fc 9f c8", regs, 33, 0x4000, &in), 0);
	assert_true(in.store);
	assert_int_equal(in.value, 0x1122334455667788ull);
	/* str x1, [x0, #8]!: writes x0 back */
	assert_int_equal(guard_decode(HWBP_ARCH_ARM64, "01 8c 00 f8", regs, 33, 0x4008, &in), 0);
	assert_int_equal(in.access, HWBP_WRITE);
	assert_int_equal(in.addr, 0x4008);
	assert_false(in.store);
	/* stp x1, x2, [x0]: 16 bytes */
	assert_int_equal(guard_decode(HWBP_ARCH_ARM64, "01 08 00 a9", regs, 33, 0x400f, &in), 0);
	assert_int_equal(in.access, HWBP_WRITE);
	assert_int_equal(in.size, 16);
	assert_false(in.store);
	/* stxr w2, x1, [x0]: writes the status register */
	assert_int_equal(guard_decode(HWBP_ARCH_ARM64, "01 7c 02 c8", regs, 33, 0x4000, &in), 0);
	assert_int_equal(in.access, HWBP_WRITE);
	assert_false(in.store);
	/* str w1, [x0, w2, sxtw #2]: a 32-bit index is extended */
	regs[2] = 1;
	assert_int_equal(guard_decode(HWBP_ARCH_ARM64, "01 d8 22 b8", regs, 33, 0x4004, &in), 0);
	assert_false(in.store);
	/* ldr x2, [x3]: a load */
	regs[3] = 0x8000;
	assert_int_equal(guard_decode(HWBP_ARCH_ARM64, "62 00 40 f9", regs, 33, 0x8004, &in), 0);
	assert_int_equal(in.access, HWBP_READ);
	assert_false(in.store);
	/* ldp x1, x2, [x0]: 16 bytes read */
	assert_int_equal(guard_decode(HWBP_ARCH_ARM64, "01 08 40 a9", regs, 33, 0x400c, &in), 0);
	assert_int_equal(in.access, HWBP_READ);
	assert_int_equal(in.size, 16);
	assert_false(in.store);
}

/* ------------------------------------------------------------------------
 * Unwinding this process's own stack
 * ------------------------------------------------------------------------ */

#if defined(__x86_64__)
static struct {
	uint64_t regs[HWBP_SYM_X86_64_NREGS];
	uint8_t stack[32768];
	size_t size;
} snap;

/* Snapshot rip, rsp, rbp and the stack as a perf user-stack sample would. */
__attribute__((noinline)) static void uw_capture(void)
{
	uint64_t rip, rsp, rbp, top;
	char line[512];
	FILE *f;

	__asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2"
			 : "=r"(rip), "=r"(rsp), "=r"(rbp));
	memset(&snap, 0, sizeof(snap));
	snap.regs[8] = rip;
	snap.regs[7] = rsp;
	snap.regs[6] = rbp;
	top = rsp;
	f = fopen("/proc/self/maps", "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long lo, hi;

		if (sscanf(line, "%llx-%llx", &lo, &hi) == 2 && rsp >= lo && rsp < hi)
			top = hi;
	}
	fclose(f);
	snap.size = top - rsp < sizeof(snap.stack) ? top - rsp : sizeof(snap.stack);
	/* Through the kernel, as perf copies it: ASan would flag a memcpy of redzones. */
	{
		int fd = open("/proc/self/mem", O_RDONLY);

		assert_true(fd >= 0);
		assert_int_equal(pread(fd, snap.stack, snap.size, (off_t)rsp), (ssize_t)snap.size);
		close(fd);
	}
}

__attribute__((noinline)) static void uw_level3(void)
{
	uw_capture();
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void uw_level2(void)
{
	uw_level3();
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void uw_level1(void)
{
	uw_level2();
	__asm__ volatile("" ::: "memory");
}

static void test_sym_unwind_own_stack(void **state)
{
	static const char *want[] = { "uw_capture", "uw_level3", "uw_level2", "uw_level1",
				      "test_sym_unwind_own_stack" };
	struct hwbp_sym_ctx *ctx;
	uint64_t ips[16];
	unsigned int n = 0, i, round;

	(void)state;
	assert_int_equal(hwbp_sym_open_pid(getpid(), &ctx), 0);
	/* Twice: the context's unwinder must be reusable. */
	for (round = 0; round < 2; round++) {
		uw_level1();
		assert_int_equal(hwbp_sym_unwind(ctx, snap.regs, snap.stack, snap.size,
						 snap.regs[7], ips, 16, &n), 0);
		assert_true(n >= 5);
		assert_int_equal(ips[0], snap.regs[8]);
		for (i = 0; i < 5; i++) {
			struct hwbp_sym_where w;

			assert_int_equal(hwbp_sym_addr_info(ctx, i ? ips[i] - 1 : ips[i], &w), 0);
			assert_true(w.has_func);
			if (strcmp(w.func, want[i]) != 0)
				fail_msg("frame %u: %s, want %s", i, w.func, want[i]);
		}
	}
	assert_int_equal(hwbp_sym_unwind(ctx, snap.regs, snap.stack, snap.size, snap.regs[7],
					 ips, 2, &n), 0);
	assert_int_equal(n, 2);
	hwbp_sym_close(ctx);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sym_resolve_globals_match_target),
		cmocka_unit_test(test_sym_defer_types_looks_up_later),
		cmocka_unit_test(test_sym_resolve_libc_object_symbol),
		cmocka_unit_test(test_sym_resolve_errors_say_what_is_wrong),
		cmocka_unit_test(test_sym_resolve_stripped_is_enodata),
		cmocka_unit_test(test_sym_open_pid_at_exec),
		cmocka_unit_test(test_sym_resolve_through_debuglink),
		cmocka_unit_test(test_sym_refresh_sees_dlopen),
		cmocka_unit_test(test_sym_open_file_uses_bias),
		cmocka_unit_test(test_sym_addr_info_names_function_and_line),
		cmocka_unit_test(test_sym_insn_before_finds_each_instruction),
		cmocka_unit_test(test_sym_insn_access_in_target_writers),
		cmocka_unit_test(test_sym_insn_x86_vectors),
		cmocka_unit_test(test_sym_insn_arm64_vectors),
		cmocka_unit_test(test_sym_guard_decode_x86_plain_stores_only),
		cmocka_unit_test(test_sym_guard_decode_arm64_plain_stores_only),
#if defined(__x86_64__)
		cmocka_unit_test(test_sym_unwind_own_stack),
#endif
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

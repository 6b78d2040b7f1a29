/* SPDX-License-Identifier: MIT */
/* cli.h - shared pieces of the hwbp command-line tool */
#ifndef HWBP_CLI_H
#define HWBP_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h> /* optind */

#include <hwbp/hwbp.h>

#include "spec.h"

/* Exit statuses without a command (DESIGN.md "Command line"). */
enum cli_exit {
	CLI_OK = 0,
	CLI_FAIL = 1,		/* a well-formed request that failed */
	CLI_USAGE = 2,		/* malformed command line */
	CLI_CMD_HWBP_FAIL = 125, /* with -- COMMAND: hwbp itself failed */
	CLI_CMD_NOEXEC = 126,	/* COMMAND found but not runnable */
	CLI_CMD_NOTFOUND = 127,	/* COMMAND not found */
};

/* One option of a command: the table drives getopt_long and --help. */
struct cli_opt {
	const char *lng;	/* long name, without "--" */
	int shrt;		/* short letter, or a value >= 256 for long only */
	const char *arg;	/* placeholder of the argument, NULL for a flag */
	const char *help;	/* one line */
};

struct cli_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *synopsis;	/* after "hwbp " */
	const char *summary;	/* one line */
	const struct cli_opt *opts;
	const char *details;	/* extra help text, may be NULL */
};

/* Every command's table entry. */
extern const struct cli_cmd cli_cmd_watch, cli_cmd_stat, cli_cmd_encode, cli_cmd_decode, cli_cmd_info,
	cli_cmd_help;

const struct cli_cmd *cli_cmd_find(const char *name, bool *ambiguous);
const struct cli_cmd *const *cli_cmds(void);

/*
 * cli_getopt() - getopt_long driven by CMD's option table. Returns the
 * short letter (or >= 256 value) of the option, -1 at the end, '?' after
 * printing an error for an unknown option or a missing argument.
 */
int cli_getopt(const struct cli_cmd *cmd, int argc, char **argv, char **optarg_out);
void cli_print_help(const struct cli_cmd *cmd, FILE *f);

/*
 * Errors: one line, "hwbp: MESSAGE (HINT)" on stderr (no parentheses when
 * HINT is NULL). After cli_set_json_errors(F), also an error record
 * {"type":"error","spec":SPEC,"message":...} on F (no "spec" when SPEC is
 * NULL), so that a consumer of the JSON stream sees why it ends.
 */
void cli_error(const char *hint, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_error_spec(const char *spec, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void cli_set_json_errors(FILE *f);
/* cli_set_json_errors(stdout) if ARGV asks for --json (or -j) before any
 * "--": so that even a refusal of the command line is a record. */
void cli_json_errors_from_args(int argc, char **argv);

/* --- text buffer (text.c) ------------------------------------------------
 * Grows as needed; on allocation failure it stops growing and sets failed,
 * and what was written so far stays valid. data is NUL-terminated once
 * anything was written.
 */
struct text {
	char *data;
	size_t len, cap;
	bool failed;
};

void text_put(struct text *t, const char *s, size_t n);
void text_puts(struct text *t, const char *s);
void text_putc(struct text *t, char c);
void text_printf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void text_udec(struct text *t, uint64_t v);
void text_sdec(struct text *t, int64_t v);
void text_hex(struct text *t, uint64_t v);	/* 0x... */
void text_clear(struct text *t);		/* keeps the memory */
void text_free(struct text *t);

/* --- JSON Lines writer ------------------------------------------------- */
struct json {
	FILE *f;		/* json_begin(): written there by json_end() */
	struct text own;
	struct text *t;		/* where the object is built */
	int depth;
	bool first[16];
};

void json_begin(struct json *j, FILE *f);	/* starts an object */
void json_begin_text(struct json *j, struct text *t);	/* ... appended to T */
void json_end(struct json *j);			/* ends it with '\n' (and writes it) */
void json_key(struct json *j, const char *key);
void json_obj_open(struct json *j, const char *key);	/* key NULL inside arrays */
void json_obj_close(struct json *j);
void json_arr_open(struct json *j, const char *key);
void json_arr_close(struct json *j);
void json_str(struct json *j, const char *key, const char *val);
void json_int(struct json *j, const char *key, long long val);
void json_uint(struct json *j, const char *key, unsigned long long val);
void json_hex(struct json *j, const char *key, unsigned long long val);	/* "0x..." */
void json_bool(struct json *j, const char *key, bool val);
void json_null(struct json *j, const char *key);

/* Print an error as {"type":"error","spec":SPEC,"message":MSG} on F (no
 * "spec" when SPEC is NULL). */
void json_error(FILE *f, const char *spec, const char *msg);

#endif /* HWBP_CLI_H */

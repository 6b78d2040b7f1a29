/* SPDX-License-Identifier: MIT */
/* watch.h - the engine behind hwbp watch and hwbp stat */
#ifndef HWBP_CLI_WATCH_H
#define HWBP_CLI_WATCH_H

#include "cli.h"

enum watch_mode {
	WATCH_WATCH,	/* one line (or JSON record) per hit */
	WATCH_STAT,	/* counts, then tables by location and by thread */
};

struct watch_args {
	enum watch_mode mode;
	char **specs;
	int nspecs;
	char **argv;			/* -- COMMAND [ARG...], or NULL with pid */
	pid_t pid;
	bool json, backtrace, quiet, follow_fork;
	uint64_t max_hits;		/* 0: no limit */
	uint64_t duration_ms;		/* 0: until the target ends or a signal */
	enum hwbp_backend_kind backend;
	const char *output;
	/* stop mode conditions (ptrace backend) */
	bool if_changed;		/* report only hits that changed the bytes */
	const char *if_text;		/* --if as typed, or NULL */
	enum watch_cmp { CMP_EQ, CMP_NE, CMP_LT, CMP_GT, CMP_LE, CMP_GE, CMP_AND } if_op;
	uint64_t if_val;		/* the number, as 64 bits */
	bool if_neg;			/* it was written with a minus sign */
};

/*
 * watch_parse_if() - parse "value OP NUMBER" (OP: == != < > <= >= &)
 * Return: 0, or -1 with WHY filled.
 */
int watch_parse_if(const char *text, struct watch_args *a, char *why, size_t len);

/* Run it; returns the exit status (DESIGN.md "Command line"). */
int watch_run(const struct watch_args *a);

/*
 * Options shared by watch and stat, and their parser. Return: 0, or the
 * exit status after reporting the error: 125 with -- COMMAND, else 2.
 */
extern const struct cli_opt watch_opts[];
int watch_parse(const struct cli_cmd *cmd, enum watch_mode mode, int argc, char **argv,
		struct watch_args *a);

#endif /* HWBP_CLI_WATCH_H */

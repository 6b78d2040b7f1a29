/* SPDX-License-Identifier: MIT */
/* show.h - printing slots and registers for encode and decode */
#ifndef HWBP_CLI_SHOW_H
#define HWBP_CLI_SHOW_H

#include "cli.h"

void show_slots_json(struct json *j, const struct hwbp_slot *slots, unsigned int n);
void show_regs_json(struct json *j, const struct hwbp_regs *regs);
void show_slots_text(FILE *f, const struct hwbp_slot *slots, unsigned int n);
void show_regs_text(FILE *f, const struct hwbp_regs *regs);

/* --arch: parse, and refuse a second different value. 0 or -1 (reported). */
int show_parse_arch(const char *optarg_val, enum hwbp_arch *arch, bool *given);

/* -o FILE: stdout for NULL or "-"; NULL (reported) when it cannot be opened. */
FILE *show_open_output(const char *path);

/* Close what show_open_output() gave: CLI_OK, or CLI_FAIL (reported). */
int show_close_output(FILE *out, const char *path);

/* What encode and decode take: --arch ('a'), --json ('j'), -o ('o'). */
struct show_opts {
	enum hwbp_arch arch;
	bool arch_given;
	bool json;
	const char *outpath;
};

/*
 * show_parse_opts() - CMD's options into O (arch defaults to this host's).
 * Return: 0, or CLI_USAGE (reported).
 */
int show_parse_opts(const struct cli_cmd *cmd, int argc, char **argv, struct show_opts *o);

#endif /* HWBP_CLI_SHOW_H */

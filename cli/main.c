// SPDX-License-Identifier: MIT
/* main.c - hwbp: the command table and the global options */
#include "cli.h"

#include <string.h>

static const struct cli_cmd *const cli_table[] = {
	&cli_cmd_watch,
	&cli_cmd_stat,
	&cli_cmd_info,
	&cli_cmd_encode,
	&cli_cmd_decode,
	&cli_cmd_help,
	NULL,
};

const struct cli_cmd *const *cli_cmds(void)
{
	return cli_table;
}

/* An exact name, or an unambiguous prefix of one. */
const struct cli_cmd *cli_cmd_find(const char *name, bool *ambiguous)
{
	const struct cli_cmd *found = NULL;
	size_t len = strlen(name);

	*ambiguous = false;
	if (!len)
		return NULL;
	for (const struct cli_cmd *const *c = cli_table; *c; c++) {
		if (!strcmp((*c)->name, name))
			return *c;
		if (!strncmp((*c)->name, name, len)) {
			if (found)
				*ambiguous = true;
			found = *c;
		}
	}
	return *ambiguous ? NULL : found;
}

static void usage(FILE *f)
{
	fputs("usage: hwbp <command> [options] [args]\n"
	      "\n"
	      "Watch memory with the CPU's debug registers: who reads, writes or runs it, and when.\n"
	      "\n"
	      "Commands:\n", f);
	for (const struct cli_cmd *const *c = cli_table; *c; c++)
		fprintf(f, "  %-8s %s\n", (*c)->name, (*c)->summary);
	fputs("\n"
	      "Options:\n"
	      "  -h, --help       show this help; 'hwbp help <command>' for a command\n"
	      "  -V, --version    show the version\n"
	      "\n"
	      "Exit status: with '-- COMMAND', the command's own status (128+N if signal N\n"
	      "killed it), 125 if hwbp failed, 126/127 if COMMAND could not be run; otherwise\n"
	      "0 on success, 1 if the request failed, 2 for a malformed command line.\n", f);
}

int main(int argc, char **argv)
{
	const struct cli_cmd *cmd;
	bool ambiguous;

	if (argc < 2) {
		cli_error("see 'hwbp --help' for the commands", "missing command");
		return CLI_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return CLI_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("hwbp %s\n", hwbp_version());
		return CLI_OK;
	}
	if (argv[1][0] == '-') {
		cli_error("see 'hwbp --help'", "unknown option '%s'", argv[1]);
		return CLI_USAGE;
	}
	cmd = cli_cmd_find(argv[1], &ambiguous);
	if (!cmd) {
		if (ambiguous)
			cli_error("see 'hwbp --help' for the commands", "ambiguous command '%s'",
				  argv[1]);
		else
			cli_error("see 'hwbp --help' for the commands", "unknown command '%s'",
				  argv[1]);
		return CLI_USAGE;
	}
	/* Each command parses argv[1..]: its own name is argv[0] for getopt. */
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			cli_print_help(cmd, stdout);
			return CLI_OK;
		}
	}
	return cmd->run(argc - 1, argv + 1);
}

// SPDX-License-Identifier: MIT
/* cmd_help.c - hwbp help [COMMAND] */
#include "cli.h"

static int cmd_help(int argc, char **argv)
{
	const struct cli_cmd *cmd;
	bool ambiguous;

	if (argc < 2) {
		fputs("usage: hwbp <command> [options] [args]\n\nCommands:\n", stdout);
		for (const struct cli_cmd *const *c = cli_cmds(); *c; c++)
			printf("  %-8s %s\n", (*c)->name, (*c)->summary);
		fputs("\nSee 'hwbp help <command>' or 'man hwbp' for more.\n", stdout);
		return CLI_OK;
	}
	if (argc > 2) {
		cli_error("usage: hwbp help [<command>]", "too many arguments for 'help'");
		return CLI_USAGE;
	}
	cmd = cli_cmd_find(argv[1], &ambiguous);
	if (!cmd) {
		cli_error("see 'hwbp --help' for the commands", "%s command '%s'",
			  ambiguous ? "ambiguous" : "unknown", argv[1]);
		return CLI_USAGE;
	}
	cli_print_help(cmd, stdout);
	return CLI_OK;
}

const struct cli_cmd cli_cmd_help = {
	.name = "help",
	.run = cmd_help,
	.synopsis = "help [<command>]",
	.summary = "show the help of a command",
};

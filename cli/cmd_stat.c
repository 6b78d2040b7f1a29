// SPDX-License-Identifier: MIT
/* cmd_stat.c - hwbp stat: count accesses, then tables by location and thread */
#include "watch.h"

static int cmd_stat(int argc, char **argv)
{
	struct watch_args a;
	int rc = watch_parse(&cli_cmd_stat, WATCH_STAT, argc, argv, &a);

	return rc ? rc : watch_run(&a);
}

const struct cli_cmd cli_cmd_stat = {
	.name = "stat",
	.run = cmd_stat,
	.synopsis = "stat [options] <spec>... (-- <command> [<arg>...] | -p <pid>)",
	.summary = "count accesses to watched memory; tables by location and thread",
	.opts = watch_opts,
	.details =
		"SPECs, options and exit status as for hwbp watch. At the end, for each SPEC:\n"
		"the hits, the accessing instructions (function+offset, file:line) sorted by\n"
		"hits, and the threads.\n"
		"\n"
		"Example: hwbp stat counter -- ./app\n",
};

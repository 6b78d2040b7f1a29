// SPDX-License-Identifier: MIT
/* cmd_decode.c - hwbp decode: what given debug-register values watch */
#include "show.h"

#include <errno.h>
#include <string.h>

enum { OPT_ARCH = 'a', OPT_JSON = 'j', OPT_OUTPUT = 'o' };

static const struct cli_opt decode_opts[] = {
	{ "arch", OPT_ARCH, "<arch>", "x86_64, arm64 or loongarch64 (default: this host's)" },
	{ "json", OPT_JSON, NULL, "print a JSON object" },
	{ "output", OPT_OUTPUT, "<file>", "write the result to <file>" },
	{ NULL, 0, NULL, NULL },
};

static const char *reg_names_hint(enum hwbp_arch arch)
{
	switch (arch) {
	case HWBP_ARCH_X86_64:
		return "x86_64 registers: dr0-dr3, dr6, dr7";
	case HWBP_ARCH_ARM64:
		return "arm64 registers: wvrN, wcrN, bvrN, bcrN (N = 0-15)";
	case HWBP_ARCH_LOONGARCH64:
		return "loongarch64 registers: dbNaddr, dbNmask, dbNctrl, ibNaddr, ibNmask, "
		       "ibNctrl (N = 0-13)";
	default:
		return NULL;
	}
}

static int cmd_decode(int argc, char **argv)
{
	struct show_opts so = { .json = false };
	enum hwbp_arch arch;
	const char *outpath;
	bool json;
	struct hwbp_slot slots[2 * HWBP_SLOTS_MAX];
	struct hwbp_regs regs;
	unsigned int n = 0;
	char why[200] = "";
	int err;
	FILE *out;

	if (show_parse_opts(&cli_cmd_decode, argc, argv, &so))
		return CLI_USAGE;
	arch = so.arch;
	json = so.json;
	outpath = so.outpath;
	if (optind >= argc) {
		cli_error("usage: hwbp decode [--arch <arch>] <reg>=<value>...",
			  "decode needs at least one REGISTER=VALUE");
		return CLI_USAGE;
	}
	if (arch == HWBP_ARCH_NONE) {
		cli_error("give --arch x86_64, arm64 or loongarch64",
			  "this host's architecture has no hwbp decoder");
		return CLI_USAGE;
	}
	hwbp_regs_init(&regs, sizeof(regs), arch);
	for (int i = optind; i < argc; i++) {
		char name[32];
		const char *eq = strchr(argv[i], '=');
		uint64_t val;
		unsigned int pos;

		if (!eq || eq == argv[i] || (size_t)(eq - argv[i]) >= sizeof(name)) {
			cli_error("write each register as NAME=VALUE, e.g. dr7=0x10001",
				  "bad argument '%s': not NAME=VALUE", argv[i]);
			return CLI_USAGE;
		}
		memcpy(name, argv[i], (size_t)(eq - argv[i]));
		name[eq - argv[i]] = '\0';
		if (hwbp_regs_lookup(arch, name, &pos)) {
			cli_error(reg_names_hint(arch), "unknown register '%s' for %s", name,
				  hwbp_arch_name(arch));
			return CLI_USAGE;
		}
		if (cli_parse_u64(eq + 1, &val)) {
			cli_error("write the value in hex (0x...) or decimal",
				  "bad value '%s' for register '%s'", eq + 1, name);
			return CLI_USAGE;
		}
		if (regs.set[pos / 64] >> (pos % 64) & 1 && regs.val[pos] != val) {
			cli_error("give each register once",
				  "conflicting values for register '%s'", name);
			return CLI_USAGE;
		}
		hwbp_regs_set(&regs, name, val);
	}
	err = hwbp_arch_decode(&regs, slots, sizeof(slots) / sizeof(slots[0]), &n);
	if (err) {
		if (err == -EINVAL)
			hwbp_arch_explain(&regs, why, sizeof(why));
		cli_error(NULL, "cannot decode %s registers: %s", hwbp_arch_name(arch),
			  why[0] ? why : strerror(-err));
		return CLI_USAGE;
	}
	out = show_open_output(outpath);
	if (!out)
		return CLI_FAIL;
	if (json) {
		struct json j;

		json_begin(&j, out);
		json_str(&j, "arch", hwbp_arch_name(arch));
		show_slots_json(&j, slots, n);
		show_regs_json(&j, &regs);
		json_end(&j);
	} else {
		fprintf(out, "%s: %u slot%s enabled\n", hwbp_arch_name(arch), n, n == 1 ? "" : "s");
		show_slots_text(out, slots, n);
		show_regs_text(out, &regs);
	}
	return show_close_output(out, outpath);
}

const struct cli_cmd cli_cmd_decode = {
	.name = "decode",
	.run = cmd_decode,
	.synopsis = "decode [--arch <arch>] [--json] [-o <file>] <reg>=<value>...",
	.summary = "show what given debug-register values watch",
	.opts = decode_opts,
	.details =
		"Registers are named as in the manuals: x86_64 dr0-dr3, dr6, dr7;\n"
		"arm64 wvrN/wcrN and bvrN/bcrN (ctrl as in the ptrace regsets);\n"
		"loongarch64 dbNaddr/dbNmask/dbNctrl and ibNaddr/ibNmask/ibNctrl.\n"
		"Registers not given count as 0. Reserved encodings are refused with the\n"
		"reason.\n"
		"\n"
		"Example: hwbp decode --arch x86_64 dr0=0x1000 dr7=0xd0001\n",
};

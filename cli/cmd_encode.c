// SPDX-License-Identifier: MIT
/* cmd_encode.c - hwbp encode: the slots and register values a SPEC needs */
#include "show.h"

#include <errno.h>
#include <string.h>

enum { OPT_ARCH = 'a', OPT_JSON = 'j', OPT_OUTPUT = 'o' };

static const struct cli_opt encode_opts[] = {
	{ "arch", OPT_ARCH, "<arch>", "x86_64, arm64 or loongarch64 (default: this host's)" },
	{ "json", OPT_JSON, NULL, "print one JSON object per SPEC" },
	{ "output", OPT_OUTPUT, "<file>", "write the result to <file>" },
	{ NULL, 0, NULL, NULL },
};

/* The default length of a numeric SPEC, as perf's mem: events: 4 bytes of
 * data, or one instruction. */
static uint64_t default_len(enum hwbp_arch arch, enum hwbp_access access)
{
	if (access != HWBP_EXEC)
		return 4;
	return arch == HWBP_ARCH_X86_64 ? 1 : 4;
}

static int encode_one(FILE *out, bool json, enum hwbp_arch arch, struct hwbp_pool *pool,
		      const char *text)
{
	struct cli_spec sp;
	HWBP_OPTS(hwbp_plan, plan);
	struct hwbp_regs regs;
	char why[160];
	uint64_t len;
	int err;

	if (cli_spec_parse(text, &sp, why, sizeof(why))) {
		cli_error_spec(text, strchr(why, '(') ? NULL : "a SPEC is [r|w|rw|x:]0xADDR[/LEN], e.g. w:0x1000/8", "bad SPEC '%s': %s",
			  text, why);
		return CLI_USAGE;
	}
	if (!sp.is_addr) {
		cli_error_spec(text, "give a numeric address, e.g. w:0x4040a0/8",
			  "encode takes numeric addresses: '%s' is not one", sp.location);
		return CLI_USAGE;
	}
	len = sp.len ? sp.len : default_len(arch, sp.access);
	if (sp.addr + (len - 1) < sp.addr) {
		cli_error_spec(text, NULL, "bad SPEC '%s': range runs past the end of the address space", text);
		return CLI_USAGE;
	}
	err = hwbp_arch_plan(arch, sp.addr, len, sp.access, pool, &plan);
	if (err == -EINVAL && sp.access == HWBP_EXEC && arch != HWBP_ARCH_X86_64 &&
	    (sp.addr & 3)) {
		/* Every arm64 and LoongArch instruction is 4-byte aligned. */
		cli_error_spec(text, "instructions are 4-byte aligned: give a multiple of 4",
			  "cannot watch %s on %s: no instruction starts at 0x%llx", text,
			  hwbp_arch_name(arch), (unsigned long long)sp.addr);
		return CLI_USAGE;
	}
	if (err == -ENOSPC) {
		unsigned int need = plan.need_watch + plan.need_break;
		unsigned int avail = plan.need_break ? plan.free_break : plan.free_watch;

		if (plan.need_watch && plan.need_break)
			avail = plan.free_watch + plan.free_break;
		cli_error_spec(text, "watch a shorter or aligned range, or split it over several runs",
			  "cannot watch %s on %s: needs %u debug registers, %u free", text,
			  hwbp_arch_name(arch), need, avail);
		return CLI_FAIL;
	}
	if (err) {
		cli_error_spec(text, NULL, "cannot plan '%s' for %s: %s", text, hwbp_arch_name(arch),
			  strerror(-err));
		return err == -EINVAL ? CLI_USAGE : CLI_FAIL;
	}
	for (unsigned int i = 0; i < plan.nslots; i++) {
		uint32_t bit = 1u << plan.slots[i].index;

		if (plan.slots[i].type == HWBP_SLOT_BREAK && arch != HWBP_ARCH_X86_64)
			pool->brk &= ~bit;
		else
			pool->watch &= ~bit;
	}
	hwbp_regs_init(&regs, sizeof(regs), arch);
	err = hwbp_arch_encode(&regs, plan.slots, plan.nslots);
	if (err) {
		cli_error_spec(text, NULL, "cannot encode '%s' for %s: %s", text, hwbp_arch_name(arch),
			  strerror(-err));
		return CLI_FAIL;
	}

	const char *note = NULL;
	char notebuf[200];

	if (plan.flags & HWBP_PLAN_WIDER_ACCESS) {
		snprintf(notebuf, sizeof(notebuf),
			 "%s has no read-only watchpoint: armed for read/write; writes are "
			 "told apart later by decoding the accessing instruction",
			 hwbp_arch_name(arch));
		note = notebuf;
	} else if (plan.flags & HWBP_PLAN_WIDER_RANGE) {
		snprintf(notebuf, sizeof(notebuf),
			 "watches 0x%llx-0x%llx, more than asked: the hardware cannot be narrower",
			 (unsigned long long)plan.addr,
			 (unsigned long long)(plan.addr + plan.len - 1));
		note = notebuf;
	}

	if (json) {
		struct json j;

		json_begin(&j, out);
		json_str(&j, "spec", text);
		json_str(&j, "arch", hwbp_arch_name(arch));
		show_slots_json(&j, plan.slots, plan.nslots);
		show_regs_json(&j, &regs);
		if (note)
			json_str(&j, "note", note);
		json_end(&j);
	} else {
		fprintf(out, "%s on %s: %u slot%s\n", text, hwbp_arch_name(arch), plan.nslots,
			plan.nslots == 1 ? "" : "s");
		show_slots_text(out, plan.slots, plan.nslots);
		show_regs_text(out, &regs);
		if (note)
			fprintf(out, "  note: %s\n", note);
	}
	return CLI_OK;
}

static int cmd_encode(int argc, char **argv)
{
	struct show_opts so = { .json = false };
	enum hwbp_arch arch;
	const char *outpath;
	bool json;
	struct hwbp_pool pool;
	int rc = CLI_OK;
	FILE *out;

	if (show_parse_opts(&cli_cmd_encode, argc, argv, &so))
		return CLI_USAGE;
	arch = so.arch;
	json = so.json;
	outpath = so.outpath;
	if (optind >= argc) {
		cli_error("usage: hwbp encode [--arch <arch>] [--json] <spec>...",
			  "encode needs at least one SPEC");
		return CLI_USAGE;
	}
	if (arch == HWBP_ARCH_NONE) {
		cli_error("give --arch x86_64, arm64 or loongarch64",
			  "this host's architecture has no hwbp encoder");
		return CLI_USAGE;
	}
	/* Check every SPEC's syntax first: a bad one prints nothing else. */
	for (int i = optind; i < argc; i++) {
		struct cli_spec sp;
		char why[160];

		if (cli_spec_parse(argv[i], &sp, why, sizeof(why))) {
			cli_error_spec(argv[i], strchr(why, '(') ? NULL : "a SPEC is [r|w|rw|x:]0xADDR[/LEN], e.g. w:0x1000/8",
				  "bad SPEC '%s': %s", argv[i], why);
			return CLI_USAGE;
		}
	}
	out = show_open_output(outpath);
	if (!out)
		return CLI_FAIL;
	/* SPECs share the CPU: each takes its slots from what the ones before
	 * it left free, so together they can be armed at once. */
	pool = hwbp_arch_pool(arch);
	for (int i = optind; i < argc && rc == CLI_OK; i++)
		rc = encode_one(out, json, arch, &pool, argv[i]);
	if (show_close_output(out, outpath) != CLI_OK)
		return CLI_FAIL;
	return rc;
}

const struct cli_cmd cli_cmd_encode = {
	.name = "encode",
	.run = cmd_encode,
	.synopsis = "encode [--arch <arch>] [--json] [-o <file>] <spec>...",
	.summary = "show the debug-register slots and values a SPEC needs",
	.opts = encode_opts,
	.details =
		"A SPEC is [<access>:]0x<addr>[/<len>]: access r, w (default), rw or x;\n"
		"len in bytes (default 4 for data, one instruction for x). Several SPECs\n"
		"take slots side by side, as if armed together. Works for every arch on\n"
		"any host: nothing is armed.\n"
		"\n"
		"Example: hwbp encode --arch arm64 w:0x1006/4\n",
};

// SPDX-License-Identifier: MIT
/* show.c - print slots and register values (encode, decode) as text or JSON */
#include "show.h"

#include <string.h>

static const char *slot_type_name(enum hwbp_slot_type t)
{
	return t == HWBP_SLOT_BREAK ? "break" : "watch";
}

void show_slots_json(struct json *j, const struct hwbp_slot *slots, unsigned int n)
{
	json_arr_open(j, "slots");
	for (unsigned int i = 0; i < n; i++) {
		json_obj_open(j, NULL);
		json_str(j, "type", slot_type_name(slots[i].type));
		json_uint(j, "index", slots[i].index);
		json_hex(j, "addr", slots[i].addr);
		json_uint(j, "len", slots[i].len);
		json_str(j, "access", hwbp_access_name(slots[i].access));
		json_obj_close(j);
	}
	json_arr_close(j);
}

void show_regs_json(struct json *j, const struct hwbp_regs *regs)
{
	json_obj_open(j, "regs");
	for (unsigned int pos = 0; pos < HWBP_REGS_MAX; pos++) {
		const char *name = hwbp_regs_name(regs->arch, pos);

		if (name && (regs->set[pos / 64] >> (pos % 64) & 1))
			json_hex(j, name, regs->val[pos]);
	}
	json_obj_close(j);
}

void show_slots_text(FILE *f, const struct hwbp_slot *slots, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		const struct hwbp_slot *s = &slots[i];

		fprintf(f, "  %-5s slot %-2u  0x%-14llx len %-2u  %s", slot_type_name(s->type),
			s->index, (unsigned long long)s->addr, s->len, hwbp_access_name(s->access));
		if (s->len > 1)
			fprintf(f, "   (0x%llx-0x%llx)", (unsigned long long)s->addr,
				(unsigned long long)(s->addr + s->len - 1));
		fputc('\n', f);
	}
}

void show_regs_text(FILE *f, const struct hwbp_regs *regs)
{
	const char *sep = "  regs:";

	for (unsigned int pos = 0; pos < HWBP_REGS_MAX; pos++) {
		const char *name = hwbp_regs_name(regs->arch, pos);

		if (name && (regs->set[pos / 64] >> (pos % 64) & 1)) {
			fprintf(f, "%s %s=0x%llx", sep, name, (unsigned long long)regs->val[pos]);
			sep = "";
		}
	}
	if (!*sep)
		fputc('\n', f);
}

int show_parse_arch(const char *optarg_val, enum hwbp_arch *arch, bool *given)
{
	enum hwbp_arch a = hwbp_arch_from_name(optarg_val);

	if (a == HWBP_ARCH_NONE) {
		cli_error("use x86_64, arm64 or loongarch64", "unknown arch '%s'", optarg_val);
		return -1;
	}
	if (*given && a != *arch) {
		cli_error("give --arch once", "conflicting options: --arch %s and --arch %s",
			  hwbp_arch_name(*arch), hwbp_arch_name(a));
		return -1;
	}
	*arch = a;
	*given = true;
	return 0;
}

FILE *show_open_output(const char *path)
{
	FILE *f;

	if (!path || !strcmp(path, "-"))
		return stdout;
	f = fopen(path, "w");
	if (!f)
		cli_error("check the path and its directory's permissions",
			  "cannot write output file '%s': %m", path);
	return f;
}

/* See show.h. */
int show_close_output(FILE *out, const char *path)
{
	if (out != stdout && fclose(out)) {
		cli_error(NULL, "cannot write output file '%s': %m", path);
		return CLI_FAIL;
	}
	return CLI_OK;
}

/* See show.h. */
int show_parse_opts(const struct cli_cmd *cmd, int argc, char **argv, struct show_opts *o)
{
	char *arg;
	int c;

	o->arch = hwbp_arch_host();
	cli_json_errors_from_args(argc, argv);
	while ((c = cli_getopt(cmd, argc, argv, &arg)) != -1) {
		switch (c) {
		case 'a':
			if (show_parse_arch(arg, &o->arch, &o->arch_given))
				return CLI_USAGE;
			break;
		case 'j':
			o->json = true;
			break;
		case 'o':
			o->outpath = arg;
			break;
		default:
			return CLI_USAGE;
		}
	}
	return 0;
}

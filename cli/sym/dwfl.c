// SPDX-License-Identifier: MIT
/*
 * dwfl.c - symbols through elfutils' libdwfl: contexts and their modules,
 * ELF symbols, the resolution of a location, and suggestions for a
 * misspelt name. With dwarf.c, where.c and unwind.c the only files that
 * include elfutils headers (through dwfl_int.h)
 */
#include <dwarf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <unistd.h>

#include "sym/dwfl_int.h"

#ifndef EM_LOONGARCH
#define EM_LOONGARCH 258
#endif

static char *debuginfo_path;

static const Dwfl_Callbacks proc_callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

static const Dwfl_Callbacks file_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

/* ------------------------------------------------------------------------
 * Contexts
 * ------------------------------------------------------------------------ */

static int collect_mod(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start,
		       void *arg)
{
	struct hwbp_sym_ctx *ctx = arg;
	Dwfl_Module **m;

	(void)userdata;
	(void)name;
	(void)start;
	m = realloc(ctx->mods, (ctx->nmods + 1) * sizeof(*m)); // NOLINT(bugprone-sizeof-expression): an array of pointers
	if (!m)
		return DWARF_CB_ABORT;
	ctx->mods = m;
	m[ctx->nmods++] = mod;
	return DWARF_CB_OK;
}

static int cmp_mod(const void *a, const void *b)
{
	uint64_t x = mod_start(*(Dwfl_Module *const *)a);
	uint64_t y = mod_start(*(Dwfl_Module *const *)b);

	return x < y ? -1 : x > y;
}

static enum hwbp_arch elf_arch(Dwfl_Module *mod)
{
	GElf_Addr bias;
	GElf_Ehdr ehdr;
	Elf *elf = dwfl_module_getelf(mod, &bias);

	if (!elf || !gelf_getehdr(elf, &ehdr))
		return HWBP_ARCH_NONE;
	switch (ehdr.e_machine) {
	case EM_X86_64:
		return HWBP_ARCH_X86_64;
	case EM_AARCH64:
		return HWBP_ARCH_ARM64;
	case EM_LOONGARCH:
		return HWBP_ARCH_LOONGARCH64;
	default:
		return HWBP_ARCH_NONE;
	}
}

/* List the modules, the executable first (it wins symbol look-ups), then by address. */
static int index_mods(struct hwbp_sym_ctx *ctx)
{
	size_t i;

	free(ctx->mods);
	ctx->mods = NULL;
	ctx->nmods = 0;
	if (dwfl_getmodules(ctx->dwfl, collect_mod, ctx, 0) != 0)
		return -ENOMEM;
	if (ctx->nmods > 1)
		qsort(ctx->mods, ctx->nmods, sizeof(*ctx->mods), cmp_mod); // NOLINT(bugprone-sizeof-expression)
	for (i = 0; i < ctx->nmods; i++) {
		if (strcmp(mod_name(ctx->mods[i]), ctx->exe) == 0) {
			Dwfl_Module *exe = ctx->mods[i];

			memmove(ctx->mods + 1, ctx->mods, i * sizeof(*ctx->mods)); // NOLINT(bugprone-sizeof-expression)
			ctx->mods[0] = exe;
			break;
		}
	}
	ctx->arch = ctx->nmods ? elf_arch(ctx->mods[0]) : HWBP_ARCH_NONE;
	return 0;
}

static int report_pid(struct hwbp_sym_ctx *ctx)
{
	char link[64];
	ssize_t n;
	int err;

	if (ctx->memo)
		memset(ctx->memo, 0, INSN_MEMO * sizeof(*ctx->memo));
	if (ctx->where)
		for (unsigned int i = 0; i < WHERE_MEMO; i++)
			ctx->where[i].ip = 0;
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)ctx->pid);
	n = readlink(link, ctx->exe, sizeof(ctx->exe) - 1);
	if (n < 0) {
		/* Another user's process: maps may still say which file it runs. */
		if (errno == ENOENT)
			return -ESRCH;
		n = 0;
	}
	ctx->exe[n] = '\0';
	dwfl_report_begin(ctx->dwfl);
	err = dwfl_linux_proc_report(ctx->dwfl, ctx->pid);
	if (dwfl_report_end(ctx->dwfl, NULL, NULL) != 0 && !err)
		err = ENOMEM;
	if (err < 0)
		return -ENOMEM;
	if (err == ENOENT)
		return -ESRCH;
	if (err)
		return -err;
	return index_mods(ctx);
}

/* See sym.h. */
int hwbp_sym_open_pid(pid_t pid, struct hwbp_sym_ctx **out)
{
	struct hwbp_sym_ctx *ctx;
	int err;

	if (pid <= 0 || !out)
		return -EINVAL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->pid = pid;
	ctx->dwfl = dwfl_begin(&proc_callbacks);
	if (!ctx->dwfl) {
		free(ctx);
		return -ENOMEM;
	}
	err = report_pid(ctx);
	if (err) {
		hwbp_sym_close(ctx);
		return err;
	}
	*out = ctx;
	return 0;
}

/* See sym.h. */
int hwbp_sym_open_file(const char *path, uint64_t bias, struct hwbp_sym_ctx **out)
{
	struct hwbp_sym_ctx *ctx;
	Dwfl_Module *mod;
	int fd, err;

	if (!path || !out)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx) {
		close(fd);
		return -ENOMEM;
	}
	copy_str(ctx->exe, sizeof(ctx->exe), path);
	ctx->dwfl = dwfl_begin(&file_callbacks);
	if (!ctx->dwfl) {
		close(fd);
		free(ctx);
		return -ENOMEM;
	}
	dwfl_report_begin(ctx->dwfl);
	/* libdwfl owns FD from here; add_p_vaddr makes BIAS the load bias. */
	mod = dwfl_report_elf(ctx->dwfl, path, path, fd, bias, true);
	dwfl_report_end(ctx->dwfl, NULL, NULL);
	if (!mod) {
		hwbp_sym_close(ctx);
		return -EINVAL;
	}
	err = index_mods(ctx);
	if (err) {
		hwbp_sym_close(ctx);
		return err;
	}
	*out = ctx;
	return 0;
}

/* See sym.h. */
int hwbp_sym_refresh(struct hwbp_sym_ctx *ctx)
{
	if (!ctx)
		return -EINVAL;
	if (!ctx->pid)
		return 0;
	return report_pid(ctx);
}

/* See sym.h. */
void hwbp_sym_close(struct hwbp_sym_ctx *ctx)
{
	if (!ctx)
		return;
	if (ctx->dwfl)
		dwfl_end(ctx->dwfl);
	free(ctx->mods);
	free(ctx->memo);
	free(ctx->where);
	free(ctx);
}

/* See sym.h. */
enum hwbp_arch hwbp_sym_arch(const struct hwbp_sym_ctx *ctx)
{
	return ctx ? ctx->arch : HWBP_ARCH_NONE;
}

/* ------------------------------------------------------------------------
 * ELF symbols
 * ------------------------------------------------------------------------ */

/* See dwfl_int.h. */
bool hwbp_sym_mod_matches(Dwfl_Module *mod, const char *object)
{
	const char *name = mod_name(mod);
	const char *base = base_name(name);
	size_t n = strlen(object);

	if (!object[0])
		return true;
	if (strchr(object, '/'))
		return strcmp(name, object) == 0;
	return strncmp(base, object, n) == 0 && (base[n] == '\0' || base[n] == '.');
}

/* Symbol name without a version suffix equals NAME. */
static bool sym_name_is(const char *sym, const char *name)
{
	size_t n = strlen(name);

	return strncmp(sym, name, n) == 0 && (sym[n] == '\0' || sym[n] == '@');
}

struct sym_hit {
	Dwfl_Module *mod;
	uint64_t addr;
	uint64_t size;
	int type;
	int bind;
};

/* Best definition of NAME in MOD: global/weak over local; 0 if found. */
static int find_sym_in(Dwfl_Module *mod, const char *name, struct sym_hit *hit)
{
	int i, n = dwfl_module_getsymtab(mod);
	int found = -ENOENT;

	for (i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		GElf_Word shndx;
		const char *s = dwfl_module_getsym_info(mod, i, &sym, &addr, &shndx, NULL, NULL);
		int type, bind;

		if (!s || !sym_name_is(s, name))
			continue;
		if (sym.st_shndx == SHN_UNDEF)
			continue;
		type = GELF_ST_TYPE(sym.st_info);
		bind = GELF_ST_BIND(sym.st_info);
		if (type == STT_SECTION || type == STT_FILE)
			continue;
		if (type == STT_TLS) {
			if (found == -ENOENT)
				found = -EOPNOTSUPP;
			continue;
		}
		if (found == 0 && (hit->bind != STB_LOCAL || bind == STB_LOCAL))
			continue;
		hit->mod = mod;
		hit->addr = addr;
		hit->size = sym.st_size;
		hit->type = type;
		hit->bind = bind;
		found = 0;
	}
	return found;
}

/*
 * The executable's own symbol wins, static or not (what the user's program
 * calls NAME); then the first global one in map order; then the first local.
 */
static int find_sym(struct hwbp_sym_ctx *ctx, const char *object, const char *name,
		    struct sym_hit *hit)
{
	struct sym_hit local;
	bool have_local = false;
	int err = -ENOENT;
	size_t i;

	for (i = 0; i < ctx->nmods; i++) {
		struct sym_hit h;
		int e;

		if (!hwbp_sym_mod_matches(ctx->mods[i], object))
			continue;
		memset(&h, 0, sizeof(h));
		e = find_sym_in(ctx->mods[i], name, &h);
		if (e == 0 && (i == 0 || h.bind != STB_LOCAL)) {
			*hit = h;
			return 0;
		}
		if (e == 0 && !have_local) {
			local = h;
			have_local = true;
		}
		if (e == -EOPNOTSUPP)
			err = e;
	}
	if (have_local) {
		*hit = local;
		return 0;
	}
	return err;
}

static bool elf_has_symtab(Elf *elf)
{
	Elf_Scn *scn = NULL;

	while (elf && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;

		if (gelf_getshdr(scn, &shdr) && shdr.sh_type == SHT_SYMTAB)
			return true;
	}
	return false;
}

/* Neither .symtab (in the file or its debug file) nor DWARF. */
static bool mod_stripped(Dwfl_Module *mod)
{
	GElf_Addr bias;
	Dwarf_Addr dbias;
	Dwarf *dw;

	if (elf_has_symtab(dwfl_module_getelf(mod, &bias)))
		return false;
	dw = dwfl_module_getdwarf(mod, &dbias);
	if (dw)
		return false;
	return true;
}

/* ------------------------------------------------------------------------
 * Resolution
 * ------------------------------------------------------------------------ */

/* See sym.h. */
int hwbp_sym_resolve(struct hwbp_sym_ctx *ctx, const struct cli_loc *loc, struct hwbp_sym_loc *out,
		     char *why, size_t why_len)
{
	const char *object, *name;
	uint64_t off;
	struct sym_hit hit;
	bool found_mod = false;
	size_t i;
	int err;

	memset(&hit, 0, sizeof(hit));
	if (!ctx || !loc || !out) {
		say(why, why_len, "no location");
		return -EINVAL;
	}
	if (loc->is_addr) {
		memset(out, 0, sizeof(*out));
		out->addr = loc->addr;
		out->kind = HWBP_SYM_ADDR;
		return 0;
	}
	if (loc->bad == CLI_LOC_BAD_OBJECT) {
		say(why, why_len, "%s", loc->why);
		return loc->err;
	}
	object = loc->object;
	for (i = 0; i < ctx->nmods; i++)
		found_mod |= hwbp_sym_mod_matches(ctx->mods[i], object);
	if (!found_mod) {
		say(why, why_len, "no module '%s' loaded", object);
		return -ENXIO;
	}
	if (loc->bad == CLI_LOC_BAD_NAME) {
		say(why, why_len, "%s", loc->why);
		return loc->err;
	}
	name = loc->name;
	off = loc->off;

	err = find_sym(ctx, object, name, &hit);
	if (err == 0) {
		memset(out, 0, sizeof(*out));
		out->addr = hit.addr + off;
		out->kind = (hit.type == STT_FUNC || hit.type == STT_GNU_IFUNC) ? HWBP_SYM_FUNC :
			    HWBP_SYM_OBJECT;
		copy_str(out->module, sizeof(out->module), base_name(mod_name(hit.mod)));
		copy_str(out->symbol, sizeof(out->symbol), name);
		if (out->kind == HWBP_SYM_OBJECT && ctx->defer_types && hit.size && !off)
			out->type_later = true;
		else if (out->kind == HWBP_SYM_OBJECT)
			hwbp_sym_var_type(hit.mod, name, hit.addr, out);
		if (!hit.size && out->has_type)
			hit.size = out->enc_size;
		if (!loc->has_off)
			out->len = hit.size;
		else
			out->len = hit.size > off ? hit.size - off : 0;
		/* The type describes the whole symbol, not a part of it. */
		if (off)
			out->has_type = false;
		if (!out->has_type) {
			out->enc = HWBP_SYM_ENC_NONE;
			out->enc_size = 0;
			out->type[0] = '\0';
		}
		return 0;
	}
	if (err == -EOPNOTSUPP) {
		say(why, why_len, "'%s' is thread-local: no fixed address", name);
		return err;
	}

	err = hwbp_sym_resolve_path(ctx, loc, out, why, why_len);
	if (err != -ENOENT)
		return err;
	/* Not found: is the module searched stripped? */
	for (i = 0; i < ctx->nmods; i++) {
		if (!hwbp_sym_mod_matches(ctx->mods[i], object))
			continue;
		if (mod_stripped(ctx->mods[i])) {
			say(why, why_len, "no symbol '%s': %s is stripped (no .symtab, no DWARF)",
			    name, base_name(mod_name(ctx->mods[i])));
			return -ENODATA;
		}
		/* Without OBJECT only the executable decides. */
		if (!object[0])
			break;
	}
	return -ENOENT;
}

/* See sym.h. */
void hwbp_sym_defer_types(struct hwbp_sym_ctx *ctx, bool defer)
{
	if (ctx)
		ctx->defer_types = defer;
}

/* See sym.h. */
int hwbp_sym_loc_type(struct hwbp_sym_ctx *ctx, struct hwbp_sym_loc *loc)
{
	Dwfl_Module *mod;

	if (!ctx || !loc)
		return -EINVAL;
	if (!loc->type_later)
		return 0;
	loc->type_later = false;
	mod = hwbp_sym_find_mod(ctx, loc->addr);
	if (mod)
		hwbp_sym_var_type(mod, loc->symbol, loc->addr, loc);
	return 0;
}

/* ------------------------------------------------------------------------
 * Suggestions
 * ------------------------------------------------------------------------ */

/* See dwfl_int.h. */
size_t hwbp_sym_edit_distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[HWBP_SYM_NAME_MAX + 1];

	if (la > HWBP_SYM_NAME_MAX || lb > HWBP_SYM_NAME_MAX)
		return cap;
	if ((la > lb ? la - lb : lb - la) >= cap)
		return cap;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0], low;

		row[0] = i;
		low = row[0];
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t v = diag + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < v)
				v = row[j] + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			row[j] = v;
			diag = up;
			if (v < low)
				low = v;
		}
		if (low >= cap)
			return cap;
	}
	return row[lb] < cap ? row[lb] : cap;
}

struct suggest {
	const char *name;
	size_t cap;
	char best[3][HWBP_SYM_NAME_MAX];
	size_t dist[3];
	unsigned int n;
};

static void suggest_add(struct suggest *s, const char *cand)
{
	size_t d;
	unsigned int i, j;

	if (!cand || !cand[0] || strchr(cand, '@'))
		return;
	d = hwbp_sym_edit_distance(s->name, cand, s->cap);
	if (d >= s->cap || d == 0)
		return;
	for (i = 0; i < s->n; i++) {
		if (strcmp(s->best[i], cand) == 0)
			return;
	}
	for (i = 0; i < s->n; i++) {
		if (d < s->dist[i] || (d == s->dist[i] && strcmp(cand, s->best[i]) < 0))
			break;
	}
	if (i >= 3)
		return;
	for (j = (s->n < 3 ? s->n : 2); j > i; j--) {
		s->dist[j] = s->dist[j - 1];
		memcpy(s->best[j], s->best[j - 1], sizeof(s->best[j]));
	}
	s->dist[i] = d;
	copy_str(s->best[i], sizeof(s->best[i]), cand);
	if (s->n < 3)
		s->n++;
}

/* See sym.h. */
int hwbp_sym_suggest(struct hwbp_sym_ctx *ctx, const struct cli_loc *loc, char *buf, size_t len)
{
	const char *object;
	struct suggest s;
	size_t i, used = 0;
	unsigned int k;

	if (!ctx || !loc || !buf || !len)
		return -EINVAL;
	buf[0] = '\0';
	if (loc->is_addr || loc->bad == CLI_LOC_BAD_OBJECT)
		return -EINVAL;
	object = loc->object;
	memset(&s, 0, sizeof(s));
	s.name = loc->name;
	s.cap = strlen(loc->name) / 3 > 2 ? strlen(loc->name) / 3 + 1 : 3;
	for (i = 0; i < ctx->nmods; i++) {
		Dwfl_Module *mod = ctx->mods[i];
		int j, n;
		Dwarf_Die *cu = NULL;
		Dwarf_Addr bias;

		if (!hwbp_sym_mod_matches(mod, object))
			continue;
		n = dwfl_module_getsymtab(mod);
		for (j = 1; j < n; j++) {
			GElf_Sym sym;
			const char *sn = dwfl_module_getsym(mod, j, &sym, NULL);
			int type = GELF_ST_TYPE(sym.st_info);

			if (sn && sym.st_shndx != SHN_UNDEF &&
			    (type == STT_OBJECT || type == STT_FUNC || type == STT_NOTYPE ||
			     type == STT_GNU_IFUNC || type == STT_COMMON))
				suggest_add(&s, sn);
		}
		if (i != 0 && !object[0])
			continue;
		while ((cu = dwfl_module_nextcu(mod, cu, &bias))) {
			Dwarf_Die child;

			if (dwarf_child(cu, &child) != 0)
				continue;
			do {
				if (dwarf_tag(&child) == DW_TAG_variable)
					suggest_add(&s, dwarf_diename(&child));
			} while (dwarf_siblingof(&child, &child) == 0);
		}
	}
	for (k = 0; k < s.n; k++) {
		int w = snprintf(buf + used, len - used, "%s%s", k ? ", " : "", s.best[k]);

		if (w < 0 || (size_t)w >= len - used) {
			buf[used] = '\0';
			break;
		}
		used += (size_t)w;
	}
	return (int)k;
}

// SPDX-License-Identifier: MIT
/*
 * dwfl.c - symbols, DWARF paths, source lines and unwinding through
 * elfutils' libdwfl; the only file that includes elfutils headers
 */
#include <ctype.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sym/sym.h"

#ifndef EM_LOONGARCH
#define EM_LOONGARCH 258
#endif

/* Per-call state of hwbp_sym_unwind(), reached from the libdwfl callbacks. */
struct unwind_state {
	const uint64_t *regs;
	const uint8_t *stack;
	size_t stack_size;
	uint64_t sp;
	uint64_t *ips;
	unsigned int max;
	unsigned int n;
	bool thread_given;
};

/*
 * A loop traps at the same instruction again and again, and finding the
 * accessing instruction of an x86 data trap decodes from the start of the
 * function each time: that costs more than the hit itself (about 25 us
 * for a 90-byte function). The answers for code read from a module's file
 * are kept here, by trap address; code read from memory (JIT) may change
 * and is decoded anew. Emptied whenever the modules are reported again.
 */
#define INSN_MEMO 64

struct insn_memo {
	uint64_t func_start;
	uint64_t ip_after;		/* 0: empty */
	struct hwbp_sym_insn insn;
};

/*
 * The last answers of hwbp_sym_addr_info(), by ip: a watch reports the
 * same few instructions again and again, and the line table lookup costs
 * more than a hit. Emptied whenever the modules are reported again.
 */
#define WHERE_MEMO 32

struct hwbp_sym_ctx {
	Dwfl *dwfl;
	pid_t pid;			/* 0 for a file context */
	char exe[HWBP_SYM_PATH_MAX];	/* path of the executable module */
	Dwfl_Module **mods;		/* executable first, then by address */
	size_t nmods;
	enum hwbp_arch arch;
	bool attached;			/* dwfl_attach_state() done */
	struct unwind_state *uw;
	struct insn_memo *memo;		/* INSN_MEMO entries, or NULL */
	struct hwbp_sym_where *where;	/* WHERE_MEMO entries (ip 0: empty) */
	bool defer_types;		/* see hwbp_sym_defer_types() */
};

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

static void say(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!why || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

/* Copy SRC into DST of LEN bytes, truncating; NULL copies as "". */
static void copy_str(char *dst, size_t len, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (!len)
		return;
	if (n >= len)
		n = len - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static const char *mod_name(Dwfl_Module *mod)
{
	const char *name = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

	return name ? name : "";
}

static uint64_t mod_start(Dwfl_Module *mod)
{
	Dwarf_Addr start = 0;

	dwfl_module_info(mod, NULL, &start, NULL, NULL, NULL, NULL, NULL);
	return start;
}

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

/* OBJECT matches a basename equal to it or starting with "OBJECT.", or a full path. */
static bool mod_matches(Dwfl_Module *mod, const char *object)
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

		if (!mod_matches(ctx->mods[i], object))
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
 * DWARF variables and paths
 * ------------------------------------------------------------------------ */

/* Static address of variable DIE, link-time; 0, -EOPNOTSUPP (not static) or -ENOENT. */
static int var_addr(Dwarf_Die *var, uint64_t *addr)
{
	Dwarf_Attribute attr;
	Dwarf_Op *expr;
	size_t n;

	if (!dwarf_attr_integrate(var, DW_AT_location, &attr))
		return -ENOENT;
	if (dwarf_getlocation(&attr, &expr, &n) != 0 || n < 1)
		return -EOPNOTSUPP;
	if (n != 1)
		return -EOPNOTSUPP;
	if (expr[0].atom == DW_OP_addr) {
		*addr = expr[0].number;
		return 0;
	}
	if (expr[0].atom == DW_OP_addrx || expr[0].atom == DW_OP_GNU_addr_index) {
		Dwarf_Attribute res;
		Dwarf_Addr a;

		if (dwarf_getlocation_attr(&attr, expr, &res) == 0 &&
		    dwarf_formaddr(&res, &a) == 0) {
			*addr = a;
			return 0;
		}
	}
	return -EOPNOTSUPP;
}

struct var_hit {
	Dwfl_Module *mod;
	Dwarf_Die die;
	uint64_t addr;		/* run-time */
};

/* Search the children of PARENT (recursing into lexical blocks if DEEP) for variable NAME. */
static int find_var_under(Dwarf_Die *parent, const char *name, bool deep, Dwarf_Addr bias,
			  struct var_hit *hit)
{
	Dwarf_Die child;
	int err = -ENOENT;

	if (dwarf_child(parent, &child) != 0)
		return -ENOENT;
	do {
		int tag = dwarf_tag(&child);

		if (tag == DW_TAG_variable) {
			const char *n = dwarf_diename(&child);
			uint64_t a;
			int e;

			if (!n || strcmp(n, name) != 0)
				continue;
			e = var_addr(&child, &a);
			if (e == 0) {
				hit->die = child;
				hit->addr = a + bias;
				return 0;
			}
			if (e == -EOPNOTSUPP)
				err = e;
		} else if (deep && tag == DW_TAG_lexical_block) {
			int e = find_var_under(&child, name, true, bias, hit);

			if (e == 0)
				return 0;
			if (e == -EOPNOTSUPP)
				err = e;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return err;
}

/* Variable NAME at CU level, or static VAR inside function FUNC when FUNC is not NULL. */
static int find_var_in(Dwfl_Module *mod, const char *func, const char *name, struct var_hit *hit)
{
	Dwarf_Die *cu = NULL;
	Dwarf_Addr bias;
	int err = -ENOENT;

	while ((cu = dwfl_module_nextcu(mod, cu, &bias))) {
		Dwarf_Die child;
		int e;

		if (!func) {
			e = find_var_under(cu, name, false, bias, hit);
		} else {
			e = -ENOENT;
			if (dwarf_child(cu, &child) != 0)
				continue;
			do {
				const char *n;

				if (dwarf_tag(&child) != DW_TAG_subprogram)
					continue;
				n = dwarf_diename(&child);
				if (!n || strcmp(n, func) != 0)
					continue;
				e = find_var_under(&child, name, true, bias, hit);
				if (e == 0)
					break;
			} while (dwarf_siblingof(&child, &child) == 0);
		}
		if (e == 0) {
			hit->mod = mod;
			return 0;
		}
		if (e == -EOPNOTSUPP)
			err = e;
	}
	return err;
}

static int find_var(struct hwbp_sym_ctx *ctx, const char *object, const char *func,
		    const char *name, struct var_hit *hit)
{
	int err = -ENOENT;
	size_t i;

	for (i = 0; i < ctx->nmods; i++) {
		int e;

		if (!mod_matches(ctx->mods[i], object))
			continue;
		e = find_var_in(ctx->mods[i], func, name, hit);
		if (e == 0)
			return 0;
		if (e == -EOPNOTSUPP)
			err = e;
	}
	return err;
}

static bool die_type(Dwarf_Die *die, Dwarf_Die *type)
{
	Dwarf_Attribute attr;

	return dwarf_attr_integrate(die, DW_AT_type, &attr) && dwarf_formref_die(&attr, type);
}

/* Upper bound + 1 of a subrange, or -1 if not known (flexible array). */
static int64_t subrange_count(Dwarf_Die *sub)
{
	Dwarf_Attribute attr;
	Dwarf_Word w;
	Dwarf_Sword lo = 0;

	if (dwarf_attr(sub, DW_AT_count, &attr) && dwarf_formudata(&attr, &w) == 0)
		return (int64_t)w;
	if (dwarf_attr(sub, DW_AT_lower_bound, &attr))
		dwarf_formsdata(&attr, &lo);
	if (dwarf_attr(sub, DW_AT_upper_bound, &attr) && dwarf_formudata(&attr, &w) == 0)
		return (int64_t)w - lo + 1;
	return -1;
}

#define MAX_DIMS 8

/* Dimensions of array DIE; returns how many. */
static int array_dims(Dwarf_Die *array, int64_t *dims)
{
	Dwarf_Die sub;
	int n = 0;

	if (dwarf_child(array, &sub) != 0)
		return 0;
	do {
		int tag = dwarf_tag(&sub);

		if ((tag == DW_TAG_subrange_type || tag == DW_TAG_enumeration_type) && n < MAX_DIMS)
			dims[n++] = subrange_count(&sub);
	} while (dwarf_siblingof(&sub, &sub) == 0);
	return n;
}

static void type_name(Dwarf_Die *type, char *buf, size_t len, int depth);

static void type_name_dims(Dwarf_Die *array, int from, char *buf, size_t len, int depth)
{
	int64_t dims[MAX_DIMS];
	int i, n = array_dims(array, dims);
	Dwarf_Die elem;

	if (die_type(array, &elem))
		type_name(&elem, buf, len, depth + 1);
	else
		copy_str(buf, len, "?");
	for (i = from; i < n; i++) {
		size_t used = strlen(buf);

		if (dims[i] >= 0)
			snprintf(buf + used, len - used, "[%" PRId64 "]", dims[i]);
		else
			snprintf(buf + used, len - used, "[]");
	}
}

/* C spelling of TYPE, good enough for messages: "struct config", "int *", "char[16]". */
static void type_name(Dwarf_Die *type, char *buf, size_t len, int depth)
{
	const char *name = dwarf_diename(type);
	const char *kw = NULL;
	Dwarf_Die sub;
	size_t used;

	if (depth > 8) {
		copy_str(buf, len, "...");
		return;
	}
	switch (dwarf_tag(type)) {
	case DW_TAG_structure_type:
		kw = "struct";
		break;
	case DW_TAG_union_type:
		kw = "union";
		break;
	case DW_TAG_enumeration_type:
		kw = "enum";
		break;
	case DW_TAG_class_type:
		kw = "class";
		break;
	case DW_TAG_pointer_type:
		if (die_type(type, &sub))
			type_name(&sub, buf, len, depth + 1);
		else
			copy_str(buf, len, "void");
		used = strlen(buf);
		snprintf(buf + used, len - used, " *");
		return;
	case DW_TAG_const_type:
	case DW_TAG_volatile_type:
		if (die_type(type, &sub)) {
			char inner[HWBP_SYM_NAME_MAX / 2];
			bool c = dwarf_tag(type) == DW_TAG_const_type;

			type_name(&sub, inner, sizeof(inner), depth + 1);
			snprintf(buf, len, "%s %s", c ? "const" : "volatile", inner);
		} else {
			copy_str(buf, len, dwarf_tag(type) == DW_TAG_const_type ? "const void" :
				 "volatile void");
		}
		return;
	case DW_TAG_array_type:
		type_name_dims(type, 0, buf, len, depth);
		return;
	case DW_TAG_subroutine_type:
		copy_str(buf, len, "function");
		return;
	default:
		break;
	}
	if (kw)
		snprintf(buf, len, "%s %s", kw, name ? name : "<anonymous>");
	else
		copy_str(buf, len, name ? name : "?");
}

static enum hwbp_sym_encoding type_encoding(Dwarf_Die *peeled)
{
	Dwarf_Attribute attr;
	Dwarf_Word enc;
	Dwarf_Die under;

	switch (dwarf_tag(peeled)) {
	case DW_TAG_pointer_type:
	case DW_TAG_reference_type:
	case DW_TAG_rvalue_reference_type:
	case DW_TAG_ptr_to_member_type:
		return HWBP_SYM_ENC_POINTER;
	case DW_TAG_enumeration_type:
		if (die_type(peeled, &under) && dwarf_peel_type(&under, &under) == 0 &&
		    dwarf_tag(&under) == DW_TAG_base_type)
			return type_encoding(&under);
		if (dwarf_attr(peeled, DW_AT_encoding, &attr) && dwarf_formudata(&attr, &enc) == 0)
			break;
		return HWBP_SYM_ENC_UNSIGNED;
	case DW_TAG_base_type:
		if (!dwarf_attr(peeled, DW_AT_encoding, &attr) || dwarf_formudata(&attr, &enc) != 0)
			return HWBP_SYM_ENC_NONE;
		break;
	default:
		return HWBP_SYM_ENC_NONE;
	}
	switch (enc) {
	case DW_ATE_signed:
	case DW_ATE_signed_char:
		return HWBP_SYM_ENC_SIGNED;
	case DW_ATE_unsigned:
	case DW_ATE_unsigned_char:
	case DW_ATE_UTF:
		return HWBP_SYM_ENC_UNSIGNED;
	case DW_ATE_boolean:
		return HWBP_SYM_ENC_BOOL;
	case DW_ATE_float:
		return HWBP_SYM_ENC_FLOAT;
	case DW_ATE_address:
		return HWBP_SYM_ENC_POINTER;
	default:
		return HWBP_SYM_ENC_NONE;
	}
}

/* Where a path walk stands: a type (peeled), possibly part-way through a multi-dim array. */
struct walk {
	Dwarf_Die type;		/* peeled */
	int dim;		/* next dimension of an array type to index */
	uint64_t addr;
	bool bitfield;
	uint64_t bit_len;	/* bytes covering a bit-field */
	char path[2 * HWBP_SYM_NAME_MAX + 8];
};

static int walk_size(struct walk *w, uint64_t *size)
{
	Dwarf_Word sz;

	if (w->bitfield) {
		*size = w->bit_len;
		return 0;
	}
	if (dwarf_tag(&w->type) == DW_TAG_array_type && w->dim > 0) {
		int64_t dims[MAX_DIMS];
		int i, n = array_dims(&w->type, dims);
		Dwarf_Die elem;
		uint64_t s;

		if (!die_type(&w->type, &elem) || dwarf_aggregate_size(&elem, &sz) != 0)
			return -1;
		s = sz;
		for (i = w->dim; i < n; i++) {
			if (dims[i] < 0)
				return -1;
			s *= (uint64_t)dims[i];
		}
		*size = s;
		return 0;
	}
	if (dwarf_aggregate_size(&w->type, &sz) != 0)
		return -1;
	*size = sz;
	return 0;
}

static void walk_type_name(struct walk *w, char *buf, size_t len)
{
	if (dwarf_tag(&w->type) == DW_TAG_array_type && w->dim > 0)
		type_name_dims(&w->type, w->dim, buf, len, 0);
	else
		type_name(&w->type, buf, len, 0);
}

static size_t edit_distance(const char *a, const char *b, size_t cap);

static int member_offset(Dwarf_Die *member, uint64_t *off)
{
	Dwarf_Attribute attr;
	Dwarf_Word w;
	Dwarf_Op *expr;
	size_t n;

	*off = 0;
	if (!dwarf_attr(member, DW_AT_data_member_location, &attr)) {
		if (dwarf_attr(member, DW_AT_data_bit_offset, &attr) &&
		    dwarf_formudata(&attr, &w) == 0)
			*off = w / 8;
		return 0;	/* union member */
	}
	if (dwarf_formudata(&attr, &w) == 0) {
		*off = w;
		return 0;
	}
	if (dwarf_getlocation(&attr, &expr, &n) == 0 && n == 1 &&
	    expr[0].atom == DW_OP_plus_uconst) {
		*off = expr[0].number;
		return 0;
	}
	return -1;
}

/* Find member NAME of struct/union AGG, looking into anonymous members. */
static bool find_member(Dwarf_Die *agg, const char *name, Dwarf_Die *found, uint64_t *off,
			const char **closest, size_t *best)
{
	Dwarf_Die m;

	if (dwarf_child(agg, &m) != 0)
		return false;
	do {
		const char *n;
		uint64_t o;

		if (dwarf_tag(&m) != DW_TAG_member)
			continue;
		if (member_offset(&m, &o) != 0)
			continue;
		n = dwarf_diename(&m);
		if (n && strcmp(n, name) == 0) {
			*found = m;
			*off = o;
			return true;
		}
		if (n) {
			size_t d = edit_distance(name, n, *best);

			if (d < *best) {
				*best = d;
				*closest = n;
			}
		} else {
			Dwarf_Die t;
			uint64_t inner;

			if (die_type(&m, &t) && dwarf_peel_type(&t, &t) == 0 &&
			    (dwarf_tag(&t) == DW_TAG_structure_type ||
			     dwarf_tag(&t) == DW_TAG_union_type) &&
			    find_member(&t, name, found, &inner, closest, best)) {
				*off = o + inner;
				return true;
			}
		}
	} while (dwarf_siblingof(&m, &m) == 0);
	return false;
}

static int walk_member(struct walk *w, const char *name, char *why, size_t why_len)
{
	int tag = dwarf_tag(&w->type);
	const char *closest = NULL;
	size_t best = strlen(name) / 3 > 2 ? strlen(name) / 3 + 1 : 3;
	char tn[HWBP_SYM_NAME_MAX];
	Dwarf_Attribute attr;
	Dwarf_Word bits;
	Dwarf_Die m, t;
	uint64_t off;

	walk_type_name(w, tn, sizeof(tn));
	if (w->bitfield || (tag != DW_TAG_structure_type && tag != DW_TAG_union_type &&
			    tag != DW_TAG_class_type) || w->dim > 0) {
		if (tag == DW_TAG_pointer_type) {
			say(why, why_len, "'%s' is a pointer (%s): cannot follow it to '%s'",
			    w->path, tn, name);
			return -EOPNOTSUPP;
		}
		say(why, why_len, "'%s' is not a struct or union (%s): no member '%s'", w->path,
		    tn, name);
		return -ENOENT;
	}
	if (!find_member(&w->type, name, &m, &off, &closest, &best)) {
		if (closest)
			say(why, why_len, "no member '%s' in %s (did you mean '%s'?)", name, tn,
			    closest);
		else
			say(why, why_len, "no member '%s' in %s", name, tn);
		return -ENOENT;
	}
	if (!die_type(&m, &t) || dwarf_peel_type(&t, &t) != 0) {
		say(why, why_len, "member '%s' of %s has no type", name, tn);
		return -ENOENT;
	}
	w->addr += off;
	w->type = t;
	w->dim = 0;
	if (dwarf_attr(&m, DW_AT_bit_size, &attr) && dwarf_formudata(&attr, &bits) == 0) {
		Dwarf_Word bitoff, unit;

		w->bitfield = true;
		if (dwarf_attr(&m, DW_AT_data_bit_offset, &attr) &&
		    dwarf_formudata(&attr, &bitoff) == 0) {
			/* DWARF 4+: member_offset() gave bitoff / 8; cover the bits from there. */
			w->bit_len = (bitoff % 8 + bits + 7) / 8;
		} else {
			/* DWARF 2/3: the offset is the storage unit's; cover all of it. */
			w->bit_len = dwarf_aggregate_size(&t, &unit) == 0 ? unit : (bits + 7) / 8;
		}
	}
	{
		size_t used = strlen(w->path);

		snprintf(w->path + used, sizeof(w->path) - used, ".%s", name);
	}
	return 0;
}

static int walk_index(struct walk *w, uint64_t idx, char *why, size_t why_len)
{
	int64_t dims[MAX_DIMS];
	Dwarf_Word esz;
	Dwarf_Die elem;
	uint64_t stride;
	int i, n;

	if (dwarf_tag(&w->type) != DW_TAG_array_type) {
		char tn[HWBP_SYM_NAME_MAX];

		walk_type_name(w, tn, sizeof(tn));
		if (dwarf_tag(&w->type) == DW_TAG_pointer_type) {
			say(why, why_len, "'%s' is a pointer (%s): cannot index through it",
			    w->path, tn);
			return -EOPNOTSUPP;
		}
		say(why, why_len, "'%s' is not an array (%s)", w->path, tn);
		return -ENOENT;
	}
	n = array_dims(&w->type, dims);
	if (n < 1 || w->dim >= n || !die_type(&w->type, &elem) ||
	    dwarf_aggregate_size(&elem, &esz) != 0) {
		say(why, why_len, "'%s' has no element size", w->path);
		return -ENOENT;
	}
	if (dims[w->dim] >= 0 && idx >= (uint64_t)dims[w->dim]) {
		say(why, why_len, "index %" PRIu64 " out of range for %s[%" PRId64 "]", idx,
		    w->path, dims[w->dim]);
		return -ENOENT;
	}
	stride = esz;
	for (i = w->dim + 1; i < n; i++) {
		if (dims[i] < 0) {
			say(why, why_len, "'%s' has an inner dimension of unknown size", w->path);
			return -ENOENT;
		}
		stride *= (uint64_t)dims[i];
	}
	w->addr += idx * stride;
	{
		size_t used = strlen(w->path);

		snprintf(w->path + used, sizeof(w->path) - used, "[%" PRIu64 "]", idx);
	}
	if (w->dim + 1 < n) {
		w->dim++;
		return 0;
	}
	w->dim = 0;
	if (dwarf_peel_type(&elem, &elem) != 0)
		return -ENOENT;
	w->type = elem;
	return 0;
}

static bool ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '$';
}

static int parse_uint(const char *s, const char **end, uint64_t *v)
{
	char *e;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &e, 0);
	if (errno || e == s)
		return -EINVAL;
	*end = e;
	return 0;
}

static void fill_type(struct hwbp_sym_loc *out, struct walk *w)
{
	Dwarf_Word sz;

	out->has_type = true;
	out->bitfield = w->bitfield;
	walk_type_name(w, out->type, sizeof(out->type));
	if (dwarf_tag(&w->type) == DW_TAG_array_type && w->dim > 0) {
		out->enc = HWBP_SYM_ENC_NONE;
		out->enc_size = 0;
	} else {
		out->enc = type_encoding(&w->type);
		out->enc_size = dwarf_aggregate_size(&w->type, &sz) == 0 ? (unsigned int)sz : 0;
	}
}

/* Whether the DIE's module has type info for the ELF symbol at ADDR: fill the type fields. */
static void type_for_sym(Dwfl_Module *mod, const char *name, uint64_t addr,
			 struct hwbp_sym_loc *out)
{
	struct var_hit vh;
	struct walk w;

	if (find_var_in(mod, NULL, name, &vh) != 0 || vh.addr != addr)
		return;
	memset(&w, 0, sizeof(w));
	if (!die_type(&vh.die, &w.type) || dwarf_peel_type(&w.type, &w.type) != 0)
		return;
	fill_type(out, &w);
}

/* ------------------------------------------------------------------------
 * Resolution
 * ------------------------------------------------------------------------ */

static int resolve_path(struct hwbp_sym_ctx *ctx, const char *object, const char *text,
			uint64_t off, bool has_off, struct hwbp_sym_loc *out, char *why,
			size_t why_len)
{
	char func[HWBP_SYM_NAME_MAX], name[HWBP_SYM_NAME_MAX];
	const char *p = text, *q;
	struct var_hit vh;
	struct walk w;
	uint64_t size;
	int err;

	func[0] = '\0';
	q = p;
	while (ident_char(*q))
		q++;
	if (q == p || (size_t)(q - p) >= sizeof(name)) {
		say(why, why_len, "bad location '%s'", text);
		return -EINVAL;
	}
	memcpy(name, p, q - p);
	name[q - p] = '\0';
	p = q;
	if (p[0] == ':' && p[1] == ':') {
		copy_str(func, sizeof(func), name);
		p += 2;
		q = p;
		while (ident_char(*q))
			q++;
		if (q == p || (size_t)(q - p) >= sizeof(name)) {
			say(why, why_len, "bad location '%s': no variable after '::'", text);
			return -EINVAL;
		}
		memcpy(name, p, q - p);
		name[q - p] = '\0';
		p = q;
	}
	err = find_var(ctx, object, func[0] ? func : NULL, name, &vh);
	if (err == -EOPNOTSUPP) {
		say(why, why_len, "variable '%s' has no static address (thread-local, register "
			"or optimized out)", name);
		return err;
	}
	if (err) {
		if (func[0])
			say(why, why_len, "no static variable '%s' in function '%s'", name, func);
		else
			say(why, why_len, "no symbol or variable '%s'", name);
		return -ENOENT;
	}
	memset(&w, 0, sizeof(w));
	w.addr = vh.addr;
	if (func[0])
		snprintf(w.path, sizeof(w.path), "%s::%s", func, name);
	else
		copy_str(w.path, sizeof(w.path), name);
	if (!die_type(&vh.die, &w.type) || dwarf_peel_type(&w.type, &w.type) != 0) {
		say(why, why_len, "variable '%s' has no type", name);
		return -ENOENT;
	}
	while (*p) {
		if (*p == '.') {
			char member[HWBP_SYM_NAME_MAX];

			q = ++p;
			while (ident_char(*q))
				q++;
			if (q == p || (size_t)(q - p) >= sizeof(member)) {
				say(why, why_len,
				    "bad location '%s': member name expected after '.'", text);
				return -EINVAL;
			}
			memcpy(member, p, q - p);
			member[q - p] = '\0';
			p = q;
			err = walk_member(&w, member, why, why_len);
		} else if (*p == '[') {
			uint64_t idx;

			if (parse_uint(p + 1, &q, &idx) != 0 || *q != ']') {
				say(why, why_len, "bad location '%s': number expected in []", text);
				return -EINVAL;
			}
			p = q + 1;
			err = walk_index(&w, idx, why, why_len);
		} else {
			say(why, why_len, "bad location '%s' at '%s'", text, p);
			return -EINVAL;
		}
		if (err)
			return err;
	}
	if (walk_size(&w, &size) != 0)
		size = 0;
	memset(out, 0, sizeof(*out));
	out->addr = w.addr + off;
	out->len = !has_off ? size : (size > off ? size - off : 0);
	out->kind = HWBP_SYM_OBJECT;
	copy_str(out->module, sizeof(out->module), base_name(mod_name(vh.mod)));
	copy_str(out->symbol, sizeof(out->symbol), name);
	fill_type(out, &w);
	return 0;
}

/*
 * Split "OBJECT:REST" at the first ':' that is not part of "::". Example:
 * "libc.so.6:environ" -> "libc.so.6", "environ"; "bump::calls" -> "", whole.
 */
static int split_object(const char *loc, char *object, size_t len, const char **rest)
{
	const char *p;

	for (p = loc; *p; p++) {
		if (p[0] == ':' && p[1] == ':') {
			p++;
			continue;
		}
		if (p[0] == ':') {
			if ((size_t)(p - loc) >= len || p == loc)
				return -EINVAL;
			memcpy(object, loc, p - loc);
			object[p - loc] = '\0';
			*rest = p + 1;
			return 0;
		}
	}
	object[0] = '\0';
	*rest = loc;
	return 0;
}

/* See sym.h. */
int hwbp_sym_resolve(struct hwbp_sym_ctx *ctx, const char *location, struct hwbp_sym_loc *out,
		     char *why, size_t why_len)
{
	char object[HWBP_SYM_NAME_MAX], name[HWBP_SYM_NAME_MAX];
	const char *rest, *plus;
	uint64_t off = 0;
	struct sym_hit hit;
	bool found_mod = false;
	size_t i;
	int err;

	memset(&hit, 0, sizeof(hit));
	if (!ctx || !location || !out) {
		say(why, why_len, "no location");
		return -EINVAL;
	}
	if (location[0] == '0' && (location[1] == 'x' || location[1] == 'X')) {
		uint64_t a;
		const char *end;

		if (parse_uint(location, &end, &a) != 0 || *end) {
			say(why, why_len, "bad address '%s'", location);
			return -EINVAL;
		}
		memset(out, 0, sizeof(*out));
		out->addr = a;
		out->kind = HWBP_SYM_ADDR;
		return 0;
	}
	if (split_object(location, object, sizeof(object), &rest) != 0 || !*rest) {
		say(why, why_len, "bad location '%s'", location);
		return -EINVAL;
	}
	for (i = 0; i < ctx->nmods; i++)
		found_mod |= mod_matches(ctx->mods[i], object);
	if (!found_mod) {
		say(why, why_len, "no module '%s' loaded", object);
		return -ENXIO;
	}
	plus = strchr(rest, '+');
	if (plus) {
		const char *end;

		if (parse_uint(plus + 1, &end, &off) != 0 || *end) {
			say(why, why_len, "bad offset in '%s'", location);
			return -EINVAL;
		}
	}
	if ((size_t)(plus ? plus - rest : (ptrdiff_t)strlen(rest)) >= sizeof(name)) {
		say(why, why_len, "name too long in '%s'", location);
		return -EINVAL;
	}
	snprintf(name, sizeof(name), "%.*s", (int)(plus ? plus - rest : (ptrdiff_t)strlen(rest)),
		 rest);
	if (!name[0]) {
		say(why, why_len, "bad location '%s'", location);
		return -EINVAL;
	}

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
			type_for_sym(hit.mod, name, hit.addr, out);
		if (!hit.size && out->has_type)
			hit.size = out->enc_size;
		if (!plus)
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

	err = resolve_path(ctx, object, name, off, plus != NULL, out, why, why_len);
	if (err != -ENOENT)
		return err;
	/* Not found: is the module searched stripped? */
	for (i = 0; i < ctx->nmods; i++) {
		if (!mod_matches(ctx->mods[i], object))
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

static Dwfl_Module *find_mod(struct hwbp_sym_ctx *ctx, uint64_t addr);

/* See sym.h. */
int hwbp_sym_loc_type(struct hwbp_sym_ctx *ctx, struct hwbp_sym_loc *loc)
{
	Dwfl_Module *mod;

	if (!ctx || !loc)
		return -EINVAL;
	if (!loc->type_later)
		return 0;
	loc->type_later = false;
	mod = find_mod(ctx, loc->addr);
	if (mod)
		type_for_sym(mod, loc->symbol, loc->addr, loc);
	return 0;
}

/* ------------------------------------------------------------------------
 * Suggestions
 * ------------------------------------------------------------------------ */

/* Levenshtein distance, giving up at CAP (returns CAP). Example: countr/counter = 1. */
static size_t edit_distance(const char *a, const char *b, size_t cap)
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
	d = edit_distance(s->name, cand, s->cap);
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
int hwbp_sym_suggest(struct hwbp_sym_ctx *ctx, const char *name, char *buf, size_t len)
{
	char object[HWBP_SYM_NAME_MAX];
	struct suggest s;
	const char *rest;
	size_t i, used = 0;
	unsigned int k;

	if (!ctx || !name || !buf || !len)
		return -EINVAL;
	buf[0] = '\0';
	if (split_object(name, object, sizeof(object), &rest) != 0)
		return -EINVAL;
	memset(&s, 0, sizeof(s));
	s.name = rest;
	s.cap = strlen(rest) / 3 > 2 ? strlen(rest) / 3 + 1 : 3;
	for (i = 0; i < ctx->nmods; i++) {
		Dwfl_Module *mod = ctx->mods[i];
		int j, n;
		Dwarf_Die *cu = NULL;
		Dwarf_Addr bias;

		if (!mod_matches(mod, object))
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

/* ------------------------------------------------------------------------
 * Addresses and code
 * ------------------------------------------------------------------------ */

/*
 * Source line of IP. Several rows may share one address (gcc's location
 * views: at -O2 "return counter;" and the closing brace both start at the
 * one load); like gdb, take the last row there that begins a statement.
 */
static void fill_line(Dwfl_Module *mod, uint64_t ip, struct hwbp_sym_where *out)
{
	Dwfl_Line *dl = dwfl_module_getsrc(mod, ip);
	const char *file, *dir = NULL;
	Dwarf_Addr at, bias;
	Dwarf_Lines *lines;
	Dwarf_Die *cu;
	Dwarf_Attribute attr;
	size_t n;
	int lineno = 0, col = 0;

	if (!dl)
		return;
	file = dwfl_lineinfo(dl, &at, &lineno, &col, NULL, NULL);
	dir = dwfl_line_comp_dir(dl);
	cu = dwfl_module_addrdie(mod, ip, &bias);
	if (cu && dwarf_getsrclines(cu, &lines, &n) == 0) {
		size_t i;

		for (i = 0; i < n; i++) {
			Dwarf_Line *l = dwarf_onesrcline(lines, i);
			Dwarf_Addr a;
			bool stmt = false, end = false;
			int ln;

			if (!l || dwarf_lineaddr(l, &a) != 0 || a + bias != at)
				continue;
			if (dwarf_linebeginstatement(l, &stmt) != 0 || !stmt ||
			    dwarf_lineendsequence(l, &end) != 0 || end ||
			    dwarf_lineno(l, &ln) != 0 || ln <= 0)
				continue;
			lineno = ln;
			if (dwarf_linecol(l, &col) != 0)
				col = 0;
			file = dwarf_linesrc(l, NULL, NULL);
		}
		if (!dir && dwarf_attr(cu, DW_AT_comp_dir, &attr))
			dir = dwarf_formstring(&attr);
	}
	if (!file || lineno <= 0)
		return;
	out->has_line = true;
	out->line = (unsigned int)lineno;
	out->column = col > 0 ? (unsigned int)col : 0;
	if (file[0] != '/' && dir && dir[0])
		snprintf(out->file_path, sizeof(out->file_path), "%s/%s", dir, file);
	else
		copy_str(out->file_path, sizeof(out->file_path), file);
	copy_str(out->file, sizeof(out->file), base_name(file));
}

/*
 * Module holding ADDR. libdwfl knows the file-backed mappings only; a
 * library's .bss past its last file page is an anonymous mapping, so look
 * at the modules' PT_LOAD p_memsz too (libc's environ lives there).
 */
static Dwfl_Module *find_mod(struct hwbp_sym_ctx *ctx, uint64_t addr)
{
	Dwfl_Module *mod = dwfl_addrmodule(ctx->dwfl, addr);
	size_t i, j, n;

	if (mod)
		return mod;
	for (i = 0; i < ctx->nmods; i++) {
		GElf_Addr bias;
		Elf *elf = dwfl_module_getelf(ctx->mods[i], &bias);

		if (!elf || elf_getphdrnum(elf, &n) != 0)
			continue;
		for (j = 0; j < n; j++) {
			GElf_Phdr ph;

			if (gelf_getphdr(elf, (int)j, &ph) && ph.p_type == PT_LOAD &&
			    addr >= ph.p_vaddr + bias && addr - (ph.p_vaddr + bias) < ph.p_memsz)
				return ctx->mods[i];
		}
	}
	return NULL;
}

/* See sym.h. */
int hwbp_sym_addr_info(struct hwbp_sym_ctx *ctx, uint64_t ip, struct hwbp_sym_where *out)
{
	struct hwbp_sym_where *m = NULL;
	Dwfl_Module *mod;
	const char *fn;
	GElf_Off off;
	GElf_Sym sym;

	if (!ctx || !out)
		return -EINVAL;
	if (!ctx->where)
		ctx->where = calloc(WHERE_MEMO, sizeof(*ctx->where));
	if (ctx->where && ip) {
		m = &ctx->where[(ip ^ ip >> 5) % WHERE_MEMO];
		if (m->ip == ip) {
			memcpy(out, m, HWBP_SYM_WHERE_SHORT);
			copy_str(out->module_path, sizeof(out->module_path), m->module_path);
			copy_str(out->file_path, sizeof(out->file_path), m->file_path);
			return 0;
		}
	}
	mod = find_mod(ctx, ip);
	if (!mod)
		return -ENOENT;
	memset(out, 0, HWBP_SYM_WHERE_SHORT);
	out->module_path[0] = out->file_path[0] = '\0';
	out->ip = ip;
	out->has_module = true;
	copy_str(out->module_path, sizeof(out->module_path), mod_name(mod));
	copy_str(out->module, sizeof(out->module), base_name(out->module_path));
	fn = dwfl_module_addrinfo(mod, ip, &off, &sym, NULL, NULL, NULL);
	if (fn && fn[0]) {
		out->has_func = true;
		copy_str(out->func, sizeof(out->func), fn);
		out->offset = off;
		out->func_start = ip - off;
		out->func_size = sym.st_size;
	}
	fill_line(mod, ip, out);
	if (m) {
		memcpy(m, out, HWBP_SYM_WHERE_SHORT);
		copy_str(m->module_path, sizeof(m->module_path), out->module_path);
		copy_str(m->file_path, sizeof(m->file_path), out->file_path);
	}
	return 0;
}

/* Copy from the PT_LOAD segment of MOD's file that holds the bytes. */
static int read_elf(Dwfl_Module *mod, uint64_t addr, void *buf, size_t len)
{
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	size_t i, n;

	if (!elf || elf_getphdrnum(elf, &n) != 0)
		return -ENOENT;
	for (i = 0; i < n; i++) {
		GElf_Phdr ph;
		uint64_t v = addr - bias;
		Elf_Data *d;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (v < ph.p_vaddr || v - ph.p_vaddr >= ph.p_filesz ||
		    len > ph.p_filesz - (v - ph.p_vaddr))
			continue;
		d = elf_getdata_rawchunk(elf, (int64_t)(ph.p_offset + (v - ph.p_vaddr)), len,
					 ELF_T_BYTE);
		if (!d || d->d_size != len)
			return -EIO;
		memcpy(buf, d->d_buf, len);
		return 0;
	}
	return -ENOENT;
}

static int read_mem(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	if (!pid)
		return -ENOENT;
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	n = pread(fd, buf, len, (off_t)addr);
	close(fd);
	if (n < 0)
		return -ENOENT;
	return (size_t)n == len ? 0 : -EIO;
}

/* The bytes at ADDR from the module's file, else from memory (*from_file false). */
static int read_code(struct hwbp_sym_ctx *ctx, uint64_t addr, void *buf, size_t len,
		     bool *from_file)
{
	Dwfl_Module *mod;
	int err = -ENOENT;

	mod = find_mod(ctx, addr);
	if (mod)
		err = read_elf(mod, addr, buf, len);
	*from_file = !err;
	if (err)
		err = read_mem(ctx->pid, addr, buf, len) == 0 ? 0 : err;
	return err;
}

/* See sym.h. */
int hwbp_sym_read_code(struct hwbp_sym_ctx *ctx, uint64_t addr, void *buf, size_t len)
{
	bool from_file;

	if (!ctx || (!buf && len))
		return -EINVAL;
	return read_code(ctx, addr, buf, len, &from_file);
}

/* See sym.h. */
int hwbp_sym_insn_before(struct hwbp_sym_ctx *ctx, uint64_t func_start, uint64_t ip_after,
			 struct hwbp_sym_insn *out)
{
	struct insn_memo *m = NULL;
	bool from_file = false;
	uint8_t *code;
	size_t len;
	int err;

	if (!ctx || !out || ip_after <= func_start || ip_after - func_start > (1u << 20))
		return -EINVAL;
	if (!ctx->memo)
		ctx->memo = calloc(INSN_MEMO, sizeof(*ctx->memo));
	if (ctx->memo) {
		m = &ctx->memo[(ip_after ^ ip_after >> 7) % INSN_MEMO];
		if (m->ip_after == ip_after && m->func_start == func_start) {
			*out = m->insn;
			return 0;
		}
	}
	len = ip_after - func_start;
	code = malloc(len);
	if (!code)
		return -ENOMEM;
	err = read_code(ctx, func_start, code, len, &from_file);
	if (!err)
		err = hwbp_sym_insn_before_buf(ctx->arch, code, len, func_start, ip_after, out);
	free(code);
	if (!err && m && from_file) {
		m->func_start = func_start;
		m->ip_after = ip_after;
		m->insn = *out;
	}
	return err;
}

/* See sym.h. */
int hwbp_sym_insn_at(struct hwbp_sym_ctx *ctx, uint64_t addr, struct hwbp_sym_insn *out)
{
	uint8_t code[16];
	size_t len = sizeof(code);
	int err;

	if (!ctx || !out)
		return -EINVAL;
	/* The last instruction of a mapping may be shorter than 16 bytes from its end. */
	while ((err = hwbp_sym_read_code(ctx, addr, code, len)) != 0 && len > 1)
		len--;
	if (err)
		return err;
	return hwbp_sym_insn_decode(ctx->arch, code, len, addr, out);
}

/* ------------------------------------------------------------------------
 * Unwinding
 * ------------------------------------------------------------------------ */

static pid_t uw_next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	struct hwbp_sym_ctx *ctx = arg;

	(void)dwfl;
	if (!ctx->uw || ctx->uw->thread_given)
		return 0;
	ctx->uw->thread_given = true;
	*thread_argp = ctx;
	return ctx->pid ? ctx->pid : 1;
}

static bool uw_get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	(void)dwfl;
	(void)tid;
	*thread_argp = arg;
	return true;
}

static bool uw_memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct hwbp_sym_ctx *ctx = arg;
	struct unwind_state *uw = ctx->uw;
	uint64_t v;

	(void)dwfl;
	if (!uw)
		return false;
	if (addr >= uw->sp && addr - uw->sp < uw->stack_size &&
	    uw->stack_size - (addr - uw->sp) >= sizeof(v)) {
		memcpy(&v, uw->stack + (addr - uw->sp), sizeof(v));
		*result = v;
		return true;
	}
	/* Outside the stack copy: only what the files hold (e.g. a .rodata constant). */
	{
		Dwfl_Module *mod = dwfl_addrmodule(ctx->dwfl, addr);

		if (mod && read_elf(mod, addr, &v, sizeof(v)) == 0) {
			*result = v;
			return true;
		}
	}
	return false;
}

/* perf x86 register numbers in DWARF order: rax rdx rcx rbx rsi rdi rbp rsp r8-r15 rip. */
static const unsigned char x86_dwarf_to_perf[17] = {
	0, 3, 2, 1, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23, 8,
};

static bool uw_set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	struct hwbp_sym_ctx *ctx = arg;
	Dwarf_Word dw[17];
	unsigned int i;

	if (!ctx->uw)
		return false;
	for (i = 0; i < 17; i++)
		dw[i] = ctx->uw->regs[x86_dwarf_to_perf[i]];
	return dwfl_thread_state_registers(thread, 0, 17, dw);
}

static const Dwfl_Thread_Callbacks uw_callbacks = {
	.next_thread = uw_next_thread,
	.get_thread = uw_get_thread,
	.memory_read = uw_memory_read,
	.set_initial_registers = uw_set_initial_registers,
};

static int uw_frame(Dwfl_Frame *frame, void *arg)
{
	struct unwind_state *uw = arg;
	Dwarf_Addr pc;

	if (!dwfl_frame_pc(frame, &pc, NULL))
		return DWARF_CB_ABORT;
	if (uw->n >= uw->max)
		return DWARF_CB_ABORT;
	uw->ips[uw->n++] = pc;
	return uw->n < uw->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

/* See sym.h. */
int hwbp_sym_unwind(struct hwbp_sym_ctx *ctx, const uint64_t *regs, const void *stack,
		    size_t stack_size, uint64_t sp, uint64_t *ips, unsigned int max,
		    unsigned int *n)
{
	struct unwind_state uw;

	if (!ctx || !regs || (!stack && stack_size) || !ips || !max || !n)
		return -EINVAL;
	if (ctx->arch != HWBP_ARCH_X86_64)
		return -EOPNOTSUPP;
	memset(&uw, 0, sizeof(uw));
	uw.regs = regs;
	uw.stack = stack;
	uw.stack_size = stack_size;
	uw.sp = sp;
	uw.ips = ips;
	uw.max = max;
	ctx->uw = &uw;
	if (!ctx->attached) {
		Elf *elf = NULL;
		GElf_Addr bias;

		if (ctx->nmods)
			elf = dwfl_module_getelf(ctx->mods[0], &bias);
		if (!dwfl_attach_state(ctx->dwfl, elf, ctx->pid ? ctx->pid : 1, &uw_callbacks,
				       ctx)) {
			ctx->uw = NULL;
			return -EOPNOTSUPP;
		}
		ctx->attached = true;
	}
	/* Stops with an error at the outermost frame or at a gap in the copy: not a failure. */
	dwfl_getthread_frames(ctx->dwfl, ctx->pid ? ctx->pid : 1, uw_frame, &uw);
	ctx->uw = NULL;
	if (uw.n == 0) {
		ips[0] = regs[8];
		uw.n = 1;
	}
	*n = uw.n;
	return 0;
}

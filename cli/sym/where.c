// SPDX-License-Identifier: MIT
/*
 * where.c - what an address is: its module, function and source line
 * (hwbp_sym_addr_info), the code bytes there, and the instruction at or
 * before it
 */
#include <dwarf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <unistd.h>

#include "sym/dwfl_int.h"

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

/* See dwfl_int.h. */
Dwfl_Module *hwbp_sym_find_mod(struct hwbp_sym_ctx *ctx, uint64_t addr)
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
	mod = hwbp_sym_find_mod(ctx, ip);
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

/* See dwfl_int.h. */
int hwbp_sym_read_elf(Dwfl_Module *mod, uint64_t addr, void *buf, size_t len)
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

	mod = hwbp_sym_find_mod(ctx, addr);
	if (mod)
		err = hwbp_sym_read_elf(mod, addr, buf, len);
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

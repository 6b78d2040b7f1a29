// SPDX-License-Identifier: MIT
/*
 * explain.c - what a hit did: the accessing instruction, the kind of
 * access, the value written, the backtrace, and --if on that value
 */
#include "watch_int.h"

#include <inttypes.h>
#include <string.h>

/* The user registers of a hit, indexed by perf register number; those not
 * sampled read as zero, so only sampled ones may be asked for. */
static unsigned int hit_regs(const struct hwbp_hit *h, uint64_t *regs, unsigned int max)
{
	unsigned int n = 0, k = 0;

	if (!h->regs || !h->regs_abi)
		return 0;
	memset(regs, 0, max * sizeof(*regs));
	for (unsigned int bit = 0; bit < 64 && k < h->nr_regs; bit++) {
		if (!(h->regs_mask >> bit & 1))
			continue;
		if (bit < max) {
			regs[bit] = h->regs[k];
			n = bit + 1;
		}
		k++;
	}
	return n;
}

/* See watch_int.h. */
void watch_explain_hit(struct watch *w, const struct watch_spec *ws, const struct hwbp_hit *h,
		       struct hit_view *v)
{
	struct hwbp_sym_where fw;
	uint64_t regs[40];
	unsigned int nregs;

	/* All but the long paths of where (set by hwbp_sym_addr_info()):
	 * this runs for every hit. */
	memset(v, 0, offsetof(struct hit_view, where) + HWBP_SYM_WHERE_SHORT);
	v->where.module_path[0] = v->where.file_path[0] = '\0';
	v->insn_ip = h->ip;
	v->kind = ws->arm == HWBP_EXEC ? HWBP_EXEC : h->access;
	if (ws->arm == HWBP_EXEC)
		goto where;
	if (w->guard) {
		/* The fault comes before the access, on every arch: the ip is
		 * the accessing instruction, and the library says what it did
		 * to which of the watched bytes, and their values. A kernel
		 * access has no instruction of the target's own. */
		if (!h->kernel && !hwbp_sym_insn_at(w->sym, h->ip, &v->insn))
			v->have_insn = true;
		if (!v->kind && v->have_insn)
			v->kind = v->insn.access;
		if (h->nvalue && h->nvalue == h->len) {
			v->value = h->value;
			v->have_value = true;
			v->old = h->old;
			v->have_old = true;
			v->partial = h->addr != ws->loc.addr || h->len != ws->loc.len;
		}
		if (h->kernel)
			return;
		goto where;
	}
	if (w->arch == HWBP_ARCH_X86_64) {
		if (!hwbp_sym_addr_info(w->sym, h->ip, &fw) && fw.has_func &&
		    fw.func_start < h->ip &&
		    !hwbp_sym_insn_before(w->sym, fw.func_start, h->ip, &v->insn)) {
			v->have_insn = true;
			v->insn_ip = v->insn.addr;
		} else if (!hwbp_sym_addr_info(w->sym, h->ip - 1, &fw) && fw.has_func &&
			   fw.func_start < h->ip &&
			   !hwbp_sym_insn_before(w->sym, fw.func_start, h->ip, &v->insn)) {
			/* The trap ip is past the end of the function. */
			v->have_insn = true;
			v->insn_ip = v->insn.addr;
		}
	} else if (!hwbp_sym_insn_at(w->sym, h->ip, &v->insn)) {
		v->have_insn = true;
	}
	if (v->have_insn && v->insn.access)
		v->kind = v->insn.access;
	nregs = hit_regs(h, regs, sizeof(regs) / sizeof(regs[0]));
	if (v->have_insn && nregs && v->insn.access == HWBP_WRITE && v->insn.nmem == 1 &&
	    v->insn.value_src != HWBP_SYM_VALUE_UNKNOWN) {
		uint64_t ea, val;
		unsigned int size = v->insn.mem[0].size;

		/* Exactly known only when the store covers the watched piece
		 * from its first byte: then the piece holds the low bytes. */
		if (!hwbp_sym_insn_ea(&v->insn, 0, regs, nregs, &ea) &&
		    !hwbp_sym_insn_value(&v->insn, regs, nregs, &val) && size &&
		    ea <= ws->loc.addr && ea + size >= ws->loc.addr + ws->loc.len &&
		    ws->loc.len <= 8) {
			uint64_t shift = (ws->loc.addr - ea) * 8;

			val = shift >= 64 ? 0 : val >> shift;
			if (ws->loc.len < 8)
				val &= (UINT64_C(1) << (ws->loc.len * 8)) - 1;
			v->value = val;
			v->have_value = true;
		}
	}
	/* Stop mode read the bytes themselves: exact, before and after. */
	if (h->nvalue && h->addr == ws->loc.addr && h->len == ws->loc.len) {
		v->value = h->value;
		v->have_value = true;
		v->old = h->old;
		v->have_old = true;
	}
where:
	if (hwbp_sym_addr_info(w->sym, v->insn_ip, &v->where))
		memset(&v->where, 0, HWBP_SYM_WHERE_SHORT);
}

/* See watch_int.h. */
void watch_value_text(struct watch *w, struct watch_spec *ws, uint64_t v, char *buf, size_t len)
{
	/* The type decides only when the sign bit is set: look it up then. */
	if (ws->loc.type_later && ws->loc.len && ws->loc.len <= 8 &&
	    (v >> (ws->loc.len * 8 - 1) & 1))
		hwbp_sym_loc_type(w->sym, &ws->loc);
	if (ws->loc.has_type && ws->loc.enc == HWBP_SYM_ENC_SIGNED && ws->loc.len <= 8 &&
	    ws->loc.len == ws->loc.enc_size) {
		unsigned int bits = (unsigned int)ws->loc.len * 8;
		int64_t s = bits == 64 ? (int64_t)v :
			    (int64_t)(v << (64 - bits)) >> (64 - bits);

		snprintf(buf, len, "%" PRId64, s);
	} else {
		snprintf(buf, len, "%" PRIu64, v);
	}
}

/* See watch_int.h. */
bool watch_cond_holds(const struct watch_args *a, const struct watch_spec *ws, uint64_t v)
{
	unsigned int bits = ws->loc.len >= 8 ? 64 : (unsigned int)ws->loc.len * 8;
	uint64_t n = a->if_val;
	bool sgn = ws->loc.has_type ? ws->loc.enc == HWBP_SYM_ENC_SIGNED : a->if_neg;
	int c;

	if (bits < 64) {
		v &= (UINT64_C(1) << bits) - 1;
		n &= (UINT64_C(1) << bits) - 1;
	}
	if (a->if_op == CMP_AND)
		return (v & n) != 0;
	if (sgn) {
		int64_t x = bits == 64 ? (int64_t)v : (int64_t)(v << (64 - bits)) >> (64 - bits);
		int64_t y = bits == 64 ? (int64_t)n : (int64_t)(n << (64 - bits)) >> (64 - bits);

		c = (x > y) - (x < y);
	} else {
		c = (v > n) - (v < n);
	}
	switch (a->if_op) {
	case CMP_EQ: return c == 0;
	case CMP_NE: return c != 0;
	case CMP_LT: return c < 0;
	case CMP_GT: return c > 0;
	case CMP_LE: return c <= 0;
	case CMP_GE: return c >= 0;
	default: return false;
	}
}

/* See watch_int.h. */
unsigned int watch_hit_stack(struct watch *w, const struct hwbp_hit *h, const struct hit_view *v,
			     uint64_t *ips, unsigned int max)
{
	unsigned int n = 0;

	/* DWARF unwinding of the sampled stack works without frame pointers;
	 * the kernel's frame-pointer chain is the fallback. */
	if (h->stack && h->stack_size && h->regs) {
		uint64_t regs[40];
		unsigned int nregs = hit_regs(h, regs, sizeof(regs) / sizeof(regs[0]));

		if (nregs && hwbp_sym_unwind(w->sym, regs, h->stack, h->stack_size, h->sp, ips, max,
					     &n))
			n = 0;
	}
	if (n < 2 && h->nr_ips) {
		n = h->nr_ips < max ? h->nr_ips : max;
		memcpy(ips, h->ips, n * sizeof(*ips));
	}
	/* The first frame is the accessing instruction itself. */
	if (n)
		ips[0] = v->insn_ip;
	return n;
}

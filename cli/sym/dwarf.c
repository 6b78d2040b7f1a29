// SPDX-License-Identifier: MIT
/*
 * dwarf.c - DWARF variables and their types, and the walk along a C-like
 * path into one (config.limits[2].max): members, array elements, sizes
 * and type names
 */
#include <ctype.h>
#include <dwarf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "sym/dwfl_int.h"

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

		if (!hwbp_sym_mod_matches(ctx->mods[i], object))
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
			size_t d = hwbp_sym_edit_distance(name, n, *best);

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

/* See dwfl_int.h. */
void hwbp_sym_var_type(Dwfl_Module *mod, const char *name, uint64_t addr,
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


/* See dwfl_int.h. */
int hwbp_sym_resolve_path(struct hwbp_sym_ctx *ctx, const struct cli_loc *loc,
			  struct hwbp_sym_loc *out, char *why, size_t why_len)
{
	const char *func = loc->func, *name = loc->var;
	struct var_hit vh;
	struct walk w;
	uint64_t size;
	unsigned int i;
	int err;

	if (loc->bad == CLI_LOC_BAD_VAR) {
		say(why, why_len, "%s", loc->why);
		return loc->err;
	}
	err = find_var(ctx, loc->object, func[0] ? func : NULL, name, &vh);
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
	for (i = 0; i < loc->nsteps; i++) {
		const struct cli_loc_step *st = &loc->step[i];

		if (st->is_index) {
			err = walk_index(&w, st->index, why, why_len);
		} else {
			char member[HWBP_SYM_NAME_MAX];

			snprintf(member, sizeof(member), "%.*s", (int)st->len, loc->name + st->at);
			err = walk_member(&w, member, why, why_len);
		}
		if (err)
			return err;
	}
	/* The path is malformed past the steps walked. */
	if (loc->bad == CLI_LOC_BAD_STEP) {
		say(why, why_len, "%s", loc->why);
		return loc->err;
	}
	if (walk_size(&w, &size) != 0)
		size = 0;
	memset(out, 0, sizeof(*out));
	out->addr = w.addr + loc->off;
	out->len = !loc->has_off ? size : (size > loc->off ? size - loc->off : 0);
	out->kind = HWBP_SYM_OBJECT;
	copy_str(out->module, sizeof(out->module), base_name(mod_name(vh.mod)));
	copy_str(out->symbol, sizeof(out->symbol), name);
	fill_type(out, &w);
	return 0;
}

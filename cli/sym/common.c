// SPDX-License-Identifier: MIT
/*
 * common.c - the parts of cli/sym built with and without elfutils
 * (WITH_SYM=0 builds nosym.c in place of dwfl.c, dwarf.c, where.c,
 * unwind.c and insn.c)
 */
#include "sym/sym.h"

/* See sym.h. */
const char *hwbp_sym_encoding_name(enum hwbp_sym_encoding enc)
{
	switch (enc) {
	case HWBP_SYM_ENC_NONE:
		return "none";
	case HWBP_SYM_ENC_SIGNED:
		return "signed";
	case HWBP_SYM_ENC_UNSIGNED:
		return "unsigned";
	case HWBP_SYM_ENC_BOOL:
		return "bool";
	case HWBP_SYM_ENC_FLOAT:
		return "float";
	case HWBP_SYM_ENC_POINTER:
		return "pointer";
	}
	return NULL;
}

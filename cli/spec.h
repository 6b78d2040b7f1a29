/* SPDX-License-Identifier: MIT */
/*
 * spec.h - the SPEC grammar, parsed in one place
 *
 *	SPEC      [ACCESS:]LOCATION[/LEN]      ACCESS r, w, rw or x
 *	LOCATION  0xADDR | [OBJECT:]NAME[+OFF]
 *	NAME      an ELF symbol, or a C path [FUNC::]VAR{.MEMBER|[INDEX]}
 *
 * The command's symbol code (sym/sym.h) resolves a struct cli_loc; it does
 * not read the text again. Whether NAME is an ELF symbol ("completed.0")
 * or a path ("config.limits[2].max") only the target's symbols decide, so
 * a malformed location is not refused here: the parse records what is
 * wrong and at which step, and resolving reports it when it gets there
 * (after it has checked what comes before: OBJECT loaded, NAME not an ELF
 * symbol, the path's first steps).
 */
#ifndef HWBP_CLI_SPEC_H
#define HWBP_CLI_SPEC_H

#include <stdbool.h>
#include <stdint.h>

#include <hwbp/hwbp.h>

/* Size of the name fields below, terminating NUL included. */
#define CLI_LOC_NAME_MAX 256
/* Steps of a path: NAME is shorter than CLI_LOC_NAME_MAX and a step takes
 * at least two characters (".a", "[0]" three). */
#define CLI_LOC_STEPS_MAX (CLI_LOC_NAME_MAX / 2)

/* One step of a path after its variable: .MEMBER or [INDEX]. */
struct cli_loc_step {
	bool is_index;
	uint64_t index;			/* [INDEX] */
	unsigned short at, len;		/* .MEMBER: name[at] .. name[at + len - 1] */
};

/* Where a malformed location is reported (see the top of this file). */
enum cli_loc_bad {
	CLI_LOC_OK,
	CLI_LOC_BAD_OBJECT,		/* no OBJECT:NAME split: at once */
	CLI_LOC_BAD_NAME,		/* NAME or +OFF: once OBJECT is known loaded */
	CLI_LOC_BAD_VAR,		/* the path's [FUNC::]VAR: once NAME is no ELF symbol */
	CLI_LOC_BAD_STEP,		/* after the path's first nsteps steps were walked */
};

/* A parsed LOCATION. */
struct cli_loc {
	bool is_addr;			/* 0xADDR: addr, and nothing else is set */
	uint64_t addr;
	char object[CLI_LOC_NAME_MAX];	/* OBJECT of OBJECT:NAME, "" without */
	char name[CLI_LOC_NAME_MAX];	/* NAME, as typed, without +OFF */
	bool has_off;			/* +OFF given */
	uint64_t off;
	bool plain;			/* a bare NAME: no OBJECT:, +OFF, '.' or '[' */
	/* NAME read as a path: */
	char func[CLI_LOC_NAME_MAX];	/* FUNC of FUNC::VAR, "" without */
	char var[CLI_LOC_NAME_MAX];	/* the variable the path starts at */
	unsigned int nsteps;
	struct cli_loc_step step[CLI_LOC_STEPS_MAX];
	/* A malformed location: what, and where it is reported. */
	enum cli_loc_bad bad;
	int err;			/* -EINVAL when bad */
	char why[640];			/* one line, e.g. "bad offset in 'counter+x'" */
};

/*
 * cli_loc_parse() - parse LOCATION TEXT into OUT
 *
 * Example: "libfoo.so:tab.rows[2]+4" gives object "libfoo.so", name
 * "tab.rows[2]", off 4, var "tab", steps .rows and [2]. OFF and INDEX are
 * written as C writes them (decimal, 0x hex, 0 octal); an address only in
 * hex.
 *
 * Return: 0 (OUT->bad says whether the rest is malformed), or -EINVAL
 * with WHY for a bad address (a location that starts with a digit).
 */
int cli_loc_parse(const char *text, struct cli_loc *out, char *why, size_t whylen);

/* Numbers as users type them: decimal, 0x hex, 0 octal is NOT taken. */
int cli_parse_u64(const char *s, uint64_t *out);

/* A parsed SPEC: [ACCESS:]LOCATION[/LEN] (DESIGN.md). */
struct cli_spec {
	const char *text;	/* as typed */
	enum hwbp_access access;
	bool access_given;
	char location[256];
	bool is_addr;		/* LOCATION is 0xADDR */
	uint64_t addr;
	uint64_t len;		/* 0 = not given: take the object's size */
	struct cli_loc loc;	/* LOCATION, parsed */
};

/*
 * cli_spec_parse() - parse TEXT; on error write a one-line reason to WHY
 * and return -EINVAL. Checks syntax, LEN 0 and address overflow.
 */
int cli_spec_parse(const char *text, struct cli_spec *out, char *why, size_t whylen);

#endif /* HWBP_CLI_SPEC_H */

/* SPDX-License-Identifier: MIT */
/*
 * arch_vectors.h - table rows and their runners for the arch layer's tests
 *
 * Each row of a table becomes one cmocka test named after what it proves,
 * so the TAP output lists every vector of ARCH.md by its number.
 */
#ifndef HWBP_TESTS_ARCH_VECTORS_H
#define HWBP_TESTS_ARCH_VECTORS_H

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <hwbp/hwbp.h>

#define AV_NREGS 6
#define AV_NSLOTS 4
#define AV_MAX_TESTS 256

/* One register by name and its value; a NULL name ends a list. */
struct av_regval {
	const char *reg;
	uint64_t val;
};

/* Encode one slot: the named registers get exactly these values. */
struct av_encode_row {
	const char *name;
	enum hwbp_arch arch;
	struct hwbp_slot slot;
	struct av_regval want[AV_NREGS];
};

/* Decode register values that are valid: exactly these slots. */
struct av_decode_row {
	const char *name;
	enum hwbp_arch arch;
	struct av_regval regs[AV_NREGS];
	unsigned int nslots;
	struct hwbp_slot slots[AV_NSLOTS];
};

/* Decode register values that are not: -EINVAL, WHY names register REG. */
struct av_reject_row {
	const char *name;
	enum hwbp_arch arch;
	struct av_regval regs[AV_NREGS];
	const char *reg;
};

/* One access against armed registers: exactly these slots fire. */
struct av_hit_row {
	const char *name;
	enum hwbp_arch arch;
	struct av_regval regs[AV_NREGS];
	uint64_t addr;
	unsigned int size;
	enum hwbp_access kind;
	unsigned int flags;
	uint32_t watch, brk;
};

/*
 * A request against a pool (NULL: the arch's default pool): the return value,
 * and either the plan or, for -ENOSPC, the need and free counts.
 */
struct av_plan_row {
	const char *name;
	enum hwbp_arch arch;
	uint64_t addr, len;
	enum hwbp_access access;
	const struct hwbp_pool *pool;
	int ret;
	/* ret == 0 */
	uint64_t paddr, plen;
	enum hwbp_access paccess;
	unsigned int flags;
	unsigned int nslots;
	struct hwbp_slot slots[AV_NSLOTS];
	/* ret == 0 or -ENOSPC */
	unsigned int need_watch, need_break, free_watch, free_break;
};

/* A plan row for a request refused before any slot is counted. */
#define AV_PLAN_ERR(n, ar, a, l, acc, r) \
	{ .name = (n), .arch = (ar), .addr = (a), .len = (l), .access = (acc), .ret = (r) }

/* A slot without index, for table rows. */
#define AV_W(a, l, acc) { .type = HWBP_SLOT_WATCH, .addr = (a), .len = (l), .access = (acc) }
/* A slot with index. */
#define AV_WI(i, a, l, acc) \
	{ .type = HWBP_SLOT_WATCH, .index = (i), .addr = (a), .len = (l), .access = (acc) }
#define AV_BI(i, a, l) \
	{ .type = HWBP_SLOT_BREAK, .index = (i), .addr = (a), .len = (l), .access = HWBP_EXEC }

struct av_suite {
	struct CMUnitTest t[AV_MAX_TESTS];
	size_t n;
};

static inline void av_add(struct av_suite *s, const char *name, CMUnitTestFunction fn,
			  const void *state)
{
	if (s->n >= AV_MAX_TESTS) {
		fprintf(stderr, "arch_vectors.h: more than %d tests\n", AV_MAX_TESTS);
		return;
	}
	s->t[s->n].name = name;
	s->t[s->n].test_func = fn;
	s->t[s->n].setup_func = NULL;
	s->t[s->n].teardown_func = NULL;
	s->t[s->n].initial_state = (void *)(uintptr_t)state;
	s->n++;
}

#define AV_ADD_ROWS(suite, rows, fn)                                                 \
	do {                                                                         \
		for (size_t av_i_ = 0; av_i_ < sizeof(rows) / sizeof((rows)[0]); av_i_++) \
			av_add((suite), (rows)[av_i_].name, (fn), &(rows)[av_i_]);   \
	} while (0)

static inline int av_run(struct av_suite *s, const char *group)
{
	return _cmocka_run_group_tests(group, s->t, s->n, NULL, NULL);
}

static inline uint64_t av_reg(const struct hwbp_regs *regs, const char *name)
{
	uint64_t v = 0;

	assert_int_equal(hwbp_regs_get(regs, name, &v), 0);
	return v;
}

static inline void av_load(struct hwbp_regs *regs, enum hwbp_arch arch,
			   const struct av_regval *rv, size_t n)
{
	assert_int_equal(hwbp_regs_init(regs, sizeof(*regs), arch), 0);
	for (size_t i = 0; i < n && rv[i].reg; i++)
		assert_int_equal(hwbp_regs_set(regs, rv[i].reg, rv[i].val), 0);
}

static inline void av_slot_equal(const struct hwbp_slot *got, const struct hwbp_slot *want)
{
	assert_int_equal(got->type, want->type);
	assert_int_equal(got->index, want->index);
	assert_int_equal(got->addr, want->addr);
	assert_int_equal(got->len, want->len);
	assert_int_equal(got->access, want->access);
}

/* Encode the row's slot; check the registers; decode gives the slot back. */
static inline void av_test_encode(void **state)
{
	const struct av_encode_row *row = *state;
	struct hwbp_regs regs;
	struct hwbp_slot back[2 * HWBP_SLOTS_MAX];
	unsigned int n = 99;
	char why[128] = "";

	hwbp_regs_init(&regs, sizeof(regs), row->arch);
	assert_int_equal(hwbp_arch_encode(&regs, &row->slot, 1), 0);
	for (size_t i = 0; i < AV_NREGS && row->want[i].reg; i++)
		assert_int_equal(av_reg(&regs, row->want[i].reg), row->want[i].val);
	if (hwbp_arch_decode(&regs, back, 2 * HWBP_SLOTS_MAX, &n)) {
		hwbp_arch_explain(&regs, why, sizeof(why));
		fail_msg("decode refused its own encoding: %s", why);
	}
	assert_int_equal(n, 1);
	av_slot_equal(&back[0], &row->slot);
}

static inline void av_test_decode(void **state)
{
	const struct av_decode_row *row = *state;
	struct hwbp_regs regs;
	struct hwbp_slot got[2 * HWBP_SLOTS_MAX];
	unsigned int n = 99;
	char why[128] = "";

	av_load(&regs, row->arch, row->regs, AV_NREGS);
	if (hwbp_arch_decode(&regs, got, 2 * HWBP_SLOTS_MAX, &n)) {
		hwbp_arch_explain(&regs, why, sizeof(why));
		fail_msg("decode refused: %s", why);
	}
	/* Nothing to explain in what decode accepts. */
	why[0] = 'x';
	assert_int_equal(hwbp_arch_explain(&regs, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	assert_int_equal(n, row->nslots);
	for (unsigned int i = 0; i < n; i++)
		av_slot_equal(&got[i], &row->slots[i]);
}

static inline void av_test_reject(void **state)
{
	const struct av_reject_row *row = *state;
	struct hwbp_regs regs;
	struct hwbp_slot got[2 * HWBP_SLOTS_MAX];
	struct hwbp_hitset h = { 0, 0 };
	unsigned int n = 99;
	char why[160] = "", small[6];
	size_t len;

	av_load(&regs, row->arch, row->regs, AV_NREGS);
	assert_int_equal(hwbp_arch_decode(&regs, got, 2 * HWBP_SLOTS_MAX, &n), -EINVAL);
	assert_int_equal(n, 99);		/* untouched on failure */
	len = hwbp_arch_explain(&regs, why, sizeof(why));
	assert_int_equal(len, strlen(why));
	assert_non_null(strstr(why, row->reg));
	assert_null(strchr(why, '\n'));
	/* Cut to fit as snprintf() does, and counted whole. */
	assert_int_equal(hwbp_arch_explain(&regs, small, sizeof(small)), len);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, why, sizeof(small) - 1);
	assert_int_equal(hwbp_arch_explain(&regs, NULL, 0), len);
	/* The hit model refuses what decode refuses. */
	assert_int_equal(hwbp_arch_hits(&regs, 0x1000, 1, HWBP_WRITE, 0, &h), -EINVAL);
}

static inline void av_test_hit(void **state)
{
	const struct av_hit_row *row = *state;
	struct hwbp_regs regs;
	struct hwbp_hitset h = { 0xdead, 0xbeef };

	av_load(&regs, row->arch, row->regs, AV_NREGS);
	assert_int_equal(hwbp_arch_hits(&regs, row->addr, row->size, row->kind, row->flags, &h), 0);
	assert_int_equal(h.watch, row->watch);
	assert_int_equal(h.brk, row->brk);
}

static inline void av_test_plan(void **state)
{
	const struct av_plan_row *row = *state;
	HWBP_OPTS(hwbp_plan, p);

	memset(&p, 0xa5, sizeof(p));
	p.sz = sizeof(p);
	assert_int_equal(hwbp_arch_plan(row->arch, row->addr, row->len, row->access, row->pool, &p),
			 row->ret);
	if (row->ret == 0 || row->ret == -ENOSPC) {
		assert_int_equal(p.need_watch, row->need_watch);
		assert_int_equal(p.need_break, row->need_break);
		assert_int_equal(p.free_watch, row->free_watch);
		assert_int_equal(p.free_break, row->free_break);
	}
	if (row->ret == -ENOSPC) {
		/* Only the counts are written. */
		assert_int_equal(p.nslots, 0xa5a5a5a5u);
		assert_int_equal(p.addr, 0xa5a5a5a5a5a5a5a5ull);
		return;
	}
	if (row->ret) {
		assert_int_equal(p.nslots, 0xa5a5a5a5u);
		return;
	}
	assert_int_equal(p.addr, row->paddr);
	assert_int_equal(p.len, row->plen);
	assert_int_equal(p.access, row->paccess);
	assert_int_equal(p.flags, row->flags);
	assert_int_equal(p.nslots, row->nslots);
	for (unsigned int i = 0; i < p.nslots && i < AV_NSLOTS; i++)
		av_slot_equal(&p.slots[i], &row->slots[i]);
}

#endif /* HWBP_TESTS_ARCH_VECTORS_H */

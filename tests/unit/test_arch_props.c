// SPDX-License-Identifier: MIT
/*
 * test_arch_props.c - properties of the arch layer over many requests
 *
 * For x86_64, arm64 and loongarch64 (doubleword-granular hit model), every
 * access kind (r, w, rw, x), every start offset 0..63 from 0x10000 and every
 * length 1..64:
 *   - the plan uses the fewest slots, computed here another way (a dynamic
 *     program over aligned pieces for x86-64 and LoongArch, the number of
 *     8-byte words touched for arm64 data, of instruction granules for exec);
 *   - encoded, its slots fire on a 1-byte access of the planned kind at every
 *     byte of the range the plan reports (for exec: an instruction at every
 *     address in it), and on nothing outside that range;
 *   - the access filter holds: a read-modify-write fires every data plan, a
 *     write plan never fires on a read, a read plan never on a write except
 *     on x86-64, which arms it read/write and
 *     says so with HWBP_PLAN_WIDER_ACCESS; data slots never fire on a fetch
 *     and breakpoints never on a data access;
 *   - decoding the encoded registers gives back the plan's slots;
 *   - with the architecture's default pool, requests needing more slots than
 *     it has are refused with -ENOSPC and the right need and free counts.
 * Requests needing more slots than the CPU can have at all are refused even
 * with every index free; their pieces (from hwbp_arch_split()) are then
 * checked the same way, a CPU's worth of slots at a time.
 *
 * Also here: the small public helpers (version, names, register tables).
 */
#include "arch_vectors.h"

#include "arch/arch.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#define BASE 0x10000ull
#define MAXOFF 64
#define MAXLEN 64
#define MAXPIECES 80
#define WINDOW 24	/* bytes probed on each side of the range */

static const enum hwbp_arch arches[] = {
	HWBP_ARCH_X86_64, HWBP_ARCH_ARM64, HWBP_ARCH_LOONGARCH64,
};
static const enum hwbp_access accesses[] = { HWBP_READ, HWBP_WRITE, HWBP_RW, HWBP_EXEC };

/* Slot indexes a CPU of ARCH can have per type (x86-64: shared). */
static unsigned int arch_max_slots(enum hwbp_arch arch)
{
	switch (arch) {
	case HWBP_ARCH_X86_64:
		return 4;
	case HWBP_ARCH_ARM64:
		return 16;
	default:
		return 14;
	}
}

static uint32_t arch_granule(enum hwbp_arch arch)
{
	return arch == HWBP_ARCH_X86_64 ? 1 : 4;
}

/* Fewest pieces of 1, 2, 4 or 8 bytes, each aligned to its size, tiling the range. */
static unsigned int min_aligned_pieces(uint64_t addr, unsigned int len)
{
	unsigned int dp[MAXLEN + 1];

	dp[0] = 0;
	for (unsigned int j = 1; j <= len; j++) {
		dp[j] = UINT_MAX;
		for (unsigned int s = 1; s <= 8; s <<= 1) {
			if (s > j || (addr + j - s) % s || dp[j - s] == UINT_MAX)
				continue;
			if (dp[j - s] + 1 < dp[j])
				dp[j] = dp[j - s] + 1;
		}
	}
	return dp[len];
}

/* Distinct values of byte >> SHIFT over the range. */
static unsigned int blocks_touched(uint64_t addr, unsigned int len, unsigned int shift)
{
	unsigned int n = 0;
	uint64_t prev = UINT64_MAX;

	for (uint64_t b = addr; b < addr + len; b++) {
		if ((b >> shift) != prev)
			n++;
		prev = b >> shift;
	}
	return n;
}

static unsigned int min_slots(enum hwbp_arch arch, uint64_t addr, unsigned int len,
			      enum hwbp_access access)
{
	if (access == HWBP_EXEC)
		return arch == HWBP_ARCH_X86_64 ? len : blocks_touched(addr, len, 2);
	if (arch == HWBP_ARCH_ARM64)
		return blocks_touched(addr, len, 3);
	return min_aligned_pieces(addr, len);
}

/*
 * Encode SLOTS a CPU's worth at a time (indexes reassigned from 0 when
 * REINDEX) and record, for every probe byte, whether a 1-byte access of KIND
 * fires any slot. Also checks that each batch decodes back to itself.
 */
static void probe(enum hwbp_arch arch, const struct hwbp_slot *slots, unsigned int n,
		  bool reindex, uint64_t lo, uint64_t hi, enum hwbp_access kind, bool *fired)
{
	unsigned int batch = arch_max_slots(arch);

	for (uint64_t b = lo; b < hi; b++)
		fired[b - lo] = false;
	for (unsigned int first = 0; first < n; first += batch) {
		struct hwbp_slot chunk[HWBP_SLOTS_MAX], back[2 * HWBP_SLOTS_MAX];
		unsigned int m = n - first < batch ? n - first : batch, nb = 0;
		struct hwbp_regs regs;
		char why[128] = "";

		for (unsigned int i = 0; i < m; i++) {
			chunk[i] = slots[first + i];
			if (reindex)
				chunk[i].index = i;
		}
		hwbp_regs_init(&regs, sizeof(regs), arch);
		assert_int_equal(hwbp_arch_encode(&regs, chunk, m), 0);
		if (hwbp_arch_decode(&regs, back, 2 * HWBP_SLOTS_MAX, &nb)) {
			hwbp_arch_explain(&regs, why, sizeof(why));
			fail_msg("decode refused own encoding: %s", why);
		}
		assert_int_equal(nb, m);
		for (unsigned int i = 0; i < m; i++)
			av_slot_equal(&back[i], &chunk[i]);
		for (uint64_t b = lo; b < hi; b++) {
			struct hwbp_hitset h;

			assert_int_equal(hwbp_arch_hits(&regs, b, 1, kind, 0, &h), 0);
			if (h.watch || h.brk)
				fired[b - lo] = true;
			if (kind == HWBP_EXEC)
				assert_int_equal(h.watch, 0);
			else
				assert_int_equal(h.brk, 0);
		}
	}
}

static void check_fires(const bool *fired, uint64_t lo, uint64_t hi, uint64_t first,
			uint64_t last, bool inside, const char *what)
{
	for (uint64_t b = lo; b < hi; b++) {
		bool in = b >= first && b <= last;
		bool want = in && inside;

		if (fired[b - lo] != want)
			fail_msg("%s: byte 0x%llx %s (range 0x%llx-0x%llx)", what,
				 (unsigned long long)b, fired[b - lo] ? "fires" : "does not fire",
				 (unsigned long long)first, (unsigned long long)last);
	}
}

static void check_request(enum hwbp_arch arch, uint64_t addr, unsigned int len,
			  enum hwbp_access access)
{
	static const struct hwbp_pool all = { UINT32_MAX, UINT32_MAX };
	bool exec = access == HWBP_EXEC;
	unsigned int want = min_slots(arch, addr, len, access), max = arch_max_slots(arch);
	uint32_t g = arch_granule(arch);
	uint64_t first = exec ? addr & ~(uint64_t)(g - 1) : addr;
	uint64_t last = exec ? (addr + len - 1) | (g - 1) : addr + len - 1;
	uint64_t lo = first - WINDOW, hi = last + 1 + WINDOW;
	enum hwbp_access armed = access == HWBP_READ && arch == HWBP_ARCH_X86_64 ? HWBP_RW : access;
	struct hwbp_pool defpool = hwbp_arch_pool(arch);
	unsigned int defwatch = (unsigned int)__builtin_popcount(defpool.watch);
	unsigned int defbreak = arch == HWBP_ARCH_X86_64 ? defwatch :
				(unsigned int)__builtin_popcount(defpool.brk);
	struct hwbp_slot pieces[MAXPIECES];
	const struct hwbp_slot *slots;
	HWBP_OPTS(hwbp_plan, p);
	bool fired[MAXLEN + 8 + 2 * WINDOW];
	unsigned int n;
	int ret;
	char what[96];

	snprintf(what, sizeof(what), "%s %s:0x%llx/%u", hwbp_arch_name(arch),
		 hwbp_access_name(access), (unsigned long long)addr, len);

	/* No instruction starts off the granule (arm64, LoongArch: 4 bytes):
	 * such an exec request is refused, in every pool, never widened. */
	if (exec && (addr & (g - 1))) {
		memset(&p, 0, sizeof(p));
		p.sz = sizeof(p);
		assert_int_equal(hwbp_arch_plan(arch, addr, len, access, &all, &p), -EINVAL);
		assert_int_equal(p.nslots, 0);
		assert_int_equal(hwbp_arch_plan(arch, addr, len, access, NULL, &p), -EINVAL);
		assert_int_equal(hwbp_arch_split(arch, addr, len, access, pieces, MAXPIECES), 0);
		return;
	}

	/* Every index free. */
	memset(&p, 0, sizeof(p));
	p.sz = sizeof(p);
	ret = hwbp_arch_plan(arch, addr, len, access, &all, &p);
	if (want > max) {
		if (ret != -ENOSPC)
			fail_msg("%s: needs %u > %u slots but plan returned %d", what, want, max,
				 ret);
		assert_int_equal(exec ? p.need_break : p.need_watch, want);
		assert_int_equal(exec ? p.need_watch : p.need_break, 0);
		assert_int_equal(p.free_watch, max);
		assert_int_equal(p.free_break, max);
		assert_int_equal(p.nslots, 0);
		n = (unsigned int)hwbp_arch_split(arch, addr, len, access, pieces, MAXPIECES);
		assert_int_equal(n, want);
		slots = pieces;
	} else {
		bool wider = first != addr || last != addr + len - 1;

		if (ret)
			fail_msg("%s: plan returned %d", what, ret);
		if (p.nslots != want)
			fail_msg("%s: %u slots, the fewest is %u", what, p.nslots, want);
		assert_int_equal(exec ? p.need_break : p.need_watch, want);
		assert_int_equal(p.addr, first);
		assert_int_equal(p.len, last - first + 1);
		assert_int_equal(p.access, armed);
		assert_int_equal(p.flags, (armed != access ? HWBP_PLAN_WIDER_ACCESS : 0) |
					  (wider ? HWBP_PLAN_WIDER_RANGE : 0));
		for (unsigned int i = 0; i < p.nslots; i++) {
			assert_int_equal(p.slots[i].index, i);
			assert_int_equal(p.slots[i].type, exec ? HWBP_SLOT_BREAK : HWBP_SLOT_WATCH);
			assert_int_equal(p.slots[i].access, armed);
			if (i)
				assert_true(p.slots[i].addr > p.slots[i - 1].addr);
		}
		n = p.nslots;
		slots = p.slots;
	}

	/* Fires at every byte of the range, nowhere else. */
	probe(arch, slots, n, want > max, lo, hi, exec ? HWBP_EXEC : access, fired);
	check_fires(fired, lo, hi, first, last, true, what);
	if (exec) {
		probe(arch, slots, n, want > max, lo, hi, HWBP_RW, fired);
		check_fires(fired, lo, hi, first, last, false, what);
	} else {
		probe(arch, slots, n, want > max, lo, hi, HWBP_EXEC, fired);
		check_fires(fired, lo, hi, first, last, false, what);
		/* A read-modify-write is a read and a write: every data slot fires. */
		probe(arch, slots, n, want > max, lo, hi, HWBP_RW, fired);
		check_fires(fired, lo, hi, first, last, true, what);
	}
	switch (access) {
	case HWBP_WRITE:
		probe(arch, slots, n, want > max, lo, hi, HWBP_READ, fired);
		check_fires(fired, lo, hi, first, last, false, what);
		break;
	case HWBP_READ:
		/* x86-64 arms reads as read/write: a write fires too (WIDER_ACCESS). */
		probe(arch, slots, n, want > max, lo, hi, HWBP_WRITE, fired);
		check_fires(fired, lo, hi, first, last, arch == HWBP_ARCH_X86_64, what);
		break;
	case HWBP_RW:
		probe(arch, slots, n, want > max, lo, hi, HWBP_WRITE, fired);
		check_fires(fired, lo, hi, first, last, true, what);
		break;
	default:
		break;
	}

	/* The architecture's default pool. */
	memset(&p, 0, sizeof(p));
	p.sz = sizeof(p);
	ret = hwbp_arch_plan(arch, addr, len, access, NULL, &p);
	if (want > (exec ? defbreak : defwatch)) {
		assert_int_equal(ret, -ENOSPC);
		assert_int_equal(p.nslots, 0);
	} else {
		assert_int_equal(ret, 0);
		assert_int_equal(p.nslots, want);
	}
	assert_int_equal(exec ? p.need_break : p.need_watch, want);
	assert_int_equal(p.free_watch, defwatch);
	assert_int_equal(p.free_break, defbreak);
}

/*
 * Every offset and length, or under valgrind (HWBP_TEST_VALGRIND=1, where
 * the full walk takes minutes) every 7th offset and 5th length: steps prime
 * to 8, so still every alignment and every length modulo 8, and lengths
 * past what a CPU can hold.
 */
static void run_props(enum hwbp_arch arch, enum hwbp_access access)
{
	const char *vg = getenv("HWBP_TEST_VALGRIND");
	bool thin = vg && !strcmp(vg, "1");
	unsigned int off_step = thin ? 7 : 1, len_step = thin ? 5 : 1;

	for (uint64_t off = 0; off < MAXOFF; off += off_step)
		for (unsigned int len = 1; len <= MAXLEN; len += len_step)
			check_request(arch, BASE + off, len, access);
}

#define PROP(a, acc, name)                                \
	static void name(void **state)                    \
	{                                                 \
		(void)state;                              \
		run_props(a, acc);                        \
	}

PROP(HWBP_ARCH_X86_64, HWBP_READ, test_props_x86_64_r)
PROP(HWBP_ARCH_X86_64, HWBP_WRITE, test_props_x86_64_w)
PROP(HWBP_ARCH_X86_64, HWBP_RW, test_props_x86_64_rw)
PROP(HWBP_ARCH_X86_64, HWBP_EXEC, test_props_x86_64_x)
PROP(HWBP_ARCH_ARM64, HWBP_READ, test_props_arm64_r)
PROP(HWBP_ARCH_ARM64, HWBP_WRITE, test_props_arm64_w)
PROP(HWBP_ARCH_ARM64, HWBP_RW, test_props_arm64_rw)
PROP(HWBP_ARCH_ARM64, HWBP_EXEC, test_props_arm64_x)
PROP(HWBP_ARCH_LOONGARCH64, HWBP_READ, test_props_loongarch64_r)
PROP(HWBP_ARCH_LOONGARCH64, HWBP_WRITE, test_props_loongarch64_w)
PROP(HWBP_ARCH_LOONGARCH64, HWBP_RW, test_props_loongarch64_rw)
PROP(HWBP_ARCH_LOONGARCH64, HWBP_EXEC, test_props_loongarch64_x)

/* Huge lengths are refused at once, with the need computed, not walked. */
static void test_props_huge_len_refused_without_walking(void **state)
{
	(void)state;
	for (size_t a = 0; a < sizeof(arches) / sizeof(arches[0]); a++) {
		for (size_t k = 0; k < sizeof(accesses) / sizeof(accesses[0]); k++) {
			HWBP_OPTS(hwbp_plan, p);
			uint64_t len = UINT64_MAX - 0x1000;
			int ret = hwbp_arch_plan(arches[a], 0x1000, len, accesses[k], NULL, &p);

			assert_int_equal(ret, -ENOSPC);
			assert_int_equal(accesses[k] == HWBP_EXEC ? p.need_break : p.need_watch,
					 UINT_MAX);
			/* Exact count from the split: 0x1000..UINT64_MAX-1 in 8-byte words. */
			if (accesses[k] != HWBP_EXEC) {
				struct hwbp_slot pieces[4];
				uint64_t n = hwbp_arch_split(arches[a], 0x1000, len, accesses[k],
							     pieces, 4);
				uint64_t want = arches[a] == HWBP_ARCH_ARM64 ?
						(UINT64_MAX >> 3) - 0x200 + 1 : (len - 7) / 8 + 3;

				assert_int_equal(n, want);
			}
		}
	}
}

/* HWBP_MAKE_VERSION: the Makefile's VERSION, which it reads from hwbp.h
 * with sed; libhwbp.pc and the installed names carry it. */
#ifndef HWBP_MAKE_VERSION
#define HWBP_MAKE_VERSION "(not built by the Makefile)"
#endif
static void test_version_is_the_makefiles(void **state)
{
	(void)state;
	assert_string_equal(hwbp_version(), HWBP_MAKE_VERSION);
}

static void test_access_and_arch_names(void **state)
{
	(void)state;
	assert_string_equal(hwbp_access_name(HWBP_READ), "r");
	assert_string_equal(hwbp_access_name(HWBP_WRITE), "w");
	assert_string_equal(hwbp_access_name(HWBP_RW), "rw");
	assert_string_equal(hwbp_access_name(HWBP_EXEC), "x");
	assert_null(hwbp_access_name((enum hwbp_access)0));
	assert_null(hwbp_access_name((enum hwbp_access)5));
	assert_string_equal(hwbp_arch_name(HWBP_ARCH_X86_64), "x86_64");
	assert_string_equal(hwbp_arch_name(HWBP_ARCH_ARM64), "arm64");
	assert_string_equal(hwbp_arch_name(HWBP_ARCH_LOONGARCH64), "loongarch64");
	assert_null(hwbp_arch_name(HWBP_ARCH_NONE));
	assert_null(hwbp_arch_name((enum hwbp_arch)42));
	assert_int_equal(hwbp_arch_from_name("x86_64"), HWBP_ARCH_X86_64);
	assert_int_equal(hwbp_arch_from_name("x86-64"), HWBP_ARCH_X86_64);
	assert_int_equal(hwbp_arch_from_name("amd64"), HWBP_ARCH_X86_64);
	assert_int_equal(hwbp_arch_from_name("arm64"), HWBP_ARCH_ARM64);
	assert_int_equal(hwbp_arch_from_name("AArch64"), HWBP_ARCH_ARM64);
	assert_int_equal(hwbp_arch_from_name("loongarch64"), HWBP_ARCH_LOONGARCH64);
	assert_int_equal(hwbp_arch_from_name("loong64"), HWBP_ARCH_LOONGARCH64);
	assert_int_equal(hwbp_arch_from_name("riscv64"), HWBP_ARCH_NONE);
	assert_int_equal(hwbp_arch_from_name(""), HWBP_ARCH_NONE);
	assert_int_equal(hwbp_arch_from_name(NULL), HWBP_ARCH_NONE);
}

/* The library's compile-time choice against the kernel's name for the
 * machine, from uname(2). */
static void test_arch_host_matches_uname(void **state)
{
	static const struct {
		const char *machine;
		enum hwbp_arch arch;
	} names[] = {
		{ "x86_64", HWBP_ARCH_X86_64 },
		{ "aarch64", HWBP_ARCH_ARM64 },
		{ "loongarch64", HWBP_ARCH_LOONGARCH64 },
	};
	enum hwbp_arch want = HWBP_ARCH_NONE;
	struct utsname u;

	(void)state;
	assert_int_equal(uname(&u), 0);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(u.machine, names[i].machine))
			want = names[i].arch;
	assert_int_equal(hwbp_arch_host(), want);
}

static void test_default_pools(void **state)
{
	struct hwbp_pool p;

	(void)state;
	p = hwbp_arch_pool(HWBP_ARCH_X86_64);
	assert_int_equal(p.watch, 0xf);
	p = hwbp_arch_pool(HWBP_ARCH_ARM64);
	assert_int_equal(p.watch, 0xf);
	assert_int_equal(p.brk, 0x3f);
	p = hwbp_arch_pool(HWBP_ARCH_LOONGARCH64);
	assert_int_equal(p.watch, 0xff);
	assert_int_equal(p.brk, 0xff);
	p = hwbp_arch_pool(HWBP_ARCH_NONE);
	assert_int_equal(p.watch, 0);
	assert_int_equal(p.brk, 0);
}

static void test_register_names_round_trip(void **state)
{
	static const struct {
		enum hwbp_arch arch;
		unsigned int nregs;
		const char *last;
	} t[] = {
		{ HWBP_ARCH_X86_64, 6, "dr7" },
		{ HWBP_ARCH_ARM64, 64, "bcr15" },
		{ HWBP_ARCH_LOONGARCH64, 84, "ib13ctrl" },
	};

	(void)state;
	for (size_t a = 0; a < sizeof(t) / sizeof(t[0]); a++) {
		unsigned int pos = 999;

		for (unsigned int i = 0; i < HWBP_REGS_MAX; i++) {
			const char *name = hwbp_regs_name(t[a].arch, i);

			if (i >= t[a].nregs) {
				assert_null(name);
				continue;
			}
			assert_non_null(name);
			assert_int_equal(hwbp_regs_lookup(t[a].arch, name, &pos), 0);
			assert_int_equal(pos, i);
		}
		assert_string_equal(hwbp_regs_name(t[a].arch, t[a].nregs - 1), t[a].last);
	}
}

static void test_register_lookup_by_name(void **state)
{
	unsigned int pos = 999;

	(void)state;
	assert_int_equal(hwbp_regs_lookup(HWBP_ARCH_X86_64, "DR7", &pos), 0);
	assert_string_equal(hwbp_regs_name(HWBP_ARCH_X86_64, pos), "dr7");
	assert_int_equal(hwbp_regs_lookup(HWBP_ARCH_X86_64, "dr4", &pos), -ENOENT);
	assert_int_equal(hwbp_regs_lookup(HWBP_ARCH_X86_64, "wcr0", &pos), -ENOENT);
	assert_int_equal(hwbp_regs_lookup(HWBP_ARCH_ARM64, "wcr15", &pos), 0);
	assert_string_equal(hwbp_regs_name(HWBP_ARCH_ARM64, pos), "wcr15");
	assert_int_equal(hwbp_regs_lookup(HWBP_ARCH_ARM64, "wcr16", &pos), -ENOENT);
	assert_int_equal(hwbp_regs_lookup(HWBP_ARCH_LOONGARCH64, "Db13Mask", &pos), 0);
	assert_string_equal(hwbp_regs_name(HWBP_ARCH_LOONGARCH64, pos), "db13mask");
	assert_int_equal(hwbp_regs_lookup(HWBP_ARCH_LOONGARCH64, "db14addr", &pos), -ENOENT);
	assert_int_equal(hwbp_regs_lookup(HWBP_ARCH_NONE, "dr0", &pos), -ENOENT);
	assert_null(hwbp_regs_name(HWBP_ARCH_NONE, 0));
}

static void test_regs_set_get(void **state)
{
	struct hwbp_regs regs;
	uint64_t v = 7;

	(void)state;
	hwbp_regs_init(&regs, sizeof(regs), HWBP_ARCH_ARM64);
	assert_int_equal(regs.arch, HWBP_ARCH_ARM64);
	assert_int_equal(hwbp_regs_get(&regs, "wvr3", &v), -ENODATA);
	assert_int_equal(v, 7);
	assert_int_equal(hwbp_regs_set(&regs, "WVR3", 0x1000), 0);
	assert_int_equal(hwbp_regs_get(&regs, "wvr3", &v), 0);
	assert_int_equal(v, 0x1000);
	assert_int_equal(hwbp_regs_set(&regs, "dr0", 1), -ENOENT);
	assert_int_equal(hwbp_regs_get(&regs, "dr0", &v), -ENOENT);
	/* Setting 0 still counts as set. */
	assert_int_equal(hwbp_regs_set(&regs, "bcr15", 0), 0);
	assert_int_equal(hwbp_regs_get(&regs, "bcr15", &v), 0);
	assert_int_equal(v, 0);
}

static void test_hits_and_decode_refuse_bad_input(void **state)
{
	struct hwbp_regs regs;
	struct hwbp_hitset h = { 5, 6 };
	struct hwbp_slot out[4];
	unsigned int n = 9;
	char why[64] = "";

	(void)state;
	hwbp_regs_init(&regs, sizeof(regs), HWBP_ARCH_X86_64);
	assert_int_equal(hwbp_arch_hits(&regs, 0x1000, 0, HWBP_WRITE, 0, &h), -EINVAL);
	assert_int_equal(hwbp_arch_hits(&regs, 0x1000, 17, HWBP_WRITE, 0, &h), -EINVAL);
	assert_int_equal(hwbp_arch_hits(&regs, UINT64_MAX, 2, HWBP_WRITE, 0, &h), -EINVAL);
	assert_int_equal(hwbp_arch_hits(&regs, 0x1000, 1, (enum hwbp_access)0, 0, &h), -EINVAL);
	assert_int_equal(hwbp_arch_hits(&regs, 0x1000, 1, HWBP_WRITE, 0x2, &h), -EINVAL);
	assert_int_equal(h.watch, 5);
	assert_int_equal(hwbp_arch_hits(&regs, UINT64_MAX, 1, HWBP_WRITE, 0, &h), 0);
	assert_int_equal(h.watch, 0);
	/* An unknown architecture: init refuses it, and so does all else. */
	assert_int_equal(hwbp_regs_init(&regs, sizeof(regs), HWBP_ARCH_NONE), -EINVAL);
	assert_int_equal(regs.arch, HWBP_ARCH_X86_64);	/* untouched */
	regs.arch = HWBP_ARCH_NONE;
	assert_int_equal(hwbp_arch_hits(&regs, 0x1000, 1, HWBP_WRITE, 0, &h), -EINVAL);
	assert_int_equal(hwbp_arch_decode(&regs, out, 4, &n), -EINVAL);
	assert_int_equal(n, 9);
	assert_true(hwbp_arch_explain(&regs, why, sizeof(why)) > 0);
	assert_string_equal(why, "unknown architecture 0");
	assert_int_equal(hwbp_arch_encode(&regs, out, 0), -EINVAL);
	assert_int_equal(hwbp_regs_set(&regs, "dr7", 1), -EINVAL);
	assert_int_equal(hwbp_arch_explain(NULL, why, sizeof(why)), strlen("no register set"));
}

/*
 * struct hwbp_regs and struct hwbp_plan end with their arrays, and the
 * library keeps inside the caller's sz: a register set just big enough for
 * x86-64's six registers works for x86-64 and is refused for arm64; a plan
 * with room for two slots gets -EOVERFLOW for a three-slot request, with
 * the counts, and no byte past its sz is written.
 */
static void test_regs_and_plan_keep_inside_sz(void **state)
{
	const size_t head = offsetof(struct hwbp_regs, val);
	const size_t phead = offsetof(struct hwbp_plan, slots);
	union {
		struct hwbp_regs regs;
		struct hwbp_plan plan;
		unsigned char b[sizeof(struct hwbp_regs) + sizeof(struct hwbp_plan)];
	} u;
	struct hwbp_slot slot = { .type = HWBP_SLOT_WATCH, .addr = 0x1000, .len = 8,
				  .access = HWBP_WRITE };
	struct hwbp_slot back[4];
	struct hwbp_hitset h;
	unsigned int n = 0;
	uint64_t v = 0;
	char why[160];

	(void)state;
	memset(&u, 0xa5, sizeof(u));
	assert_int_equal(hwbp_regs_init(&u.regs, head + 5 * sizeof(uint64_t), HWBP_ARCH_X86_64),
			 -EINVAL);
	assert_int_equal(u.b[0], 0xa5);			/* untouched */
	assert_int_equal(hwbp_regs_init(&u.regs, head + 6 * sizeof(uint64_t), HWBP_ARCH_X86_64),
			 0);
	assert_int_equal(u.regs.sz, head + 6 * sizeof(uint64_t));
	assert_int_equal(u.b[head + 6 * sizeof(uint64_t)], 0xa5);	/* not cleared */
	assert_int_equal(hwbp_arch_encode(&u.regs, &slot, 1), 0);
	assert_int_equal(hwbp_regs_get(&u.regs, "dr7", &v), 0);
	assert_int_equal(v, 0x00090001);
	assert_int_equal(hwbp_arch_decode(&u.regs, back, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(back[0].addr, 0x1000);
	assert_int_equal(hwbp_arch_hits(&u.regs, 0x1004, 4, HWBP_WRITE, 0, &h), 0);
	assert_int_equal(h.watch, 1);
	assert_int_equal(u.b[head + 6 * sizeof(uint64_t)], 0xa5);	/* never written */

	/* The same room holds none of arm64's 64 registers. */
	assert_int_equal(hwbp_regs_init(&u.regs, u.regs.sz, HWBP_ARCH_ARM64), -EINVAL);
	u.regs.arch = HWBP_ARCH_ARM64;
	assert_int_equal(hwbp_regs_set(&u.regs, "wvr0", 0x1000), -EINVAL);
	assert_int_equal(hwbp_regs_get(&u.regs, "wvr0", &v), -EINVAL);
	assert_int_equal(hwbp_arch_encode(&u.regs, &slot, 1), -EINVAL);
	assert_int_equal(hwbp_arch_decode(&u.regs, back, 4, &n), -EINVAL);
	assert_int_equal(hwbp_arch_hits(&u.regs, 0x1000, 1, HWBP_WRITE, 0, &h), -EINVAL);
	assert_true(hwbp_arch_explain(&u.regs, why, sizeof(why)) > 0);
	assert_non_null(strstr(why, "no room for the arm64 registers"));

	/* A plan with room for 2 slots; x86-64 0x1003/6 needs 3. */
	memset(&u, 0xa5, sizeof(u));
	u.plan.sz = phead - 1;
	assert_int_equal(hwbp_arch_plan(HWBP_ARCH_X86_64, 0x1003, 6, HWBP_WRITE, NULL, &u.plan),
			 -EINVAL);
	u.plan.sz = phead + 2 * sizeof(struct hwbp_slot);
	assert_int_equal(hwbp_arch_plan(HWBP_ARCH_X86_64, 0x1003, 6, HWBP_WRITE, NULL, &u.plan),
			 -EOVERFLOW);
	assert_int_equal(u.plan.need_watch, 3);
	assert_int_equal(u.plan.free_watch, 4);
	assert_int_equal(u.plan.nslots, 0xa5a5a5a5u);	/* only the counts */
	assert_int_equal(u.plan.sz, phead + 2 * sizeof(struct hwbp_slot));
	assert_int_equal(hwbp_arch_plan(HWBP_ARCH_X86_64, 0x1004, 4, HWBP_WRITE, NULL, &u.plan),
			 0);
	assert_int_equal(u.plan.nslots, 1);
	assert_int_equal(u.plan.slots[0].addr, 0x1004);
	assert_int_equal(u.plan.sz, phead + 2 * sizeof(struct hwbp_slot));
	for (size_t i = phead + sizeof(struct hwbp_slot); i < sizeof(u.plan); i++)
		assert_int_equal(u.b[i], 0xa5);		/* past the one slot: untouched */
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_is_the_makefiles),
		cmocka_unit_test(test_regs_and_plan_keep_inside_sz),
		cmocka_unit_test(test_access_and_arch_names),
		cmocka_unit_test(test_arch_host_matches_uname),
		cmocka_unit_test(test_default_pools),
		cmocka_unit_test(test_register_names_round_trip),
		cmocka_unit_test(test_register_lookup_by_name),
		cmocka_unit_test(test_regs_set_get),
		cmocka_unit_test(test_hits_and_decode_refuse_bad_input),
		cmocka_unit_test(test_props_huge_len_refused_without_walking),
		cmocka_unit_test(test_props_x86_64_r),
		cmocka_unit_test(test_props_x86_64_w),
		cmocka_unit_test(test_props_x86_64_rw),
		cmocka_unit_test(test_props_x86_64_x),
		cmocka_unit_test(test_props_arm64_r),
		cmocka_unit_test(test_props_arm64_w),
		cmocka_unit_test(test_props_arm64_rw),
		cmocka_unit_test(test_props_arm64_x),
		cmocka_unit_test(test_props_loongarch64_r),
		cmocka_unit_test(test_props_loongarch64_w),
		cmocka_unit_test(test_props_loongarch64_rw),
		cmocka_unit_test(test_props_loongarch64_x),
	};

	return cmocka_run_group_tests_name("arch_props", tests, NULL, NULL);
}

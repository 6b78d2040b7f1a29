// SPDX-License-Identifier: MIT
/*
 * test_hwdebug.c - the regset images the ptrace backend writes on arm64 and
 * LoongArch, checked on any host against the arch layer's hit model
 *
 * These CPUs cannot run here (LoongArch not at all), so for each scenario
 * of the ptrace backend's hardware tests (w and rw of 1, 2, 4 and 8 bytes
 * at every offset of a doubleword, ranges split over several slots,
 * execute breakpoints) the test plans and encodes the slots as the backend
 * does, builds the image it would hand to PTRACE_SETREGSET, reads that
 * image back, and asks the hit model which byte accesses fire the read-back
 * registers: the same slots as the registers encoded, every byte inside the
 * request, and on arm64 (BAS is exact to the byte) none of the 8 bytes on
 * either side. It also pins the image layout (entry size, iov_len for the CPU's
 * slot count) to ARCH.md 2.4 and 3.4.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "backend/hwdebug.h"

#define BASE 0x7f0000001000ull

/* Plan, encode, image, read back: the registers the kernel would get. */
static void through_image(enum hwbp_arch arch, const struct hwbp_plan *pl, unsigned int nslots,
			  struct hwbp_regs *regs, struct hwbp_regs *back)
{
	union {
		struct hwdebug_arm64 a;
		struct hwdebug_loongarch l;
	} img;
	enum hwbp_slot_type types[2] = { HWBP_SLOT_WATCH, HWBP_SLOT_BREAK };

	hwbp_regs_init(regs, sizeof(*regs), arch);
	assert_int_equal(hwbp_arch_encode(regs, pl->slots, pl->nslots), 0);
	hwbp_regs_init(back, sizeof(*back), arch);
	for (int t = 0; t < 2; t++) {
		long len = hwdebug_image(arch, regs, types[t], nslots, &img, sizeof(img));

		assert_true(len > 0);
		assert_int_equal(hwdebug_parse(arch, &img, (size_t)len, types[t], back), 0);
	}
}

/* Does a 1-byte ACCESS at ADDR fire any slot of REGS (the hit model's
 * default reading of LoongArch's Mask = 0)? */
static bool fires(const struct hwbp_regs *regs, uint64_t addr, enum hwbp_access kind)
{
	struct hwbp_hitset hs;

	assert_int_equal(hwbp_arch_hits(regs, addr, 1, kind, 0, &hs), 0);
	return hs.watch || hs.brk;
}

/* The same slots fire for both register sets, under both readings. */
static bool same(const struct hwbp_regs *a, const struct hwbp_regs *b, uint64_t addr,
		 enum hwbp_access kind)
{
	for (unsigned int f = 0; f < 2; f++) {
		struct hwbp_hitset x, y;
		unsigned int flags = f ? HWBP_HIT_LA_LITERAL : 0;

		assert_int_equal(hwbp_arch_hits(a, addr, 1, kind, flags, &x), 0);
		assert_int_equal(hwbp_arch_hits(b, addr, 1, kind, flags, &y), 0);
		if (x.watch != y.watch || x.brk != y.brk)
			return false;
	}
	return true;
}

static void check_range(enum hwbp_arch arch, unsigned int nslots, uint64_t addr, uint64_t len,
			enum hwbp_access access)
{
	HWBP_OPTS(hwbp_plan, pl);
	struct hwbp_regs regs, back;
	enum hwbp_access kind = access == HWBP_EXEC ? HWBP_EXEC : HWBP_WRITE;
	uint64_t step = access == HWBP_EXEC ? 4 : 1;
	/* LoongArch compares whole doublewords in the default reading: bytes
	 * next to a short watch in its doubleword may fire; only arm64's BAS
	 * is exact to the byte. */
	bool exact = arch == HWBP_ARCH_ARM64 || access == HWBP_EXEC;

	assert_int_equal(hwbp_arch_plan(arch, addr, len, access, NULL, &pl), 0);
	through_image(arch, &pl, nslots, &regs, &back);
	for (uint64_t a = addr - 8; a < addr + len + 8; a += step) {
		bool inside = a >= addr && a < addr + len;

		if (!same(&regs, &back, a, kind) || !same(&regs, &back, a, HWBP_READ))
			fail_msg("%s %s 0x%llx/%llu: the image read back fires other slots at +%lld",
				 hwbp_arch_name(arch), hwbp_access_name(access),
				 (unsigned long long)addr, (unsigned long long)len,
				 (long long)(a - addr));
		if (!exact && !inside)
			continue;
		if (fires(&back, a, kind) != inside)
			fail_msg("%s %s 0x%llx/%llu: a %s at +%lld %s", hwbp_arch_name(arch),
				 hwbp_access_name(access), (unsigned long long)addr,
				 (unsigned long long)len, hwbp_access_name(kind),
				 (long long)(a - addr), inside ? "does not fire" : "fires");
		if (access == HWBP_RW && fires(&back, a, HWBP_READ) != inside)
			fail_msg("%s rw 0x%llx/%llu: a read at +%lld", hwbp_arch_name(arch),
				 (unsigned long long)addr, (unsigned long long)len,
				 (long long)(a - addr));
	}
}

static void sweep(enum hwbp_arch arch, unsigned int nslots)
{
	static const uint64_t lens[] = { 1, 2, 4, 8 };
	static const struct {
		uint64_t off, len;
	} splits[] = { { 3, 13 }, { 0, 16 }, { 0, 24 }, { 1, 9 }, { 6, 4 } };

	for (unsigned int l = 0; l < 4; l++)
		for (uint64_t off = 0; off + lens[l] <= 8; off++) {
			/* LoongArch slots are naturally aligned: the planner
			 * splits, and a split fits the slots or is refused. */
			check_range(arch, nslots, BASE + off, lens[l], HWBP_WRITE);
			check_range(arch, nslots, BASE + off, lens[l], HWBP_RW);
		}
	for (unsigned int i = 0; i < sizeof(splits) / sizeof(splits[0]); i++)
		check_range(arch, nslots, BASE + splits[i].off, splits[i].len, HWBP_WRITE);
	check_range(arch, nslots, BASE + 0x400, 4, HWBP_EXEC);
}

static void test_arm64_images_fire_exactly_the_request(void **state)
{
	(void)state;
	sweep(HWBP_ARCH_ARM64, 4);	/* QEMU -cpu max, most Cortex-A */
	sweep(HWBP_ARCH_ARM64, 16);
}

static void test_loongarch_images_fire_exactly_the_request(void **state)
{
	(void)state;
	sweep(HWBP_ARCH_LOONGARCH64, 8);	/* the original layout */
	sweep(HWBP_ARCH_LOONGARCH64, 14);	/* _v2 */
}

static void test_arm64_layout(void **state)
{
	HWBP_OPTS(hwbp_plan, pl);
	struct hwbp_regs regs;
	struct hwdebug_arm64 img;

	(void)state;
	/* ARCH.md A1: W len 4 at 0x1000 -> wvr0 0x1000, wcr0 0x1f5. */
	assert_int_equal(sizeof(img), 264);
	assert_int_equal(hwbp_arch_plan(HWBP_ARCH_ARM64, 0x1000, 4, HWBP_WRITE, NULL, &pl), 0);
	hwbp_regs_init(&regs, sizeof(regs), HWBP_ARCH_ARM64);
	assert_int_equal(hwbp_arch_encode(&regs, pl.slots, pl.nslots), 0);
	/* Only the CPU's slots: 8 + 4 * 16 bytes for 4 slots. */
	assert_int_equal(hwdebug_image(HWBP_ARCH_ARM64, &regs, HWBP_SLOT_WATCH, 4, &img,
				       sizeof(img)), 72);
	assert_int_equal(img.regs[0].addr, 0x1000);
	assert_int_equal(img.regs[0].ctrl, 0x1f5);
	assert_int_equal(img.regs[1].addr, 0);
	assert_int_equal(img.regs[1].ctrl, 0);
	assert_int_equal(hwdebug_image(HWBP_ARCH_ARM64, &regs, HWBP_SLOT_WATCH, 17, &img,
				       sizeof(img)), -EINVAL);
	assert_int_equal(hwdebug_image(HWBP_ARCH_X86_64, &regs, HWBP_SLOT_WATCH, 4, &img,
				       sizeof(img)), -EINVAL);
}

static void test_loongarch_layout(void **state)
{
	HWBP_OPTS(hwbp_plan, pl);
	struct hwbp_regs regs;
	struct hwdebug_loongarch img;

	(void)state;
	/* ARCH.md 3.4: 200 bytes for 8 slots, 344 for 14. */
	assert_int_equal(sizeof(img), 344);
	assert_int_equal(hwbp_arch_plan(HWBP_ARCH_LOONGARCH64, 0x1000, 4, HWBP_WRITE, NULL, &pl), 0);
	hwbp_regs_init(&regs, sizeof(regs), HWBP_ARCH_LOONGARCH64);
	assert_int_equal(hwbp_arch_encode(&regs, pl.slots, pl.nslots), 0);
	assert_int_equal(hwdebug_image(HWBP_ARCH_LOONGARCH64, &regs, HWBP_SLOT_WATCH, 8, &img,
				       sizeof(img)), 200);
	assert_int_equal(hwdebug_image(HWBP_ARCH_LOONGARCH64, &regs, HWBP_SLOT_WATCH, 14, &img,
				       sizeof(img)), 344);
	/* W len 4: ctrl 0x610 (ARCH.md 3.6), mask 0 (the kernel drops it). */
	assert_int_equal(img.regs[0].addr, 0x1000);
	assert_int_equal(img.regs[0].ctrl, 0x610);
	assert_int_equal(img.regs[0].mask, 0);
	assert_int_equal(hwdebug_image(HWBP_ARCH_LOONGARCH64, &regs, HWBP_SLOT_WATCH, 15, &img,
				       sizeof(img)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arm64_layout),
		cmocka_unit_test(test_loongarch_layout),
		cmocka_unit_test(test_arm64_images_fire_exactly_the_request),
		cmocka_unit_test(test_loongarch_images_fire_exactly_the_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

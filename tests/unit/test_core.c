// SPDX-License-Identifier: MIT
/*
 * test_core.c - sessions, points, slot sharing and plan/apply against a
 * fake backend that records its calls; the perf backend's error paths
 * against a faked hwbp_sys. No kernel breakpoint is armed here.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "backend/backend.h"
#include "core/core.h"
#include "sys.h"

/* --- fake backend ------------------------------------------------------- */

struct hwbp_bk_slot {
	struct hwbp_slot slot;
	bool enabled;
	void *cookie;
	uint64_t hits;
	bool live;
};

#define FAKE_MAX 64

static struct fake {
	struct hwbp_bk_slot slots[FAKE_MAX];
	unsigned int nslots;		/* ever installed */
	unsigned int installs, removes, modifies, enables;
	unsigned int fail_install_at;	/* 1-based install call that fails; 0 none */
	int fail_install_err;
	int modify_err;			/* returned by every modify if set */
	unsigned int cap;		/* capacity, shared pool */
	unsigned int free_probe;	/* what free_slots() reports */
	struct hwbp_backend_host host;	/* the core's callbacks */
	void *deliver_cookie;		/* fake_poll() delivers one hit of it */
} fk;

static unsigned int fake_live(void)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < fk.nslots; i++)
		n += fk.slots[i].live;
	return n;
}

static int fake_open(const struct hwbp_session_opts *o, const struct hwbp_backend_host *host,
		     struct hwbp_bk **out)
{
	(void)o;
	fk.host = *host;
	*out = (struct hwbp_bk *)&fk;
	return 0;
}

static void fake_close(struct hwbp_bk *b)
{
	(void)b;
	for (unsigned int i = 0; i < fk.nslots; i++)
		fk.slots[i].live = false;
}

static void fake_capacity(struct hwbp_bk *b, unsigned int *w, unsigned int *x, bool *shared)
{
	(void)b;
	*w = fk.cap;
	*x = fk.cap;
	*shared = true;
}

static int fake_install(struct hwbp_bk *b, const struct hwbp_slot *slot, bool enabled, void *cookie,
			struct hwbp_bk_slot **out)
{
	struct hwbp_bk_slot *bs;

	(void)b;
	fk.installs++;
	if (fk.fail_install_at && fk.installs == fk.fail_install_at)
		return fk.fail_install_err;
	assert_true(fk.nslots < FAKE_MAX);
	bs = &fk.slots[fk.nslots++];
	bs->slot = *slot;
	bs->enabled = enabled;
	bs->cookie = cookie;
	bs->hits = 0;
	bs->live = true;
	*out = bs;
	return 0;
}

static int fake_modify(struct hwbp_bk *b, struct hwbp_bk_slot *bs, const struct hwbp_slot *slot,
		       bool enabled, void *cookie)
{
	(void)b;
	fk.modifies++;
	if (fk.modify_err)
		return fk.modify_err;
	assert_true(bs->live);
	bs->slot = *slot;
	bs->enabled = enabled;
	bs->cookie = cookie;
	return 0;
}

static void fake_remove(struct hwbp_bk *b, struct hwbp_bk_slot *bs)
{
	(void)b;
	assert_true(bs->live);
	fk.removes++;
	bs->live = false;
}

static int fake_enable(struct hwbp_bk *b, struct hwbp_bk_slot *bs, bool on)
{
	(void)b;
	fk.enables++;
	bs->enabled = on;
	return 0;
}

static int fake_count(struct hwbp_bk *b, struct hwbp_bk_slot *bs, uint64_t *hits)
{
	(void)b;
	*hits = bs->hits;
	return 0;
}

static int fake_threads(struct hwbp_bk *b, struct hwbp_bk_slot *bs, struct hwbp_tally *t)
{
	(void)b;
	return hwbp_tally_add(t, 100, bs->hits);
}

static int fake_free_slots(struct hwbp_bk *b, unsigned int *w, unsigned int *x)
{
	(void)b;
	*w = *x = fk.free_probe;
	return 0;
}

static int fake_fd(struct hwbp_bk *b)
{
	(void)b;
	return -EINVAL;
}

static int fake_poll(struct hwbp_bk *b, int timeout_ms)
{
	struct hwbp_hit hit;

	(void)b;
	(void)timeout_ms;
	memset(&hit, 0, sizeof(hit));
	if (fk.deliver_cookie)
		fk.host.deliver(fk.host.ctx, fk.deliver_cookie, &hit);
	return 0;
}

static int fake_lost(struct hwbp_bk *b, uint64_t *lost)
{
	(void)b;
	*lost = 0;
	return 0;
}

static const struct hwbp_backend fake_backend = {
	.name = "fake",
	.kind = HWBP_BACKEND_PTRACE,	/* any of the enum: read back below */
	.open = fake_open,
	.close = fake_close,
	.capacity = fake_capacity,
	.install = fake_install,
	.modify = fake_modify,
	.remove = fake_remove,
	.enable = fake_enable,
	.count = fake_count,
	.threads = fake_threads,
	.free_slots = fake_free_slots,
	.fd = fake_fd,
	.poll = fake_poll,
	.lost = fake_lost,
};

/* The live fake slot at ADDR, or NULL. */
static struct hwbp_bk_slot *fake_at(uint64_t addr)
{
	for (unsigned int i = 0; i < fk.nslots; i++)
		if (fk.slots[i].live && fk.slots[i].slot.addr == addr)
			return &fk.slots[i];
	return NULL;
}

/* --- log capture -------------------------------------------------------- */

static char last_log[512];	/* the last line */
static char all_log[4096];	/* every line since setup() */

static void capture_log(enum hwbp_log_level level, const char *msg, void *arg)
{
	size_t n = strlen(all_log);

	(void)level;
	(void)arg;
	snprintf(last_log, sizeof(last_log), "%s", msg);
	snprintf(all_log + n, sizeof(all_log) - n, "%s\n", msg);
}

static int setup(void **state)
{
	(void)state;
	memset(&fk, 0, sizeof(fk));
	fk.cap = 4;
	fk.free_probe = 4;
	last_log[0] = 0;
	all_log[0] = 0;
	hwbp_set_log(capture_log, NULL, NULL);
	hwbp_sys = hwbp_sys_real;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hwbp_set_log(NULL, NULL, NULL);
	hwbp_sys = hwbp_sys_real;
	return 0;
}

static struct hwbp_session *open_fake(enum hwbp_delivery d, bool per_thread)
{
	HWBP_OPTS(hwbp_session_opts, o, .delivery = d, .per_thread = per_thread);
	struct hwbp_session *s = NULL;

	assert_int_equal(hwbp_core_session_open(&o, &fake_backend, &s), 0);
	assert_non_null(s);
	return s;
}

/* --- tests -------------------------------------------------------------- */

static void test_core_reports_its_backend(void **state)
{
	struct hwbp_session *s = open_fake(HWBP_DELIVER_COUNT, false);

	(void)state;
	assert_string_equal(hwbp_session_backend(s), "fake");
	assert_int_equal(hwbp_session_backend_kind(s), HWBP_BACKEND_PTRACE);
	hwbp_session_close(s);
}

static void test_core_watch_is_planned_not_installed(void **state)
{
	struct hwbp_session *s = open_fake(HWBP_DELIVER_COUNT, false);
	struct hwbp_point *pt;
	HWBP_OPTS(hwbp_plan, pl);

	(void)state;
	assert_int_equal(hwbp_point_add(s, 0x1003, 6, HWBP_WRITE, NULL, &pt), 0);
	assert_int_equal(fk.installs, 0);
	assert_int_equal(hwbp_point_plan(pt, &pl), -ENODATA);
	assert_int_equal(hwbp_session_plan(s), 0);
	assert_int_equal(fk.installs, 0);
	assert_int_equal(hwbp_point_plan(pt, &pl), 0);
	/* x86, 0x1003 length 6: 1 byte @0x1003, 4 @0x1004, 1 @0x1008 */
	assert_int_equal(pl.nslots, 3);
	assert_int_equal(pl.slots[0].addr, 0x1003);
	assert_int_equal(pl.slots[1].addr, 0x1004);
	assert_int_equal(pl.slots[1].len, 4);
	assert_int_equal(pl.slots[2].addr, 0x1008);
	/* Room for 2 slots only (a caller with a smaller struct): refused,
	 * untouched. */
	pl.sz = offsetof(struct hwbp_plan, slots) + 2 * sizeof(pl.slots[0]);
	pl.nslots = 77;
	assert_int_equal(hwbp_point_plan(pt, &pl), -EOVERFLOW);
	assert_int_equal(pl.nslots, 77);
	pl.sz = offsetof(struct hwbp_plan, slots) - 1;
	assert_int_equal(hwbp_point_plan(pt, &pl), -EINVAL);
	assert_int_equal(hwbp_session_apply(s), 0);
	assert_int_equal(fk.installs, 3);
	assert_int_equal(fake_live(), 3);
	assert_string_equal(hwbp_point_label(pt), "0x1003/6:w");
	hwbp_session_close(s);
	assert_int_equal(fake_live(), 0);
}

static void test_core_identical_slots_shared_with_refcount(void **state)
{
	struct hwbp_session *s = open_fake(HWBP_DELIVER_COUNT, false);
	struct hwbp_point *a, *b, *c;

	(void)state;
	assert_int_equal(hwbp_point_add(s, 0x2000, 8, HWBP_WRITE, NULL, &a), 0);
	assert_int_equal(hwbp_point_add(s, 0x2000, 8, HWBP_WRITE, NULL, &b), 0);
	/* Same address, other access: a slot of its own. */
	assert_int_equal(hwbp_point_add(s, 0x2000, 8, HWBP_RW, NULL, &c), 0);
	assert_int_equal(hwbp_session_apply(s), 0);
	assert_int_equal(fk.installs, 2);
	hwbp_point_remove(a);
	assert_int_equal(fk.removes, 0);
	hwbp_point_remove(b);
	assert_int_equal(fk.removes, 1);
	assert_int_equal(fake_live(), 1);
	hwbp_point_remove(c);
	assert_int_equal(fake_live(), 0);
	hwbp_session_close(s);
}

static void test_core_plan_enospc_touches_nothing(void **state)
{
	struct hwbp_session *s = open_fake(HWBP_DELIVER_COUNT, false);
	struct hwbp_point *pt;

	(void)state;
	for (int i = 0; i < 5; i++)
		assert_int_equal(hwbp_point_add(s, 0x3000 + 8 * i, 8, HWBP_WRITE, NULL, &pt), 0);
	assert_int_equal(hwbp_session_plan(s), -ENOSPC);
	assert_string_equal(last_log, "session: needs 5 debug registers, 4 free");
	assert_int_equal(hwbp_session_apply(s), -ENOSPC);
	assert_int_equal(fk.installs, 0);
	hwbp_point_remove(pt);
	assert_int_equal(hwbp_session_apply(s), 0);
	assert_int_equal(fake_live(), 4);
	hwbp_session_close(s);
}

static void test_core_enospc_counts_a_range_longer_than_any_cpu(void **state)
{
	struct hwbp_session *s = open_fake(HWBP_DELIVER_COUNT, false);
	struct hwbp_point *pt[5], *buf;
	HWBP_OPTS(hwbp_plan, pl);
	unsigned int need = 0;

	(void)state;
	/* Five 8-byte variables and a 4 KiB buffer: 5 + 512 slots of 4. */
	for (int i = 0; i < 5; i++)
		assert_int_equal(hwbp_point_add(s, 0x3000 + 8 * i, 8, HWBP_WRITE, NULL, &pt[i]), 0);
	assert_int_equal(hwbp_point_add(s, 0x10000, 4096, HWBP_WRITE, NULL, &buf), 0);
	assert_int_equal(hwbp_session_apply(s), -ENOSPC);
	assert_string_equal(last_log, "session: needs 517 debug registers, 4 free");
	assert_int_equal(fk.installs, 0);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(hwbp_point_plan(pt[i], &pl), 0);
		need += pl.need_watch + pl.need_break;
		assert_int_equal(pl.free_watch, 4);
	}
	assert_int_equal(hwbp_point_plan(buf, &pl), 0);
	assert_int_equal(pl.need_watch, 512);
	assert_int_equal(pl.nslots, 0);
	assert_int_equal(pl.free_watch, 4);
	need += pl.need_watch + pl.need_break;
	assert_int_equal(need, 517);
	/* The same count as data, for the caller's own refusal. */
	{
		HWBP_OPTS(hwbp_need, nd);

		assert_int_equal(hwbp_session_need(s, &nd), 0);
		assert_int_equal(nd.need_watch + nd.need_break, 517);
		assert_int_equal(nd.free_watch, 4);
		assert_true(nd.shared);
		nd.sz = 0;
		assert_int_equal(hwbp_session_need(s, &nd), -EINVAL);
	}
	/* Without the buffer, the five still need one more than there is. */
	hwbp_point_remove(buf);
	assert_int_equal(hwbp_session_apply(s), -ENOSPC);
	assert_string_equal(last_log, "session: needs 5 debug registers, 4 free");
	{
		HWBP_OPTS(hwbp_need, nd);

		assert_int_equal(hwbp_session_need(s, &nd), 0);
		assert_int_equal(nd.need_watch + nd.need_break, 5);
	}
	hwbp_session_close(s);
}

static void test_core_exec_where_no_insn_starts_is_einval(void **state)
{
	struct hwbp_session *s = open_fake(HWBP_DELIVER_COUNT, false);
	struct hwbp_point *pt = NULL;
	int want = hwbp_arch_host() == HWBP_ARCH_X86_64 ? 0 : -EINVAL;

	(void)state;
	/* arm64 and LoongArch instructions are 4-byte aligned; x86's are not. */
	assert_int_equal(hwbp_point_add(s, 0x401001, 4, HWBP_EXEC, NULL, &pt), want);
	assert_int_equal(hwbp_point_add(s, 0x401002, 1, HWBP_EXEC, NULL, &pt), want);
	assert_int_equal(hwbp_point_add(s, 0x401000, 4, HWBP_EXEC, NULL, &pt), 0);
	assert_int_equal(hwbp_point_modify(pt, 0x401003, 4, HWBP_EXEC), want);
	hwbp_session_close(s);
}

static void test_core_apply_all_or_nothing_on_kernel_enospc(void **state)
{
	struct hwbp_session *s = open_fake(HWBP_DELIVER_COUNT, false);
	struct hwbp_point *old, *pt;
	uint64_t hits;

	(void)state;
	assert_int_equal(hwbp_point_add(s, 0x4000, 8, HWBP_WRITE, NULL, &old), 0);
	assert_int_equal(hwbp_session_apply(s), 0);
	fake_at(0x4000)->hits = 7;
	/* A debugger holds 2 of the 4: the third new install fails. */
	fk.fail_install_at = 4;
	fk.fail_install_err = -ENOSPC;
	fk.free_probe = 1;
	assert_int_equal(hwbp_point_add(s, 0x5000, 16, HWBP_WRITE, NULL, &pt), 0);
	assert_int_equal(hwbp_point_add(s, 0x6000, 1, HWBP_WRITE, NULL, &pt), 0);
	assert_int_equal(hwbp_session_apply(s), -ENOSPC);
	assert_non_null(strstr(last_log, "needs 3 more debug registers, 1 free"));
	/* As data: 4 needed; free is what the kernel had left, 1, plus the
	 * one the session holds. */
	{
		HWBP_OPTS(hwbp_need, nd);

		assert_int_equal(hwbp_session_need(s, &nd), 0);
		assert_int_equal(nd.need_watch + nd.need_break, 4);
		assert_int_equal(nd.free_watch, 2);
	}
	/* Nothing new left armed; the old point untouched and counting. */
	assert_int_equal(fake_live(), 1);
	assert_non_null(fake_at(0x4000));
	assert_int_equal(hwbp_point_count(old, &hits), 0);
	assert_int_equal(hits, 7);
	hwbp_session_close(s);
}

static void test_core_modify_rewrites_in_place_and_keeps_count(void **state)
{
	struct hwbp_session *s = open_fake(HWBP_DELIVER_COUNT, false);
	struct hwbp_point *pt;
	uint64_t hits;

	(void)state;
	fk.cap = 1;
	assert_int_equal(hwbp_point_add(s, 0x7000, 8, HWBP_WRITE, NULL, &pt), 0);
	assert_int_equal(hwbp_session_apply(s), 0);
	fk.slots[0].hits = 5;
	assert_int_equal(hwbp_point_modify(pt, 0x7100, 4, HWBP_RW), 0);
	/* Planned only: still the old slot. */
	assert_int_equal(fk.slots[0].slot.addr, 0x7000);
	/* One register: only an in-place rewrite fits. */
	assert_int_equal(hwbp_session_apply(s), 0);
	assert_int_equal(fk.modifies, 1);
	assert_int_equal(fk.installs, 1);
	assert_int_equal(fk.slots[0].slot.addr, 0x7100);
	assert_int_equal(fk.slots[0].slot.len, 4);
	assert_int_equal(fk.slots[0].slot.access, HWBP_RW);
	fk.slots[0].hits += 3;
	assert_int_equal(hwbp_point_count(pt, &hits), 0);
	assert_int_equal(hits, 8);
	hwbp_session_close(s);
}

static void test_core_modify_failure_keeps_old_state(void **state)
{
	struct hwbp_session *s = open_fake(HWBP_DELIVER_COUNT, false);
	struct hwbp_point *pt;
	HWBP_OPTS(hwbp_plan, pl);

	(void)state;
	assert_int_equal(hwbp_point_add(s, 0x8000, 8, HWBP_WRITE, NULL, &pt), 0);
	assert_int_equal(hwbp_session_apply(s), 0);
	fk.modify_err = -EINVAL;
	assert_int_equal(hwbp_point_modify(pt, 0x8100, 8, HWBP_WRITE), 0);
	assert_int_equal(hwbp_session_apply(s), -EINVAL);
	assert_int_equal(fake_live(), 1);
	assert_int_equal(fk.slots[0].slot.addr, 0x8000);
	fk.modify_err = 0;
	assert_int_equal(hwbp_session_apply(s), 0);
	assert_int_equal(hwbp_point_plan(pt, &pl), 0);
	assert_int_equal(pl.slots[0].addr, 0x8100);
	hwbp_session_close(s);
}

static void test_core_modify_without_kernel_support_reinstalls(void **state)
{
	struct hwbp_session *s = open_fake(HWBP_DELIVER_COUNT, false);
	struct hwbp_point *pt;

	(void)state;
	assert_int_equal(hwbp_point_add(s, 0x9000, 8, HWBP_WRITE, NULL, &pt), 0);
	assert_int_equal(hwbp_session_apply(s), 0);
	fk.modify_err = -EOPNOTSUPP;
	assert_int_equal(hwbp_point_modify(pt, 0x9100, 8, HWBP_WRITE), 0);
	assert_int_equal(hwbp_session_apply(s), 0);
	assert_int_equal(fk.installs, 2);
	assert_int_equal(fk.removes, 1);
	assert_non_null(fake_at(0x9100));
	assert_null(fake_at(0x9000));
	hwbp_session_close(s);
}

static void test_core_disable_shared_slot_stays_armed(void **state)
{
	struct hwbp_session *s = open_fake(HWBP_DELIVER_COUNT, false);
	struct hwbp_point *a, *b;
	struct hwbp_bk_slot *bs;
	uint64_t ha, hb;

	(void)state;
	assert_int_equal(hwbp_point_add(s, 0xa000, 4, HWBP_WRITE, NULL, &a), 0);
	assert_int_equal(hwbp_point_add(s, 0xa000, 4, HWBP_WRITE, NULL, &b), 0);
	assert_int_equal(hwbp_session_apply(s), 0);
	bs = fake_at(0xa000);
	bs->hits = 10;
	assert_int_equal(hwbp_point_disable(a), 0);
	assert_true(bs->enabled);
	bs->hits = 15;
	assert_int_equal(hwbp_point_count(a, &ha), 0);
	assert_int_equal(hwbp_point_count(b, &hb), 0);
	assert_int_equal(ha, 10);
	assert_int_equal(hb, 15);
	assert_int_equal(hwbp_point_disable(b), 0);
	assert_false(bs->enabled);
	assert_int_equal(hwbp_point_enable(a), 0);
	assert_true(bs->enabled);
	bs->hits = 18;
	assert_int_equal(hwbp_point_count(a, &ha), 0);
	assert_int_equal(ha, 13);
	hwbp_session_close(s);
}

static void test_core_late_joiner_counts_only_its_own_hits(void **state)
{
	struct hwbp_session *s = open_fake(HWBP_DELIVER_COUNT, true);
	struct hwbp_point *a, *b;
	struct hwbp_thread_count tc[4];
	uint64_t hits;
	size_t n;

	(void)state;
	assert_int_equal(hwbp_point_add(s, 0xb000, 2, HWBP_WRITE, NULL, &a), 0);
	assert_int_equal(hwbp_session_apply(s), 0);
	fake_at(0xb000)->hits = 4;
	assert_int_equal(hwbp_point_add(s, 0xb000, 2, HWBP_WRITE, NULL, &b), 0);
	assert_int_equal(hwbp_session_apply(s), 0);
	assert_int_equal(fk.installs, 1);
	fake_at(0xb000)->hits = 6;
	assert_int_equal(hwbp_point_count(b, &hits), 0);
	assert_int_equal(hits, 2);
	assert_int_equal(hwbp_point_threads(b, tc, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(tc[0].tid, 100);
	assert_int_equal(tc[0].hits, 2);
	hwbp_session_close(s);
}

static struct hwbp_point *seen[4];
static unsigned int seen_piece[4];
static unsigned int nseen;

static int collect(const struct hwbp_hit *hit, void *arg)
{
	(void)arg;
	if (nseen < 4) {
		seen[nseen] = hit->point;
		seen_piece[nseen] = hit->piece;
	}
	nseen++;
	return 0;
}

static void test_core_deliver_fans_out_to_sharing_points(void **state)
{
	struct hwbp_session *s = open_fake(HWBP_DELIVER_STREAM, false);
	struct hwbp_point *a, *b, *c, *d;

	(void)state;
	assert_int_equal(hwbp_point_add(s, 0xc000, 8, HWBP_WRITE, NULL, &a), 0);
	assert_int_equal(hwbp_point_add(s, 0xc000, 8, HWBP_WRITE, NULL, &b), 0);
	assert_int_equal(hwbp_point_add(s, 0xc008, 8, HWBP_WRITE, NULL, &c), 0);
	/* 0xbffc/12: pieces 0xbffc/4 and 0xc000/8, the second shared. */
	assert_int_equal(hwbp_point_add(s, 0xbffc, 12, HWBP_WRITE, NULL, &d), 0);
	assert_int_equal(hwbp_session_apply(s), 0);
	assert_int_equal(fk.installs, 3);
	assert_int_equal(hwbp_point_disable(b), 0);
	fk.deliver_cookie = fake_at(0xc000)->cookie;
	nseen = 0;
	assert_int_equal(hwbp_session_poll(s, 0, collect, NULL), 0);
	/* a and d, not the disabled b nor c on another slot */
	assert_int_equal(nseen, 2);
	assert_true((seen[0] == a && seen[1] == d) || (seen[0] == d && seen[1] == a));
	assert_int_equal(seen_piece[seen[0] == d ? 0 : 1], 1);
	hwbp_session_close(s);
}

static void test_core_bad_requests_and_options(void **state)
{
	struct hwbp_session *s = open_fake(HWBP_DELIVER_COUNT, false);
	struct hwbp_point *pt = (struct hwbp_point *)0x1;
	struct {
		struct hwbp_session_opts o;
		uint64_t extra;
	} big;
	struct hwbp_session *s2 = NULL;

	(void)state;
	assert_int_equal(hwbp_point_add(s, 0x1000, 0, HWBP_WRITE, NULL, &pt), -EINVAL);
	assert_int_equal(hwbp_point_add(s, UINT64_MAX, 2, HWBP_WRITE, NULL, &pt), -EINVAL);
	assert_int_equal(hwbp_point_add(s, 0x1000, 1, (enum hwbp_access)7, NULL, &pt), -EINVAL);
	assert_int_equal(hwbp_point_add(s, 0xffffffff81000000ull, 1, HWBP_WRITE, NULL, &pt), -EINVAL);
	assert_ptr_equal(pt, (struct hwbp_point *)0x1);
	hwbp_session_close(s);

	memset(&big, 0, sizeof(big));
	big.o.sz = sizeof(big);
	big.extra = 1;
	assert_int_equal(hwbp_core_session_open(&big.o, &fake_backend, &s2), -EINVAL);
	// cppcheck-suppress redundantAssignment ; the open above read it
	big.extra = 0;
	assert_int_equal(hwbp_core_session_open(&big.o, &fake_backend, &s2), 0);
	hwbp_session_close(s2);
	s2 = NULL;
	{
		/* The ptrace backend cannot trace the calling process. */
		HWBP_OPTS(hwbp_session_opts, o, .backend = HWBP_BACKEND_PTRACE);

		assert_int_equal(hwbp_session_open(&o, &s2), -EINVAL);
		o.target = HWBP_TARGET_PID;
		o.pid = getpid();
		o.delivery = HWBP_DELIVER_STREAM;
		o.kernel = true;
		assert_int_equal(hwbp_session_open(&o, &s2), -EOPNOTSUPP);
	}
	{
		HWBP_OPTS(hwbp_session_opts, o, .target = HWBP_TARGET_PID, .pid = 1,
			  .delivery = HWBP_DELIVER_SIGNAL);

		assert_int_equal(hwbp_core_session_open(&o, &fake_backend, &s2), -EINVAL);
	}
	{
		HWBP_OPTS(hwbp_session_opts, o, .buffer_pages = 3);

		assert_int_equal(hwbp_core_session_open(&o, &fake_backend, &s2), -EINVAL);
	}
	assert_null(s2);
}

static void test_core_set_log_returns_old(void **state)
{
	void *old_arg = NULL;
	int tag;

	(void)state;
	assert_ptr_equal(hwbp_set_log(capture_log, &tag, NULL), capture_log);
	assert_ptr_equal(hwbp_set_log(NULL, NULL, &old_arg), capture_log);
	assert_ptr_equal(old_arg, &tag);
	assert_null(hwbp_set_log(capture_log, NULL, NULL));
}

/* --- the perf backend on a faked hwbp_sys -------------------------------- */

static struct {
	int next_fd;
	int open_calls, open_bp, close_calls, live;
	int fail_bp_at;		/* 1-based breakpoint open that fails */
	int fail_err;
	int modify_calls;
} fs;

static int fsys_perf_event_open(struct perf_event_attr *a, pid_t pid, int cpu, int group, unsigned long fl)
{
	(void)pid;
	(void)cpu;
	(void)group;
	(void)fl;
	fs.open_calls++;
	if (a->type == PERF_TYPE_BREAKPOINT && !a->disabled) {
		fs.open_bp++;
		if (fs.fail_bp_at && fs.open_bp == fs.fail_bp_at)
			return fs.fail_err;
		/* The rules the backend must follow (ARCH.md 5.1, 1.3). */
		assert_int_equal(a->exclude_kernel, 1);
		assert_int_equal(a->exclude_hv, 1);
		if (a->bp_type == HW_BREAKPOINT_X)
			assert_int_equal(a->bp_len, sizeof(long));
	}
	if (a->type == PERF_TYPE_BREAKPOINT && a->disabled && fs.live >= 4)
		return -ENOSPC;		/* probes: 4 slots */
	fs.live++;
	return fs.next_fd++;
}

static int fsys_close(int fd)
{
	(void)fd;
	fs.close_calls++;
	fs.live--;
	return 0;
}

static int fsys_ioctl(int fd, unsigned long req, unsigned long arg)
{
	(void)fd;
	if (req == PERF_EVENT_IOC_ID)
		*(uint64_t *)arg = 1000 + (uint64_t)fd;
	if (req == PERF_EVENT_IOC_MODIFY_ATTRIBUTES)
		fs.modify_calls++;
	return 0;
}

static ssize_t fsys_list_tasks(pid_t pid, pid_t *tids, size_t max)
{
	(void)pid;
	for (size_t i = 0; i < 3 && i < max; i++)
		tids[i] = 500 + (pid_t)i;
	return 3;
}

static ssize_t fsys_read(int fd, void *buf, size_t n)
{
	(void)fd;
	memset(buf, 0, n);
	return (ssize_t)n;
}

static int fsys_getrlimit(int res, uint64_t *cur, uint64_t *max)
{
	(void)res;
	*cur = 1024;
	*max = 4096;
	return 0;
}

static void fake_sys(void)
{
	memset(&fs, 0, sizeof(fs));
	fs.next_fd = 100;
	hwbp_sys.perf_event_open = fsys_perf_event_open;
	hwbp_sys.close = fsys_close;
	hwbp_sys.ioctl = fsys_ioctl;
	hwbp_sys.list_tasks = fsys_list_tasks;
	hwbp_sys.read = fsys_read;
	hwbp_sys.getrlimit = fsys_getrlimit;
}

static int fsys_deny(struct perf_event_attr *a, pid_t p, int c, int g, unsigned long f)
{
	(void)a;
	(void)p;
	(void)c;
	(void)g;
	(void)f;
	return -EACCES;
}

static void test_perf_open_refused_by_policy(void **state)
{
	struct hwbp_session *s = NULL;

	(void)state;
	fake_sys();
	/* Every open refused, as at perf_event_paranoid 3 without
	 * CAP_SYS_ADMIN (ARCH.md 5.6). */
	hwbp_sys.perf_event_open = fsys_deny;
	assert_int_equal(hwbp_session_open(NULL, &s), -EACCES);
	assert_null(s);
	assert_non_null(strstr(last_log, "Permission denied"));
}

static void test_perf_install_failure_closes_everything(void **state)
{
	HWBP_OPTS(hwbp_session_opts, o, .target = HWBP_TARGET_PID, .pid = 500);
	struct hwbp_session *s = NULL;
	struct hwbp_point *a, *b;
	int live_before;

	(void)state;
	fake_sys();
	assert_int_equal(hwbp_session_open(&o, &s), 0);
	assert_int_equal(fs.live, 0);	/* the probes are closed again */
	assert_int_equal(hwbp_point_add(s, 0x10000, 8, HWBP_WRITE, NULL, &a), 0);
	assert_int_equal(hwbp_session_apply(s), 0);
	assert_int_equal(fs.live, 3);	/* one event per thread */
	live_before = fs.live;
	/* The third thread's event of the second slot gets EPERM: the two
	 * already opened for that slot are closed again. */
	fs.fail_bp_at = fs.open_bp + 3;
	fs.fail_err = -EPERM;
	assert_int_equal(hwbp_point_add(s, 0x20000, 8, HWBP_WRITE, NULL, &b), 0);
	assert_int_equal(hwbp_session_apply(s), -EPERM);
	assert_int_equal(fs.live, live_before);
	/* An x86 exec breakpoint goes out with bp_len 8 (checked in the fake). */
	fs.fail_bp_at = 0;
	hwbp_point_remove(b);
	assert_int_equal(hwbp_point_add(s, 0x401000, 1, HWBP_EXEC, NULL, &b), 0);
	assert_int_equal(hwbp_session_apply(s), 0);
	assert_int_equal(fs.live, 6);
	/* A move is an in-place rewrite on every thread's event. */
	assert_int_equal(hwbp_point_modify(a, 0x30000, 4, HWBP_RW), 0);
	assert_int_equal(hwbp_session_apply(s), 0);
	assert_int_equal(fs.modify_calls, 3);
	assert_int_equal(fs.live, 6);
	hwbp_session_close(s);
	assert_int_equal(fs.live, 0);
}

static ssize_t fsys_list_many(pid_t pid, pid_t *tids, size_t max)
{
	(void)pid;
	for (size_t i = 0; i < 5000 && i < max; i++)
		tids[i] = 1000 + (pid_t)i;
	return 5000;
}

static void test_perf_too_many_threads_for_fd_limit(void **state)
{
	HWBP_OPTS(hwbp_session_opts, o, .target = HWBP_TARGET_PID, .pid = 500);
	struct hwbp_session *s = NULL;
	struct hwbp_point *a;

	(void)state;
	fake_sys();
	hwbp_sys.list_tasks = fsys_list_many;
	assert_int_equal(hwbp_session_open(&o, &s), 0);
	assert_int_equal(hwbp_point_add(s, 0x10000, 8, HWBP_WRITE, NULL, &a), 0);
	assert_int_equal(hwbp_session_apply(s), -EMFILE);
	assert_non_null(strstr(all_log, "hard limit is 4096"));
	assert_int_equal(fs.live, 0);
	hwbp_session_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_core_reports_its_backend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_watch_is_planned_not_installed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_identical_slots_shared_with_refcount, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_plan_enospc_touches_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_enospc_counts_a_range_longer_than_any_cpu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_exec_where_no_insn_starts_is_einval, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_apply_all_or_nothing_on_kernel_enospc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_modify_rewrites_in_place_and_keeps_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_modify_failure_keeps_old_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_modify_without_kernel_support_reinstalls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_disable_shared_slot_stays_armed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_late_joiner_counts_only_its_own_hits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_deliver_fans_out_to_sharing_points, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_bad_requests_and_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_set_log_returns_old, setup, teardown),
		cmocka_unit_test_setup_teardown(test_perf_open_refused_by_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_perf_install_failure_closes_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_perf_too_many_threads_for_fd_limit, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

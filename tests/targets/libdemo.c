// SPDX-License-Identifier: MIT
/*
 * libdemo.so - a small shared library target: a global, a struct with an
 * array, and a writer, for OBJECT:SYMBOL look-ups and dlopen() tests
 *
 * demo_set(v) writes demo_value once and demo_state.slots[1] once. The
 * constructor writes demo_state.count once (= 1), before dlopen() returns.
 */
struct demo_state {
	long count;
	int slots[4];
};

int demo_value;
struct demo_state demo_state;

__attribute__((constructor)) static void demo_init(void)
{
	demo_state.count = 1;	/* LINE_demo_init */
}

__attribute__((visibility("default"), noinline)) void demo_set(int v)
{
	demo_value = v;
	demo_state.slots[1] = v;
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The logic of bpf/host.bpf.h run in the kernel: test-only raw_tp programs (bpf/host_test.bpf.c)
 * fed chosen pids, states and timestamps through bpf_prog_test_run_opts; the maps they fill are
 * then read back. Needs root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "host_test.skel.h"
#include "o11y/host.h"

#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_SYN_RECV 3
#define TCP_CLOSE 7

static struct host_test_bpf *skel;

/* The kernel wants ctx_size_in to cover every argument a program may read: pad to 5. */
static void run(struct bpf_program *prog, const __u64 *args, unsigned n)
{
	__u64 ctx[5] = {0};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = ctx, .ctx_size_in = sizeof(ctx));

	memcpy(ctx, args, n * sizeof(__u64));
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(prog), &opts), 0);
	assert_int_equal(opts.retval, 0);
}

/* Sums a per-CPU value of n u64 words. */
static int read_percpu(struct bpf_map *map, const void *key, __u64 *out, unsigned n)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *v = calloc((size_t)ncpu * n, sizeof(__u64));
	int err = 0;

	assert_non_null(v);
	if (bpf_map_lookup_elem(bpf_map__fd(map), key, v)) {
		err = -errno;
		goto out;
	}
	memset(out, 0, n * sizeof(__u64));
	for (int c = 0; c < ncpu; c++)
		for (unsigned i = 0; i < n; i++)
			out[i] += v[(size_t)c * n + i];
out:
	free(v);
	return err;
}

static void read_hist(struct bpf_map *map, const void *key, struct o11y_hist *h)
{
	assert_int_equal(read_percpu(map, key, (__u64 *)h, sizeof(*h) / sizeof(__u64)), 0);
}

static __u64 counter(enum o11y_host_ctr c)
{
	__u32 k = c;
	__u64 v;

	assert_int_equal(read_percpu(skel->maps.host_counters, &k, &v, 1), 0);
	return v;
}

/* The slot by its definition in o11y/host.h, computed independently. */
static unsigned ref_slot(__u64 ns)
{
	__u64 us = ns / 1000;
	unsigned fls = us ? 64 - __builtin_clzll(us) : 0;

	return fls < O11Y_HIST_SLOTS - 1 ? fls : O11Y_HIST_SLOTS - 1;
}

static void test_slot(void **state)
{
	static const __u64 fixed[][2] = {
	    {0, 0},
	    {999, 0},
	    {1000, 1},
	    {1999, 1},
	    {2000, 2},
	    {3999, 2},
	    {4000, 3},
	    {1500000, 11},
	    {67108863999ULL, 26},
	    {67108864000ULL, 27},
	    {~0ULL, 27},
	};
	__u64 args[1];

	(void)state;
	for (unsigned i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		args[0] = fixed[i][0];
		run(skel->progs.raw_tp_test_slot, args, 1);
		if (skel->bss->test_out != fixed[i][1])
			fail_msg("slot(%llu ns) = %llu, want %llu", (unsigned long long)fixed[i][0],
				 (unsigned long long)skel->bss->test_out,
				 (unsigned long long)fixed[i][1]);
	}
	srandom(42);
	for (unsigned i = 0; i < 2000; i++) {
		args[0] = ((__u64)random() << 33 ^ (__u64)random()) >> (random() % 64);
		run(skel->progs.raw_tp_test_slot, args, 1);
		assert_int_equal(skel->bss->test_out, ref_slot(args[0]));
	}
}

static void test_runq(void **state)
{
	const __u64 t0 = 1000000;
	struct o11y_hist h;
	__u32 zero = 0, tid = 100;
	__u64 ts;

	(void)state;
	/* woken at t0, runs 5 us later: slot fls(5) = 3 */
	run(skel->progs.raw_tp_test_runq, (__u64[]){0, 100, t0}, 3);
	run(skel->progs.raw_tp_test_runq, (__u64[]){1, 5, 1 /* sleeping */, 100, t0 + 5000}, 5);
	/* preempted (state 0) at t0 + 1 ms, runs again 1.5 ms later: slot fls(1500) = 11 */
	run(skel->progs.raw_tp_test_runq, (__u64[]){1, 100, 0, 7, t0 + 1000000}, 5);
	run(skel->progs.raw_tp_test_runq, (__u64[]){1, 7, 1, 100, t0 + 2500000}, 5);
	/* the idle task (tid 0) is never measured */
	run(skel->progs.raw_tp_test_runq, (__u64[]){0, 0, t0}, 3);
	run(skel->progs.raw_tp_test_runq, (__u64[]){1, 7, 1, 0, t0 + 9000000}, 5);

	read_hist(skel->maps.runq_hist, &zero, &h);
	assert_int_equal(h.slots[3], 1);
	assert_int_equal(h.slots[11], 1);
	assert_int_equal(h.sum_ns, 5000 + 1500000);
	for (unsigned i = 0, n = 0; i < O11Y_HIST_SLOTS; i++, n = 0)
		if (i != 3 && i != 11)
			assert_int_equal(h.slots[i], n);
	/* 100 ran: its start is cleared (0), so a second switch-in measures nothing */
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.runq_start), &tid, &ts), 0);
	assert_int_equal(ts, 0);
	run(skel->progs.raw_tp_test_runq, (__u64[]){1, 7, 1, 100, t0 + 9500000}, 5);
	read_hist(skel->maps.runq_hist, &zero, &h);
	assert_int_equal(h.slots[3] + h.slots[11], 2);
	/* the idle task is never enqueued */
	tid = 0;
	assert_int_not_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.runq_start), &tid, &ts), 0);
	/* exit removes the thread */
	tid = 100;
	run(skel->progs.raw_tp_test_runq, (__u64[]){2, 100}, 2);
	assert_int_not_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.runq_start), &tid, &ts), 0);
}

static void test_tcp(void **state)
{
	const __u64 sk = 0xffff888012345678ULL, sk2 = sk + 0x1000;
	struct o11y_hist h;
	__u32 zero = 0;
	__u64 ts;

	(void)state;
	/* active open: SYN at 10 us, ESTABLISHED 40 us later: slot fls(40) = 6 */
	run(skel->progs.raw_tp_test_tcp, (__u64[]){sk, TCP_CLOSE, TCP_SYN_SENT, 10000}, 4);
	run(skel->progs.raw_tp_test_tcp, (__u64[]){sk, TCP_SYN_SENT, TCP_ESTABLISHED, 50000}, 4);
	/* a refused connect: SYN_SENT -> CLOSE is neither counted nor kept */
	run(skel->progs.raw_tp_test_tcp, (__u64[]){sk2, TCP_CLOSE, TCP_SYN_SENT, 10000}, 4);
	run(skel->progs.raw_tp_test_tcp, (__u64[]){sk2, TCP_SYN_SENT, TCP_CLOSE, 90000}, 4);
	/* two passive opens, and a close of an established socket */
	run(skel->progs.raw_tp_test_tcp, (__u64[]){sk, TCP_SYN_RECV, TCP_ESTABLISHED, 0}, 4);
	run(skel->progs.raw_tp_test_tcp, (__u64[]){sk2, TCP_SYN_RECV, TCP_ESTABLISHED, 0}, 4);
	run(skel->progs.raw_tp_test_tcp, (__u64[]){sk, TCP_ESTABLISHED, 4 /* FIN_WAIT1 */, 0}, 4);

	assert_int_equal(counter(O11Y_HOST_TCP_ACTIVE_EST), 1);
	assert_int_equal(counter(O11Y_HOST_TCP_PASSIVE_EST), 2);
	read_hist(skel->maps.tcp_conn_hist, &zero, &h);
	assert_int_equal(h.slots[6], 1);
	assert_int_equal(h.sum_ns, 40000);
	assert_int_not_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.tcp_syn_start), &sk, &ts),
			     0);
	assert_int_not_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.tcp_syn_start), &sk2, &ts),
			     0);
}

static void test_blk(void **state)
{
	const __u64 rq = 0xffff888000abc000ULL, dev = 7 << 20 | 3;
	struct o11y_blk_key wkey = {.dev = dev, .op = O11Y_BLK_WRITE};
	struct o11y_blk_key rkey = {.dev = dev, .op = O11Y_BLK_READ};
	struct o11y_hist h;

	(void)state;
	/* a write (REQ_OP_WRITE | REQ_SYNC | REQ_FUA...) of 300 us: slot fls(300) = 9 */
	run(skel->progs.raw_tp_test_blk, (__u64[]){0, rq, 1000}, 3);
	run(skel->progs.raw_tp_test_blk, (__u64[]){1, rq, dev, 0x20801, 301000}, 5);
	/* a completion whose issue was not seen counts nothing */
	run(skel->progs.raw_tp_test_blk, (__u64[]){1, rq, dev, 0, 900000}, 5);
	/* a read of 2 ms: slot fls(2000) = 11 */
	run(skel->progs.raw_tp_test_blk, (__u64[]){0, rq + 64, 5000}, 3);
	run(skel->progs.raw_tp_test_blk, (__u64[]){1, rq + 64, dev, 0, 2005000}, 5);

	read_hist(skel->maps.blk_hist, &wkey, &h);
	assert_int_equal(h.slots[9], 1);
	assert_int_equal(h.sum_ns, 300000);
	read_hist(skel->maps.blk_hist, &rkey, &h);
	assert_int_equal(h.slots[11], 1);
	assert_int_equal(h.sum_ns, 2000000);
}

static int setup(void **state)
{
	(void)state;
	skel = host_test_bpf__open_and_load();
	return skel ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	host_test_bpf__destroy(skel);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_slot),
	    cmocka_unit_test(test_runq),
	    cmocka_unit_test(test_tcp),
	    cmocka_unit_test(test_blk),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

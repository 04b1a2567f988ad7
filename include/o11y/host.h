/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ABI of bpf/host.bpf.c: host metrics aggregated in the kernel (log2 latency histograms and
 * counters in per-CPU maps) that the agent reads at scrape time.
 */
#ifndef O11Y_HOST_H
#define O11Y_HOST_H

#include "o11y/common.h"

/*
 * Latency histogram in log2 buckets of microseconds. A latency of d ns is counted in slot
 * k = fls(d / 1000): slot 0 holds d < 1 us, slot k (1 <= k < O11Y_HIST_SLOTS - 1) holds
 * 2^(k-1) us <= d < 2^k us, so its Prometheus upper bound is le = 2^k us (1e-06 s ... 2^26 us
 * = 67.108864 s). The last slot holds everything above 2^26 us and is exported as le="+Inf".
 * sum_ns is the exact total of the latencies, for the _sum series; the count is the sum of
 * the slots.
 */
#define O11Y_HIST_SLOTS 28

struct o11y_hist {
	__u64 slots[O11Y_HIST_SLOTS];
	__u64 sum_ns;
};
_Static_assert(sizeof(struct o11y_hist) == (O11Y_HIST_SLOTS + 1) * 8, "o11y_hist ABI");

/* Index into the per-CPU `host_counters` array. */
enum o11y_host_ctr {
	O11Y_HOST_TCP_RETRANS = 0, /* tcp:tcp_retransmit_skb */
	O11Y_HOST_TCP_RST_SENT,	   /* tcp:tcp_send_reset */
	O11Y_HOST_TCP_RST_RECV,	   /* tcp:tcp_receive_reset */
	O11Y_HOST_TCP_ACTIVE_EST,  /* SYN_SENT -> ESTABLISHED (connect() completed) */
	O11Y_HOST_TCP_PASSIVE_EST, /* SYN_RECV -> ESTABLISHED (handshake of an accept completed) */
	O11Y_HOST_OOM_KILLS,	   /* oom:mark_victim */
	O11Y_HOST_EXECS,	   /* sched:sched_process_exec */
	O11Y_HOST_EXITS,	   /* sched:sched_process_exit of a thread-group leader */
	O11Y_HOST_CTR__MAX,
};

/* Block request operation, the `op` label of the block latency histogram. */
enum o11y_blk_op {
	O11Y_BLK_READ = 0,
	O11Y_BLK_WRITE,
	O11Y_BLK_FLUSH,
	O11Y_BLK_DISCARD,
	O11Y_BLK_OTHER,
	O11Y_BLK_OP__MAX,
};

#define O11Y_BLK_OP_NAMES                                                                          \
	{                                                                                          \
		"read", "write", "flush", "discard", "other"                                       \
	}

/* Key of the per-device block latency histograms. */
struct o11y_blk_key {
	__u32 dev; /* the disk's dev_t in the kernel's encoding: major << 20 | minor */
	__u32 op;  /* enum o11y_blk_op */
};
_Static_assert(sizeof(struct o11y_blk_key) == 8, "o11y_blk_key ABI");

#define O11Y_BLK_MAX_DISKS 256 /* (disk, op) pairs the kernel keeps histograms for */

/* One OOM victim, sent to the agent (rare) so it can log it. */
#define O11Y_COMM_LEN 16
struct o11y_oom_event {
	__u32 pid;
	__u32 pad;
	char comm[O11Y_COMM_LEN]; /* empty on kernels whose mark_victim has only the pid */
};
_Static_assert(sizeof(struct o11y_oom_event) == 24, "o11y_oom_event ABI");

#endif

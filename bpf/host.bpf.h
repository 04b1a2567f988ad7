/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Host metrics aggregated in the kernel: the maps and the logic behind bpf/host.bpf.c. The
 * logic takes plain values (pids, states, timestamps) so test-only raw_tp programs can drive
 * it with bpf_prog_test_run_opts. Everything per event is a per-CPU counter or histogram
 * bump; hash maps are touched only to carry a start time from one event to the next.
 */
#ifndef O11Y_HOST_BPF_H
#define O11Y_HOST_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "bits.bpf.h"
#include "maps.bpf.h"
#include "o11y/host.h"

#define HOST_START_ENTRIES 16384
#define HOST_EEXIST 17 /* errno.h is not for BPF programs */

/*
 * when each task became runnable (wakeup or preemption), by tid; 0 once it ran. Entries stay
 * while the thread lives (the hot path only looks up and stores) and go at its exit.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * HOST_START_ENTRIES);
	__type(key, __u32);
	__type(value, __u64);
} runq_start SEC(".maps");

/* run-queue latency histogram, per CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct o11y_hist);
} runq_hist SEC(".maps");

/* issue time of each block request in flight, by struct request pointer */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HOST_START_ENTRIES);
	__type(key, __u64);
	__type(value, __u64);
} blk_start SEC(".maps");

/* block I/O latency histograms by (disk, op), per CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, O11Y_BLK_MAX_DISKS);
	__type(key, struct o11y_blk_key);
	__type(value, struct o11y_hist);
} blk_hist SEC(".maps");

/* when each active open sent its SYN, by struct sock pointer */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HOST_START_ENTRIES);
	__type(key, __u64);
	__type(value, __u64);
} tcp_syn_start SEC(".maps");

/* TCP connect (SYN sent to ESTABLISHED) latency histogram, per CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct o11y_hist);
} tcp_conn_hist SEC(".maps");

/* event counters by enum o11y_host_ctr, per CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, O11Y_HOST_CTR__MAX);
	__type(key, __u32);
	__type(value, __u64);
} host_counters SEC(".maps");

/* OOM victims for the agent to log; OOM kills are rare, so a small buffer */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} oom_events SEC(".maps");

static __always_inline void host_count(__u32 ctr)
{
	__u64 *v = bpf_map_lookup_elem(&host_counters, &ctr);

	if (v)
		(*v)++;
}

static __always_inline void host_hist_add(void *map, __u64 ns)
{
	__u32 zero = 0;
	struct o11y_hist *h = bpf_map_lookup_elem(map, &zero);

	if (h)
		o11y_hist_add(h, ns);
}

/*
 * Remembers when a task became runnable; tid 0 (the idle task) is never measured. A store into
 * the existing entry when there is one: cheaper than an update, which takes the bucket lock.
 */
static __always_inline void runq_enqueued(__u32 tid, __u64 now)
{
	__u64 *start;
	long err;

	if (!tid)
		return;
	start = bpf_map_lookup_elem(&runq_start, &tid);
	if (start) {
		*start = now;
		return;
	}
	err = bpf_map_update_elem(&runq_start, &tid, &now, BPF_NOEXIST);
	if (err && err != -HOST_EEXIST) /* EEXIST: another CPU added it meanwhile */
		count_error(O11Y_ERR_MAP_FULL);
}

/*
 * A context switch: prev goes back on the run queue when it was preempted (still
 * TASK_RUNNING, state 0); next's wait ends now.
 */
static __always_inline void runq_switch(__u32 prev_tid, long prev_state, __u32 next_tid, __u64 now)
{
	__u64 *start;

	if (prev_state == 0)
		runq_enqueued(prev_tid, now);
	if (!next_tid)
		return;
	start = bpf_map_lookup_elem(&runq_start, &next_tid);
	if (!start || !*start)
		return;
	if (now > *start)
		host_hist_add(&runq_hist, now - *start);
	*start = 0;
}

/* A thread exits: it never waits on the run queue again. */
static __always_inline void runq_exited(__u32 tid)
{
	bpf_map_delete_elem(&runq_start, &tid);
}

static __always_inline void blk_issued(__u64 rq, __u64 now)
{
	if (bpf_map_update_elem(&blk_start, &rq, &now, BPF_ANY))
		count_error(O11Y_ERR_MAP_FULL);
}

/* REQ_OP_* (the low 8 bits of cmd_flags; values stable since v4.10) to enum o11y_blk_op */
static __always_inline __u32 blk_op(__u64 cmd_flags)
{
	switch (cmd_flags & 0xff) {
	case 0:
		return O11Y_BLK_READ;
	case 1:
		return O11Y_BLK_WRITE;
	case 2:
		return O11Y_BLK_FLUSH;
	case 3:
		return O11Y_BLK_DISCARD;
	default:
		return O11Y_BLK_OTHER;
	}
}

/* Returns the issue time of rq and forgets it; 0 when its issue was not seen. */
static __always_inline __u64 blk_take_start(__u64 rq)
{
	__u64 *start = bpf_map_lookup_elem(&blk_start, &rq);
	__u64 ts;

	if (!start)
		return 0;
	ts = *start;
	bpf_map_delete_elem(&blk_start, &rq);
	return ts;
}

static __always_inline void blk_account(__u32 dev, __u32 op, __u64 ns)
{
	struct o11y_blk_key key = {.dev = dev, .op = op};
	struct o11y_hist *h, zero = {};

	h = bpf_map_lookup_elem(&blk_hist, &key);
	if (!h) {
		/* NOEXIST: another CPU may have created it meanwhile, which is fine */
		bpf_map_update_elem(&blk_hist, &key, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&blk_hist, &key);
		if (!h) {
			count_error(O11Y_ERR_MAP_FULL);
			return;
		}
	}
	o11y_hist_add(h, ns);
}

/*
 * A TCP state change (sock:inet_sock_set_state). Active opens go CLOSE -> SYN_SENT ->
 * ESTABLISHED (or back to CLOSE on failure); the child socket of a passive open goes
 * SYN_RECV -> ESTABLISHED.
 */
static __always_inline void tcp_state_change(__u64 sk, int oldstate, int newstate, __u64 now)
{
	__u64 *start;

	if (newstate == TCP_SYN_SENT) {
		if (bpf_map_update_elem(&tcp_syn_start, &sk, &now, BPF_ANY))
			count_error(O11Y_ERR_MAP_FULL);
		return;
	}
	if (oldstate == TCP_SYN_RECV && newstate == TCP_ESTABLISHED) {
		host_count(O11Y_HOST_TCP_PASSIVE_EST);
		return;
	}
	if (oldstate != TCP_SYN_SENT)
		return;
	if (newstate == TCP_ESTABLISHED) {
		host_count(O11Y_HOST_TCP_ACTIVE_EST);
		start = bpf_map_lookup_elem(&tcp_syn_start, &sk);
		if (start && now > *start)
			host_hist_add(&tcp_conn_hist, now - *start);
	}
	bpf_map_delete_elem(&tcp_syn_start, &sk);
}

#endif

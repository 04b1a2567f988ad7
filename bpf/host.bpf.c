// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Host metrics only eBPF can see: run-queue latency, block I/O latency per disk, TCP
 * retransmits, resets and handshakes, OOM kills, execs and exits. Tracepoints only (tp_btf
 * where arguments are read, the classic tracepoint where its record already holds what is
 * needed), each attached on its own by user/loader_host.c; logic in host.bpf.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "core_fixes.bpf.h"
#include "host.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/sched_wakeup")
int BPF_PROG(tp_btf_sched_wakeup, struct task_struct *p)
{
	runq_enqueued(p->pid, bpf_ktime_get_ns());
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(tp_btf_sched_wakeup_new, struct task_struct *p)
{
	runq_enqueued(p->pid, bpf_ktime_get_ns());
	return 0;
}

/* prev_state, the 4th argument since v5.18, is not used: prev's state is read instead */
SEC("tp_btf/sched_switch")
int BPF_PROG(tp_btf_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	runq_switch(prev->pid, o11y_task_state(prev), next->pid, bpf_ktime_get_ns());
	return 0;
}

SEC("tp_btf/block_rq_issue")
int tp_btf_block_rq_issue(__u64 *ctx)
{
	blk_issued(ctx[O11Y_BLOCK_RQ_ARG], bpf_ktime_get_ns());
	return 0;
}

/* block_rq_complete(rq, error, nr_bytes) kept its rq-first arguments since v4.x */
SEC("tp_btf/block_rq_complete")
int BPF_PROG(tp_btf_block_rq_complete, struct request *rq)
{
	__u64 start = blk_take_start((__u64)rq), now;
	__u32 dev;

	if (!start)
		return 0;
	now = bpf_ktime_get_ns();
	dev = o11y_rq_dev(rq);
	if (!dev) {
		count_error(O11Y_ERR_READ_KERNEL);
		return 0;
	}
	if (now > start)
		blk_account(dev, blk_op(BPF_CORE_READ(rq, cmd_flags)), now - start);
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tp_btf_tcp_retransmit_skb)
{
	host_count(O11Y_HOST_TCP_RETRANS);
	return 0;
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(tp_btf_tcp_send_reset)
{
	host_count(O11Y_HOST_TCP_RST_SENT);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(tp_btf_tcp_receive_reset)
{
	host_count(O11Y_HOST_TCP_RST_RECV);
	return 0;
}

/*
 * The classic tracepoint: its record already has protocol and both states at fixed offsets
 * (since v4.16), where tp_btf would read sk_protocol, a bitfield before v5.6.
 */
SEC("tracepoint/sock/inet_sock_set_state")
int tp_sock_inet_sock_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	int oldstate = ctx->oldstate, newstate = ctx->newstate;
	__u64 now = 0;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	if (oldstate == TCP_SYN_SENT || newstate == TCP_SYN_SENT)
		now = bpf_ktime_get_ns();
	tcp_state_change((__u64)ctx->skaddr, oldstate, newstate, now);
	return 0;
}

/* The classic tracepoint: pid is its first field on every kernel, comm exists since v6.9 */
SEC("tracepoint/oom/mark_victim")
int tp_oom_mark_victim(struct trace_event_raw_mark_victim *ctx)
{
	struct o11y_oom_event ev = {.pid = ctx->pid};

	host_count(O11Y_HOST_OOM_KILLS);
	if (bpf_core_field_exists(ctx->__data_loc_comm)) {
		__u32 loc = BPF_CORE_READ(ctx, __data_loc_comm);
		void *comm = (void *)ctx + (loc & 0xffff); /* __data_loc: offset in the record */

		if (bpf_probe_read_kernel_str(ev.comm, sizeof(ev.comm), comm) < 0)
			count_error(O11Y_ERR_READ_KERNEL);
	}
	if (bpf_ringbuf_output(&oom_events, &ev, sizeof(ev), 0))
		count_error(O11Y_ERR_RINGBUF_FULL);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(tp_btf_sched_process_exec)
{
	host_count(O11Y_HOST_EXECS);
	return 0;
}

/* Fires for every thread; a process exits once, with its thread-group leader */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(tp_btf_sched_process_exit, struct task_struct *p)
{
	__u32 tid = p->pid;

	if (tid == (__u32)p->tgid)
		host_count(O11Y_HOST_EXITS);
	runq_exited(tid);
	return 0;
}

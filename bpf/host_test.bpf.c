// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Test-only: raw_tp programs that drive the logic of bpf/host.bpf.h with chosen inputs, run
 * by tests/bpf/test_host.c through bpf_prog_test_run_opts. Never loaded by the agent.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "host.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

__u64 test_out;

/* args: ns -> test_out = its histogram slot */
SEC("raw_tp")
int raw_tp_test_slot(struct bpf_raw_tracepoint_args *ctx)
{
	test_out = o11y_hist_slot(ctx->args[0]);
	return 0;
}

/* args: 0, tid, now (a wakeup) | 1, prev_tid, prev_state, next_tid, now (a switch) | 2, tid */
SEC("raw_tp")
int raw_tp_test_runq(struct bpf_raw_tracepoint_args *ctx)
{
	if (ctx->args[0] == 0)
		runq_enqueued(ctx->args[1], ctx->args[2]);
	else if (ctx->args[0] == 1)
		runq_switch(ctx->args[1], (long)ctx->args[2], ctx->args[3], ctx->args[4]);
	else
		runq_exited(ctx->args[1]);
	return 0;
}

/* args: sk, oldstate, newstate, now */
SEC("raw_tp")
int raw_tp_test_tcp(struct bpf_raw_tracepoint_args *ctx)
{
	tcp_state_change(ctx->args[0], ctx->args[1], ctx->args[2], ctx->args[3]);
	return 0;
}

/* args: 0, rq, now (an issue) | 1, rq, dev, cmd_flags, now (a completion) */
SEC("raw_tp")
int raw_tp_test_blk(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 start, now = ctx->args[4];

	if (ctx->args[0] == 0) {
		blk_issued(ctx->args[1], ctx->args[2]);
		return 0;
	}
	start = blk_take_start(ctx->args[1]);
	if (start && now > start)
		blk_account(ctx->args[2], blk_op(ctx->args[3]), now - start);
	return 0;
}

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Kernel-version differences, one place. Each entry names the kernel change that forced it.
 */
#ifndef O11Y_CORE_FIXES_BPF_H
#define O11Y_CORE_FIXES_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>

/* not in vmlinux.h: preprocessor constants */
#define O11Y_AF_INET 2
#define O11Y_AF_INET6 10
#define O11Y_MSG_PEEK 2
#define O11Y_PF_KTHREAD 0x00200000
#define O11Y_S_IFMT 00170000
#define O11Y_S_IFSOCK 0140000

/*
 * task_struct::state became __state in v5.14, commit 2f064a59a11f ("sched: Change
 * task_struct::state"). Plain loads: in tp_btf programs the task pointer is trusted.
 */
struct task_struct___o11y_old {
	long state;
} __attribute__((preserve_access_index));

static __always_inline long o11y_task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return t->__state;
	return ((struct task_struct___o11y_old *)t)->state;
}

/*
 * struct request lost ->rq_disk in v5.17, commit f3fa33acca9f ("block: remove the ->rq_disk
 * field in struct request"); the disk is now rq->q->disk. Returns the disk's dev_t in the
 * kernel's encoding (major << 20 | minor), 0 when it could not be read.
 */
struct request___o11y_old {
	struct gendisk *rq_disk;
} __attribute__((preserve_access_index));

static __always_inline __u32 o11y_rq_dev(struct request *rq)
{
	struct request___o11y_old *old = (void *)rq;
	struct gendisk *disk;

	if (bpf_core_field_exists(old->rq_disk))
		disk = BPF_CORE_READ(old, rq_disk);
	else
		disk = BPF_CORE_READ(rq, q, disk);
	if (!disk)
		return 0;
	return (__u32)BPF_CORE_READ(disk, major) << 20 | (__u32)BPF_CORE_READ(disk, first_minor);
}

/*
 * The request-based block tracepoints (block_rq_issue, block_rq_insert...) lost their first
 * argument, the request_queue, in v5.11, commit a54895fa057c ("block: remove the request_queue
 * to argument request based tracepoints"). Index of `struct request *` in a tp_btf ctx.
 */
#define O11Y_KVER(a, b, c) (((a) << 16) + ((b) << 8) + (c))
extern int LINUX_KERNEL_VERSION __attribute__((section(".kconfig")));
#define O11Y_BLOCK_RQ_ARG (LINUX_KERNEL_VERSION < O11Y_KVER(5, 11, 0) ? 1 : 0)

/*
 * oom:mark_victim carried only the pid until v6.9, "mm: update mark_victim tracepoints
 * fields" (Carlos Galo), which added comm, the rss figures, uid and oom_score_adj; it was
 * also backported to stable branches, so bpf/host.bpf.c checks the record's field with
 * bpf_core_field_exists instead of a version. Without it the agent reads /proc/<pid>/comm.
 *
 * tcp:tcp_send_reset fired only for resets sent on behalf of a socket until v6.10, commit
 * 19822a980e19 ("trace: tcp: fully support trace_tcp_send_reset"); since then it also fires
 * for the RST answering a segment that matched no socket (a connect to a closed port).
 * Nothing to fix in code: older kernels count fewer resets sent (documented in the README).
 */

#endif

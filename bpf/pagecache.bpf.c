// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Page-cache hits and misses of file reads, per host, per process and per HTTP request, from
 * the filemap tracepoints (tp_btf; Linux 6.x). Logic and counting rules in pagecache.bpf.h;
 * user/loader_pagecache.c keeps only the programs this kernel has a tracepoint for.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "pagecache.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/mm_filemap_get_pages")
int BPF_PROG(tp_btf_mm_filemap_get_pages, struct address_space *mapping, unsigned long index,
	     unsigned long last_index)
{
	pc_get_pages(mapping, index, last_index);
	return 0;
}

SEC("tp_btf/mm_filemap_add_to_page_cache")
int BPF_PROG(tp_btf_mm_filemap_add_to_page_cache, struct folio *folio)
{
	unsigned long flags = *(unsigned long *)&folio->flags;
	__u64 nr = 1;

	/* folio_nr_pages(): a large folio keeps its order in the low byte of _flags_1 */
	if (flags & (1UL << bpf_core_enum_value(enum pageflags, PG_head)))
		nr = 1ULL << (folio->_flags_1 & 0xff);
	pc_added(folio->mapping, folio->index, nr);
	return 0;
}

SEC("tp_btf/mm_filemap_fault")
int BPF_PROG(tp_btf_mm_filemap_fault, struct address_space *mapping, unsigned long index)
{
	pc_fault(mapping, index);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(tp_btf_sched_process_exit)
{
	pc_thread_exit();
	return 0;
}

SEC("iter/task")
int pc_iter_threads(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;

	if (task)
		pc_iter_thread(seq, task);
	return 0;
}

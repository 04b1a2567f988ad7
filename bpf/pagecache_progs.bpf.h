/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The programs both page-cache objects have (bpf/pagecache.bpf.c, bpf/pagecache_kp.bpf.c):
 * pages added to the cache, threads that exit, and the task iterator. Included once, after
 * pagecache.bpf.h, by each object.
 */
#ifndef O11Y_PAGECACHE_PROGS_BPF_H
#define O11Y_PAGECACHE_PROGS_BPF_H

#include "pagecache.bpf.h"

/*
 * struct folio across kernels: flags is an unsigned long before 6.17 (a memdesc_flags_t since);
 * a large folio's order is in _folio_order before 6.2, in the low byte of _flags_1 since
 */
struct folio___o11y_ul {
	unsigned long flags;
	unsigned char _folio_order;
	unsigned long _flags_1;
} __attribute__((preserve_access_index));
struct folio___o11y_md {
	memdesc_flags_t flags;
} __attribute__((preserve_access_index));

/* folio_nr_pages() */
static __always_inline __u64 pc_folio_pages(struct folio *folio)
{
	struct folio___o11y_ul *ul = (void *)folio;
	struct folio___o11y_md *md = (void *)folio;
	unsigned long flags;

	if (bpf_core_field_exists(ul->flags))
		flags = BPF_CORE_READ(ul, flags);
	else
		flags = BPF_CORE_READ(md, flags.f);
	if (!(flags & (1UL << bpf_core_enum_value(enum pageflags, PG_head))))
		return 1;
	if (bpf_core_field_exists(ul->_folio_order))
		return 1ULL << (BPF_CORE_READ(ul, _folio_order) & 0x1f);
	return 1ULL << (BPF_CORE_READ(ul, _flags_1) & 0x1f);
}

SEC("tp_btf/mm_filemap_add_to_page_cache")
int BPF_PROG(tp_btf_mm_filemap_add_to_page_cache, struct folio *folio)
{
	pc_added(folio->mapping, folio->index, pc_folio_pages(folio));
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

#endif

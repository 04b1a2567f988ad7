// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Page-cache hits and misses on kernels without the mm_filemap_get_pages tracepoint (before
 * Linux 6.10): the same logic (pagecache.bpf.h, built with PC_PROBE_READ) on kprobes at the
 * entry of the functions those tracepoints sit in. filemap_get_pages() computes the same
 * range the tracepoint reports, from the read's position and size; filemap_fault() looks up
 * vmf->pgoff. The loader uses this object only where kprobes can attach.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define PC_PROBE_READ 1
#include "pagecache.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* filemap_get_pages(iocb, iter, fbatch) before 6.3; (iocb, count, fbatch, ...) since */
const volatile __u8 cfg_pc_gp_iter = 0;

SEC("kprobe/filemap_get_pages")
int BPF_KPROBE(kp_filemap_get_pages, struct kiocb *iocb, void *arg2)
{
	struct address_space *mapping = BPF_CORE_READ(iocb, ki_filp, f_mapping);
	__u64 pos = BPF_CORE_READ(iocb, ki_pos), count;

	if (cfg_pc_gp_iter)
		count = BPF_CORE_READ((struct iov_iter *)arg2, count);
	else
		count = (__u64)arg2;
	if (!mapping || !count)
		return 0;
	/* the tracepoint's range: index .. DIV_ROUND_UP(pos + count, PAGE_SIZE) - 1 */
	pc_get_pages(mapping, pos >> PC_PAGE_SHIFT, (pos + count - 1) >> PC_PAGE_SHIFT);
	return 0;
}

SEC("kprobe/filemap_fault")
int BPF_KPROBE(kp_filemap_fault, struct vm_fault *vmf)
{
	struct address_space *mapping = BPF_CORE_READ(vmf, vma, vm_file, f_mapping);

	if (mapping)
		pc_fault(mapping, BPF_CORE_READ(vmf, pgoff));
	return 0;
}

#include "pagecache_progs.bpf.h"

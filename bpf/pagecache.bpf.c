// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Page-cache hits and misses of file reads, per host, per process and per HTTP request, from
 * the filemap tracepoints (tp_btf; Linux 6.10+). Logic and counting rules in pagecache.bpf.h;
 * user/loader_pagecache.c keeps only the programs this kernel has a tracepoint for, and loads
 * bpf/pagecache_kp.bpf.c (kprobes) instead on kernels without mm_filemap_get_pages.
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

SEC("tp_btf/mm_filemap_fault")
int BPF_PROG(tp_btf_mm_filemap_fault, struct address_space *mapping, unsigned long index)
{
	pc_fault(mapping, index);
	return 0;
}

#include "pagecache_progs.bpf.h"

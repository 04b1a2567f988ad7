// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The floor of bench/pagecache: an empty program on the tracepoint the page-cache counting
 * runs on for every file read. What it costs is what any BPF program there costs on this
 * machine (tracepoint and BPF dispatch), before doing anything.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/mm_filemap_get_pages")
int BPF_PROG(pc_floor)
{
	return 0;
}

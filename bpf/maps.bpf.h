/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Map helpers every object shares: the per-CPU `errors` array and failure counting. */
#ifndef O11Y_MAPS_BPF_H
#define O11Y_MAPS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "o11y/common.h"

/* failures by enum o11y_err, per CPU; the agent sums and exports them */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, O11Y_ERR__MAX);
	__type(key, __u32);
	__type(value, __u64);
} errors SEC(".maps");

static __always_inline void count_error(__u32 reason)
{
	__u64 *v = bpf_map_lookup_elem(&errors, &reason);

	if (v)
		(*v)++;
}

#endif

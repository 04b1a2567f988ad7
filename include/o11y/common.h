/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* ABI shared by every BPF object and the agent: event header and error reasons. */
#ifndef O11Y_COMMON_H
#define O11Y_COMMON_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Every ring-buffer record starts with this header. */
struct o11y_ev_hdr {
	__u8 type; /* enum o11y_ev_type */
	__u8 pad[3];
	__u32 tgid; /* process that did the I/O */
	__u32 tid;
	__u32 pad2;
	__u64 ts_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
};
_Static_assert(sizeof(struct o11y_ev_hdr) == 24, "o11y_ev_hdr ABI");

enum o11y_ev_type {
	O11Y_EV_HTTP_REQ = 1,	/* a recv that starts with an HTTP request line */
	O11Y_EV_HTTP_RESP = 2,	/* a send that starts with an HTTP status line */
	O11Y_EV_HTTP_CLOSE = 3, /* an HTTP connection closed */
};

/*
 * Why an event or a measurement was lost; index into the per-CPU `errors` array that every
 * BPF object has. The agent exports them as o11y_ebpf_events_lost_total{reason=...}.
 */
enum o11y_err {
	O11Y_ERR_RINGBUF_FULL = 0, /* bpf_ringbuf_reserve failed */
	O11Y_ERR_MAP_FULL,	   /* a bpf_map_update_elem on a non-LRU map failed */
	O11Y_ERR_READ_USER,	   /* bpf_probe_read_user failed */
	O11Y_ERR_READ_KERNEL,	   /* bpf_probe_read_kernel failed */
	O11Y_ERR__MAX,
};

/*
 * Counted by the agent, not in the map: program runs the kernel skipped because the program
 * was already running on that CPU (interrupted or preempted there): bpf_prog_info's
 * recursion_misses, summed over an object's programs. Each may lose an event.
 */
#define O11Y_ERR_SKIPPED O11Y_ERR__MAX
#define O11Y_ERR_USER_MAX (O11Y_ERR__MAX + 1)

#define O11Y_ERR_NAMES                                                                             \
	{                                                                                          \
		"ringbuf_full", "map_full", "read_user", "read_kernel", "skipped"                  \
	}

#endif

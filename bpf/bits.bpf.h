/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Bit tricks for in-kernel histograms: branch-light integer log2 and the latency bucket index. */
#ifndef O11Y_BITS_BPF_H
#define O11Y_BITS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "o11y/host.h"

/* floor(log2(v)) for v > 0; 0 for v == 0 */
static __always_inline __u32 o11y_log2(__u32 v)
{
	__u32 r, shift;

	r = (v > 0xFFFF) << 4;
	v >>= r;
	shift = (v > 0xFF) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xF) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	r |= (v >> 1);
	return r;
}

/* floor(log2(v)) for v > 0; 0 for v == 0 */
static __always_inline __u32 o11y_log2l(__u64 v)
{
	__u32 hi = v >> 32;

	if (hi)
		return o11y_log2(hi) + 32;
	return o11y_log2((__u32)v);
}

/*
 * Histogram slot of a latency in ns (see struct o11y_hist): 0 below 1 us, else
 * fls(us) = floor(log2(us)) + 1, capped at the overflow slot O11Y_HIST_SLOTS - 1.
 */
static __always_inline __u32 o11y_hist_slot(__u64 ns)
{
	__u64 us = ns / 1000;
	__u32 slot;

	if (!us)
		return 0;
	slot = o11y_log2l(us) + 1;
	return slot < O11Y_HIST_SLOTS - 1 ? slot : O11Y_HIST_SLOTS - 1;
}

/* Adds one latency to a histogram the caller owns (a per-CPU map value: no atomics). */
static __always_inline void o11y_hist_add(struct o11y_hist *h, __u64 ns)
{
	__u64 slot = o11y_hist_slot(ns);

	/*
	 * for the verifier: clang may test a copy of the register it then indexes with, and
	 * 6.1's verifier does not carry the bound across ("unbounded memory access")
	 */
	barrier_var(slot);
	if (slot >= O11Y_HIST_SLOTS)
		return;
	h->slots[slot]++;
	h->sum_ns += ns;
}

#endif

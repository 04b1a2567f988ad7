/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Per-thread state (include/o11y/task.h): the HTTP request each thread serves, written by
 * bpf/http.bpf.h once per request head received and once per response head sent, and the
 * page-cache state and counts of bpf/pagecache.bpf.h, which reads both with one lookup per
 * file read. Both objects declare the map; the agent makes them share one (bpf_map__reuse_fd
 * before the page-cache object loads).
 */
#ifndef O11Y_TASK_STATE_BPF_H
#define O11Y_TASK_STATE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "o11y/task.h"

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct o11y_task);
} task_state SEC(".maps");

#endif

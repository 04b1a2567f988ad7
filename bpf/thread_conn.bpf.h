/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The HTTP request each thread serves: written by bpf/http.bpf.h once per request head
 * received and once per response head sent, read by bpf/pagecache.bpf.h to charge a
 * request's page-cache lookups to it. Both objects declare it; the agent makes them share one
 * map (bpf_map__reuse_fd before the page-cache object loads).
 */
#ifndef O11Y_THREAD_CONN_BPF_H
#define O11Y_THREAD_CONN_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "o11y/http.h"

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct o11y_thread_conn);
} thread_conn SEC(".maps");

#endif

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ABI of bpf/pagecache.bpf.c: page-cache lookups and misses of file reads, per host, per
 * process and per HTTP request. Counts are in pages (4 KiB); hits = lookups - misses.
 */
#ifndef O11Y_PAGECACHE_H
#define O11Y_PAGECACHE_H

#include "o11y/common.h"

#define O11Y_PC_PATH_MAX 256  /* bytes of a file.path kept, NUL included (a power of two) */
#define O11Y_PC_PATH_DEPTH 24 /* path components resolved before the path is marked truncated */
#define O11Y_PC_REQ_FILES 8   /* files recorded per HTTP request; more are only counted */
#define O11Y_PC_COMM_LEN 16

/* Page lookups and misses; the value of `pc_host` (per CPU, one slot). */
struct o11y_pc_count {
	__u64 lookups;
	__u64 misses;
};
_Static_assert(sizeof(struct o11y_pc_count) == 16, "o11y_pc_count ABI");

/*
 * The threads of a process that have exited: the value of `pc_tgid`, added to when each exits
 * (its own counts live in its task storage until then). comm is the process's name then.
 */
struct o11y_pc_tgid {
	__u64 lookups;
	__u64 misses;
	char comm[O11Y_PC_COMM_LEN];
};
_Static_assert(sizeof(struct o11y_pc_tgid) == 32, "o11y_pc_tgid ABI");

/* One live thread's counts so far: a record of the `pc_iter_threads` task iterator. */
struct o11y_pc_thread {
	__u32 tgid;
	__u32 tid;
	__u64 lookups;
	__u64 misses;
	char comm[O11Y_PC_COMM_LEN]; /* its process's (the group leader's) name */
};
_Static_assert(sizeof(struct o11y_pc_thread) == 40, "o11y_pc_thread ABI");

/* One HTTP request: the connection (o11y_http_event.conn_id) and its REQ event's ts_ns. */
struct o11y_pc_req_key {
	__u64 conn_id;
	__u64 req_ts;
};
_Static_assert(sizeof(struct o11y_pc_req_key) == 16, "o11y_pc_req_key ABI");

#define O11Y_PC_PATH_TRUNCATED 1 /* deeper or longer than the bounds: a prefix is missing */
#define O11Y_PC_PATH_NO_MOUNT 2	 /* resolved without the mount: relative to its filesystem */

/* A file read while serving a request. */
struct o11y_pc_file {
	__u64 mapping; /* kernel identity of the file's page cache (not exported) */
	__u64 ino;
	__u64 bytes; /* bytes of the pages looked up, clamped to the file size */
	__u64 lookups;
	__u64 misses;
	__u64 first_ns; /* first and latest lookup (bpf_ktime_get_ns) */
	__u64 last_ns;
	__u64 path_id; /* its path's key in `pc_paths`; 0: no path */
	__u32 dev;     /* st_dev in the kernel's encoding (major << 20 | minor) */
	__u32 pad;
};
_Static_assert(sizeof(struct o11y_pc_file) == 72, "o11y_pc_file ABI");

/*
 * A path, the value of `pc_paths`, keyed by a fingerprint of the dentries it was resolved from
 * (each component's name hash, which the kernel salts with its parent, and length, and the
 * mounts crossed): the same key is the same path, so the kernel resolves each path once and
 * the agent may keep what it read.
 */
struct o11y_pc_path {
	__u16 len;
	__u8 flags; /* O11Y_PC_PATH_* */
	__u8 pad[5];
	char path[O11Y_PC_PATH_MAX]; /* absolute path; when truncated, its last components */
};
_Static_assert(sizeof(struct o11y_pc_path) == 8 + O11Y_PC_PATH_MAX, "o11y_pc_path ABI");

/* The page-cache activity of one HTTP request: the value of `pc_reqs`. */
struct o11y_pc_req {
	__u64 lookups;
	__u64 misses;
	__u32 nfiles;	     /* entries used in files[] */
	__u32 files_dropped; /* files read beyond O11Y_PC_REQ_FILES (counted above only) */
	struct o11y_pc_file files[O11Y_PC_REQ_FILES];
};
_Static_assert(sizeof(struct o11y_pc_req) == 24 + O11Y_PC_REQ_FILES * sizeof(struct o11y_pc_file),
	       "o11y_pc_req ABI");

#endif

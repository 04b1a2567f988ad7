/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The HTTP capture's loader: chooses the attach mechanism, loads bpf/http.bpf.c, attaches it,
 * and hands ring-buffer records to a callback. The only HTTP module that sees libbpf.
 */
#ifndef O11Y_LOADER_H
#define O11Y_LOADER_H

#include <stddef.h>
#include <stdint.h>

struct http_capture;

/* Same shape as libbpf's ring_buffer_sample_fn. */
typedef int (*http_event_fn)(void *ctx, void *data, size_t size);

/* Root (or CAP_BPF + CAP_PERFMON) and kernel BTF; logs what is missing. 0 or -errno. */
int loader_check_privileges(void);
/* Routes libbpf's messages to our log (idempotent). */
void loader_init_libbpf_log(void);
/* Mounts tracefs at dir unless it is there already. 0 or -errno. */
int loader_mount_tracefs(const char *dir);

/* Loads and attaches per agent_cfg; NULL and errno on failure (already logged). */
struct http_capture *http_capture_open(http_event_fn fn, void *ctx);
int http_capture_epoll_fd(const struct http_capture *c);
/* Consumes every record available; returns the count or -errno. */
int http_capture_poll(struct http_capture *c);
/* The kernel's view of a connection's current response; -ENOENT when it is gone. */
int http_capture_conn(struct http_capture *c, uint64_t conn_id, uint64_t *last_send_ts,
		      uint64_t *resp_bytes);
struct prom_buf;
struct bpf_object;
/*
 * out[O11Y_ERR_USER_MAX]: an object's per-CPU `errors` array (map_fd) summed over CPUs, and
 * its programs' skipped runs (loader_skipped_runs) in out[O11Y_ERR_SKIPPED]. 0 or -errno.
 */
int loader_sum_errors(int map_fd, struct bpf_object *obj, uint64_t *out);
/* Runs of obj's programs the kernel skipped (bpf_prog_info.recursion_misses, Linux 5.12+). */
uint64_t loader_skipped_runs(struct bpf_object *obj);
/* Writes v[O11Y_ERR_USER_MAX] as the counter family `name`, one series per reason. */
void loader_write_errors(struct prom_buf *b, const char *name, const char *help, const uint64_t *v);
/* The HTTP capture's failure counters, out[O11Y_ERR_USER_MAX] (loader_sum_errors). */
int http_capture_errors(struct http_capture *c, uint64_t *out);
const char *http_capture_mechanism(const struct http_capture *c);
/* fd of the task_state task storage (which request each thread serves), for the page cache */
int http_capture_task_state_fd(const struct http_capture *c);
/* Logs every non-zero loss counter once (at exit). */
void loader_log_lost(struct http_capture *c);
void http_capture_close(struct http_capture *c);

#endif

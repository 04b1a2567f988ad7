/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Host metrics from bpf/host.bpf.c: run-queue, block I/O and TCP connect latency histograms,
 * TCP, OOM and process counters. user/loader_host.c loads the programs and reads the maps
 * into a struct host_snapshot at scrape time; this module turns a snapshot into Prometheus
 * text, and is plain C (tested without root).
 */
#ifndef O11Y_HOST_METRICS_H
#define O11Y_HOST_METRICS_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "o11y/host.h"
#include "prom.h"

/* Which metrics have all their programs attached (struct host_snapshot.have). */
enum host_have {
	HOST_HAVE_RUNQ = 1 << 0,      /* sched_wakeup, sched_wakeup_new, sched_switch */
	HOST_HAVE_BLOCK = 1 << 1,     /* block_rq_issue, block_rq_complete */
	HOST_HAVE_RETRANS = 1 << 2,   /* tcp_retransmit_skb */
	HOST_HAVE_RST_SENT = 1 << 3,  /* tcp_send_reset */
	HOST_HAVE_RST_RECV = 1 << 4,  /* tcp_receive_reset */
	HOST_HAVE_TCP_STATE = 1 << 5, /* inet_sock_set_state */
	HOST_HAVE_OOM = 1 << 6,	      /* mark_victim */
	HOST_HAVE_EXEC = 1 << 7,      /* sched_process_exec */
	HOST_HAVE_EXIT = 1 << 8,      /* sched_process_exit */
};

struct host_blk_series {
	char device[32]; /* "vda", "loop0"; "MAJOR:MINOR" when sysfs does not know the disk */
	__u32 op;	 /* enum o11y_blk_op */
	struct o11y_hist hist;
};

/* The kernel-side aggregates summed over CPUs, as plain data. */
struct host_snapshot {
	unsigned have; /* enum host_have bits */
	struct o11y_hist runq;
	struct o11y_hist tcp_connect;
	__u64 counters[O11Y_HOST_CTR__MAX];
	__u64 errors[O11Y_ERR_USER_MAX]; /* [O11Y_ERR_SKIPPED]: skipped program runs */
	unsigned n_blk;
	struct host_blk_series blk[O11Y_BLK_MAX_DISKS];
};

/* --[no-]ebpf-host-metrics */
extern bool host_cfg_enabled;
extern const struct opt_table host_opt_table;

/* Upper bound in seconds of histogram slot i (i < O11Y_HIST_SLOTS - 1): 2^i microseconds. */
double host_hist_le(unsigned i);
/* Adds b's slots and sum to a. */
void host_hist_merge(struct o11y_hist *a, const struct o11y_hist *b);
/*
 * One Prometheus histogram: name_bucket (cumulative, le in seconds), name_sum (seconds),
 * name_count. labels: NULL or NULL-terminated name/value pairs, at most 4 pairs.
 */
void host_hist_write(struct prom_buf *b, const char *name, const char *const *labels,
		     const struct o11y_hist *h);
/* Every family the snapshot has (see host_snapshot.have); returns 0 or b->err. */
int host_metrics_write(struct prom_buf *b, const struct host_snapshot *s);
/*
 * The disk name of a dev_t from sysfs (<sysfs>/dev/block/MAJ:MIN is a link whose base name is
 * the disk), or "MAJ:MIN". sysfs: "/sys", or a test tree.
 */
void host_dev_name(const char *sysfs, unsigned major, unsigned minor, char *buf, size_t n);

/*
 * Loads and attaches bpf/host.bpf.c (user/loader_host.c) and registers the /metrics source.
 * Programs that cannot attach are logged and their metrics left out. Returns 0 (also when
 * disabled), or -errno when the object cannot be opened or loaded.
 */
int host_metrics_start(void);
/* Detaches everything; safe to call when not started. */
void host_metrics_stop(void);

#endif

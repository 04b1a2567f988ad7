// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Prometheus text for the host metrics snapshot (see host_metrics.h and README "Host metrics"). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host_metrics.h"

bool host_cfg_enabled;

static const struct opt host_opts[] = {
    {.name = "ebpf-host-metrics",
     .env = "O11Y_EBPF_HOST_METRICS",
     .type = OPT_BOOL,
     .dst = &host_cfg_enabled,
     .def = "true",
     .help = "export run-queue, block I/O and TCP connect latency histograms and TCP, OOM, "
	     "exec and exit counters (node_ebpf_*) on /metrics"},
};
const struct opt_table host_opt_table = {"Host metrics", host_opts,
					 sizeof(host_opts) / sizeof(host_opts[0])};

double host_hist_le(unsigned i)
{
	/* both operands exact, so the quotient is the double nearest to 2^i / 10^6 */
	return (double)(1ULL << i) / 1e6;
}

void host_hist_merge(struct o11y_hist *a, const struct o11y_hist *b)
{
	for (unsigned i = 0; i < O11Y_HIST_SLOTS; i++)
		a->slots[i] += b->slots[i];
	a->sum_ns += b->sum_ns;
}

#define HIST_MAX_LABELS 4

/* A bucket bound the way Prometheus (Go) prints floats: the shortest text that reads back. */
static void format_le(char *buf, size_t n, double v)
{
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, n, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

void host_hist_write(struct prom_buf *b, const char *name, const char *const *labels,
		     const struct o11y_hist *h)
{
	/* the bounds are constants: formatted once (the shortest-text search is ~17 printfs) */
	static char les[O11Y_HIST_SLOTS - 1][32];
	const char *lv[2 * (HIST_MAX_LABELS + 1) + 1];
	char series[128], le[32];
	unsigned n = 0;
	__u64 cum = 0;

	if (labels)
		for (; labels[n] && n < 2 * HIST_MAX_LABELS; n += 2) {
			lv[n] = labels[n];
			lv[n + 1] = labels[n + 1];
		}
	lv[n] = "le";
	lv[n + 1] = le;
	lv[n + 2] = NULL;

	snprintf(series, sizeof(series), "%s_bucket", name);
	for (unsigned i = 0; i < O11Y_HIST_SLOTS - 1; i++) {
		cum += h->slots[i];
		if (!les[i][0])
			format_le(les[i], sizeof(les[i]), host_hist_le(i));
		lv[n + 1] = les[i];
		prom_sample(b, series, lv, (double)cum);
	}
	cum += h->slots[O11Y_HIST_SLOTS - 1];
	lv[n + 1] = le;
	snprintf(le, sizeof(le), "+Inf");
	prom_sample(b, series, lv, (double)cum);
	lv[n] = NULL;
	snprintf(series, sizeof(series), "%s_sum", name);
	prom_sample(b, series, lv, (double)h->sum_ns / 1e9);
	snprintf(series, sizeof(series), "%s_count", name);
	prom_sample(b, series, lv, (double)cum);
}

struct counter_desc {
	unsigned have;
	enum o11y_host_ctr idx;
	const char *name;
	const char *help;
};

static const struct counter_desc counters[] = {
    {HOST_HAVE_RETRANS, O11Y_HOST_TCP_RETRANS, "node_ebpf_tcp_retransmits_total",
     "TCP segments retransmitted (tcp:tcp_retransmit_skb)."},
    {HOST_HAVE_RST_SENT, O11Y_HOST_TCP_RST_SENT, "node_ebpf_tcp_resets_sent_total",
     "TCP resets sent (tcp:tcp_send_reset)."},
    {HOST_HAVE_RST_RECV, O11Y_HOST_TCP_RST_RECV, "node_ebpf_tcp_resets_received_total",
     "TCP resets received on a socket (tcp:tcp_receive_reset)."},
    {HOST_HAVE_TCP_STATE, O11Y_HOST_TCP_ACTIVE_EST, "node_ebpf_tcp_connections_opened_total",
     "TCP active opens that reached ESTABLISHED (connect() completed)."},
    {HOST_HAVE_TCP_STATE, O11Y_HOST_TCP_PASSIVE_EST, "node_ebpf_tcp_connections_accepted_total",
     "TCP passive opens that reached ESTABLISHED (handshake completed, ready to accept)."},
    {HOST_HAVE_OOM, O11Y_HOST_OOM_KILLS, "node_ebpf_oom_kills_total",
     "Processes chosen and killed by the OOM killer, global or cgroup (oom:mark_victim)."},
    {HOST_HAVE_EXEC, O11Y_HOST_EXECS, "node_ebpf_process_execs_total",
     "Successful execve/execveat calls (sched:sched_process_exec)."},
    {HOST_HAVE_EXIT, O11Y_HOST_EXITS, "node_ebpf_process_exits_total",
     "Processes that exited (sched:sched_process_exit of a thread-group leader)."},
};

int host_metrics_write(struct prom_buf *b, const struct host_snapshot *s)
{
	static const char *const err_names[] = O11Y_ERR_NAMES;
	static const char *const op_names[] = O11Y_BLK_OP_NAMES;
	static const char blk_name[] = "node_ebpf_block_io_latency_seconds";

	if (s->have & HOST_HAVE_RUNQ) {
		prom_family(b, "node_ebpf_runqueue_latency_seconds", "histogram",
			    "Time tasks waited on a CPU run queue, from wakeup or preemption to "
			    "running.");
		host_hist_write(b, "node_ebpf_runqueue_latency_seconds", NULL, &s->runq);
	}
	if ((s->have & HOST_HAVE_BLOCK) && s->n_blk) {
		prom_family(b, blk_name, "histogram",
			    "Block I/O latency from request issue to the device to completion, by "
			    "disk and operation.");
		for (unsigned i = 0; i < s->n_blk; i++) {
			const struct host_blk_series *bs = &s->blk[i];
			const char *op = bs->op < O11Y_BLK_OP__MAX ? op_names[bs->op] : "other";
			const char *const labels[] = {"device", bs->device, "op", op, NULL};

			host_hist_write(b, blk_name, labels, &bs->hist);
		}
	}
	if (s->have & HOST_HAVE_TCP_STATE) {
		prom_family(b, "node_ebpf_tcp_connect_latency_seconds", "histogram",
			    "TCP active open latency, from SYN sent to ESTABLISHED.");
		host_hist_write(b, "node_ebpf_tcp_connect_latency_seconds", NULL, &s->tcp_connect);
	}
	for (unsigned i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		const struct counter_desc *c = &counters[i];

		if (!(s->have & c->have))
			continue;
		prom_family(b, c->name, "counter", c->help);
		prom_sample(b, c->name, NULL, (double)s->counters[c->idx]);
	}
	prom_family(b, "o11y_ebpf_host_kernel_errors_total", "counter",
		    "Failures in the host metrics BPF programs, by reason (each loses a "
		    "measurement).");
	for (unsigned i = 0; i < O11Y_ERR_USER_MAX; i++) {
		const char *const labels[] = {"reason", err_names[i], NULL};

		prom_sample(b, "o11y_ebpf_host_kernel_errors_total", labels, (double)s->errors[i]);
	}
	return b->err;
}

void host_dev_name(const char *sysfs, unsigned major, unsigned minor, char *buf, size_t n)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t len;

	snprintf(path, sizeof(path), "%s/dev/block/%u:%u", sysfs, major, minor);
	len = readlink(path, target, sizeof(target) - 1);
	if (len <= 0) {
		snprintf(buf, n, "%u:%u", major, minor);
		return;
	}
	target[len] = '\0';
	base = strrchr(target, '/');
	snprintf(buf, n, "%s", base ? base + 1 : target);
}

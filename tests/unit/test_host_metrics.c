// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Prometheus text of the host metrics from fixed snapshots, line by line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host_metrics.h"

/* The 27 finite bucket bounds, as Prometheus (Go's FormatFloat 'g' -1) prints them. */
static const char *const les[] = {
    "1e-06",	"2e-06",    "4e-06",	"8e-06",     "1.6e-05",	  "3.2e-05",   "6.4e-05",
    "0.000128", "0.000256", "0.000512", "0.001024",  "0.002048",  "0.004096",  "0.008192",
    "0.016384", "0.032768", "0.065536", "0.131072",  "0.262144",  "0.524288",  "1.048576",
    "2.097152", "4.194304", "8.388608", "16.777216", "33.554432", "67.108864",
};

/* Expected histogram text: cumulative counts per le, then +Inf, _sum and _count. */
static void expect_hist(struct prom_buf *e, const char *name, const char *labels,
			const struct o11y_hist *h, const char *sum)
{
	uint64_t cum = 0;

	for (unsigned i = 0; i < O11Y_HIST_SLOTS - 1; i++) {
		cum += h->slots[i];
		prom_printf(e, "%s_bucket{%s%sle=\"%s\"} %llu\n", name, labels, *labels ? "," : "",
			    les[i], (unsigned long long)cum);
	}
	cum += h->slots[O11Y_HIST_SLOTS - 1];
	prom_printf(e, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, *labels ? "," : "",
		    (unsigned long long)cum);
	if (*labels) {
		prom_printf(e, "%s_sum{%s} %s\n", name, labels, sum);
		prom_printf(e, "%s_count{%s} %llu\n", name, labels, (unsigned long long)cum);
	} else {
		prom_printf(e, "%s_sum %s\n", name, sum);
		prom_printf(e, "%s_count %llu\n", name, (unsigned long long)cum);
	}
}

static void test_le_bounds(void **state)
{
	(void)state;
	assert_int_equal(sizeof(les) / sizeof(les[0]), O11Y_HIST_SLOTS - 1);
	assert_true(host_hist_le(0) == 1e-6);
	assert_true(host_hist_le(10) == 0.001024);
	assert_true(host_hist_le(26) == 67.108864);
}

static void test_hist_lines(void **state)
{
	struct o11y_hist h = {0};
	struct prom_buf b, e;

	(void)state;
	h.slots[0] = 1;	 /* < 1 us */
	h.slots[3] = 2;	 /* 4..8 us */
	h.slots[20] = 5; /* 0.5..1 s */
	h.slots[27] = 1; /* > 67 s */
	h.sum_ns = 71500000000ULL;
	prom_buf_init(&b);
	prom_buf_init(&e);
	host_hist_write(&b, "x_seconds", NULL, &h);
	expect_hist(&e, "x_seconds", "", &h, "71.5");
	assert_int_equal(b.err, 0);
	assert_string_equal(b.data, e.data);
	/* spot checks on the hand-written expectation itself */
	assert_non_null(strstr(b.data, "x_seconds_bucket{le=\"1e-06\"} 1\n"));
	assert_non_null(strstr(b.data, "x_seconds_bucket{le=\"8e-06\"} 3\n"));
	assert_non_null(strstr(b.data, "x_seconds_bucket{le=\"0.524288\"} 3\n"));
	assert_non_null(strstr(b.data, "x_seconds_bucket{le=\"1.048576\"} 8\n"));
	assert_non_null(strstr(b.data, "x_seconds_bucket{le=\"67.108864\"} 8\n"));
	assert_non_null(strstr(b.data, "x_seconds_bucket{le=\"+Inf\"} 9\n"));
	assert_non_null(strstr(b.data, "x_seconds_count 9\n"));
	prom_buf_free(&b);
	prom_buf_free(&e);
}

static void test_hist_merge(void **state)
{
	struct o11y_hist a = {0}, c = {0};

	(void)state;
	a.slots[1] = 1;
	a.sum_ns = 1500;
	c.slots[1] = 2;
	c.slots[27] = 3;
	c.sum_ns = 10;
	host_hist_merge(&a, &c);
	assert_int_equal(a.slots[1], 3);
	assert_int_equal(a.slots[27], 3);
	assert_int_equal(a.sum_ns, 1510);
}

static struct host_snapshot *snapshot(void)
{
	struct host_snapshot *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->have = ~0u;
	s->runq.slots[2] = 4;
	s->runq.sum_ns = 10000;
	s->tcp_connect.slots[6] = 1;
	s->tcp_connect.sum_ns = 40000;
	s->counters[O11Y_HOST_TCP_RETRANS] = 7;
	s->counters[O11Y_HOST_TCP_RST_SENT] = 2;
	s->counters[O11Y_HOST_TCP_RST_RECV] = 1;
	s->counters[O11Y_HOST_TCP_ACTIVE_EST] = 11;
	s->counters[O11Y_HOST_TCP_PASSIVE_EST] = 10;
	s->counters[O11Y_HOST_OOM_KILLS] = 3;
	s->counters[O11Y_HOST_EXECS] = 1234;
	s->counters[O11Y_HOST_EXITS] = 1230;
	s->errors[O11Y_ERR_MAP_FULL] = 5;
	s->errors[O11Y_ERR_SKIPPED] = 2;
	s->n_blk = 2;
	strcpy(s->blk[0].device, "loop0");
	s->blk[0].op = O11Y_BLK_WRITE;
	s->blk[0].hist.slots[8] = 2;
	s->blk[0].hist.sum_ns = 500000;
	strcpy(s->blk[1].device, "vda");
	s->blk[1].op = O11Y_BLK_READ;
	s->blk[1].hist.slots[10] = 1;
	s->blk[1].hist.sum_ns = 1000000;
	return s;
}

static void test_full_snapshot(void **state)
{
	struct host_snapshot *s = snapshot();
	struct prom_buf b, e;

	(void)state;
	prom_buf_init(&b);
	prom_buf_init(&e);
	assert_int_equal(host_metrics_write(&b, s), 0);

	prom_printf(&e, "# HELP node_ebpf_runqueue_latency_seconds Time tasks waited on a CPU run "
			"queue, from wakeup or preemption to running.\n"
			"# TYPE node_ebpf_runqueue_latency_seconds histogram\n");
	expect_hist(&e, "node_ebpf_runqueue_latency_seconds", "", &s->runq, "1e-05");
	prom_printf(&e, "# HELP node_ebpf_block_io_latency_seconds Block I/O latency from request "
			"issue to the device to completion, by disk and operation.\n"
			"# TYPE node_ebpf_block_io_latency_seconds histogram\n");
	expect_hist(&e, "node_ebpf_block_io_latency_seconds", "device=\"loop0\",op=\"write\"",
		    &s->blk[0].hist, "0.0005");
	expect_hist(&e, "node_ebpf_block_io_latency_seconds", "device=\"vda\",op=\"read\"",
		    &s->blk[1].hist, "0.001");
	prom_printf(&e, "# HELP node_ebpf_tcp_connect_latency_seconds TCP active open latency, "
			"from SYN sent to ESTABLISHED.\n"
			"# TYPE node_ebpf_tcp_connect_latency_seconds histogram\n");
	expect_hist(&e, "node_ebpf_tcp_connect_latency_seconds", "", &s->tcp_connect, "4e-05");
	assert_int_equal(strncmp(b.data, e.data, e.len), 0);

	/* the counters follow, in this order, with these exact lines */
	static const char *const lines[] = {
	    "# TYPE node_ebpf_tcp_retransmits_total counter\nnode_ebpf_tcp_retransmits_total 7\n",
	    "# TYPE node_ebpf_tcp_resets_sent_total counter\nnode_ebpf_tcp_resets_sent_total 2\n",
	    "# TYPE node_ebpf_tcp_resets_received_total counter\n"
	    "node_ebpf_tcp_resets_received_total 1\n",
	    "# TYPE node_ebpf_tcp_connections_opened_total counter\n"
	    "node_ebpf_tcp_connections_opened_total 11\n",
	    "# TYPE node_ebpf_tcp_connections_accepted_total counter\n"
	    "node_ebpf_tcp_connections_accepted_total 10\n",
	    "# TYPE node_ebpf_oom_kills_total counter\nnode_ebpf_oom_kills_total 3\n",
	    "# TYPE node_ebpf_process_execs_total counter\nnode_ebpf_process_execs_total 1234\n",
	    "# TYPE node_ebpf_process_exits_total counter\nnode_ebpf_process_exits_total 1230\n",
	    "o11y_ebpf_host_kernel_errors_total{reason=\"ringbuf_full\"} 0\n"
	    "o11y_ebpf_host_kernel_errors_total{reason=\"map_full\"} 5\n"
	    "o11y_ebpf_host_kernel_errors_total{reason=\"read_user\"} 0\n"
	    "o11y_ebpf_host_kernel_errors_total{reason=\"read_kernel\"} 0\n"
	    "o11y_ebpf_host_kernel_errors_total{reason=\"skipped\"} 2\n",
	};
	const char *p = b.data + e.len;

	for (unsigned i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		const char *q = strstr(p, lines[i]);

		if (!q)
			fail_msg("missing or out of order:\n%s\nin:\n%s", lines[i], p);
		p = q + strlen(lines[i]);
	}
	assert_string_equal(p, "");
	prom_buf_free(&b);
	prom_buf_free(&e);
	free(s);
}

/* Families whose programs did not attach are left out, not exported as zero. */
static void test_missing_programs(void **state)
{
	struct host_snapshot *s = snapshot();
	struct prom_buf b;

	(void)state;
	s->have = HOST_HAVE_EXEC | HOST_HAVE_OOM;
	prom_buf_init(&b);
	assert_int_equal(host_metrics_write(&b, s), 0);
	assert_null(strstr(b.data, "runqueue"));
	assert_null(strstr(b.data, "block_io"));
	assert_null(strstr(b.data, "tcp_"));
	assert_null(strstr(b.data, "exits"));
	assert_non_null(strstr(b.data, "\nnode_ebpf_process_execs_total 1234\n"));
	assert_non_null(strstr(b.data, "\nnode_ebpf_oom_kills_total 3\n"));
	/* with block programs but no disk seen yet: no block family at all */
	s->have = HOST_HAVE_BLOCK;
	s->n_blk = 0;
	prom_buf_reset(&b);
	assert_int_equal(host_metrics_write(&b, s), 0);
	assert_null(strstr(b.data, "block_io"));
	prom_buf_free(&b);
	free(s);
}

static void test_dev_name(void **state)
{
	char dir[] = "/tmp/o11y-sysfs-XXXXXX", path[PATH_MAX], name[32];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/dev", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/dev/block", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/dev/block/7:0", dir);
	assert_int_equal(symlink("../../devices/virtual/block/loop0", path), 0);

	host_dev_name(dir, 7, 0, name, sizeof(name));
	assert_string_equal(name, "loop0");
	host_dev_name(dir, 253, 16, name, sizeof(name));
	assert_string_equal(name, "253:16");

	unlink(path);
	snprintf(path, sizeof(path), "%s/dev/block", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/dev", dir);
	rmdir(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_le_bounds),	     cmocka_unit_test(test_hist_lines),
	    cmocka_unit_test(test_hist_merge),	     cmocka_unit_test(test_full_snapshot),
	    cmocka_unit_test(test_missing_programs), cmocka_unit_test(test_dev_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The /proc collectors against fixture files: exact exposition lines as node_exporter 1.5. */
#include "node_test.h"

static void test_cpu(void **state)
{
	int err;
	char *o = collect(node_cpu_collect, &err);

	(void)state;
	assert_int_equal(err, 0);
	assert_line(o, "# TYPE node_cpu_seconds_total counter");
	assert_line(o, "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 221.46");
	assert_line(o, "node_cpu_seconds_total{cpu=\"0\",mode=\"user\"} 4.2");
	assert_line(o, "node_cpu_seconds_total{cpu=\"1\",mode=\"iowait\"} 1.89");
	assert_line(o, "node_cpu_seconds_total{cpu=\"1\",mode=\"steal\"} 0.04");
	assert_line(o, "node_cpu_seconds_total{cpu=\"1\",mode=\"softirq\"} 0.21");
	assert_line(o, "node_cpu_guest_seconds_total{cpu=\"0\",mode=\"user\"} 0.07");
	assert_line(o, "node_cpu_guest_seconds_total{cpu=\"0\",mode=\"nice\"} 0.03");
	assert_no_substr(o, "cpu=\"\"");
	free(o);
}

static void test_stat_loadavg(void **state)
{
	int err;
	char *o = collect(node_stat_collect, &err);

	(void)state;
	assert_int_equal(err, 0);
	assert_line(o, "node_boot_time_seconds 1.795233672e+09");
	assert_line(o, "node_context_switches_total 271711");
	assert_line(o, "node_forks_total 4566");
	assert_line(o, "node_intr_total 118265");
	assert_line(o, "node_procs_running 3");
	assert_line(o, "node_procs_blocked 1");
	assert_line(o, "# TYPE node_intr_total counter");
	free(o);
	o = collect(node_loadavg_collect, &err);
	assert_int_equal(err, 0);
	assert_string_equal(o, "# HELP node_load1 1m load average.\n# TYPE node_load1 gauge\n"
			       "node_load1 0.09\n# HELP node_load15 15m load average.\n"
			       "# TYPE node_load15 gauge\nnode_load15 0.02\n"
			       "# HELP node_load5 5m load average.\n# TYPE node_load5 gauge\n"
			       "node_load5 0.06\n");
	free(o);
}

static void test_meminfo_vmstat(void **state)
{
	int err;
	char *o = collect(node_meminfo_collect, &err);

	(void)state;
	assert_int_equal(err, 0);
	assert_line(o, "node_memory_MemTotal_bytes 2.5276502016e+10");
	assert_line(o, "node_memory_Active_anon_bytes 1.568768e+06");
	assert_line(o, "node_memory_HugePages_Total 0");
	assert_line(o, "node_memory_Hugepagesize_bytes 2.097152e+06");
	assert_line(o, "# TYPE node_memory_MemFree_bytes gauge");
	free(o);
	o = collect(node_vmstat_collect, &err);
	assert_int_equal(err, 0);
	assert_line(o, "node_vmstat_pgpgin 997033");
	assert_line(o, "node_vmstat_pgfault 1.490035e+06");
	assert_line(o, "node_vmstat_oom_kill 2");
	assert_line(o, "# TYPE node_vmstat_oom_kill untyped");
	assert_no_substr(o, "nr_free_pages");
	assert_no_substr(o, "numa_hit");
	free(o);
}

static void test_diskstats(void **state)
{
	int err;
	char *o = collect(node_diskstats_collect, &err);

	(void)state;
	assert_int_equal(err, 0);
	assert_line(o, "node_disk_read_bytes_total{device=\"vda\"} 1.024504832e+09");
	assert_line(o, "node_disk_io_time_seconds_total{device=\"vda\"} 2.7960000000000003");
	assert_line(o, "node_disk_io_time_weighted_seconds_total{device=\"vda\"} 6.025");
	assert_line(o, "node_disk_flush_requests_total{device=\"vda\"} 1606");
	assert_line(o, "node_disk_discarded_sectors_total{device=\"zram0\"} 0");
	assert_line(o, "node_disk_info{device=\"vda\",major=\"254\",minor=\"0\","
		       "model=\"QEMU_HARDDISK\",path=\"pci-0000:00:05.0\",revision=\"\","
		       "serial=\"abc123\",wwn=\"\"} 1");
	/* an 11-field (pre-4.18) line has no discard or flush samples */
	assert_line(o, "node_disk_reads_completed_total{device=\"sdb\"} 5");
	assert_no_substr(o, "node_disk_discards_completed_total{device=\"sdb\"}");
	/* node_exporter's default exclusion: loop*, partitions like vda1 */
	assert_no_substr(o, "loop0");
	assert_no_substr(o, "vda1");
	free(o);
}

static void test_netdev(void **state)
{
	int err;
	char *o = collect(node_netdev_collect, &err);

	(void)state;
	assert_int_equal(err, 0);
	assert_line(o, "node_network_receive_bytes_total{device=\"eth0\"} 6.3200681e+07");
	assert_line(o, "node_network_receive_frame_total{device=\"eth0\"} 4");
	assert_line(o, "node_network_transmit_colls_total{device=\"eth0\"} 10");
	assert_line(o, "node_network_transmit_carrier_total{device=\"eth0\"} 11");
	assert_line(o, "node_network_transmit_compressed_total{device=\"eth0\"} 12");
	assert_line(o, "# TYPE node_network_transmit_packets_total counter");
	assert_no_substr(o, "device=\"lo\""); /* ^lo$ excluded by default */
	assert_no_substr(o, "nohandler");     /* /proc/net/dev has no such column */
	free(o);
}

static void test_netstat(void **state)
{
	int err;
	char *o = collect(node_netstat_collect, &err);

	(void)state;
	assert_int_equal(err, 0);
	assert_line(o, "node_netstat_TcpExt_ListenOverflows 3");
	assert_line(o, "node_netstat_TcpExt_SyncookiesSent 1");
	assert_line(o, "node_netstat_TcpExt_TCPTimeouts 5");
	assert_line(o, "node_netstat_IpExt_InOctets 6.3200681e+07");
	assert_line(o, "node_netstat_Ip_Forwarding 1");
	assert_line(o, "node_netstat_Tcp_CurrEstab 4");
	assert_line(o, "node_netstat_Tcp_ActiveOpens 17");
	assert_line(o, "node_netstat_Udp_NoPorts 2");
	assert_line(o, "node_netstat_Ip6_InOctets 700");
	assert_line(o, "node_netstat_Icmp6_OutMsgs 2");
	assert_line(o, "node_netstat_Udp6_InDatagrams 3");
	assert_line(o, "# HELP node_netstat_Tcp_CurrEstab Statistic TcpCurrEstab.");
	assert_line(o, "# TYPE node_netstat_Tcp_CurrEstab untyped");
	assert_no_substr(o, "DelayedACKs");
	assert_no_substr(o, "MaxConn");
	assert_no_substr(o, "Ip6_InReceives");
	free(o);
}

static void test_sockstat_softnet(void **state)
{
	int err;
	char *o = collect(node_sockstat_collect, &err);

	(void)state;
	assert_int_equal(err, 0);
	assert_line(o, "node_sockstat_sockets_used 17");
	assert_line(o, "node_sockstat_TCP_alloc 5");
	assert_line(o, "node_sockstat_TCP_tw 1");
	assert_line(o, "node_sockstat_TCP_mem 118");
	assert_line(o, "node_sockstat_TCP_mem_bytes 483328");
	assert_line(o, "node_sockstat_UDP_mem_bytes 12288");
	assert_line(o, "node_sockstat_FRAG_memory 0");
	assert_line(o, "node_sockstat_TCP6_inuse 6");
	assert_line(o, "node_sockstat_UDP6_inuse 1");
	free(o);
	o = collect(node_softnet_collect, &err);
	assert_int_equal(err, 0);
	assert_line(o, "node_softnet_processed_total{cpu=\"0\"} 11");
	assert_line(o, "node_softnet_processed_total{cpu=\"1\"} 1464");
	assert_line(o, "node_softnet_dropped_total{cpu=\"0\"} 1");
	assert_line(o, "node_softnet_times_squeezed_total{cpu=\"1\"} 10");
	free(o);
}

static void test_arp_udp_conntrack(void **state)
{
	int err;
	char *o = collect(node_arp_collect, &err);

	(void)state;
	assert_int_equal(err, 0);
	assert_line(o, "node_arp_entries{device=\"eth0\"} 2");
	assert_line(o, "node_arp_entries{device=\"eth1\"} 1");
	free(o);
	o = collect(node_udp_queues_collect, &err);
	assert_int_equal(err, 0);
	assert_line(o, "node_udp_queues{ip=\"v4\",queue=\"rx\"} 768");
	assert_line(o, "node_udp_queues{ip=\"v4\",queue=\"tx\"} 16");
	assert_no_substr(o, "v6"); /* no udp6 fixture */
	free(o);
	o = collect(node_conntrack_collect, &err);
	assert_int_equal(err, 0);
	assert_line(o, "node_nf_conntrack_entries 3");
	assert_line(o, "node_nf_conntrack_entries_limit 262144");
	assert_line(o, "node_nf_conntrack_stat_found 2");
	assert_line(o, "node_nf_conntrack_stat_invalid 4");
	assert_line(o, "node_nf_conntrack_stat_ignore 6");
	assert_line(o, "node_nf_conntrack_stat_insert 8");
	assert_line(o, "node_nf_conntrack_stat_insert_failed 10");
	assert_line(o, "node_nf_conntrack_stat_drop 12");
	assert_line(o, "node_nf_conntrack_stat_early_drop 14");
	assert_line(o, "node_nf_conntrack_stat_search_restart 16");
	free(o);
}

static void test_pressure_filefd_entropy(void **state)
{
	int err;
	char *o = collect(node_pressure_collect, &err);

	(void)state;
	assert_int_equal(err, 0);
	assert_line(o, "node_pressure_cpu_waiting_seconds_total 2.665734");
	assert_line(o, "node_pressure_io_waiting_seconds_total 1.8256269999999999");
	assert_line(o, "node_pressure_io_stalled_seconds_total 1.732443");
	assert_line(o, "node_pressure_memory_stalled_seconds_total 0");
	assert_no_substr(o, "node_pressure_cpu_stalled");
	free(o);
	o = collect(node_filefd_collect, &err);
	assert_int_equal(err, 0);
	assert_line(o, "node_filefd_allocated 460");
	assert_line(o, "node_filefd_maximum 2.46617e+06");
	free(o);
	o = collect(node_entropy_collect, &err);
	assert_int_equal(err, 0);
	assert_line(o, "node_entropy_available_bits 256");
	assert_line(o, "node_entropy_pool_size_bits 256");
	free(o);
}

static void test_missing_file_fails(void **state)
{
	char *old = node_cfg.procfs;
	int err;
	char *o;

	(void)state;
	node_cfg.procfs = "tests/fixtures/node/does-not-exist";
	o = collect(node_meminfo_collect, &err);
	assert_int_equal(err, -ENOENT);
	assert_string_equal(o, "");
	free(o);
	node_cfg.procfs = old;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu),
		cmocka_unit_test(test_stat_loadavg),
		cmocka_unit_test(test_meminfo_vmstat),
		cmocka_unit_test(test_diskstats),
		cmocka_unit_test(test_netdev),
		cmocka_unit_test(test_netstat),
		cmocka_unit_test(test_sockstat_softnet),
		cmocka_unit_test(test_arp_udp_conntrack),
		cmocka_unit_test(test_pressure_filefd_entropy),
		cmocka_unit_test(test_missing_file_fails),
	};

	return cmocka_run_group_tests(tests, node_fixture_setup, node_fixture_teardown);
}

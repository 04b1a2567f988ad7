// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * sysfs, rootfs and textfile collectors against fixtures, the filesystem exclusions, the
 * collector flags and filters, the scrape bookkeeping and the endpoint's helpers.
 */
#include <sys/time.h>

#include "node_test.h"
#include "export_prom.h"

static void test_netclass(void **state)
{
	int err;
	char *o = collect(node_netclass_collect, &err);

	(void)state;
	assert_int_equal(err, 0);
	assert_line(o, "node_network_flags{device=\"eth0\"} 4099");
	assert_line(o, "node_network_flags{device=\"lo\"} 9");
	assert_line(o, "node_network_speed_bytes{device=\"eth0\"} -125000");
	assert_line(o, "node_network_mtu_bytes{device=\"lo\"} 65536");
	assert_line(o, "node_network_protocol_type{device=\"lo\"} 772");
	assert_line(o, "node_network_carrier_changes_total{device=\"eth0\"} 2");
	assert_line(o, "# TYPE node_network_carrier_changes_total counter");
	assert_line(o, "node_network_device_id{device=\"eth0\"} 0");
	assert_line(o, "node_network_up{device=\"eth0\"} 1");
	assert_line(o, "node_network_up{device=\"lo\"} 0");
	assert_line(o, "node_network_info{address=\"02:fc:00:00:00:01\",broadcast=\"ff:ff:ff:ff:ff:ff\","
		       "device=\"eth0\",duplex=\"unknown\",ifalias=\"\",operstate=\"up\"} 1");
	assert_line(o, "node_network_info{address=\"00:00:00:00:00:00\",broadcast=\"00:00:00:00:00:00\","
		       "device=\"lo\",duplex=\"\",ifalias=\"\",operstate=\"unknown\"} 1");
	/* lo has no speed or dormant file: no sample, like node_exporter */
	assert_no_substr(o, "node_network_speed_bytes{device=\"lo\"}");
	assert_no_substr(o, "bonding_masters");
	free(o);
}

/*
 * Values taken from rtnetlink are the ones sysfs shows: netclass on this host's /sys both ways
 * gives the same exposition (every interface, family, label and value). Three tries: a link
 * appearing or changing between the two collections (another test's) is not a difference.
 */
static void test_netclass_netlink_live(void **state)
{
	char *sysfs = node_cfg.sysfs, *from_sysfs = NULL, *from_netlink = NULL;
	bool same = false;
	int err;

	(void)state;
	node_cfg.sysfs = (char *)"/sys";
	for (int try = 0; try < 3 && !same; try++) {
		free(from_sysfs);
		free(from_netlink);
		node_cfg.netclass_netlink = false;
		from_sysfs = collect(node_netclass_collect, &err);
		assert_int_equal(err, 0);
		assert_false(node_netclass_used_netlink);
		node_cfg.netclass_netlink = true;
		/* twice: the second time what the first one checked and read is remembered */
		for (int i = 0; i < 2; i++) {
			free(from_netlink);
			from_netlink = collect(node_netclass_collect, &err);
			assert_int_equal(err, 0);
		}
		same = node_netclass_used_netlink && strcmp(from_netlink, from_sysfs) == 0;
	}
	node_cfg.netclass_netlink = false;
	node_cfg.sysfs = sysfs;
	assert_line(from_sysfs, "node_network_iface_id{device=\"lo\"} 1");
	assert_true(node_netclass_used_netlink);
	assert_string_equal(from_netlink, from_sysfs);
	free(from_sysfs);
	free(from_netlink);
}

static void test_time_os(void **state)
{
	int err;
	char *o = collect(node_time_collect, &err);

	(void)state;
	assert_int_equal(err, 0);
	assert_line(o, "node_time_clocksource_available_info{clocksource=\"kvm-clock\",device=\"0\"} 1");
	assert_line(o, "node_time_clocksource_available_info{clocksource=\"acpi_pm\",device=\"0\"} 1");
	assert_line(o, "node_time_clocksource_current_info{clocksource=\"tsc\",device=\"0\"} 1");
	free(o);
	o = collect(node_os_collect, &err);
	assert_int_equal(err, 0);
	assert_line(o, "node_os_info{build_id=\"\",id=\"debian\",id_like=\"\",image_id=\"\","
		       "image_version=\"\",name=\"Debian GNU/Linux\",pretty_name=\"Debian GNU/Linux 12 "
		       "(bookworm)\",variant=\"\",variant_id=\"\",version=\"12 (bookworm)\","
		       "version_codename=\"bookworm\",version_id=\"12\"} 1");
	assert_line(o, "node_os_version{id=\"debian\",id_like=\"\",name=\"Debian GNU/Linux\"} 12");
	free(o);
}

static void test_textfile(void **state)
{
	struct timeval tv[2] = { { 1700000000, 0 }, { 1700000000, 0 } };
	int err;
	char *o;

	(void)state;
	assert_int_equal(utimes(FIX "/textfile/app.prom", tv), 0);
	o = collect(node_textfile_collect, &err);
	assert_int_equal(err, 0);
	assert_line(o, "app_jobs{queue=\"a b\"} 7");
	assert_line(o, "# TYPE app_jobs counter");
	assert_line(o, "node_textfile_mtime_seconds{file=\"" FIX "/textfile/app.prom\"} 1.7e+09");
	/* bad.prom has a client-side timestamp: refused, and the error is reported */
	assert_line(o, "node_textfile_scrape_error 1");
	assert_no_substr(o, "bad_metric");
	assert_no_substr(o, "ignored");
	free(o);
}

static void test_filesystem(void **state)
{
	int err;
	char *o = collect(node_filesystem_collect, &err);

	(void)state;
	assert_int_equal(err, 0);
	/* statfs(rootfs + "/") works; the mountpoint label is the path inside rootfs */
	assert_line(o, "node_filesystem_device_error{device=\"/dev/vda\",fstype=\"ext4\","
		       "mountpoint=\"/\"} 0");
	assert_line(o, "node_filesystem_readonly{device=\"/dev/vda\",fstype=\"ext4\","
		       "mountpoint=\"/\"} 0");
	/* statfs fails: only device_error, 1 */
	assert_line(o, "node_filesystem_device_error{device=\"/dev/vdb\",fstype=\"xfs\","
		       "mountpoint=\"/srv\"} 1");
	assert_no_substr(o, "node_filesystem_size_bytes{device=\"/dev/vdb\"");
	/* \040 decoded */
	assert_line(o, "node_filesystem_device_error{device=\"/dev/nope\",fstype=\"ext4\","
		       "mountpoint=\"/no such dir\"} 1");
	/* default exclusions: /proc /sys /dev/... /run/...; cgroup2 by type; duplicates once */
	assert_no_substr(o, "mountpoint=\"/proc\"");
	assert_no_substr(o, "/dev/shm");
	assert_no_substr(o, "/run/lock");
	assert_no_substr(o, "cgroup");
	{
		const char *p = strstr(o, "node_filesystem_size_bytes{device=\"/dev/vda\"");

		assert_non_null(p);
		assert_null(strstr(p + 1, "node_filesystem_size_bytes{device=\"/dev/vda\""));
	}
	free(o);
}

static void test_rootfs_strip(void **state)
{
	char *old = node_cfg.rootfs;

	(void)state;
	node_cfg.rootfs = "/host";
	assert_string_equal(node_rootfs_strip("/host/var"), "/var");
	assert_string_equal(node_rootfs_strip("/host"), "/");
	assert_string_equal(node_rootfs_strip("/other"), "/other");
	node_cfg.rootfs = "/";
	assert_string_equal(node_rootfs_strip("/var"), "/var");
	node_cfg.rootfs = old;
}

static void test_regex_translation(void **state)
{
	regex_t re;

	(void)state;
	/* node_exporter's diskstats default uses \d, which POSIX ERE does not have */
	assert_int_equal(node_regcomp(&re, "^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$",
				      "test"),
			 0);
	assert_true(node_match(&re, "nvme0n1p1"));
	assert_true(node_match(&re, "sda1"));
	assert_false(node_match(&re, "nvme0n1"));
	assert_false(node_match(&re, "sda"));
	assert_false(node_match(&re, "dm-0"));
	regfree(&re);
	assert_int_equal(node_regcomp(&re, "^(", "test"), -EINVAL);
}

static void test_scrape_filter_and_success(void **state)
{
	struct prom_buf b;
	bool want[64] = { 0 };
	int cpu = node_collector_index("cpu"), hw = node_collector_index("hwmon");

	(void)state;
	assert_true(cpu >= 0 && hw >= 0);
	want[cpu] = want[hw] = true;
	prom_buf_init(&b);
	assert_int_equal(node_scrape(&b, want), 0);
	assert_line(b.data, "node_scrape_collector_success{collector=\"cpu\"} 1");
	/* the fixture sysfs has no class/hwmon: the collector fails, like node_exporter here */
	assert_line(b.data, "node_scrape_collector_success{collector=\"hwmon\"} 0");
	assert_no_substr(b.data, "collector=\"meminfo\"");
	assert_non_null(strstr(b.data, "node_scrape_collector_duration_seconds{collector=\"cpu\"} "));
	prom_buf_free(&b);
}

static void test_prom_scrape_params(void **state)
{
	const char *collect_bad[] = { "nosuch", NULL };
	const char *collect_ok[] = { "loadavg", NULL };
	const char *exclude[] = { "cpu", NULL };
	struct prom_buf b;
	char msg[256];

	(void)state;
	prom_buf_init(&b);
	assert_int_equal(prom_scrape(&b, collect_bad, NULL, msg, sizeof(msg)), -ENOENT);
	assert_string_equal(msg, "couldn't create filtered metrics handler: missing collector: nosuch");
	assert_int_equal(prom_scrape(&b, collect_ok, exclude, msg, sizeof(msg)), -EINVAL);
	prom_buf_reset(&b);
	assert_int_equal(prom_scrape(&b, collect_ok, NULL, msg, sizeof(msg)), 0);
	assert_line(b.data, "node_load1 0.09");
	assert_line(b.data, "node_scrape_collector_success{collector=\"loadavg\"} 1");
	assert_no_substr(b.data, "collector=\"cpu\"");
	prom_buf_free(&b);
}

static void test_process_metrics(void **state)
{
	struct prom_buf b;

	(void)state;
	prom_buf_init(&b);
	assert_int_equal(prom_write_process(&b, "/proc"), 0);
	assert_line(b.data, "# TYPE process_cpu_seconds_total counter");
	assert_non_null(strstr(b.data, "\nprocess_resident_memory_bytes "));
	assert_non_null(strstr(b.data, "\nprocess_open_fds "));
	assert_non_null(strstr(b.data, "\nprocess_max_fds "));
	assert_non_null(strstr(b.data, "\nprocess_start_time_seconds 1."));
	prom_buf_free(&b);
}

static void test_listen_address(void **state)
{
	char host[64], port[16];

	(void)state;
	assert_int_equal(prom_parse_listen(":9100", host, sizeof(host), port, sizeof(port)), 0);
	assert_string_equal(host, "");
	assert_string_equal(port, "9100");
	assert_int_equal(prom_parse_listen("127.0.0.1:19100", host, sizeof(host), port,
					   sizeof(port)),
			 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(prom_parse_listen("[::1]:9100", host, sizeof(host), port, sizeof(port)), 0);
	assert_string_equal(host, "::1");
	assert_string_equal(port, "9100");
	assert_int_equal(prom_parse_listen("::1:9100", host, sizeof(host), port, sizeof(port)),
			 -EINVAL);
	assert_int_equal(prom_parse_listen("9100", host, sizeof(host), port, sizeof(port)), -EINVAL);
	assert_int_equal(prom_parse_listen("h:99999", host, sizeof(host), port, sizeof(port)),
			 -EINVAL);
	assert_int_equal(prom_parse_listen("h:", host, sizeof(host), port, sizeof(port)), -EINVAL);
}

static void test_collector_flags(void **state)
{
	char *argv[] = { "o11y-ebpf", "--collector.disable-defaults", "--collector.cpu",
			 "--no-collector.systemd", NULL };
	char *bad[] = { "o11y-ebpf", "--collector.nosuch", NULL };
	char *unimpl[] = { "o11y-ebpf", "--collector.systemd", NULL };

	(void)state;
	node_fini();
	config_free();
	assert_int_equal(config_parse(4, argv), 0);
	assert_int_equal(node_init(), 0);
	assert_true(node_collector_enabled((unsigned)node_collector_index("cpu")));
	assert_false(node_collector_enabled((unsigned)node_collector_index("meminfo")));
	node_fini();
	config_free();
	assert_int_equal(config_parse(2, bad), -EINVAL);
	config_free();
	assert_int_equal(config_parse(2, unimpl), -EINVAL);
	config_free();
	/* back to the fixture setup for the tests after this one */
	assert_int_equal(node_fixture_setup(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_netclass),
		cmocka_unit_test(test_netclass_netlink_live),
		cmocka_unit_test(test_time_os),
		cmocka_unit_test(test_textfile),
		cmocka_unit_test(test_filesystem),
		cmocka_unit_test(test_rootfs_strip),
		cmocka_unit_test(test_regex_translation),
		cmocka_unit_test(test_scrape_filter_and_success),
		cmocka_unit_test(test_prom_scrape_params),
		cmocka_unit_test(test_process_metrics),
		cmocka_unit_test(test_listen_address),
		cmocka_unit_test(test_collector_flags),
	};

	return cmocka_run_group_tests(tests, node_fixture_setup, node_fixture_teardown);
}

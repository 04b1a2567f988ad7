// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Container id and pod uid from /proc/PID/cgroup fixtures of each runtime and cgroup driver. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"

#define FIX "tests/fixtures/cgroup/"
#define UID "0b5e6c2a-3d4f-4a8b-9c1d-2e3f4a5b6c7d"
#define CID "3f1e9a7c5b2d4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f"

static int parse_fixture(const char *name, struct cgroup_ident *id)
{
	char path[256], buf[8192];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), FIX "%s", name);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return cgroup_ident_parse(buf, id);
}

static void expect(const char *fixture, const char *pod_uid, const char *container_id)
{
	struct cgroup_ident id;

	print_message("%s\n", fixture);
	assert_int_equal(parse_fixture(fixture, &id), 0);
	assert_string_equal(id.pod_uid, pod_uid);
	assert_string_equal(id.container_id, container_id);
}

static void test_containerd(void **st)
{
	expect("containerd-v2-cgroupfs", UID, CID); /* k3s default */
	expect("containerd-v1-cgroupfs", UID, CID);
	expect("containerd-v2-systemd", UID, CID);
	expect("containerd-v2-systemd-guaranteed", UID, CID);
	expect("containerd-v1-systemd", UID, CID);
	expect("containerd-v2-cgroupns", UID, CID);
	expect("containerd-v2-kind", UID, CID);
}

static void test_crio(void **st)
{
	expect("crio-v2-systemd", UID, CID);
	expect("crio-v1-cgroupfs", UID, CID);
	/* conmon runs in the pod but is not the container */
	expect("crio-v2-systemd-conmon", UID, "");
}

static void test_docker(void **st)
{
	expect("docker-v1-cgroupfs-kubelet", UID, CID);
	expect("docker-v2-systemd-kubelet", UID, CID);
	/* plain Docker: a container, no pod */
	expect("docker-v1-standalone", "", CID);
	expect("docker-v2-systemd-standalone", "", CID);
}

static void test_pod_forms(void **st)
{
	expect("static-pod-v2-cgroupfs", "6f7e8d9c0b1a2f3e4d5c6b7a8f9e0d1c", CID);
	expect("pod-sandbox-v2-cgroupfs", UID, "");
}

static void test_no_container(void **st)
{
	struct cgroup_ident id;

	assert_int_equal(parse_fixture("host-v2", &id), -ENOENT);
	assert_string_equal(id.pod_uid, "");
	assert_string_equal(id.container_id, "");
	assert_int_equal(parse_fixture("host-v1", &id), -ENOENT);
	/* a malformed uid and an upper-case id are not taken for ids */
	assert_int_equal(parse_fixture("not-ids-v2", &id), -ENOENT);
	assert_int_equal(cgroup_ident_parse("", &id), -ENOENT);
	assert_int_equal(cgroup_ident_parse("garbage without colons\n", &id), -ENOENT);
	assert_int_equal(cgroup_ident_parse("0::/docker/" CID "\n", &id), 0);
	/* 63 hex digits, one short */
	assert_int_equal(cgroup_ident_parse("0::/docker/3f1e9a7c5b2d4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b"
					    "3c4d5e6f7a8b9c0d1e2\n",
					    &id),
			 -ENOENT);
	/* "kubepods-burstable.slice" is a QoS class, not a pod */
	assert_int_equal(cgroup_ident_parse("0::/kubepods.slice/kubepods-burstable.slice\n", &id),
			 -ENOENT);
}

/* v2 wins when it names something; otherwise the first v1 line that has a container */
static void test_line_choice(void **st)
{
	struct cgroup_ident id;

	assert_int_equal(cgroup_ident_parse("4:memory:/docker/" CID "\n"
					    "0::/kubepods/pod" UID "/" CID "\n",
					    &id),
			 0);
	assert_string_equal(id.pod_uid, UID);
	assert_int_equal(cgroup_ident_parse("5:cpu:/kubepods/pod" UID "\n"
					    "4:memory:/kubepods/pod" UID "/" CID "\n0::/\n",
					    &id),
			 0);
	assert_string_equal(id.pod_uid, UID);
	assert_string_equal(id.container_id, CID);
	/* no trailing newline */
	assert_int_equal(cgroup_ident_parse("0::/kubepods/besteffort/pod" UID "/" CID, &id), 0);
	assert_string_equal(id.container_id, CID);
}

/* cgroup_ident_read under a fake procfs root */
static void test_read(void **st)
{
	char root[] = "/tmp/o11y-cgroup-XXXXXX", dir[64], file[96];
	struct cgroup_ident id;
	FILE *f;

	assert_non_null(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/42", root);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(file, sizeof(file), "%s/cgroup", dir);
	f = fopen(file, "w");
	assert_non_null(f);
	fputs("0::/kubepods/burstable/pod" UID "/" CID "\n", f);
	fclose(f);
	assert_int_equal(cgroup_ident_read(root, 42, &id), 0);
	assert_string_equal(id.pod_uid, UID);
	assert_string_equal(id.container_id, CID);
	assert_int_equal(cgroup_ident_read(root, 43, &id), -ENOENT);
	unlink(file);
	rmdir(dir);
	rmdir(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_containerd), cmocka_unit_test(test_crio),
		cmocka_unit_test(test_docker),	   cmocka_unit_test(test_pod_forms),
		cmocka_unit_test(test_no_container), cmocka_unit_test(test_line_choice),
		cmocka_unit_test(test_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return true;
}

/*
 * A pod uid as kubelet writes it in a cgroup name: a UUID (8-4-4-4-12), with '_' for '-' under
 * the systemd driver, or the 32 hex digits of a static pod's manifest hash. Copied with dashes.
 */
static bool take_uid(const char *s, size_t n, char *out)
{
	if (n == 32) {
		if (!is_hex(s, n))
			return false;
	} else if (n == 36) {
		for (size_t i = 0; i < n; i++) {
			bool dash = i == 8 || i == 13 || i == 18 || i == 23;

			if (dash ? (s[i] != '-' && s[i] != '_') : !is_hex(s + i, 1))
				return false;
		}
	} else {
		return false;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = s[i] == '_' ? '-' : s[i];
	out[n] = '\0';
	return true;
}

static bool ends_with(const char *s, size_t n, const char *suffix, size_t *stem)
{
	size_t k = strlen(suffix);

	if (n < k || memcmp(s + n - k, suffix, k) != 0)
		return false;
	*stem = n - k;
	return true;
}

/*
 * "pod<uid>" (cgroupfs driver) or "kubepods[-<qos>]-pod<uid>.slice" (systemd driver). A
 * segment "kubepods-burstable.slice" names a QoS class, not a pod: no "-pod" in it.
 */
static bool seg_pod(const char *s, size_t n, char *out)
{
	size_t stem;
	const char *p;

	if (n > 3 && memcmp(s, "pod", 3) == 0)
		return take_uid(s + 3, n - 3, out);
	if (n < 8 || memcmp(s, "kubepods", 8) != 0 || !ends_with(s, n, ".slice", &stem))
		return false;
	for (p = s + stem; p > s + 4; p--)
		if (memcmp(p - 4, "-pod", 4) == 0)
			return take_uid(p, (size_t)(s + stem - p), out);
	return false;
}

/*
 * A container id segment: 64 hex digits, bare (cgroupfs driver, Docker's "/docker/<id>"),
 * "<runtime>-<id>.scope" (systemd driver) or "crio-<id>" (CRI-O, cgroupfs driver). conmon's
 * "crio-conmon-<id>.scope" is CRI-O's monitor process, not the container, and does not match.
 */
static bool seg_container(const char *s, size_t n, char *out)
{
	static const char *const prefixes[] = { "cri-containerd-", "crio-", "docker-", "libpod-",
						 "containerd-" };
	size_t stem;

	if (ends_with(s, n, ".scope", &stem))
		n = stem;
	/* CRI-O's cgroupfs driver names the cgroup "crio-<id>" without ".scope" */
	for (unsigned i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t k = strlen(prefixes[i]);

		if (n > k && memcmp(s, prefixes[i], k) == 0) {
			s += k;
			n -= k;
			break;
		}
	}
	if (n != 64 || !is_hex(s, n))
		return false;
	memcpy(out, s, 64);
	out[64] = '\0';
	return true;
}

/* One cgroup path, up to end. Returns true when a pod or a container was found. */
static bool parse_path(const char *path, const char *end, struct cgroup_ident *id)
{
	const char *s = path;

	memset(id, 0, sizeof(*id));
	while (s < end) {
		const char *e = memchr(s, '/', (size_t)(end - s));
		size_t n;

		if (!e)
			e = end;
		n = (size_t)(e - s);
		/*
		 * runc's systemd cgroupsPath form "slice:prefix:id", seen as a segment when
		 * containerd runs nested under a service (kind, some k3s-in-docker setups)
		 */
		if (n && memchr(s, ':', n)) {
			const char *c1 = memchr(s, ':', n), *c2 = memrchr(s, ':', n);

			seg_pod(s, (size_t)(c1 - s), id->pod_uid);
			seg_container(c2 + 1, (size_t)(e - c2 - 1), id->container_id);
		} else if (n) {
			/* the innermost (last) match wins: nested containers come after theirs */
			if (!seg_pod(s, n, id->pod_uid))
				seg_container(s, n, id->container_id);
		}
		s = e + 1;
	}
	return id->pod_uid[0] || id->container_id[0];
}

int cgroup_ident_parse(const char *text, struct cgroup_ident *out)
{
	struct cgroup_ident v1 = { 0 }, cur;
	bool have_v1 = false;
	const char *line = text;

	memset(out, 0, sizeof(*out));
	while (line && *line) {
		const char *eol = strchr(line, '\n');
		const char *end = eol ? eol : line + strlen(line);
		const char *c1 = memchr(line, ':', (size_t)(end - line));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;

		/* "hierarchy-ID:controller-list:cgroup-path"; v2 is "0::path" */
		if (c2 && parse_path(c2 + 1, end, &cur)) {
			if (c1 - line == 1 && line[0] == '0' && c2 == c1 + 1) {
				*out = cur;
				return 0;
			}
			/* prefer a v1 line that has both over one that has only a pod */
			if (!have_v1 || (!v1.container_id[0] && cur.container_id[0])) {
				v1 = cur;
				have_v1 = true;
			}
		}
		line = eol ? eol + 1 : NULL;
	}
	if (!have_v1)
		return -ENOENT;
	*out = v1;
	return 0;
}

int cgroup_ident_read(const char *procfs, uint32_t pid, struct cgroup_ident *out)
{
	char path[256], buf[8192];
	ssize_t n;
	int fd, err;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "%s/%u/cgroup", procfs, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	buf[n] = '\0';
	return cgroup_ident_parse(buf, out);
}

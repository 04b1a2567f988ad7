/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The container and Kubernetes pod a process runs in, read from its /proc/PID/cgroup. Knows the
 * paths kubelet and the container runtimes make: cgroup v1 and v2, the cgroupfs and systemd
 * cgroup drivers, containerd (k3s), CRI-O, Docker and Podman. Paths are matched segment by
 * segment, not by prefix, so a path seen from another cgroup namespace ("/../../kubepods/...")
 * or under a custom root parses the same.
 */
#ifndef O11Y_CGROUP_H
#define O11Y_CGROUP_H

#include <stdint.h>

#define CGROUP_CONTAINER_ID_MAX 65 /* 64 hex digits and the NUL */
#define CGROUP_POD_UID_MAX 37      /* 8-4-4-4-12 UUID, or 32 hex digits for static pods */

struct cgroup_ident {
	char container_id[CGROUP_CONTAINER_ID_MAX]; /* "" when not in a container we recognise */
	char pod_uid[CGROUP_POD_UID_MAX];           /* "" when not in a Kubernetes pod */
};

/*
 * Parses the text of a /proc/PID/cgroup file. The cgroup v2 line wins when it names a container
 * or a pod; otherwise the first v1 line that does. Returns 0 when a container or a pod was found,
 * -ENOENT when none was (out is then all empty).
 */
int cgroup_ident_parse(const char *text, struct cgroup_ident *out);
/* Reads and parses /proc/PID/cgroup under procfs ("/proc"). Returns 0, -ENOENT or -errno. */
int cgroup_ident_read(const char *procfs, uint32_t pid, struct cgroup_ident *out);

#endif

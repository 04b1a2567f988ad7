// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"

#define CACHE_SIZE 4096		       /* direct-mapped by pid */
#define RECHECK_NS (5 * 1000000000ULL) /* how long a cached entry is trusted */

static struct proc_info *cache;
static const struct cfg_str_list *filter;

uint64_t proc_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void proc_init(const struct cfg_str_list *exe_filter)
{
	filter = exe_filter;
	cache = calloc(CACHE_SIZE, sizeof(*cache));
}

void proc_fini(void)
{
	free(cache);
	cache = NULL;
}

/* starttime, field 22 of /proc/PID/stat; comm (field 2) into comm. 0 when gone. */
static uint64_t read_stat(uint32_t pid, char *comm, size_t size)
{
	char path[64], buf[1024], *lp, *rp;
	unsigned long long start = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	lp = strchr(buf, '(');
	rp = strrchr(buf, ')');
	if (!lp || !rp || rp < lp)
		return 0;
	snprintf(comm, size, "%.*s", (int)(rp - lp - 1), lp + 1);
	/* after ") " come fields 3..; starttime is the 20th of them */
	if (sscanf(rp + 2,
		   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
		   "%*d %*d %llu",
		   &start) != 1)
		return 0;
	return start;
}

/* OTEL_SERVICE_NAME=... from /proc/PID/environ */
static bool read_service_env(uint32_t pid, char *out, size_t size)
{
	static const char key[] = "OTEL_SERVICE_NAME=";
	char path[64], *buf;
	size_t cap = 1 << 16, len = 0;
	bool found = false;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/environ", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	buf = malloc(cap + 1);
	while (buf && len < cap && (n = read(fd, buf + len, cap - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (!buf)
		return false;
	buf[len] = '\0';
	for (size_t p = 0; p < len; p += strlen(buf + p) + 1) {
		if (strncmp(buf + p, key, sizeof(key) - 1) == 0 && buf[p + sizeof(key) - 1]) {
			snprintf(out, size, "%s", buf + p + sizeof(key) - 1);
			found = true;
			break;
		}
	}
	free(buf);
	return found;
}

static void fill(struct proc_info *p, uint32_t pid, uint64_t start, const char *comm)
{
	char path[64], exe[4096];
	ssize_t n;

	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->start_ticks = start;
	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n > 0) {
		const char *base;

		exe[n] = '\0';
		/* a replaced binary reads "/usr/sbin/nginx (deleted)" */
		if (n > 10 && strcmp(exe + n - 10, " (deleted)") == 0)
			exe[n - 10] = '\0';
		base = strrchr(exe, '/');
		snprintf(p->exe_name, sizeof(p->exe_name), "%.*s", (int)sizeof(p->exe_name) - 1,
			 base ? base + 1 : exe);
	} else {
		snprintf(p->exe_name, sizeof(p->exe_name), "%s", comm[0] ? comm : "unknown");
	}
	p->service_from_env = read_service_env(pid, p->service_name, sizeof(p->service_name));
	if (!p->service_from_env)
		snprintf(p->service_name, sizeof(p->service_name), "%s", p->exe_name);
	p->traced = !filter || filter->n == 0;
	for (unsigned i = 0; filter && i < filter->n; i++)
		if (strcmp(filter->v[i], p->exe_name) == 0 || strcmp(filter->v[i], comm) == 0)
			p->traced = true;
}

/* A clock good enough for RECHECK_NS, at a fraction of the cost: this runs per span. */
static uint64_t coarse_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

const struct proc_info *proc_lookup(uint32_t pid)
{
	static struct proc_info scratch;
	struct proc_info *p = cache ? &cache[pid % CACHE_SIZE] : &scratch;
	uint64_t now = coarse_mono_ns();
	char comm[64] = "";

	if (p->pid != pid || now > p->checked_ns + RECHECK_NS) {
		uint64_t start = read_stat(pid, comm, sizeof(comm));

		/* same process still there: keep what we know */
		if (!(p->pid == pid && start && start == p->start_ticks))
			fill(p, pid, start, comm);
		/* a process can be moved to another cgroup (a container started by exec) */
		if (start)
			cgroup_ident_read("/proc", pid, &p->cg);
		p->checked_ns = now;
	}
	return p->traced ? p : NULL;
}

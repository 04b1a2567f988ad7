/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Host metrics compatible with node_exporter 1.5 (Debian 12's prometheus-node-exporter): same
 * collector names, flags, metric names, types, labels and values, read from --path.procfs and
 * --path.sysfs so that unit tests can point them at fixtures.
 */
#ifndef O11Y_NODE_H
#define O11Y_NODE_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "prom.h"

struct node_config {
	char *procfs, *sysfs, *rootfs, *udev_data;
	char *textfile_dir;
	char *fs_mount_exclude, *fs_type_exclude;
	long long fs_mount_timeout_ms; /* the filesystem collector's deadline for all statfs calls */
	char *disk_exclude, *disk_include;
	char *netdev_exclude, *netdev_include;
	char *netclass_ignored;
	bool netdev_netlink; /* link statistics over rtnetlink (default), else /proc/net/dev */
	bool netclass_netlink; /* netclass values rtnetlink has too taken from it (default) */
	char *netstat_fields, *vmstat_fields;
	char *arp_exclude, *arp_include;
};

extern struct node_config node_cfg;
extern const struct opt_table node_opt_table;

/* One collector: writes whole families into b; returns 0 or -errno (success 0 for it). */
struct node_collector {
	const char *name;
	int (*collect)(struct prom_buf *b);
};

extern const struct node_collector node_collectors[];
extern const unsigned node_ncollectors;

/*
 * Resolves --collector.* flags and compiles the regexps; logs the enabled collectors.
 * Returns 0 or -EINVAL (a bad regexp), after logging what is wrong.
 */
int node_init(void);
void node_fini(void);
/* Index of a collector by name, or -1. */
int node_collector_index(const char *name);
bool node_collector_enabled(unsigned idx);
/*
 * Runs the collectors whose want[idx] is true (all enabled ones when want is NULL) and
 * appends node_scrape_collector_{duration_seconds,success}. Not reentrant: the /metrics
 * server calls it from one thread.
 */
int node_scrape(struct prom_buf *b, const bool *want);
/*
 * Counts node_scrape calls (0 before the first): collectors reading one source for several
 * collectors (the rtnetlink link dump) read it once per value of this.
 */
extern unsigned long node_scrape_gen;
/* Whether the last netclass collection took values from rtnetlink (else all from sysfs). */
extern bool node_netclass_used_netlink;

/* Helpers shared by the collectors. */
/* Joins root and a printf-formatted relative path into buf; returns buf. */
char *node_path(char *buf, size_t size, const char *root, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Reads a whole file into a malloc'ed NUL-terminated buffer; NULL and errno on failure. */
char *node_slurp(const char *path, size_t *len);
/* Reads a one-line file (newline stripped) into buf; returns 0 or -errno. */
int node_read_line(const char *path, char *buf, size_t size);
/* node_read_line relative to a directory fd (saves the path walk per attribute file). */
int node_read_line_at(int dirfd, const char *name, char *buf, size_t size);
/*
 * <procfs>/stat into a malloc'ed copy (*out); read once per node_scrape for the cpu and stat
 * collectors and the process metrics alike. Returns 0 or -errno.
 */
int node_read_stat(char **out);
/* Reads a file holding one integer; returns 0 or -errno. */
int node_read_ll(const char *path, long long *v);
/* Compiles a Go (RE2) regexp as POSIX ERE, translating \d \s \w; 0 or -EINVAL (logged). */
int node_regcomp(regex_t *re, const char *pattern, const char *what);
/* "mountpoint" with --path.rootfs stripped, like node_exporter's rootfsStripPrefix. */
const char *node_rootfs_strip(const char *path);

/* The collectors (one function each; the file names group them). */
int node_cpu_collect(struct prom_buf *b);
int node_stat_collect(struct prom_buf *b);
int node_loadavg_collect(struct prom_buf *b);
int node_meminfo_collect(struct prom_buf *b);
int node_vmstat_collect(struct prom_buf *b);
int node_diskstats_collect(struct prom_buf *b);
int node_filesystem_collect(struct prom_buf *b);
/* Tells the filesystem collector's statfs worker thread to exit (node_fini calls it). */
void node_fs_stop(void);
/* Frees what netclass and netdev keep between scrapes (node_fini calls it). */
void node_net_fini(void);
int node_netdev_collect(struct prom_buf *b);
int node_netclass_collect(struct prom_buf *b);
int node_netstat_collect(struct prom_buf *b);
int node_sockstat_collect(struct prom_buf *b);
int node_softnet_collect(struct prom_buf *b);
int node_arp_collect(struct prom_buf *b);
int node_udp_queues_collect(struct prom_buf *b);
int node_conntrack_collect(struct prom_buf *b);
int node_uname_collect(struct prom_buf *b);
int node_os_collect(struct prom_buf *b);
int node_time_collect(struct prom_buf *b);
int node_timex_collect(struct prom_buf *b);
int node_entropy_collect(struct prom_buf *b);
int node_filefd_collect(struct prom_buf *b);
int node_pressure_collect(struct prom_buf *b);
int node_textfile_collect(struct prom_buf *b);
int node_selinux_collect(struct prom_buf *b);
int node_thermal_zone_collect(struct prom_buf *b);
int node_hwmon_collect(struct prom_buf *b);

/* Compiled filters (node_init); NULL means "no filter". */
struct node_filters {
	regex_t *fs_mount_exclude, *fs_type_exclude;
	regex_t *disk_exclude, *disk_include;
	regex_t *netdev_exclude, *netdev_include;
	regex_t *netclass_ignored;
	regex_t *netstat_fields, *vmstat_fields;
	regex_t *arp_exclude, *arp_include;
};
extern struct node_filters node_filt;
/* True when s matches re (searching, like Go's MatchString). */
bool node_match(const regex_t *re, const char *s);

#endif

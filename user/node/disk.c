// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* diskstats collector: /proc/diskstats, plus udev's properties for node_disk_info. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"

#define SECTOR_SIZE 512.0
#define SECONDS_PER_TICK 0.001 /* the time fields count milliseconds */

struct disk {
	char name[64];
	unsigned major, minor;
	unsigned nf; /* fields after the name: 11, 15 (discards, 4.18) or 17 (flushes, 5.5) */
	double f[17];
};

/* One family per field: field index, scale, name, type, help. */
static const struct {
	int idx;
	double scale;
	const char *name, *type, *help;
} disk_fams[] = {
	{ 14, SECONDS_PER_TICK, "node_disk_discard_time_seconds_total", "counter",
	  "This is the total number of seconds spent by all discards." },
	{ 13, 1, "node_disk_discarded_sectors_total", "counter",
	  "The total number of sectors discarded successfully." },
	{ 11, 1, "node_disk_discards_completed_total", "counter",
	  "The total number of discards completed successfully." },
	{ 12, 1, "node_disk_discards_merged_total", "counter", "The total number of discards merged." },
	{ 16, SECONDS_PER_TICK, "node_disk_flush_requests_time_seconds_total", "counter",
	  "This is the total number of seconds spent by all flush requests." },
	{ 15, 1, "node_disk_flush_requests_total", "counter",
	  "The total number of flush requests completed successfully" },
	{ 8, 1, "node_disk_io_now", "gauge", "The number of I/Os currently in progress." },
	{ 9, SECONDS_PER_TICK, "node_disk_io_time_seconds_total", "counter",
	  "Total seconds spent doing I/Os." },
	{ 10, SECONDS_PER_TICK, "node_disk_io_time_weighted_seconds_total", "counter",
	  "The weighted # of seconds spent doing I/Os." },
	{ 2, SECTOR_SIZE, "node_disk_read_bytes_total", "counter",
	  "The total number of bytes read successfully." },
	{ 3, SECONDS_PER_TICK, "node_disk_read_time_seconds_total", "counter",
	  "The total number of seconds spent by all reads." },
	{ 0, 1, "node_disk_reads_completed_total", "counter",
	  "The total number of reads completed successfully." },
	{ 1, 1, "node_disk_reads_merged_total", "counter", "The total number of reads merged." },
	{ 7, SECONDS_PER_TICK, "node_disk_write_time_seconds_total", "counter",
	  "This is the total number of seconds spent by all writes." },
	{ 4, 1, "node_disk_writes_completed_total", "counter",
	  "The total number of writes completed successfully." },
	{ 5, 1, "node_disk_writes_merged_total", "counter", "The number of writes merged." },
	{ 6, SECTOR_SIZE, "node_disk_written_bytes_total", "counter",
	  "The total number of bytes written successfully." },
};

/* udev's database entry "E:KEY=VALUE" for a block device, or "" */
static void udev_props(const struct disk *d, char props[5][128])
{
	static const char *const keys[5] = { "ID_PATH=", "ID_WWN=", "ID_MODEL=",
					     "ID_SERIAL_SHORT=", "ID_REVISION=" };
	char path[4096], *text, *line, *save = NULL;

	for (int i = 0; i < 5; i++)
		props[i][0] = '\0';
	snprintf(path, sizeof(path), "%s/b%u:%u", node_cfg.udev_data ? node_cfg.udev_data : "",
		 d->major, d->minor);
	text = node_slurp(path, NULL);
	if (!text)
		return;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "E:", 2) != 0)
			continue;
		for (int i = 0; i < 5; i++)
			if (strncmp(line + 2, keys[i], strlen(keys[i])) == 0)
				snprintf(props[i], sizeof(props[i]), "%s",
					 line + 2 + strlen(keys[i]));
	}
	free(text);
}

int node_diskstats_collect(struct prom_buf *b)
{
	char path[4096], *text, *line, *save = NULL;
	struct disk *disks = NULL, *tmp;
	unsigned n = 0, cap = 0;
	const char *lbl[] = { "device", NULL, NULL };
	int err = 0;

	text = node_slurp(node_path(path, sizeof(path), node_cfg.procfs, "diskstats"), NULL);
	if (!text)
		return -errno;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct disk d = { 0 };
		int f;

		f = sscanf(line,
			   "%u %u %63s %lf %lf %lf %lf %lf %lf %lf %lf %lf %lf %lf %lf %lf %lf %lf "
			   "%lf %lf",
			   &d.major, &d.minor, d.name, &d.f[0], &d.f[1], &d.f[2], &d.f[3], &d.f[4],
			   &d.f[5], &d.f[6], &d.f[7], &d.f[8], &d.f[9], &d.f[10], &d.f[11], &d.f[12],
			   &d.f[13], &d.f[14], &d.f[15], &d.f[16]);
		if (f < 14)
			continue;
		d.nf = (unsigned)f - 3;
		if (node_match(node_filt.disk_exclude, d.name))
			continue;
		if (node_filt.disk_include && !node_match(node_filt.disk_include, d.name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			tmp = realloc(disks, cap * sizeof(*disks));
			if (!tmp) {
				err = -ENOMEM;
				goto out;
			}
			disks = tmp;
		}
		disks[n++] = d;
	}
	for (unsigned i = 0; i < sizeof(disk_fams) / sizeof(disk_fams[0]); i++) {
		bool fam = false;

		for (unsigned k = 0; k < n; k++) {
			if ((unsigned)disk_fams[i].idx >= disks[k].nf)
				continue;
			if (!fam)
				prom_family(b, disk_fams[i].name, disk_fams[i].type,
					    disk_fams[i].help);
			fam = true;
			lbl[1] = disks[k].name;
			prom_sample(b, disk_fams[i].name, lbl,
				    disks[k].f[disk_fams[i].idx] * disk_fams[i].scale);
		}
		if (i == 5 && n) {
			/* node_disk_info sorts between flush_requests_total and io_now */
			prom_family(b, "node_disk_info", "gauge", "Info of /sys/block/<block_device>.");
			for (unsigned k = 0; k < n; k++) {
				char maj[16], min[16], props[5][128];
				const char *il[] = { "device", disks[k].name, "major", maj,
						     "minor", min, "model", props[2],
						     "path", props[0], "revision", props[4],
						     "serial", props[3], "wwn", props[1],
						     NULL };

				snprintf(maj, sizeof(maj), "%u", disks[k].major);
				snprintf(min, sizeof(min), "%u", disks[k].minor);
				udev_props(&disks[k], props);
				prom_sample(b, "node_disk_info", il, 1);
			}
		}
	}
out:
	free(disks);
	free(text);
	return err;
}

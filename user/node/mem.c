// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* meminfo and vmstat collectors: /proc/meminfo, /proc/vmstat. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"

int node_meminfo_collect(struct prom_buf *b)
{
	char path[4096], *text, *line, *save = NULL;
	unsigned n = 0;

	text = node_slurp(node_path(path, sizeof(path), node_cfg.procfs, "meminfo"), NULL);
	if (!text)
		return -errno;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char key[128], name[192], help[256], unit[16] = "";
		char *open, *close;
		double v;
		int f;

		f = sscanf(line, "%127[^:]: %lf %15s", key, &v, unit);
		if (f < 2)
			continue;
		/* "Active(anon)" -> "Active_anon" */
		open = strchr(key, '(');
		close = open ? strchr(open, ')') : NULL;
		if (open && close) {
			*open = '_';
			memmove(close, close + 1, strlen(close + 1) + 1);
		}
		if (f == 3) {
			v *= 1024;
			strcat(key, "_bytes");
		}
		snprintf(name, sizeof(name), "node_memory_%s", key);
		snprintf(help, sizeof(help), "Memory information field %s.", key);
		prom_family(b, name, "gauge", help);
		prom_sample(b, name, NULL, v);
		n++;
	}
	free(text);
	return n ? 0 : -ENODATA;
}

int node_vmstat_collect(struct prom_buf *b)
{
	char path[4096], *text, *line, *save = NULL;

	text = node_slurp(node_path(path, sizeof(path), node_cfg.procfs, "vmstat"), NULL);
	if (!text)
		return -errno;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char key[128], name[160], help[192];
		double v;

		if (sscanf(line, "%127s %lf", key, &v) != 2)
			continue;
		if (node_filt.vmstat_fields && !node_match(node_filt.vmstat_fields, key))
			continue;
		snprintf(name, sizeof(name), "node_vmstat_%s", key);
		snprintf(help, sizeof(help), "/proc/vmstat information field %s.", key);
		prom_family(b, name, "untyped", help);
		prom_sample(b, name, NULL, v);
	}
	free(text);
	return 0;
}

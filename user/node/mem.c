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
		char name[192], help[256], *key = name + 12; /* "node_memory_" */
		char *colon = strchr(line, ':'), *num, *end, *open, *close;
		size_t klen;
		double v;

		/* "Key:   123 kB" or "Key:   123" */
		if (!colon || colon == line || colon - line > 127)
			continue;
		num = colon + 1;
		v = strtod(num, &end);
		if (end == num)
			continue;
		klen = (size_t)(colon - line);
		memcpy(name, "node_memory_", 12);
		memcpy(key, line, klen);
		key[klen] = '\0';
		/* "Active(anon)" -> "Active_anon" */
		open = strchr(key, '(');
		close = open ? strchr(open, ')') : NULL;
		if (open && close) {
			*open = '_';
			memmove(close, close + 1, strlen(close + 1) + 1);
		}
		end += strspn(end, " \t");
		if (*end) {
			v *= 1024;
			strcat(key, "_bytes");
		}
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
		char name[160], help[192], *key = name + 12; /* "node_vmstat_" */
		size_t klen = strcspn(line, " \t");
		char *end;
		double v;

		if (!klen || klen > 127)
			continue;
		v = strtod(line + klen, &end);
		if (end == line + klen)
			continue;
		memcpy(name, "node_vmstat_", 12);
		memcpy(key, line, klen);
		key[klen] = '\0';
		if (node_filt.vmstat_fields && !node_match(node_filt.vmstat_fields, key))
			continue;
		snprintf(help, sizeof(help), "/proc/vmstat information field %s.", key);
		prom_family(b, name, "untyped", help);
		prom_sample(b, name, NULL, v);
	}
	free(text);
	return 0;
}

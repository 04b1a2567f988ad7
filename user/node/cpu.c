// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cpu, stat and loadavg collectors: /proc/stat and /proc/loadavg. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"

/* USER_HZ: /proc/stat counts in 1/100 s on every Linux architecture node_exporter supports */
#define USER_HZ 100.0

static const char *const cpu_modes[] = { "user", "nice", "system", "idle", "iowait",
					 "irq",	 "softirq", "steal" };

/* The per-CPU lines "cpuN user nice system idle iowait irq softirq steal guest guest_nice". */
struct cpu_line {
	char id[16];
	double v[10];
};

int node_read_stat(char **out)
{
	static char *text;
	static size_t len;
	static unsigned long gen;
	char path[4096];

	if (!node_scrape_gen || gen != node_scrape_gen || !text) {
		free(text);
		gen = 0;
		text = node_slurp(node_path(path, sizeof(path), node_cfg.procfs, "stat"), &len);
		if (!text)
			return -errno;
		gen = node_scrape_gen;
	}
	*out = malloc(len + 1);
	if (!*out)
		return -ENOMEM;
	memcpy(*out, text, len + 1);
	return 0;
}

int node_cpu_collect(struct prom_buf *b)
{
	struct cpu_line *cpus = NULL, *tmp;
	unsigned n = 0, cap = 0;
	char *text, *line, *save = NULL;
	const char *lbl[] = { "cpu", NULL, "mode", NULL, NULL };
	int err;

	err = node_read_stat(&text);
	if (err)
		return err;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long t[10] = { 0 };
		unsigned cpu;

		if (strncmp(line, "cpu", 3) != 0 || line[3] < '0' || line[3] > '9')
			continue;
		if (sscanf(line + 3, "%u %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &cpu,
			   &t[0], &t[1], &t[2], &t[3], &t[4], &t[5], &t[6], &t[7], &t[8],
			   &t[9]) < 5)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			tmp = realloc(cpus, cap * sizeof(*cpus));
			if (!tmp) {
				err = -ENOMEM;
				goto out;
			}
			cpus = tmp;
		}
		snprintf(cpus[n].id, sizeof(cpus[n].id), "%u", cpu);
		for (int i = 0; i < 10; i++)
			cpus[n].v[i] = (double)t[i] / USER_HZ;
		n++;
	}
	if (!n) {
		err = -ENODATA;
		goto out;
	}
	prom_family(b, "node_cpu_guest_seconds_total", "counter",
		    "Seconds the CPUs spent in guests (VMs) for each mode.");
	for (unsigned c = 0; c < n; c++) {
		lbl[1] = cpus[c].id;
		lbl[3] = "nice";
		prom_sample(b, "node_cpu_guest_seconds_total", lbl, cpus[c].v[9]);
		lbl[3] = "user";
		prom_sample(b, "node_cpu_guest_seconds_total", lbl, cpus[c].v[8]);
	}
	prom_family(b, "node_cpu_seconds_total", "counter", "Seconds the CPUs spent in each mode.");
	for (unsigned c = 0; c < n; c++) {
		lbl[1] = cpus[c].id;
		for (unsigned m = 0; m < 8; m++) {
			lbl[3] = cpu_modes[m];
			prom_sample(b, "node_cpu_seconds_total", lbl, cpus[c].v[m]);
		}
	}
out:
	free(cpus);
	free(text);
	return err;
}

int node_stat_collect(struct prom_buf *b)
{
	unsigned long long intr = 0, ctxt = 0, btime = 0, forks = 0, running = 0, blocked = 0;
	char *text, *line, *save = NULL;
	unsigned found = 0;
	int err;

	err = node_read_stat(&text);
	if (err)
		return err;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "intr %llu", &intr) == 1 || sscanf(line, "ctxt %llu", &ctxt) == 1 ||
		    sscanf(line, "btime %llu", &btime) == 1 ||
		    sscanf(line, "processes %llu", &forks) == 1 ||
		    sscanf(line, "procs_running %llu", &running) == 1 ||
		    sscanf(line, "procs_blocked %llu", &blocked) == 1)
			found++;
	}
	free(text);
	if (found < 6)
		return -ENODATA;
	prom_family(b, "node_boot_time_seconds", "gauge", "Node boot time, in unixtime.");
	prom_sample(b, "node_boot_time_seconds", NULL, (double)btime);
	prom_family(b, "node_context_switches_total", "counter", "Total number of context switches.");
	prom_sample(b, "node_context_switches_total", NULL, (double)ctxt);
	prom_family(b, "node_forks_total", "counter", "Total number of forks.");
	prom_sample(b, "node_forks_total", NULL, (double)forks);
	prom_family(b, "node_intr_total", "counter", "Total number of interrupts serviced.");
	prom_sample(b, "node_intr_total", NULL, (double)intr);
	prom_family(b, "node_procs_blocked", "gauge",
		    "Number of processes blocked waiting for I/O to complete.");
	prom_sample(b, "node_procs_blocked", NULL, (double)blocked);
	prom_family(b, "node_procs_running", "gauge", "Number of processes in runnable state.");
	prom_sample(b, "node_procs_running", NULL, (double)running);
	return 0;
}

int node_loadavg_collect(struct prom_buf *b)
{
	char path[4096], line[256];
	double l1, l5, l15;
	int err;

	err = node_read_line(node_path(path, sizeof(path), node_cfg.procfs, "loadavg"), line,
			     sizeof(line));
	if (err)
		return err;
	if (sscanf(line, "%lf %lf %lf", &l1, &l5, &l15) != 3)
		return -EINVAL;
	prom_family(b, "node_load1", "gauge", "1m load average.");
	prom_sample(b, "node_load1", NULL, l1);
	prom_family(b, "node_load15", "gauge", "15m load average.");
	prom_sample(b, "node_load15", NULL, l15);
	prom_family(b, "node_load5", "gauge", "5m load average.");
	prom_sample(b, "node_load5", NULL, l5);
	return 0;
}

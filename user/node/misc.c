// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Small collectors: uname, os, time, timex, entropy, filefd, pressure, textfile, selinux,
 * thermal_zone and hwmon.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timex.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "node.h"

int node_uname_collect(struct prom_buf *b)
{
	struct utsname u;

	if (uname(&u))
		return -errno;
	prom_family(b, "node_uname_info", "gauge",
		    "Labeled system information as provided by the uname system call.");
	prom_sample(b, "node_uname_info",
		    (const char *const[]){ "domainname", u.domainname, "machine", u.machine,
					   "nodename", u.nodename, "release", u.release,
					   "sysname", u.sysname, "version", u.version, NULL },
		    1);
	return 0;
}

/* ---- os ---- */

/* os-release(5) value: optionally quoted with " or ', backslash escapes inside quotes */
static void unquote(char *v)
{
	char q = v[0], *w = v;

	if (q != '"' && q != '\'') {
		v[strcspn(v, "\n")] = '\0';
		return;
	}
	for (char *r = v + 1; *r && *r != q; r++) {
		if (*r == '\\' && r[1])
			r++;
		*w++ = *r;
	}
	*w = '\0';
}

int node_os_collect(struct prom_buf *b)
{
	static const char *const keys[] = { "BUILD_ID", "ID",	 "ID_LIKE",    "IMAGE_ID",
					    "IMAGE_VERSION", "NAME", "PRETTY_NAME", "VARIANT",
					    "VARIANT_ID", "VERSION", "VERSION_CODENAME",
					    "VERSION_ID" };
	static const char *const labels[] = { "build_id", "id",	    "id_like",	  "image_id",
					      "image_version", "name", "pretty_name", "variant",
					      "variant_id", "version", "version_codename",
					      "version_id" };
	char vals[12][256] = { { 0 } }, path[4096], *text, *line, *save = NULL;
	const char *lbl[25];
	double version = 0;

	text = node_slurp(node_path(path, sizeof(path), node_cfg.rootfs, "etc/os-release"), NULL);
	if (!text && errno == ENOENT)
		text = node_slurp(node_path(path, sizeof(path), node_cfg.rootfs,
					    "usr/lib/os-release"),
				  NULL);
	if (!text)
		return -errno;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');

		if (!eq)
			continue;
		*eq = '\0';
		for (unsigned i = 0; i < 12; i++) {
			if (strcmp(line, keys[i]) == 0) {
				unquote(eq + 1);
				snprintf(vals[i], sizeof(vals[i]), "%s", eq + 1);
			}
		}
	}
	free(text);
	for (unsigned i = 0; i < 12; i++) {
		lbl[2 * i] = labels[i];
		lbl[2 * i + 1] = vals[i];
	}
	lbl[24] = NULL;
	prom_family(b, "node_os_info", "gauge",
		    "A metric with a constant '1' value labeled by build_id, id, id_like, image_id, "
		    "image_version, name, pretty_name, variant, variant_id, version, "
		    "version_codename, version_id.");
	prom_sample(b, "node_os_info", lbl, 1);
	/* major.minor of VERSION_ID: ^[0-9]+\.?[0-9]* */
	if (isdigit((unsigned char)vals[11][0])) {
		char mm[64];
		size_t n = strspn(vals[11], "0123456789");

		if (vals[11][n] == '.')
			n += 1 + strspn(vals[11] + n + 1, "0123456789");
		snprintf(mm, sizeof(mm), "%.*s", (int)n, vals[11]);
		version = strtod(mm, NULL);
	}
	prom_family(b, "node_os_version", "gauge",
		    "Metric containing the major.minor part of the OS version.");
	prom_sample(b, "node_os_version",
		    (const char *const[]){ "id", vals[1], "id_like", vals[2], "name", vals[5], NULL },
		    version);
	return 0;
}

/* ---- time ---- */

int node_time_collect(struct prom_buf *b)
{
	char dir[4096], path[4400], line[512], dev[16];
	struct timespec ts;
	struct tm tm;
	time_t now;
	struct dirent *de;
	DIR *d;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = ts.tv_sec;
	localtime_r(&now, &tm);
	prom_family(b, "node_time_seconds", "gauge", "System time in seconds since epoch (1970).");
	prom_sample(b, "node_time_seconds", NULL, (double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
	prom_family(b, "node_time_zone_offset_seconds", "gauge", "System time zone offset in seconds.");
	prom_sample(b, "node_time_zone_offset_seconds",
		    (const char *const[]){ "time_zone", tm.tm_zone, NULL }, (double)tm.tm_gmtoff);

	d = opendir(node_path(dir, sizeof(dir), node_cfg.sysfs, "devices/system/clocksource"));
	if (!d)
		return -errno;
	for (int pass = 0; pass < 2; pass++) {
		const char *name = pass ? "node_time_clocksource_current_info" :
					  "node_time_clocksource_available_info";
		bool fam = false;

		rewinddir(d);
		while ((de = readdir(d))) {
			char *tok, *save = NULL;

			if (strncmp(de->d_name, "clocksource", 11) != 0 || !de->d_name[11])
				continue;
			snprintf(dev, sizeof(dev), "%s", de->d_name + 11);
			snprintf(path, sizeof(path), "%s/%s/%s", dir, de->d_name,
				 pass ? "current_clocksource" : "available_clocksource");
			if (node_read_line(path, line, sizeof(line)))
				continue;
			for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
				if (!fam)
					prom_family(b, name, "gauge",
						    pass ? "Current clocksource read from "
							   "'/sys/devices/system/clocksource'." :
							   "Available clocksources read from "
							   "'/sys/devices/system/clocksource'.");
				fam = true;
				prom_sample(b, name,
					    (const char *const[]){ "clocksource", tok, "device",
								   dev, NULL },
					    1);
			}
		}
	}
	closedir(d);
	return 0;
}

/* ---- timex ---- */

int node_timex_collect(struct prom_buf *b)
{
	const double ppm16frac = 1000000.0 * 65536.0;
	struct timex t = { 0 };
	double div;
	int st;

	st = adjtimex(&t);
	if (st < 0)
		return -errno;
	div = t.status & STA_NANO ? 1e9 : 1e6;
	static const char *const g = "gauge", *const c = "counter";
	const struct {
		const char *name, *type, *help;
		double v;
	} m[] = {
		{ "estimated_error_seconds", g, "Estimated error in seconds.", (double)t.esterror / 1e6 },
		{ "frequency_adjustment_ratio", g, "Local clock frequency adjustment.",
		  1 + (double)t.freq / ppm16frac },
		{ "loop_time_constant", g, "Phase-locked loop time constant.", (double)t.constant },
		{ "maxerror_seconds", g, "Maximum error in seconds.", (double)t.maxerror / 1e6 },
		{ "offset_seconds", g, "Time offset in between local system and reference clock.",
		  (double)t.offset / div },
		{ "pps_calibration_total", c, "Pulse per second count of calibration intervals.",
		  (double)t.calcnt },
		{ "pps_error_total", c, "Pulse per second count of calibration errors.",
		  (double)t.errcnt },
		{ "pps_frequency_hertz", g, "Pulse per second frequency.", (double)t.ppsfreq / ppm16frac },
		{ "pps_jitter_seconds", g, "Pulse per second jitter.", (double)t.jitter / div },
		{ "pps_jitter_total", c, "Pulse per second count of jitter limit exceeded events.",
		  (double)t.jitcnt },
		{ "pps_shift_seconds", g, "Pulse per second interval duration.", (double)t.shift },
		{ "pps_stability_exceeded_total", c,
		  "Pulse per second count of stability limit exceeded events.", (double)t.stbcnt },
		{ "pps_stability_hertz", g,
		  "Pulse per second stability, average of recent frequency changes.",
		  (double)t.stabil / ppm16frac },
		{ "status", g, "Value of the status array bits.", (double)t.status },
		{ "sync_status", g, "Is clock synchronized to a reliable server (1 = yes, 0 = no).",
		  st == TIME_ERROR ? 0.0 : 1.0 },
		{ "tai_offset_seconds", g, "International Atomic Time (TAI) offset.", (double)t.tai },
		{ "tick_seconds", g, "Seconds between clock ticks.", (double)t.tick / 1e6 },
	};
	for (unsigned i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		char name[64];

		snprintf(name, sizeof(name), "node_timex_%s", m[i].name);
		prom_family(b, name, m[i].type, m[i].help);
		prom_sample(b, name, NULL, m[i].v);
	}
	return 0;
}

/* ---- entropy, filefd ---- */

int node_entropy_collect(struct prom_buf *b)
{
	char path[4096];
	long long avail, pool;
	int err;

	err = node_read_ll(node_path(path, sizeof(path), node_cfg.procfs,
				     "sys/kernel/random/entropy_avail"),
			   &avail);
	if (!err)
		err = node_read_ll(node_path(path, sizeof(path), node_cfg.procfs,
					     "sys/kernel/random/poolsize"),
				   &pool);
	if (err)
		return err;
	prom_family(b, "node_entropy_available_bits", "gauge", "Bits of available entropy.");
	prom_sample(b, "node_entropy_available_bits", NULL, (double)avail);
	prom_family(b, "node_entropy_pool_size_bits", "gauge", "Bits of entropy pool.");
	prom_sample(b, "node_entropy_pool_size_bits", NULL, (double)pool);
	return 0;
}

int node_filefd_collect(struct prom_buf *b)
{
	char path[4096], line[128];
	unsigned long long alloc, unused, max;
	int err;

	err = node_read_line(node_path(path, sizeof(path), node_cfg.procfs, "sys/fs/file-nr"), line,
			     sizeof(line));
	if (err)
		return err;
	if (sscanf(line, "%llu %llu %llu", &alloc, &unused, &max) != 3)
		return -EINVAL;
	prom_family(b, "node_filefd_allocated", "gauge", "File descriptor statistics: allocated.");
	prom_sample(b, "node_filefd_allocated", NULL, (double)alloc);
	prom_family(b, "node_filefd_maximum", "gauge", "File descriptor statistics: maximum.");
	prom_sample(b, "node_filefd_maximum", NULL, (double)max);
	return 0;
}

/* ---- pressure ---- */

int node_pressure_collect(struct prom_buf *b)
{
	static const struct {
		const char *res, *what, *kind, *help;
	} m[] = {
		{ "cpu", "some", "waiting", "Total time in seconds that processes have waited for CPU time" },
		{ "io", "some", "waiting", "Total time in seconds that processes have waited due to IO congestion" },
		{ "io", "full", "stalled", "Total time in seconds no process could make progress due to IO congestion" },
		{ "memory", "some", "waiting", "Total time in seconds that processes have waited for memory" },
		{ "memory", "full", "stalled", "Total time in seconds no process could make progress due to memory congestion" },
	};
	double vals[5];
	char *text = NULL;
	int err = 0;

	for (unsigned i = 0; i < 5 && !err; i++) {
		char path[4096], *p, key[16];
		unsigned long long total;

		/* io and memory have "some" and "full" lines in one file: read it once */
		if (!i || strcmp(m[i].res, m[i - 1].res) != 0) {
			free(text);
			text = node_slurp(node_path(path, sizeof(path), node_cfg.procfs,
						    "pressure/%s", m[i].res),
					  NULL);
			if (!text) {
				err = -errno;
				break;
			}
		}
		snprintf(key, sizeof(key), "%s ", m[i].what);
		p = strstr(text, key);
		p = p ? strstr(p, "total=") : NULL;
		if (!p || sscanf(p, "total=%llu", &total) != 1) {
			err = -EINVAL;
			break;
		}
		/* microseconds, divided twice like node_exporter so the doubles agree */
		vals[i] = (double)total / 1000.0 / 1000.0;
	}
	free(text);
	if (err)
		return err;
	for (unsigned i = 0; i < 5; i++) {
		char name[96];

		snprintf(name, sizeof(name), "node_pressure_%s_%s_seconds_total", m[i].res, m[i].kind);
		prom_family(b, name, "counter", m[i].help);
		prom_sample(b, name, NULL, vals[i]);
	}
	return 0;
}

/* ---- textfile ---- */

/*
 * Checks one *.prom file the way node_exporter refuses them: every line is blank, a comment or
 * "name[{labels}] value" without a client-side timestamp.
 */
static bool textfile_valid(const char *text)
{
	for (const char *l = text; *l;) {
		const char *e = strchr(l, '\n'), *p = l;
		size_t n = e ? (size_t)(e - l) : strlen(l);
		int fields = 0;
		bool in_q = false;

		while (p < l + n && isspace((unsigned char)*p))
			p++;
		if (p < l + n && *p != '#') {
			if (!isalpha((unsigned char)*p) && *p != '_' && *p != ':')
				return false;
			/* count whitespace-separated fields outside the label braces/quotes */
			for (const char *q = p; q < l + n;) {
				while (q < l + n && (*q == ' ' || *q == '\t'))
					q++;
				if (q >= l + n)
					break;
				fields++;
				for (; q < l + n && (in_q || (*q != ' ' && *q != '\t')); q++) {
					if (*q == '\\' && in_q)
						q++;
					else if (*q == '"')
						in_q = !in_q;
					else if (*q == '{' && !in_q)
						for (; q < l + n && *q != '}'; q++)
							if (*q == '"')
								for (q++; q < l + n && *q != '"'; q++)
									if (*q == '\\')
										q++;
				}
			}
			if (fields != 2)
				return false;
		}
		l += n + (e ? 1 : 0);
	}
	return true;
}

int node_textfile_collect(struct prom_buf *b)
{
	const char *dir = node_cfg.textfile_dir;
	char path[4096];
	struct dirent **ents = NULL;
	bool error = false;
	int n;
	struct {
		char path[512];
		double mtime;
	} ok[64];
	unsigned nok = 0;

	if (!dir || !*dir)
		return 0;
	n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0) {
		error = true;
		n = 0;
	}
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		size_t len = strlen(name);
		struct stat st;
		char *text;

		if (len < 6 || strcmp(name + len - 5, ".prom") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		text = node_slurp(path, &len);
		if (!text || stat(path, &st) || !textfile_valid(text)) {
			error = true;
			free(text);
			continue;
		}
		prom_append(b, text, len);
		if (len && text[len - 1] != '\n')
			prom_append(b, "\n", 1);
		free(text);
		if (nok < 64) {
			snprintf(ok[nok].path, sizeof(ok[nok].path), "%.511s", path);
			ok[nok++].mtime = (double)st.st_mtim.tv_sec;
		}
	}
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	if (nok) {
		prom_family(b, "node_textfile_mtime_seconds", "gauge",
			    "Unixtime mtime of textfiles successfully read.");
		for (unsigned i = 0; i < nok; i++)
			prom_sample(b, "node_textfile_mtime_seconds",
				    (const char *const[]){ "file", ok[i].path, NULL }, ok[i].mtime);
	}
	prom_family(b, "node_textfile_scrape_error", "gauge",
		    "1 if there was an error opening or reading a file, 0 otherwise");
	prom_sample(b, "node_textfile_scrape_error", NULL, error);
	return 0;
}

/* ---- selinux ---- */

int node_selinux_collect(struct prom_buf *b)
{
	char path[4096];
	long long enforce;

	if (node_read_ll(node_path(path, sizeof(path), node_cfg.sysfs, "fs/selinux/enforce"),
			 &enforce)) {
		prom_family(b, "node_selinux_enabled", "gauge",
			    "SELinux is enabled, 1 is true, 0 is false");
		prom_sample(b, "node_selinux_enabled", NULL, 0);
		return 0;
	}
	prom_family(b, "node_selinux_current_mode", "gauge",
		    "SELinux current mode, -1 is disabled, 0 is permissive, 1 is enforcing");
	prom_sample(b, "node_selinux_current_mode", NULL, (double)enforce);
	prom_family(b, "node_selinux_enabled", "gauge", "SELinux is enabled, 1 is true, 0 is false");
	prom_sample(b, "node_selinux_enabled", NULL, 1);
	return 0;
}

/* ---- thermal_zone, hwmon ---- */

int node_thermal_zone_collect(struct prom_buf *b)
{
	char dir[4096], path[4400], type[128];
	struct dirent *de;
	bool fam = false;
	long long temp;
	DIR *d;

	d = opendir(node_path(dir, sizeof(dir), node_cfg.sysfs, "class/thermal"));
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "thermal_zone", 12) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s/type", dir, de->d_name);
		if (node_read_line(path, type, sizeof(type)))
			continue;
		snprintf(path, sizeof(path), "%s/%s/temp", dir, de->d_name);
		if (node_read_ll(path, &temp))
			continue;
		if (!fam)
			prom_family(b, "node_thermal_zone_temp", "gauge",
				    "Zone temperature in Celsius");
		fam = true;
		prom_sample(b, "node_thermal_zone_temp",
			    (const char *const[]){ "type", type, "zone", de->d_name + 12, NULL },
			    (double)temp / 1000.0);
	}
	closedir(d);
	return 0;
}

/* node_exporter's cleanMetricName: lower case, [^a-z0-9:_] -> '_', trimmed of '_' */
static void clean_name(char *s)
{
	char *w = s, *start;

	for (char *r = s; *r; r++) {
		char c = (char)tolower((unsigned char)*r);

		*w++ = isalnum((unsigned char)c) || c == ':' || c == '_' ? c : '_';
	}
	*w = '\0';
	while (w > s && w[-1] == '_')
		*--w = '\0';
	for (start = s; *start == '_'; start++)
		;
	memmove(s, start, strlen(start) + 1);
}

/* hwmon chip name: "<device type>_<device name>" from the device link, else the name file */
static void hwmon_chip(const char *dir, const char *ent, char *chip, size_t size)
{
	char path[4400], real[4096], *base, *type;

	snprintf(path, sizeof(path), "%s/%s/device", dir, ent);
	if (realpath(path, real)) {
		base = strrchr(real, '/');
		*base++ = '\0';
		type = strrchr(real, '/');
		type = type ? type + 1 : real;
		clean_name(base);
		clean_name(type);
		if (*type && *base) {
			snprintf(chip, size, "%.120s_%.120s", type, base);
			return;
		}
		if (*base) {
			snprintf(chip, size, "%s", base);
			return;
		}
	}
	snprintf(path, sizeof(path), "%s/%s/name", dir, ent);
	if (!node_read_line(path, chip, size) && *chip) {
		clean_name(chip);
		if (*chip)
			return;
	}
	snprintf(chip, size, "%s", ent);
	clean_name(chip);
}

/* Temperatures only: node_hwmon_temp_celsius{chip,sensor} from temp*_input. */
int node_hwmon_collect(struct prom_buf *b)
{
	char dir[4096], sub[4400], path[4700], chip[256];
	struct dirent *de, *se;
	bool fam = false;
	DIR *d, *sd;

	d = opendir(node_path(dir, sizeof(dir), node_cfg.sysfs, "class/hwmon"));
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		hwmon_chip(dir, de->d_name, chip, sizeof(chip));
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		sd = opendir(sub);
		if (!sd)
			continue;
		while ((se = readdir(sd))) {
			char sensor[64];
			long long v;
			size_t len = strlen(se->d_name);

			if (strncmp(se->d_name, "temp", 4) != 0 || len < 11 ||
			    strcmp(se->d_name + len - 6, "_input") != 0)
				continue;
			snprintf(sensor, sizeof(sensor), "%.*s", (int)(len - 6), se->d_name);
			snprintf(path, sizeof(path), "%s/%s", sub, se->d_name);
			if (node_read_ll(path, &v))
				continue;
			if (!fam)
				prom_family(b, "node_hwmon_temp_celsius", "gauge",
					    "Hardware monitor for temperature (input)");
			fam = true;
			prom_sample(b, "node_hwmon_temp_celsius",
				    (const char *const[]){ "chip", chip, "sensor", sensor, NULL },
				    (double)v / 1000.0);
		}
		closedir(sd);
	}
	closedir(d);
	return 0;
}

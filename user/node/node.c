// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The node collectors' registry, their flags (node_exporter's names) and the helpers they share.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "node.h"

struct node_config node_cfg;
struct node_filters node_filt;
unsigned long node_scrape_gen;

/* node_exporter's collectors that this agent implements, in node_exporter's (sorted) order. */
const struct node_collector node_collectors[] = {
	{ "arp", node_arp_collect },
	{ "conntrack", node_conntrack_collect },
	{ "cpu", node_cpu_collect },
	{ "diskstats", node_diskstats_collect },
	{ "entropy", node_entropy_collect },
	{ "filefd", node_filefd_collect },
	{ "filesystem", node_filesystem_collect },
	{ "hwmon", node_hwmon_collect },
	{ "loadavg", node_loadavg_collect },
	{ "meminfo", node_meminfo_collect },
	{ "netclass", node_netclass_collect },
	{ "netdev", node_netdev_collect },
	{ "netstat", node_netstat_collect },
	{ "os", node_os_collect },
	{ "pressure", node_pressure_collect },
	{ "selinux", node_selinux_collect },
	{ "sockstat", node_sockstat_collect },
	{ "softnet", node_softnet_collect },
	{ "stat", node_stat_collect },
	{ "textfile", node_textfile_collect },
	{ "thermal_zone", node_thermal_zone_collect },
	{ "time", node_time_collect },
	{ "timex", node_timex_collect },
	{ "udp_queues", node_udp_queues_collect },
	{ "uname", node_uname_collect },
	{ "vmstat", node_vmstat_collect },
};
const unsigned node_ncollectors = sizeof(node_collectors) / sizeof(node_collectors[0]);
#define NCOLL (sizeof(node_collectors) / sizeof(node_collectors[0]))

/* node_exporter 1.5 collectors this agent does not have: --collector.X is refused, --no-... accepted */
static const char *const unimplemented[] = {
	"bcache",    "bonding",	 "btrfs",	   "buddyinfo", "cgroups",	"cpufreq",
	"devstat",   "dmi",	 "drbd",	   "drm",	"edac",		"ethtool",
	"fibrechannel", "infiniband", "interrupts", "ipvs",	"ksmd",		"lnstat",
	"logind",    "mdadm",	 "meminfo_numa",   "mountstats", "network_route", "nfs",
	"nfsd",	     "ntp",	 "nvme",	   "perf",	"powersupplyclass", "processes",
	"qdisc",     "rapl",	 "runit",	   "schedstat", "slabinfo",	"supervisord",
	"sysctl",    "systemd",	 "tapestats",	   "tcpstat",	"wifi",		"xfs",
	"zfs",	     "zoneinfo", NULL,
};

static signed char explicit_state[NCOLL]; /* -1 unset, 0 --no-collector.X, 1 --collector.X */
static bool enabled[NCOLL];
static bool disable_defaults;

/* Flags with a value under "collector.", by key. */
static const struct {
	const char *key;
	char **dst;
} str_flags[] = {
	{ "collector.textfile.directory", &node_cfg.textfile_dir },
	{ "collector.filesystem.mount-points-exclude", &node_cfg.fs_mount_exclude },
	{ "collector.filesystem.fs-types-exclude", &node_cfg.fs_type_exclude },
	{ "collector.diskstats.device-exclude", &node_cfg.disk_exclude },
	{ "collector.diskstats.device-include", &node_cfg.disk_include },
	{ "collector.netdev.device-exclude", &node_cfg.netdev_exclude },
	{ "collector.netdev.device-include", &node_cfg.netdev_include },
	{ "collector.netclass.ignored-devices", &node_cfg.netclass_ignored },
	{ "collector.netstat.fields", &node_cfg.netstat_fields },
	{ "collector.vmstat.fields", &node_cfg.vmstat_fields },
	{ "collector.arp.device-exclude", &node_cfg.arp_exclude },
	{ "collector.arp.device-include", &node_cfg.arp_include },
};
#define NSTR (sizeof(str_flags) / sizeof(str_flags[0]))

/* node_exporter's defaults (Debian 12's build) */
static const char *const str_defaults[NSTR] = {
	"/var/lib/prometheus/node-exporter",
	"^/(dev|proc|run|sys|mnt|media|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)",
	"^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|"
	"iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|"
	"sysfs|tracefs)$",
	"^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$",
	NULL,
	"^lo$",
	NULL,
	"^$",
	"^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|"
	"TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts)|Tcp_(ActiveOpens|InSegs|OutSegs|"
	"OutRsts|PassiveOpens|RetransSegs|CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|"
	"RcvbufErrors|SndbufErrors))$",
	"^(oom_kill|pgpg|pswp|pg.*fault).*",
	NULL,
	NULL,
};

static bool str_given[NSTR];

int node_collector_index(const char *name)
{
	for (unsigned i = 0; i < NCOLL; i++)
		if (strcmp(node_collectors[i].name, name) == 0)
			return (int)i;
	return -1;
}

bool node_collector_enabled(unsigned idx)
{
	return idx < NCOLL && enabled[idx];
}

static bool is_unimplemented(const char *name)
{
	for (unsigned i = 0; unimplemented[i]; i++)
		if (strcmp(unimplemented[i], name) == 0)
			return true;
	return false;
}

/* Parses a Go duration like "5s", "500ms", "1m" into milliseconds. */
static int parse_duration_ms(const char *s, long long *ms)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || v < 0)
		return -EINVAL;
	if (strcmp(end, "ms") == 0)
		*ms = (long long)v;
	else if (strcmp(end, "s") == 0 || !*end)
		*ms = (long long)(v * 1000);
	else if (strcmp(end, "m") == 0)
		*ms = (long long)(v * 60000);
	else
		return -EINVAL;
	return 0;
}

/* --collector.NAME[=bool], --no-collector.NAME, --collector.disable-defaults, --collector.X.Y=V */
static int parse_collector_flag(const struct opt *o, const char *key, const char *val, bool neg)
{
	const char *name = key + strlen("collector.");
	bool on = !neg;
	int idx;

	for (unsigned i = 0; i < NSTR; i++) {
		if (strcmp(key, str_flags[i].key) != 0)
			continue;
		if (!val || neg)
			return -EINVAL;
		free(*str_flags[i].dst);
		*str_flags[i].dst = strdup(val);
		str_given[i] = true;
		return *str_flags[i].dst ? 0 : -ENOMEM;
	}
	if (strcmp(key, "collector.filesystem.mount-timeout") == 0)
		return val && !neg ? parse_duration_ms(val, &node_cfg.fs_mount_timeout_ms) : -EINVAL;
	if (val && (neg || cfg_parse_bool(val, &on)))
		return -EINVAL;
	if (strcmp(name, "netdev.netlink") == 0) {
		node_cfg.netdev_netlink = on;
		return 0;
	}
	if (strcmp(name, "netclass.netlink") == 0) {
		node_cfg.netclass_netlink = on;
		return 0;
	}
	if (strcmp(name, "disable-defaults") == 0) {
		disable_defaults = on;
		return 0;
	}
	idx = node_collector_index(name);
	if (idx >= 0) {
		explicit_state[idx] = on;
		return 0;
	}
	/* a collector we do not have: disabling it is what happens anyway */
	if (is_unimplemented(name) && !on)
		return 0;
	return -EINVAL;
}

static const struct opt node_opts[] = {
	{ .name = "path.procfs", .env = "O11Y_PATH_PROCFS", .type = OPT_STR, .dst = &node_cfg.procfs,
	  .def = "/proc", .metavar = "DIR", .help = "procfs mountpoint" },
	{ .name = "path.sysfs", .env = "O11Y_PATH_SYSFS", .type = OPT_STR, .dst = &node_cfg.sysfs,
	  .def = "/sys", .metavar = "DIR", .help = "sysfs mountpoint" },
	{ .name = "path.rootfs", .env = "O11Y_PATH_ROOTFS", .type = OPT_STR, .dst = &node_cfg.rootfs,
	  .def = "/", .metavar = "DIR",
	  .help = "rootfs mountpoint (stripped from the mountpoint label)" },
	{ .name = "path.udev.data", .env = "O11Y_PATH_UDEV_DATA", .type = OPT_STR,
	  .dst = &node_cfg.udev_data, .def = "/run/udev/data", .metavar = "DIR",
	  .help = "udev data path (disk model, serial, wwn for node_disk_info)" },
	{ .name = "collector.", .type = OPT_CUSTOM, .parse = parse_collector_flag,
	  .flags = OPT_F_PREFIX, .metavar = "NAME[.SETTING=VALUE]",
	  .help = "node_exporter's collector flags: --[no-]collector.NAME, "
		  "--collector.disable-defaults, --collector.textfile.directory=DIR, "
		  "--collector.filesystem.mount-points-exclude=RE, ...fs-types-exclude=RE, "
		  "...mount-timeout=5s, --collector.diskstats.device-exclude=RE / device-include=RE, "
		  "--collector.netdev.device-exclude=RE / device-include=RE, "
		  "--collector.netclass.ignored-devices=RE, --no-collector.netclass.netlink (read every "
		  "netclass value from sysfs), --collector.netstat.fields=RE, "
		  "--collector.vmstat.fields=RE, --collector.arp.device-exclude=RE / device-include=RE" },
};
const struct opt_table node_opt_table = { "Node metrics (node_exporter compatible)", node_opts,
					  sizeof(node_opts) / sizeof(node_opts[0]) };

int node_regcomp(regex_t *re, const char *pattern, const char *what)
{
	char *ere, *q;
	char msg[128];
	bool in_class = false;
	int err;

	/* \d \s \w grow to at most 13 characters each */
	ere = malloc(strlen(pattern) * 7 + 1);
	if (!ere)
		return -ENOMEM;
	q = ere;
	for (const char *p = pattern; *p; p++) {
		if (*p == '\\' && p[1]) {
			const char *rep = NULL;

			switch (p[1]) {
			case 'd':
				rep = in_class ? "0-9" : "[0-9]";
				break;
			case 's':
				rep = in_class ? "[:space:]" : "[[:space:]]";
				break;
			case 'w':
				rep = in_class ? "[:alnum:]_" : "[[:alnum:]_]";
				break;
			}
			if (rep) {
				q = stpcpy(q, rep);
			} else {
				*q++ = p[0];
				*q++ = p[1];
			}
			p++;
			continue;
		}
		if (*p == '[' && !in_class)
			in_class = true;
		else if (*p == ']' && in_class && p[-1] != '[')
			in_class = false;
		*q++ = *p;
	}
	*q = '\0';
	err = regcomp(re, ere, REG_EXTENDED | REG_NOSUB);
	if (err) {
		regerror(err, re, msg, sizeof(msg));
		log_error("node: %s: bad regexp '%s': %s", what, pattern, msg);
	}
	free(ere);
	return err ? -EINVAL : 0;
}

static regex_t res[NSTR];
static regex_t *const *const filt_slots[NSTR] = {
	NULL,
	(regex_t *const *)&node_filt.fs_mount_exclude,
	(regex_t *const *)&node_filt.fs_type_exclude,
	(regex_t *const *)&node_filt.disk_exclude,
	(regex_t *const *)&node_filt.disk_include,
	(regex_t *const *)&node_filt.netdev_exclude,
	(regex_t *const *)&node_filt.netdev_include,
	(regex_t *const *)&node_filt.netclass_ignored,
	(regex_t *const *)&node_filt.netstat_fields,
	(regex_t *const *)&node_filt.vmstat_fields,
	(regex_t *const *)&node_filt.arp_exclude,
	(regex_t *const *)&node_filt.arp_include,
};

/*
 * node_match's memory of answers: a regexp's answer for a string never changes, and the strings
 * (field names, devices, mountpoints) are the same from one scrape to the next, while glibc's
 * regexec costs microseconds each. Open addressing, grown to at most MEMO_MAX entries, then
 * emptied.
 */
#define MEMO_MAX 4096
struct memo_ent {
	char *s; /* NULL: free slot */
	unsigned hash;
	bool match;
};
static struct {
	struct memo_ent *e;
	unsigned cap, n;
	bool dirty; /* regexec ran since the regexp was compiled */
} memo[NSTR];

static void memo_clear(unsigned r)
{
	for (unsigned i = 0; i < memo[r].cap; i++)
		free(memo[r].e[i].s);
	free(memo[r].e);
	memo[r].e = NULL;
	memo[r].cap = memo[r].n = 0;
}

static bool memo_put(unsigned r, const char *s, unsigned h, bool match)
{
	unsigned i;

	if (memo[r].n + 1 > memo[r].cap / 4 * 3) {
		unsigned cap = memo[r].cap ? memo[r].cap * 2 : 64;
		struct memo_ent *e, *old = memo[r].e;

		if (cap > MEMO_MAX) {
			memo_clear(r);
			cap = 64;
			old = NULL;
		}
		e = calloc(cap, sizeof(*e));
		if (!e)
			return false;
		for (unsigned k = 0; old && k < memo[r].cap; k++) {
			if (!old[k].s)
				continue;
			for (i = old[k].hash & (cap - 1); e[i].s; i = (i + 1) & (cap - 1))
				;
			e[i] = old[k];
		}
		free(old);
		memo[r].e = e;
		memo[r].cap = cap;
	}
	for (i = h & (memo[r].cap - 1); memo[r].e[i].s; i = (i + 1) & (memo[r].cap - 1))
		;
	memo[r].e[i].s = strdup(s);
	if (!memo[r].e[i].s)
		return false;
	memo[r].e[i].hash = h;
	memo[r].e[i].match = match;
	memo[r].n++;
	return true;
}

bool node_match(const regex_t *re, const char *s)
{
	unsigned r, h = 2166136261u;
	bool match;

	if (!re)
		return false;
	r = (unsigned)(re - res);
	if (re < res || r >= NSTR)
		return regexec(re, s, 0, NULL, 0) == 0;
	for (const char *p = s; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (unsigned i = h & (memo[r].cap - 1); memo[r].cap && memo[r].e[i].s;
	     i = (i + 1) & (memo[r].cap - 1))
		if (memo[r].e[i].hash == h && strcmp(memo[r].e[i].s, s) == 0)
			return memo[r].e[i].match;
	match = regexec(re, s, 0, NULL, 0) == 0;
	memo[r].dirty = true;
	memo_put(r, s, h, match);
	return match;
}

/*
 * glibc's regexec builds DFA transition tables as it goes and keeps them in the regex_t (200 kB
 * for the netstat fields over /proc/net/netstat's names), though the memo answers every string
 * after its first scrape: compiling the regexps that ran again leaves only the compiled form.
 * Called between scrapes (no collector running).
 */
static void memo_compact(void)
{
	bool freed = false;

	for (unsigned r = 1; r < NSTR; r++) {
		regex_t fresh;

		if (!memo[r].dirty || !*filt_slots[r])
			continue;
		memo[r].dirty = false;
		if (node_regcomp(&fresh, *str_flags[r].dst, str_flags[r].key))
			continue; /* keep the one in use */
		regfree(&res[r]);
		memcpy(&res[r], &fresh, sizeof(fresh));
		freed = true;
	}
	/* the tables were scattered over the scrape threads' malloc arenas: give the pages back */
	if (freed)
		malloc_trim(0);
}

/* include/exclude pairs are mutually exclusive; giving include drops the default exclude */
static int pick_include(unsigned inc, unsigned exc)
{
	if (!*str_flags[inc].dst)
		return 0;
	if (str_given[exc]) {
		log_error("node: --%s and --%s are mutually exclusive", str_flags[inc].key,
			  str_flags[exc].key);
		return -EINVAL;
	}
	free(*str_flags[exc].dst);
	*str_flags[exc].dst = NULL;
	return 0;
}

int node_init(void)
{
	char line[1024];
	size_t n = 0;
	int err;

	for (unsigned i = 0; i < NSTR; i++) {
		if (!str_given[i] && !*str_flags[i].dst && str_defaults[i]) {
			*str_flags[i].dst = strdup(str_defaults[i]);
			if (!*str_flags[i].dst)
				return -ENOMEM;
		}
	}
	if (!node_cfg.fs_mount_timeout_ms)
		node_cfg.fs_mount_timeout_ms = 5000;
	if ((err = pick_include(4, 3)) || (err = pick_include(6, 5)) || (err = pick_include(11, 10)))
		return err;
	for (unsigned i = 1; i < NSTR; i++) {
		regex_t **slot = (regex_t **)filt_slots[i];

		*slot = NULL;
		memo_clear(i);
		memo[i].dirty = false;
		if (!*str_flags[i].dst)
			continue;
		err = node_regcomp(&res[i], *str_flags[i].dst, str_flags[i].key);
		if (err)
			return err;
		*slot = &res[i];
	}
	for (unsigned i = 0; i < NCOLL; i++) {
		enabled[i] = explicit_state[i] == 1 || (explicit_state[i] != 0 && !disable_defaults);
		if (enabled[i] && n < sizeof(line))
			n += snprintf(line + n, sizeof(line) - n, " %s", node_collectors[i].name);
	}
	log_info("node: enabled collectors:%s", n ? line : " none");
	return 0;
}

static void sc_stop(void);

void node_fini(void)
{
	sc_stop();
	node_fs_stop();
	node_net_fini();
	for (unsigned i = 1; i < NSTR; i++) {
		regex_t **slot = (regex_t **)filt_slots[i];

		if (*slot)
			regfree(*slot);
		*slot = NULL;
		memo_clear(i);
	}
	for (unsigned i = 0; i < NSTR; i++) {
		free(*str_flags[i].dst);
		*str_flags[i].dst = NULL;
	}
}

/* The explicit state is set by flags before node_init; unset means "default". */
__attribute__((constructor)) static void node_state_init(void)
{
	node_cfg.netdev_netlink = true;
	node_cfg.netclass_netlink = true;
	memset(explicit_state, -1, sizeof(explicit_state));
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Collectors run on two threads, the server's and a helper, like node_exporter runs each in its
 * own goroutine: most of a scrape is the kernel generating /proc and /sys files, which the two
 * CPUs of a small machine do side by side. Each collector writes into its own buffer, appended
 * to the scrape in node_exporter's order afterwards. Work is handed out in units, slowest (as
 * last measured) first; collectors sharing what one scrape read once (netdev and netclass the
 * rtnetlink dump, cpu and stat /proc/stat) are one unit, so one thread runs them in turn.
 * Everything else a collector keeps is its own (a filter regexp belongs to one collector).
 */
static struct sc {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t tid;
	bool started, quit;
	unsigned long posted, finished; /* scrapes handed to the helper, and done by it */
	unsigned units[NCOLL][2], nunits, next; /* collector indexes (second: NCOLL if none) */
	const bool *ran;
	double dur[NCOLL];
	bool ok[NCOLL];
	struct prom_buf out[NCOLL];
} sc = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static void sc_run_units(void)
{
	unsigned u;

	while ((u = __atomic_fetch_add(&sc.next, 1, __ATOMIC_RELAXED)) < sc.nunits) {
		for (unsigned k = 0; k < 2; k++) {
			unsigned i = sc.units[u][k];
			double t0;
			int err;

			if (i >= NCOLL || !sc.ran[i])
				continue;
			prom_buf_reset(&sc.out[i]);
			t0 = mono_now();
			err = node_collectors[i].collect(&sc.out[i]);
			sc.dur[i] = mono_now() - t0;
			sc.ok[i] = err == 0;
			if (err)
				log_debug("node: collector %s failed: %s", node_collectors[i].name,
					  strerror(-err));
		}
	}
}

static void *sc_helper(void *arg)
{
	unsigned long seen = 0;

	(void)arg;
	pthread_mutex_lock(&sc.lock);
	for (;;) {
		while (sc.posted == seen && !sc.quit)
			pthread_cond_wait(&sc.cond, &sc.lock);
		if (sc.quit)
			break;
		seen = sc.posted;
		pthread_mutex_unlock(&sc.lock);
		sc_run_units();
		pthread_mutex_lock(&sc.lock);
		sc.finished = seen;
		pthread_cond_broadcast(&sc.cond);
	}
	pthread_mutex_unlock(&sc.lock);
	return NULL;
}

/* the units, in collector order the first time; later by last duration, slowest first */
static int sc_cmp_units(const void *a, const void *b)
{
	const unsigned *x = a, *y = b;
	double dx = sc.dur[x[0]] + (x[1] < NCOLL ? sc.dur[x[1]] : 0);
	double dy = sc.dur[y[0]] + (y[1] < NCOLL ? sc.dur[y[1]] : 0);

	return dx < dy ? 1 : dx > dy ? -1 : (int)x[0] - (int)y[0];
}

static void sc_plan(void)
{
	int netdev = node_collector_index("netdev"), stat = node_collector_index("stat");
	int netclass = node_collector_index("netclass"), cpu = node_collector_index("cpu");

	if (!sc.nunits) {
		for (unsigned i = 0; i < NCOLL; i++) {
			if ((int)i == netdev || (int)i == stat)
				continue;
			sc.units[sc.nunits][0] = i;
			sc.units[sc.nunits][1] = (int)i == netclass ? (unsigned)netdev :
						 (int)i == cpu	    ? (unsigned)stat :
									NCOLL;
			sc.nunits++;
		}
	}
	qsort(sc.units, sc.nunits, sizeof(sc.units[0]), sc_cmp_units);
}

static void sc_stop(void)
{
	if (sc.started) {
		pthread_mutex_lock(&sc.lock);
		sc.quit = true;
		pthread_cond_broadcast(&sc.cond);
		pthread_mutex_unlock(&sc.lock);
		pthread_join(sc.tid, NULL);
		sc.started = sc.quit = false;
		sc.posted = sc.finished = 0;
	}
	for (unsigned i = 0; i < NCOLL; i++)
		prom_buf_free(&sc.out[i]);
}

int node_scrape(struct prom_buf *b, const bool *want)
{
	bool ran[NCOLL], helped = false;
	const char *lbl[] = { "collector", NULL, NULL };
	unsigned nran = 0;

	node_scrape_gen++;
	for (unsigned i = 0; i < NCOLL; i++) {
		ran[i] = enabled[i] && (!want || want[i]);
		nran += ran[i];
	}
	sc_plan();
	sc.ran = ran;
	sc.next = 0;
	if (nran > 1 && !sc.started) {
		pthread_attr_t attr;

		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 256 * 1024);
		sc.started = pthread_create(&sc.tid, &attr, sc_helper, NULL) == 0;
		pthread_attr_destroy(&attr);
	}
	if (nran > 1 && sc.started) {
		pthread_mutex_lock(&sc.lock);
		sc.posted++;
		pthread_cond_broadcast(&sc.cond);
		pthread_mutex_unlock(&sc.lock);
		helped = true;
	}
	sc_run_units();
	if (helped) {
		pthread_mutex_lock(&sc.lock);
		while (sc.finished != sc.posted)
			pthread_cond_wait(&sc.cond, &sc.lock);
		pthread_mutex_unlock(&sc.lock);
	}
	for (unsigned i = 0; i < NCOLL; i++) {
		if (!ran[i])
			continue;
		if (sc.out[i].err)
			b->err = sc.out[i].err;
		else if (sc.out[i].len)
			prom_append(b, sc.out[i].data, sc.out[i].len);
	}
	memo_compact();
	prom_family(b, "node_scrape_collector_duration_seconds", "gauge",
		    "node_exporter: Duration of a collector scrape.");
	for (unsigned i = 0; i < NCOLL; i++) {
		if (!ran[i])
			continue;
		lbl[1] = node_collectors[i].name;
		prom_sample(b, "node_scrape_collector_duration_seconds", lbl, sc.dur[i]);
	}
	prom_family(b, "node_scrape_collector_success", "gauge",
		    "node_exporter: Whether a collector succeeded.");
	for (unsigned i = 0; i < NCOLL; i++) {
		if (!ran[i])
			continue;
		lbl[1] = node_collectors[i].name;
		prom_sample(b, "node_scrape_collector_success", lbl, sc.ok[i]);
	}
	return b->err;
}

char *node_path(char *buf, size_t size, const char *root, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	n = (size_t)snprintf(buf, size, "%s/", root);
	if (n >= size)
		n = size - 1;
	va_start(ap, fmt);
	vsnprintf(buf + n, size - n, fmt, ap);
	va_end(ap);
	return buf;
}

char *node_slurp(const char *path, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = NULL, *p;
	ssize_t r;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	for (;;) {
		if (!buf || n + 1 >= cap) {
			if (buf)
				cap *= 2;
			p = realloc(buf, cap);
			if (!p) {
				err = ENOMEM;
				goto err_free;
			}
			buf = p;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			goto err_free;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;

err_free:
	free(buf);
	close(fd);
	errno = err;
	return NULL;
}

int node_read_line(const char *path, char *buf, size_t size)
{
	return node_read_line_at(AT_FDCWD, path, buf, size);
}

int node_read_line_at(int dirfd, const char *path, char *buf, size_t size)
{
	ssize_t r;
	int fd, err = 0;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = read(fd, buf, size - 1);
	if (r < 0) {
		err = -errno;
		buf[0] = '\0';
	} else {
		buf[r] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
	}
	close(fd);
	return err;
}

int node_read_ll(const char *path, long long *v)
{
	char buf[64], *end;
	int err;

	err = node_read_line(path, buf, sizeof(buf));
	if (err)
		return err;
	errno = 0;
	*v = strtoll(buf, &end, 10);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

const char *node_rootfs_strip(const char *path)
{
	const char *root = node_cfg.rootfs;
	size_t n;

	if (!root || strcmp(root, "/") == 0)
		return path;
	n = strlen(root);
	if (strncmp(path, root, n) != 0)
		return path;
	return path[n] ? path + n : "/";
}

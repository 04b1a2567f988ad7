// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Network collectors: netdev (rtnetlink link statistics like node_exporter's default, or
 * /proc/net/dev), netclass (/sys/class/net), netstat, sockstat, softnet, arp, udp_queues and
 * conntrack (all under /proc).
 */
#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node.h"

/* ---- netdev ---- */

#define NETDEV_NF 17
/* family names in node_exporter's (sorted) order and their index in struct netdev.v */
static const char *const netdev_names[NETDEV_NF] = {
	"receive_bytes",    "receive_compressed", "receive_drop",	"receive_errs",
	"receive_fifo",	    "receive_frame",	  "receive_multicast", "receive_nohandler",
	"receive_packets",  "transmit_bytes",	  "transmit_carrier",	"transmit_colls",
	"transmit_compressed", "transmit_drop",	  "transmit_errs",	"transmit_fifo",
	"transmit_packets",
};
enum { RX_BYTES, RX_COMP, RX_DROP, RX_ERRS, RX_FIFO, RX_FRAME, RX_MCAST, RX_NOH, RX_PKTS,
       TX_BYTES, TX_CARRIER, TX_COLLS, TX_COMP, TX_DROP, TX_ERRS, TX_FIFO, TX_PKTS };

struct netdev {
	char name[32];
	bool has_nohandler;
	double v[NETDEV_NF];
};

struct netdev_list {
	struct netdev *d;
	unsigned n, cap;
};

static struct netdev *netdev_add(struct netdev_list *l, const char *name)
{
	struct netdev *tmp;

	if (node_match(node_filt.netdev_exclude, name) ||
	    (node_filt.netdev_include && !node_match(node_filt.netdev_include, name)))
		return NULL;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		tmp = realloc(l->d, l->cap * sizeof(*tmp));
		if (!tmp)
			return NULL;
		l->d = tmp;
	}
	tmp = &l->d[l->n++];
	memset(tmp, 0, sizeof(*tmp));
	snprintf(tmp->name, sizeof(tmp->name), "%s", name);
	return tmp;
}

static int netdev_proc(struct netdev_list *l)
{
	char path[4096], *text, *line, *save = NULL;

	text = node_slurp(node_path(path, sizeof(path), node_cfg.procfs, "net/dev"), NULL);
	if (!text)
		return -errno;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long f[16];
		char name[32], *colon = strchr(line, ':');
		struct netdev *d;

		if (!colon)
			continue;
		*colon = ' ';
		if (sscanf(line,
			   " %31s %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu "
			   "%llu %llu %llu",
			   name, &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &f[9],
			   &f[10], &f[11], &f[12], &f[13], &f[14], &f[15]) != 17)
			continue;
		d = netdev_add(l, name);
		if (!d)
			continue;
		d->v[RX_BYTES] = f[0], d->v[RX_PKTS] = f[1], d->v[RX_ERRS] = f[2];
		d->v[RX_DROP] = f[3], d->v[RX_FIFO] = f[4], d->v[RX_FRAME] = f[5];
		d->v[RX_COMP] = f[6], d->v[RX_MCAST] = f[7];
		d->v[TX_BYTES] = f[8], d->v[TX_PKTS] = f[9], d->v[TX_ERRS] = f[10];
		d->v[TX_DROP] = f[11], d->v[TX_FIFO] = f[12], d->v[TX_COLLS] = f[13];
		d->v[TX_CARRIER] = f[14], d->v[TX_COMP] = f[15];
	}
	free(text);
	return 0;
}

/* RTM_GETLINK dump: IFLA_STATS64 per link, mapped the way node_exporter 1.5 maps it. */
static int netdev_netlink(struct netdev_list *l)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifm;
	} req = { .nh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK,
			  .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		  .ifm = { .ifi_family = AF_UNSPEC } };
	char *buf;
	int fd, err = 0;
	bool done = false;

	buf = malloc(32768);
	if (!buf)
		return -ENOMEM;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0) {
		err = -errno;
		goto out_free;
	}
	if (send(fd, &req, sizeof(req), 0) < 0) {
		err = -errno;
		goto out_close;
	}
	while (!done) {
		ssize_t n = recv(fd, buf, 32768, 0);
		struct nlmsghdr *nh;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
			struct ifinfomsg *ifm = NLMSG_DATA(nh);
			const struct rtnl_link_stats64 *s = NULL;
			const char *name = NULL;
			struct rtattr *a;
			int alen;
			struct netdev *d;

			if (nh->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				err = -EIO;
				done = true;
				break;
			}
			if (nh->nlmsg_type != RTM_NEWLINK)
				continue;
			alen = (int)IFLA_PAYLOAD(nh);
			for (a = IFLA_RTA(ifm); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
				if (a->rta_type == IFLA_IFNAME)
					name = RTA_DATA(a);
				else if (a->rta_type == IFLA_STATS64 &&
					 RTA_PAYLOAD(a) >= offsetof(struct rtnl_link_stats64,
								    rx_nohandler) + 8)
					s = RTA_DATA(a);
			}
			if (!name || !s)
				continue;
			d = netdev_add(l, name);
			if (!d)
				continue;
			d->has_nohandler = true;
			d->v[RX_PKTS] = s->rx_packets, d->v[TX_PKTS] = s->tx_packets;
			d->v[RX_BYTES] = s->rx_bytes, d->v[TX_BYTES] = s->tx_bytes;
			d->v[RX_ERRS] = s->rx_errors, d->v[TX_ERRS] = s->tx_errors;
			d->v[RX_DROP] = s->rx_dropped, d->v[TX_DROP] = s->tx_dropped;
			d->v[RX_MCAST] = s->multicast, d->v[TX_COLLS] = s->collisions;
			d->v[RX_FRAME] = s->rx_frame_errors, d->v[RX_FIFO] = s->rx_fifo_errors;
			d->v[TX_CARRIER] = s->tx_carrier_errors, d->v[TX_FIFO] = s->tx_fifo_errors;
			d->v[RX_COMP] = s->rx_compressed, d->v[TX_COMP] = s->tx_compressed;
			d->v[RX_NOH] = s->rx_nohandler;
		}
	}
out_close:
	close(fd);
out_free:
	free(buf);
	return err;
}

int node_netdev_collect(struct prom_buf *b)
{
	struct netdev_list l = { 0 };
	const char *lbl[] = { "device", NULL, NULL };
	char name[96], help[96];
	int err;

	err = node_cfg.netdev_netlink ? netdev_netlink(&l) : netdev_proc(&l);
	if (err)
		goto out;
	for (unsigned f = 0; f < NETDEV_NF; f++) {
		if (f == RX_NOH && (!l.n || !l.d[0].has_nohandler))
			continue;
		snprintf(name, sizeof(name), "node_network_%s_total", netdev_names[f]);
		snprintf(help, sizeof(help), "Network device statistic %s.", netdev_names[f]);
		prom_family(b, name, "counter", help);
		for (unsigned i = 0; i < l.n; i++) {
			lbl[1] = l.d[i].name;
			prom_sample(b, name, lbl, l.d[i].v[f]);
		}
	}
out:
	free(l.d);
	return err;
}

/* ---- netclass ---- */

/* numeric attributes: sysfs file, metric suffix, type; in node_exporter's sorted order */
static const struct {
	const char *file, *metric, *type;
} netclass_attrs[] = {
	{ "addr_assign_type", "address_assign_type", "gauge" },
	{ "carrier", "carrier", "gauge" },
	{ "carrier_changes", "carrier_changes_total", "counter" },
	{ "carrier_down_count", "carrier_down_changes_total", "counter" },
	{ "carrier_up_count", "carrier_up_changes_total", "counter" },
	{ "dev_id", "device_id", "gauge" },
	{ "dormant", "dormant", "gauge" },
	{ "flags", "flags", "gauge" },
	{ "ifindex", "iface_id", "gauge" },
	{ "iflink", "iface_link", "gauge" },
	{ "link_mode", "iface_link_mode", "gauge" },
	{ "mtu", "mtu_bytes", "gauge" },
	{ "name_assign_type", "name_assign_type", "gauge" },
	{ "netdev_group", "net_dev_group", "gauge" },
	{ "type", "protocol_type", "gauge" },
	{ "speed", "speed_bytes", "gauge" },
	{ "tx_queue_len", "transmit_queue_length", "gauge" },
};
#define NC_NATTR (sizeof(netclass_attrs) / sizeof(netclass_attrs[0]))
enum { NC_ADDRESS, NC_BROADCAST, NC_DUPLEX, NC_IFALIAS, NC_OPERSTATE, NC_NSTR };
static const char *const netclass_strs[NC_NSTR] = { "address", "broadcast", "duplex", "ifalias",
						    "operstate" };

struct iface {
	char name[64];
	bool has[NC_NATTR];
	double v[NC_NATTR];
	char s[NC_NSTR][256];
};

static int cmp_iface(const void *a, const void *b)
{
	return strcmp(((const struct iface *)a)->name, ((const struct iface *)b)->name);
}

int node_netclass_collect(struct prom_buf *b)
{
	char dir[4096], line[256];
	struct iface *ifs = NULL, *tmp;
	unsigned n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int err = 0;

	d = opendir(node_path(dir, sizeof(dir), node_cfg.sysfs, "class/net"));
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct iface *f;
		int dfd;

		if (de->d_name[0] == '.' || node_match(node_filt.netclass_ignored, de->d_name))
			continue;
		/* interfaces are directories (or links to them); bonding_masters is a file */
		dfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			tmp = realloc(ifs, cap * sizeof(*tmp));
			if (!tmp) {
				close(dfd);
				err = -ENOMEM;
				goto out;
			}
			ifs = tmp;
		}
		f = &ifs[n++];
		memset(f, 0, sizeof(*f));
		snprintf(f->name, sizeof(f->name), "%.63s", de->d_name);
		for (unsigned a = 0; a < NC_NATTR; a++) {
			char *end;
			long long v;

			if (node_read_line_at(dfd, netclass_attrs[a].file, line, sizeof(line)) ||
			    !line[0])
				continue;
			v = strtoll(line, &end, 0);
			if (end == line)
				continue;
			f->has[a] = true;
			f->v[a] = strcmp(netclass_attrs[a].file, "speed") == 0 ?
					  (double)(v * 1000 * 1000 / 8) :
					  (double)v;
		}
		for (unsigned s = 0; s < NC_NSTR; s++) {
			if (node_read_line_at(dfd, netclass_strs[s], f->s[s], sizeof(f->s[s])))
				f->s[s][0] = '\0';
		}
		close(dfd);
	}
	qsort(ifs, n, sizeof(*ifs), cmp_iface);
	for (unsigned a = 0; a < NC_NATTR; a++) {
		char name[96], help[96];
		bool fam = false;

		snprintf(name, sizeof(name), "node_network_%s", netclass_attrs[a].metric);
		snprintf(help, sizeof(help), "Network device property: %s", netclass_attrs[a].metric);
		for (unsigned i = 0; i < n; i++) {
			const char *lbl[] = { "device", ifs[i].name, NULL };

			if (!ifs[i].has[a])
				continue;
			if (!fam)
				prom_family(b, name, netclass_attrs[a].type, help);
			fam = true;
			prom_sample(b, name, lbl, ifs[i].v[a]);
		}
	}
	if (n) {
		prom_family(b, "node_network_info", "gauge",
			    "Non-numeric data from /sys/class/net/<iface>, value is always 1.");
		for (unsigned i = 0; i < n; i++) {
			const char *lbl[] = { "address",   ifs[i].s[NC_ADDRESS],
					      "broadcast", ifs[i].s[NC_BROADCAST],
					      "device",	   ifs[i].name,
					      "duplex",	   ifs[i].s[NC_DUPLEX],
					      "ifalias",   ifs[i].s[NC_IFALIAS],
					      "operstate", ifs[i].s[NC_OPERSTATE],
					      NULL };

			prom_sample(b, "node_network_info", lbl, 1);
		}
		prom_family(b, "node_network_up", "gauge",
			    "Value is 1 if operstate is 'up', 0 otherwise.");
		for (unsigned i = 0; i < n; i++) {
			const char *lbl[] = { "device", ifs[i].name, NULL };

			prom_sample(b, "node_network_up", lbl,
				    strcmp(ifs[i].s[NC_OPERSTATE], "up") == 0);
		}
	}
out:
	closedir(d);
	free(ifs);
	return err;
}

/* ---- netstat ---- */

static void netstat_emit(struct prom_buf *b, const char *proto, const char *field, const char *val)
{
	char key[192], name[224], help[224];

	snprintf(key, sizeof(key), "%s_%s", proto, field);
	if (node_filt.netstat_fields && !node_match(node_filt.netstat_fields, key))
		return;
	snprintf(name, sizeof(name), "node_netstat_%s", key);
	snprintf(help, sizeof(help), "Statistic %s%s.", proto, field);
	prom_family(b, name, "untyped", help);
	prom_sample(b, name, NULL, strtod(val, NULL));
}

/* /proc/net/netstat and /proc/net/snmp: "Proto: names..." then "Proto: values..." */
static int netstat_pairs(struct prom_buf *b, const char *file)
{
	char path[4096], *text, *p;

	text = node_slurp(node_path(path, sizeof(path), node_cfg.procfs, "%s", file), NULL);
	if (!text)
		return -errno;
	p = text;
	while (*p) {
		char *names = p, *vals, *end, *ns, *vs, *n, *v;
		char proto[64];

		vals = strchr(names, '\n');
		if (!vals)
			break;
		*vals++ = '\0';
		end = strchr(vals, '\n');
		if (end)
			*end = '\0';
		p = end ? end + 1 : vals + strlen(vals);
		ns = strchr(names, ':');
		vs = strchr(vals, ':');
		if (!ns || !vs || ns - names >= (long)sizeof(proto))
			continue;
		snprintf(proto, sizeof(proto), "%.*s", (int)(ns - names), names);
		ns++, vs++;
		for (n = strtok_r(ns, " ", &ns), v = strtok_r(vs, " ", &vs); n && v;
		     n = strtok_r(NULL, " ", &ns), v = strtok_r(NULL, " ", &vs))
			netstat_emit(b, proto, n, v);
	}
	free(text);
	return 0;
}

int node_netstat_collect(struct prom_buf *b)
{
	char path[4096], *text, *line, *save = NULL;
	int err;

	err = netstat_pairs(b, "net/netstat");
	if (!err)
		err = netstat_pairs(b, "net/snmp");
	if (err)
		return err;
	/* /proc/net/snmp6: "Ip6InReceives 123"; the protocol ends at the first '6' */
	text = node_slurp(node_path(path, sizeof(path), node_cfg.procfs, "net/snmp6"), NULL);
	if (!text)
		return errno == ENOENT ? 0 : -errno;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char key[128], val[64], proto[128], *six;

		if (sscanf(line, "%127s %63s", key, val) != 2)
			continue;
		six = strchr(key, '6');
		if (!six)
			continue;
		snprintf(proto, sizeof(proto), "%.*s", (int)(six - key + 1), key);
		netstat_emit(b, proto, six + 1, val);
	}
	free(text);
	return 0;
}

/* ---- sockstat ---- */

static int sockstat_file(struct prom_buf *b, const char *file, bool v6)
{
	char path[4096], *text, *line, *save = NULL;
	long pagesize = sysconf(_SC_PAGESIZE);

	text = node_slurp(node_path(path, sizeof(path), node_cfg.procfs, "%s", file), NULL);
	if (!text)
		return v6 && errno == ENOENT ? 0 : -errno;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':'), *rest, *k, *v, *s2 = NULL;

		if (!colon)
			continue;
		*colon = '\0';
		rest = colon + 1;
		if (strcmp(line, "sockets") == 0) {
			if (sscanf(rest, " used %63s", path) == 1) {
				prom_family(b, "node_sockstat_sockets_used", "gauge",
					    "Number of IPv4 sockets in use.");
				prom_sample(b, "node_sockstat_sockets_used", NULL,
					    strtod(path, NULL));
			}
			continue;
		}
		for (k = strtok_r(rest, " ", &s2), v = strtok_r(NULL, " ", &s2); k && v;
		     k = strtok_r(NULL, " ", &s2), v = strtok_r(NULL, " ", &s2)) {
			char name[160], help[192];
			double val = strtod(v, NULL);

			snprintf(name, sizeof(name), "node_sockstat_%s_%s", line, k);
			snprintf(help, sizeof(help), "Number of %s sockets in state %s.", line, k);
			prom_family(b, name, "gauge", help);
			prom_sample(b, name, NULL, val);
			if (strcmp(k, "mem") == 0) {
				snprintf(name, sizeof(name), "node_sockstat_%s_mem_bytes", line);
				snprintf(help, sizeof(help),
					 "Number of %s sockets in state mem_bytes.", line);
				prom_family(b, name, "gauge", help);
				prom_sample(b, name, NULL, val * (double)pagesize);
			}
		}
	}
	free(text);
	return 0;
}

int node_sockstat_collect(struct prom_buf *b)
{
	int err = sockstat_file(b, "net/sockstat", false);

	return err ? err : sockstat_file(b, "net/sockstat6", true);
}

/* ---- softnet ---- */

int node_softnet_collect(struct prom_buf *b)
{
	static const char *const names[3] = { "node_softnet_processed_total",
					      "node_softnet_dropped_total",
					      "node_softnet_times_squeezed_total" };
	static const char *const helps[3] = { "Number of processed packets",
					      "Number of dropped packets",
					      "Number of times processing packets ran out of quota" };
	static const int order[3] = { 1, 0, 2 }; /* dropped, processed, times_squeezed */
	char path[4096], *text, *line, *save = NULL;
	unsigned (*rows)[3] = NULL, n = 0, cap = 0;
	int err = 0;

	text = node_slurp(node_path(path, sizeof(path), node_cfg.procfs, "net/softnet_stat"), NULL);
	if (!text)
		return -errno;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned r[3];

		if (sscanf(line, "%x %x %x", &r[0], &r[1], &r[2]) != 3)
			continue;
		if (n == cap) {
			void *tmp;

			cap = cap ? cap * 2 : 16;
			tmp = realloc(rows, cap * sizeof(*rows));
			if (!tmp) {
				err = -ENOMEM;
				goto out;
			}
			rows = tmp;
		}
		memcpy(rows[n++], r, sizeof(r));
	}
	for (int o = 0; o < 3; o++) {
		int f = order[o];

		prom_family(b, names[f], "counter", helps[f]);
		for (unsigned i = 0; i < n; i++) {
			char cpu[16];
			const char *lbl[] = { "cpu", cpu, NULL };

			snprintf(cpu, sizeof(cpu), "%u", i);
			prom_sample(b, names[f], lbl, rows[i][f]);
		}
	}
out:
	free(rows);
	free(text);
	return err;
}

/* ---- arp ---- */

int node_arp_collect(struct prom_buf *b)
{
	char path[4096], *text, *line, *save = NULL;
	struct {
		char dev[64];
		unsigned n;
	} devs[64];
	unsigned ndev = 0;
	bool header = true;

	text = node_slurp(node_path(path, sizeof(path), node_cfg.procfs, "net/arp"), NULL);
	if (!text)
		return -errno;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char f[6][64];
		unsigned i;

		if (header) {
			header = false;
			continue;
		}
		if (sscanf(line, "%63s %63s %63s %63s %63s %63s", f[0], f[1], f[2], f[3], f[4],
			   f[5]) != 6)
			continue;
		if (node_match(node_filt.arp_exclude, f[5]) ||
		    (node_filt.arp_include && !node_match(node_filt.arp_include, f[5])))
			continue;
		for (i = 0; i < ndev && strcmp(devs[i].dev, f[5]); i++)
			;
		if (i == ndev) {
			if (ndev == 64)
				continue;
			snprintf(devs[ndev].dev, sizeof(devs[ndev].dev), "%s", f[5]);
			devs[ndev++].n = 0;
		}
		devs[i].n++;
	}
	free(text);
	if (!ndev)
		return 0;
	prom_family(b, "node_arp_entries", "gauge", "ARP entries by device");
	for (unsigned i = 0; i < ndev; i++) {
		const char *lbl[] = { "device", devs[i].dev, NULL };

		prom_sample(b, "node_arp_entries", lbl, devs[i].n);
	}
	return 0;
}

/* ---- udp_queues ---- */

static int udp_sum(const char *file, double *tx, double *rx)
{
	char path[4096], *text, *line, *save = NULL;
	bool header = true;

	*tx = *rx = 0;
	text = node_slurp(node_path(path, sizeof(path), node_cfg.procfs, "%s", file), NULL);
	if (!text)
		return -errno;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long t, r;

		if (header) {
			header = false;
			continue;
		}
		/* sl local rem st tx_queue:rx_queue ... */
		if (sscanf(line, "%*s %*s %*s %*s %llx:%llx", &t, &r) != 2)
			continue;
		*tx += (double)t;
		*rx += (double)r;
	}
	free(text);
	return 0;
}

int node_udp_queues_collect(struct prom_buf *b)
{
	double tx4, rx4, tx6, rx6;
	int err4, err6;

	err4 = udp_sum("net/udp", &tx4, &rx4);
	err6 = udp_sum("net/udp6", &tx6, &rx6);
	if (err4 && err6)
		return err4;
	prom_family(b, "node_udp_queues", "gauge",
		    "Number of allocated memory in the kernel for UDP datagrams in bytes.");
	if (!err4) {
		prom_sample(b, "node_udp_queues", (const char *const[]){ "ip", "v4", "queue", "rx", NULL },
			    rx4);
		prom_sample(b, "node_udp_queues", (const char *const[]){ "ip", "v4", "queue", "tx", NULL },
			    tx4);
	}
	if (!err6) {
		prom_sample(b, "node_udp_queues", (const char *const[]){ "ip", "v6", "queue", "rx", NULL },
			    rx6);
		prom_sample(b, "node_udp_queues", (const char *const[]){ "ip", "v6", "queue", "tx", NULL },
			    tx6);
	}
	return 0;
}

/* ---- conntrack ---- */

int node_conntrack_collect(struct prom_buf *b)
{
	/* /proc/net/stat/nf_conntrack columns (procfs's fixed positions), summed over CPUs */
	static const struct {
		int col;
		const char *name, *help;
	} stats[] = {
		{ 10, "drop", "Number of packets dropped due to conntrack failure." },
		{ 11, "early_drop",
		  "Number of dropped conntrack entries to make room for new ones, if maximum table "
		  "size was reached." },
		{ 2, "found", "Number of searched entries which were successful." },
		{ 5, "ignore",
		  "Number of packets seen which are already connected to a conntrack entry." },
		{ 8, "insert", "Number of entries inserted into the list." },
		{ 9, "insert_failed",
		  "Number of entries for which list insertion was attempted but failed." },
		{ 4, "invalid", "Number of packets seen which can not be tracked." },
		{ 16, "search_restart",
		  "Number of conntrack table lookups which had to be restarted due to hashtable "
		  "resizes." },
	};
	char path[4096], *text, *line, *save = NULL;
	double sum[17] = { 0 };
	long long count, max;
	bool header = true;
	int err;

	err = node_read_ll(node_path(path, sizeof(path), node_cfg.procfs,
				     "sys/net/netfilter/nf_conntrack_count"),
			   &count);
	if (!err)
		err = node_read_ll(node_path(path, sizeof(path), node_cfg.procfs,
					     "sys/net/netfilter/nf_conntrack_max"),
				   &max);
	if (err)
		return err;
	prom_family(b, "node_nf_conntrack_entries", "gauge",
		    "Number of currently allocated flow entries for connection tracking.");
	prom_sample(b, "node_nf_conntrack_entries", NULL, (double)count);
	prom_family(b, "node_nf_conntrack_entries_limit", "gauge",
		    "Maximum size of connection tracking table.");
	prom_sample(b, "node_nf_conntrack_entries_limit", NULL, (double)max);

	text = node_slurp(node_path(path, sizeof(path), node_cfg.procfs, "net/stat/nf_conntrack"),
			  NULL);
	if (!text)
		return -errno;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *p = line, *end;
		double row[17];
		int i;

		if (header) {
			header = false;
			continue;
		}
		for (i = 0; i < 17; i++, p = end) {
			row[i] = (double)strtoull(p, &end, 16);
			if (end == p)
				break;
		}
		if (i < 17)
			continue;
		for (i = 0; i < 17; i++)
			sum[i] += row[i];
	}
	free(text);
	for (unsigned i = 0; i < sizeof(stats) / sizeof(stats[0]); i++) {
		char name[96];

		snprintf(name, sizeof(name), "node_nf_conntrack_stat_%s", stats[i].name);
		prom_family(b, name, "gauge", stats[i].help);
		prom_sample(b, name, NULL, sum[stats[i].col]);
	}
	return 0;
}

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
#include <net/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
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

/* ---- rtnetlink link dump, shared by netdev and netclass within a scrape ---- */

/* the ifinfomsg attributes kept, as flags in struct link.have and indexes into u[] */
enum { LK_MTU, LK_TXQLEN, LK_GROUP, LK_LINK, LK_LINKMODE, LK_OPERSTATE, LK_CARRIER, LK_CHANGES,
       LK_UP, LK_DOWN, LK_NU, LK_STATS = LK_NU, LK_ADDRESS, LK_BROADCAST };

struct link {
	char name[IFNAMSIZ];
	int index;
	unsigned flags; /* ifi_flags: dev_get_flags(), with IFF_LOWER_UP and IFF_DORMANT */
	unsigned short type;
	unsigned have; /* 1 << LK_* */
	unsigned u[LK_NU];
	struct rtnl_link_stats64 st;
	char addr[3 * 32], brd[3 * 32]; /* as sysfs prints them: "%*phC" */
	char alias[256];
};

/* The last dump; reused by the next collector of the same scrape (node_scrape_gen). */
static struct {
	struct link *l;
	unsigned n, cap;
	unsigned long gen;
} links;

static void link_mac(char *out, const unsigned char *a, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	if (n > 32)
		n = 32;
	for (size_t i = 0; i < n; i++) {
		*out++ = hex[a[i] >> 4];
		*out++ = hex[a[i] & 15];
		if (i + 1 < n)
			*out++ = ':';
	}
	*out = '\0';
}

static void link_parse(struct nlmsghdr *nh, struct link *k)
{
	struct ifinfomsg *ifm = NLMSG_DATA(nh);
	int alen = (int)IFLA_PAYLOAD(nh);
	struct rtattr *a;

	memset(k, 0, offsetof(struct link, addr));
	k->addr[0] = k->brd[0] = k->alias[0] = '\0';
	k->index = ifm->ifi_index;
	k->flags = ifm->ifi_flags;
	k->type = ifm->ifi_type;
	for (a = IFLA_RTA(ifm); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
		size_t len = RTA_PAYLOAD(a);
		int u = -1;

		switch (a->rta_type) {
		case IFLA_IFNAME:
			snprintf(k->name, sizeof(k->name), "%.*s", (int)len, (char *)RTA_DATA(a));
			break;
		case IFLA_IFALIAS:
			/* sysfs' ifalias, read as one line */
			snprintf(k->alias, sizeof(k->alias), "%.*s", (int)len, (char *)RTA_DATA(a));
			k->alias[strcspn(k->alias, "\n")] = '\0';
			break;
		case IFLA_ADDRESS:
			link_mac(k->addr, RTA_DATA(a), len);
			k->have |= 1u << LK_ADDRESS;
			break;
		case IFLA_BROADCAST:
			link_mac(k->brd, RTA_DATA(a), len);
			k->have |= 1u << LK_BROADCAST;
			break;
		case IFLA_STATS64:
			if (len >= offsetof(struct rtnl_link_stats64, rx_nohandler) + 8) {
				memcpy(&k->st, RTA_DATA(a),
				       len < sizeof(k->st) ? len : sizeof(k->st));
				k->have |= 1u << LK_STATS;
			}
			break;
		case IFLA_MTU: u = LK_MTU; break;
		case IFLA_TXQLEN: u = LK_TXQLEN; break;
		case IFLA_GROUP: u = LK_GROUP; break;
		case IFLA_LINK: u = LK_LINK; break;
		case IFLA_LINKMODE: u = LK_LINKMODE; break;
		case IFLA_OPERSTATE: u = LK_OPERSTATE; break;
		case IFLA_CARRIER: u = LK_CARRIER; break;
		case IFLA_CARRIER_CHANGES: u = LK_CHANGES; break;
		case IFLA_CARRIER_UP_COUNT: u = LK_UP; break;
		case IFLA_CARRIER_DOWN_COUNT: u = LK_DOWN; break;
		}
		if (u < 0 || !len)
			continue;
		k->u[u] = len >= 4 ? *(__u32 *)RTA_DATA(a) : *(__u8 *)RTA_DATA(a);
		k->have |= 1u << u;
	}
}

/* RTM_GETLINK dump of every link of this network namespace into links; 0 or -errno. */
static int link_dump(void)
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

	if (node_scrape_gen && links.gen == node_scrape_gen)
		return 0;
	links.gen = 0;
	links.n = 0;
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
			if (links.n == links.cap) {
				unsigned cap = links.cap ? links.cap * 2 : 8;
				struct link *tmp = realloc(links.l, cap * sizeof(*tmp));

				if (!tmp) {
					err = -ENOMEM;
					done = true;
					break;
				}
				links.l = tmp;
				links.cap = cap;
			}
			link_parse(nh, &links.l[links.n]);
			if (links.l[links.n].name[0])
				links.n++;
		}
	}
	if (!err)
		links.gen = node_scrape_gen;
out_close:
	close(fd);
out_free:
	free(buf);
	return err;
}

static const struct link *link_find(const char *name)
{
	for (unsigned i = 0; i < links.n; i++)
		if (strcmp(links.l[i].name, name) == 0)
			return &links.l[i];
	return NULL;
}

/* IFLA_STATS64 per link, mapped the way node_exporter 1.5 maps it. */
static int netdev_netlink(struct netdev_list *l)
{
	int err = link_dump();

	for (unsigned i = 0; !err && i < links.n; i++) {
		const struct rtnl_link_stats64 *s = &links.l[i].st;
		struct netdev *d;

		if (!(links.l[i].have & (1u << LK_STATS)))
			continue;
		d = netdev_add(l, links.l[i].name);
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

/*
 * Where netclass finds a value in the rtnetlink dump (struct link) instead of sysfs. Only values
 * rtnetlink reports exactly as sysfs shows them are taken from it (net/core/net-sysfs.c against
 * rtnl_fill_ifinfo()); the others (addr_assign_type, dev_id, flags, name_assign_type, speed,
 * duplex) are read from sysfs, speed and duplex only when the device is running (sysfs answers
 * -EINVAL otherwise). addr_assign_type, dev_id and name_assign_type (NL_CONST) are remembered
 * per device (see nc_known).
 */
enum { NL_NONE = -1, NL_INDEX = -2, NL_IFLINK = -3, NL_TYPE = -4, NL_CARRIER = -5,
       NL_DORMANT = -6, NL_IF_RUNNING = -7, NL_CONST = -8 };

/* numeric attributes: sysfs file, metric suffix, type, source; in node_exporter's sorted order */
static const struct {
	const char *file, *metric, *type;
	int nl; /* LK_* index into link.u, or NL_* */
} netclass_attrs[] = {
	{ "addr_assign_type", "address_assign_type", "gauge", NL_CONST },
	{ "carrier", "carrier", "gauge", NL_CARRIER },
	{ "carrier_changes", "carrier_changes_total", "counter", LK_CHANGES },
	{ "carrier_down_count", "carrier_down_changes_total", "counter", LK_DOWN },
	{ "carrier_up_count", "carrier_up_changes_total", "counter", LK_UP },
	{ "dev_id", "device_id", "gauge", NL_CONST },
	{ "dormant", "dormant", "gauge", NL_DORMANT },
	{ "flags", "flags", "gauge", NL_NONE },
	{ "ifindex", "iface_id", "gauge", NL_INDEX },
	{ "iflink", "iface_link", "gauge", NL_IFLINK },
	{ "link_mode", "iface_link_mode", "gauge", LK_LINKMODE },
	{ "mtu", "mtu_bytes", "gauge", LK_MTU },
	{ "name_assign_type", "name_assign_type", "gauge", NL_CONST },
	{ "netdev_group", "net_dev_group", "gauge", LK_GROUP },
	{ "type", "protocol_type", "gauge", NL_TYPE },
	{ "speed", "speed_bytes", "gauge", NL_IF_RUNNING },
	{ "tx_queue_len", "transmit_queue_length", "gauge", LK_TXQLEN },
};
#define NC_NATTR (sizeof(netclass_attrs) / sizeof(netclass_attrs[0]))
enum { NC_ADDRESS, NC_BROADCAST, NC_DUPLEX, NC_IFALIAS, NC_OPERSTATE, NC_NSTR };
static const char *const netclass_strs[NC_NSTR] = { "address", "broadcast", "duplex", "ifalias",
						    "operstate" };

#ifndef IFF_DORMANT
#define IFF_DORMANT (1u << 17)
#endif

struct iface {
	char name[64];
	int dfd; /* /sys/class/net */
	const struct link *k; /* its rtnetlink values, when they may be used */
	struct nc_known *kn;  /* what is remembered of it, when k is used */
	bool has[NC_NATTR];
	double v[NC_NATTR];
	char s[NC_NSTR][256];
};

/* <sysfs>/class/net/<iface>/<file> as one line, opened from the class/net directory */
static int nc_read_line(const struct iface *f, const char *file, char *buf, size_t size)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", f->name, file);
	return node_read_line_at(f->dfd, path, buf, size);
}

static int cmp_iface(const void *a, const void *b)
{
	return strcmp(((const struct iface *)a)->name, ((const struct iface *)b)->name);
}

/*
 * A numeric attribute from rtnetlink: true when k decides it (*has false: sysfs would fail to
 * read it), false when it must be read from sysfs. carrier and dormant read -EINVAL from sysfs
 * unless the device is running (IFF_UP); rtnetlink's IFF_DORMANT is set only then too.
 */
static bool nc_from_link(const struct link *k, int nl, bool *has, double *v)
{
	bool running = k->flags & IFF_UP;

	if (nl == NL_NONE || nl == NL_CONST)
		return false;
	*has = true;
	switch (nl) {
	case NL_INDEX:
		*v = k->index;
		return true;
	case NL_IFLINK: /* rtnetlink leaves IFLA_LINK out when it equals the ifindex */
		*v = k->have & (1u << LK_LINK) ? (int)k->u[LK_LINK] : k->index;
		return true;
	case NL_TYPE:
		*v = k->type;
		return true;
	case NL_CARRIER:
		if (!(k->have & (1u << LK_CARRIER))) {
			*has = false;
			return false;
		}
		*has = running;
		*v = k->u[LK_CARRIER] != 0;
		return true;
	case NL_DORMANT:
		*has = running;
		*v = (k->flags & IFF_DORMANT) != 0;
		return true;
	case NL_IF_RUNNING:
		*has = false;
		return !running;
	default:
		if (!(k->have & (1u << nl))) {
			*has = false;
			return false;
		}
		*v = k->u[nl];
		return true;
	}
}

/* A string attribute from rtnetlink, as sysfs shows it; false: read sysfs. */
static bool nc_str_from_link(const struct link *k, unsigned s, char *out, size_t size)
{
	/* net-sysfs.c operstates[]; rtnetlink reports IF_OPER_DOWN unless running, as sysfs */
	static const char *const operstates[] = { "unknown", "notpresent", "down", "lowerlayerdown",
						  "testing", "dormant", "up" };

	switch (s) {
	case NC_ADDRESS: /* both absent when addr_len is 0: sysfs prints an empty line */
		snprintf(out, size, "%s", k->addr);
		return true;
	case NC_BROADCAST:
		snprintf(out, size, "%s", k->brd);
		return true;
	case NC_IFALIAS:
		snprintf(out, size, "%s", k->alias);
		return true;
	case NC_DUPLEX: /* from ethtool, in sysfs only while running */
		if (k->flags & IFF_UP)
			return false;
		out[0] = '\0';
		return true;
	case NC_OPERSTATE:
		if (!(k->have & (1u << LK_OPERSTATE)))
			return false;
		snprintf(out, size, "%s",
			 k->u[LK_OPERSTATE] < sizeof(operstates) / sizeof(operstates[0]) ?
				 operstates[k->u[LK_OPERSTATE]] :
				 "");
		return true;
	}
	return false;
}

/*
 * Interfaces whose sysfs ifindex and address were seen to match rtnetlink's (by name and
 * ifindex): the check that the sysfs mount shows this process' network namespace (a host /sys
 * seen from a container's own namespace shows other devices, possibly with the same names).
 */
bool node_netclass_used_netlink;
static bool nc_logged;

/*
 * What netclass remembers of each interface whose values it takes from rtnetlink:
 * - that its sysfs ifindex and address were seen to match rtnetlink's (by name and ifindex): the
 *   check that the sysfs mount shows this process' network namespace (a host /sys seen from a
 *   container's own namespace shows other devices, possibly with the same names);
 * - its NL_CONST attributes. The kernel changes them only with the name (NETDEV_CHANGENAME), the
 *   address (NETDEV_CHANGEADDR, even when set to the same one: addr_assign_type becomes "set") or
 *   at registration, and rtnetlink announces each as RTM_NEWLINK: nc_evfd, subscribed to
 *   RTMGRP_LINK, is drained every scrape and forgets the constants of every device announced
 *   (all of them if it overflowed). They are read again after NC_CONST_TTL seconds regardless.
 */
#define NC_CONST_TTL 60.0
struct nc_known {
	char name[IFNAMSIZ];
	int index;
	double read_at; /* CLOCK_MONOTONIC seconds the constants were read at; 0: not read */
	bool has[NC_NATTR];
	double v[NC_NATTR];
};
static struct nc_known *nc_seen;
static unsigned nc_nseen;
static int nc_evfd = -1;

static double nc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct nc_known *nc_seen_find(const struct link *k)
{
	for (unsigned i = 0; i < nc_nseen; i++)
		if (nc_seen[i].index == k->index && strcmp(nc_seen[i].name, k->name) == 0)
			return &nc_seen[i];
	return NULL;
}

/* Reads the link announcements since the last scrape; false: constants cannot be kept. */
static bool nc_events(void)
{
	char buf[8192];
	ssize_t n;

	if (nc_evfd < 0) {
		struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };

		nc_evfd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
		if (nc_evfd < 0)
			return false;
		if (bind(nc_evfd, (struct sockaddr *)&sa, sizeof(sa))) {
			close(nc_evfd);
			nc_evfd = -1;
			return false;
		}
		/* subscribed now: what was read before is unknown */
		for (unsigned i = 0; i < nc_nseen; i++)
			nc_seen[i].read_at = 0;
	}
	for (;;) {
		n = recv(nc_evfd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			/* announcements were lost */
			for (unsigned i = 0; i < nc_nseen; i++)
				nc_seen[i].read_at = 0;
			continue;
		}
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK;
		/* one message per notification; a long one is cut to the buffer, the header is kept */
		if ((size_t)n < NLMSG_HDRLEN + sizeof(struct ifinfomsg))
			continue;
		{
			const struct nlmsghdr *nh = (const struct nlmsghdr *)buf;
			const struct ifinfomsg *ifm = NLMSG_DATA(nh);

			if (nh->nlmsg_type != RTM_NEWLINK && nh->nlmsg_type != RTM_DELLINK)
				continue;
			for (unsigned i = 0; i < nc_nseen; i++)
				if (nc_seen[i].index == ifm->ifi_index)
					nc_seen[i].read_at = 0;
		}
	}
}

/*
 * Whether this scrape may take values from the rtnetlink dump: the links it lists are the
 * interfaces sysfs lists (all of them: nsys counts the ignored ones too), and each one's ifindex
 * and address agree, checked in sysfs once per interface.
 */
static bool nc_use_netlink(struct iface *ifs, unsigned n, unsigned nsys)
{
	char line[256];
	bool keep;
	void *tmp;

	if (!node_cfg.netclass_netlink || link_dump() || links.n != nsys)
		return false;
	for (unsigned i = 0; i < n; i++) {
		const struct link *k = link_find(ifs[i].name);

		if (!k)
			return false;
		ifs[i].k = k;
	}
	keep = nc_events();
	for (unsigned i = 0; i < n; i++) {
		const struct link *k = ifs[i].k;

		if (nc_seen_find(k))
			continue;
		if (nc_read_line(&ifs[i], "ifindex", line, sizeof(line)) ||
		    strtol(line, NULL, 10) != k->index ||
		    nc_read_line(&ifs[i], "address", line, sizeof(line)) ||
		    strcmp(line, k->addr) != 0)
			return false;
		tmp = realloc(nc_seen, (nc_nseen + 1) * sizeof(*nc_seen));
		if (!tmp)
			return false;
		nc_seen = tmp;
		memset(&nc_seen[nc_nseen], 0, sizeof(*nc_seen));
		snprintf(nc_seen[nc_nseen].name, sizeof(nc_seen[nc_nseen].name), "%s", k->name);
		nc_seen[nc_nseen++].index = k->index;
	}
	/* forget the interfaces that are gone */
	for (unsigned i = 0; i < nc_nseen;) {
		bool found = false;

		for (unsigned j = 0; j < n && !found; j++)
			found = ifs[j].k->index == nc_seen[i].index &&
				strcmp(ifs[j].name, nc_seen[i].name) == 0;
		if (found)
			i++;
		else
			nc_seen[i] = nc_seen[--nc_nseen];
	}
	for (unsigned i = 0; i < n; i++) {
		ifs[i].kn = keep ? nc_seen_find(ifs[i].k) : NULL;
		if (ifs[i].kn && ifs[i].kn->read_at && nc_now() - ifs[i].kn->read_at > NC_CONST_TTL)
			ifs[i].kn->read_at = 0;
	}
	return true;
}

void node_net_fini(void)
{
	if (nc_evfd >= 0)
		close(nc_evfd);
	nc_evfd = -1;
	free(nc_seen);
	nc_seen = NULL;
	nc_nseen = 0;
	free(links.l);
	memset(&links, 0, sizeof(links));
}

static void nc_read(struct iface *f, bool nl)
{
	char line[256];

	bool known = nl && f->kn && f->kn->read_at;

	for (unsigned a = 0; a < NC_NATTR; a++) {
		char *end;
		long long v;

		if (known && netclass_attrs[a].nl == NL_CONST) {
			f->has[a] = f->kn->has[a];
			f->v[a] = f->kn->v[a];
			continue;
		}
		if (nl && nc_from_link(f->k, netclass_attrs[a].nl, &f->has[a], &f->v[a]))
			continue;
		if (nc_read_line(f, netclass_attrs[a].file, line, sizeof(line)) ||
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
	if (nl && f->kn && !known) {
		memcpy(f->kn->has, f->has, sizeof(f->has));
		memcpy(f->kn->v, f->v, sizeof(f->v));
		f->kn->read_at = nc_now();
	}
	for (unsigned s = 0; s < NC_NSTR; s++) {
		if (nl && nc_str_from_link(f->k, s, f->s[s], sizeof(f->s[s])))
			continue;
		if (nc_read_line(f, netclass_strs[s], f->s[s], sizeof(f->s[s])))
			f->s[s][0] = '\0';
	}
}

int node_netclass_collect(struct prom_buf *b)
{
	char dir[4096];
	struct iface *ifs = NULL, *tmp;
	unsigned n = 0, cap = 0, nsys = 0;
	struct dirent *de;
	bool nl;
	DIR *d;
	int err = 0;

	d = opendir(node_path(dir, sizeof(dir), node_cfg.sysfs, "class/net"));
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct iface *f;
		struct stat st;

		/* interfaces are directories (or links to them); bonding_masters is a file */
		if (de->d_name[0] == '.' ||
		    (de->d_type != DT_LNK && de->d_type != DT_DIR &&
		     (de->d_type != DT_UNKNOWN || fstatat(dirfd(d), de->d_name, &st, 0) ||
		      !S_ISDIR(st.st_mode))))
			continue;
		nsys++;
		if (node_match(node_filt.netclass_ignored, de->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			tmp = realloc(ifs, cap * sizeof(*tmp));
			if (!tmp) {
				err = -ENOMEM;
				goto out;
			}
			ifs = tmp;
		}
		f = &ifs[n++];
		memset(f, 0, sizeof(*f));
		f->dfd = dirfd(d);
		snprintf(f->name, sizeof(f->name), "%.63s", de->d_name);
	}
	nl = nc_use_netlink(ifs, n, nsys);
	if (nl != node_netclass_used_netlink || !nc_logged) {
		log_debug("node: netclass: %s", nl ? "values rtnetlink has from rtnetlink" :
							"all values from sysfs");
		nc_logged = true;
	}
	node_netclass_used_netlink = nl;
	for (unsigned i = 0; i < n; i++)
		nc_read(&ifs[i], nl);
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
	char name[224], *key = name + 13; /* "node_netstat_" */
	size_t pl = strlen(proto), fl = strlen(field);

	if (pl + fl + 14 >= sizeof(name))
		return;
	memcpy(name, "node_netstat_", 13);
	memcpy(key, proto, pl);
	key[pl] = '_';
	memcpy(key + pl + 1, field, fl + 1);
	if (node_filt.netstat_fields && !node_match(node_filt.netstat_fields, key))
		return;
	/* prom_family(name, "untyped", "Statistic <proto><field>."), unrolled */
	prom_append(b, "# HELP ", 7);
	prom_append(b, name, 13 + pl + 1 + fl);
	prom_append(b, " Statistic ", 11);
	prom_append(b, proto, pl);
	prom_append(b, field, fl);
	prom_append(b, ".\n# TYPE ", 9);
	prom_append(b, name, 13 + pl + 1 + fl);
	prom_append(b, " untyped\n", 9);
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

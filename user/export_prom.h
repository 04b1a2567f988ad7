/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The Prometheus endpoint: libmicrohttpd serving --web.telemetry-path on --web.listen-address
 * with node_exporter's flags, so the agent replaces node_exporter in existing scrape configs.
 * /metrics = the node collectors (user/node/) + every prom_register_source() source + the
 * agent's own process_* metrics.
 */
#ifndef O11Y_EXPORT_PROM_H
#define O11Y_EXPORT_PROM_H

#include "config.h"
#include "prom.h"

extern const struct opt_table prom_opt_table;

/*
 * Starts the HTTP server thread. Sources must be registered before. Returns 0 or -errno
 * (logged: bad flags, address in use, ...).
 */
int prom_server_start(void);
/* Stops the server (waits for a scrape in progress); safe to call when not started. */
void prom_server_stop(void);

/*
 * Writes one scrape into b as the handler does: collect/exclude are the collect[] and
 * exclude[] query values (NULL-terminated arrays or NULL). Returns 0, -ENOENT for an unknown
 * or disabled collector name (msg says which), -EINVAL when both lists are given.
 */
int prom_scrape(struct prom_buf *b, const char *const *collect, const char *const *exclude,
		char *msg, size_t msg_size);
/* Appends the agent's process_* metrics, read from procfs/self (exposed for tests). */
int prom_write_process(struct prom_buf *b, const char *procfs);
/* Parses "host:port", ":port" or "[v6]:port"; host is "" for all addresses. 0 or -EINVAL. */
int prom_parse_listen(const char *addr, char *host, size_t host_size, char *port,
		      size_t port_size);

#endif

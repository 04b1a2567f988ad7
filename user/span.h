/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A finished HTTP server span: what http_assemble builds from kernel events and what every
 * consumer (printer, RED metrics, OTLP exporter) takes. Self-contained plain data: it carries
 * its process's resource identity, so consumers in other threads need no lookups.
 */
#ifndef O11Y_SPAN_H
#define O11Y_SPAN_H

#include <stdbool.h>
#include <stdint.h>

#define SPAN_METHOD_MAX 16
#define SPAN_PATH_MAX 512
#define SPAN_ROUTE_MAX 256
#define SPAN_UA_MAX 256
#define SPAN_ADDR_MAX 46 /* INET6_ADDRSTRLEN */
#define SPAN_NAME_MAX 128

struct http_span {
	uint8_t trace_id[16];
	uint8_t span_id[8];
	uint8_t parent_span_id[8]; /* all zero: no parent */
	bool has_parent;           /* the request carried a valid W3C traceparent */
	uint8_t trace_flags;       /* from traceparent; 0x01 = sampled */
	uint64_t start_ns;         /* wall clock, unix ns: first bytes of the request received */
	uint64_t end_ns;           /* wall clock, unix ns: last bytes of the response handed over */
	uint32_t pid;
	uint16_t status_code;
	uint8_t proto_minor; /* HTTP/1.<minor> */
	char method[SPAN_METHOD_MAX];
	char path[SPAN_PATH_MAX];   /* url.path, without query or fragment */
	char route[SPAN_ROUTE_MAX]; /* http.route; "" when not known */
	char user_agent[SPAN_UA_MAX];
	char client_addr[SPAN_ADDR_MAX];
	uint16_t client_port;
	uint16_t server_port;
	uint64_t resp_bytes; /* bytes of the response handed to the kernel, head included */
	/* resource: the process that served the request */
	char service_name[SPAN_NAME_MAX]; /* its OTEL_SERVICE_NAME, else its executable name */
	char exe_name[SPAN_NAME_MAX];     /* process.executable.name */
};

/* "{method} {route}" when a route is known, else "{method}". */
void span_name(const struct http_span *s, char *buf, unsigned size);
/* Lower-case hex of n bytes into buf (2n+1 bytes). */
void span_hex(const uint8_t *id, unsigned n, char *buf);

#endif

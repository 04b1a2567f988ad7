/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A finished HTTP server span: what http_assemble builds from kernel events and what every
 * consumer (printer, RED metrics, OTLP exporter) takes. Self-contained plain data: it carries
 * its process's resource identity, so consumers in other threads need no lookups.
 */
#ifndef O11Y_SPAN_H
#define O11Y_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPAN_METHOD_MAX 16
#define SPAN_PATH_MAX 512
#define SPAN_ROUTE_MAX 256
#define SPAN_UA_MAX 256
#define SPAN_ADDR_MAX 46 /* INET6_ADDRSTRLEN */
#define SPAN_NAME_MAX 128

/* Owner workload kinds, as in the k8s.<kind>.name resource attributes. */
enum span_k8s_kind {
	SPAN_K8S_NONE = 0,
	SPAN_K8S_REPLICASET,
	SPAN_K8S_DEPLOYMENT,
	SPAN_K8S_DAEMONSET,
	SPAN_K8S_STATEFULSET,
	SPAN_K8S_JOB,
	SPAN_K8S_CRONJOB,
	SPAN_K8S_REPLICATIONCONTROLLER,
};

#define SPAN_K8S_NAME_MAX 254 /* DNS subdomain names (pods, workloads, nodes): 253 */
#define SPAN_K8S_LABEL_MAX 64 /* DNS labels (namespaces, container names): 63 */

/* The container and pod of the process; every field "" (or NONE) when unknown. */
struct span_k8s {
	char container_id[65];			 /* container.id, from /proc/PID/cgroup */
	char pod_uid[37];			 /* k8s.pod.uid, from /proc/PID/cgroup */
	char namespace_name[SPAN_K8S_LABEL_MAX]; /* k8s.namespace.name, also service.namespace */
	char pod_name[SPAN_K8S_NAME_MAX];	 /* k8s.pod.name */
	char container_name[SPAN_K8S_LABEL_MAX]; /* k8s.container.name */
	char node_name[SPAN_K8S_NAME_MAX];	 /* k8s.node.name */
	uint8_t owner_kind;			 /* enum span_k8s_kind: the pod's controller */
	uint8_t top_kind; /* its owner: DEPLOYMENT of a REPLICASET, CRONJOB of a JOB */
	char owner_name[SPAN_K8S_NAME_MAX];
	char top_name[SPAN_K8S_NAME_MAX];
};

#define SPAN_FILES_MAX 8       /* file.read child spans per request (O11Y_PC_REQ_FILES) */
#define SPAN_FILE_PATH_MAX 256 /* O11Y_PC_PATH_MAX */

/* A file read while serving a request: a child span "file.read" of the server span. */
struct span_file_read {
	uint8_t span_id[8];
	uint64_t start_ns; /* wall clock, unix ns: its first and latest page lookup */
	uint64_t end_ns;
	uint64_t bytes; /* bytes of the pages looked up, up to the file size */
	uint64_t hits;	/* pages */
	uint64_t misses;
	bool path_truncated;	       /* the leading part of the path is missing */
	char path[SPAN_FILE_PATH_MAX]; /* file.path */
};

struct http_span {
	uint8_t trace_id[16];
	uint8_t span_id[8];
	uint8_t parent_span_id[8]; /* all zero: no parent */
	bool has_parent;	   /* the request carried a valid W3C traceparent */
	uint8_t trace_flags;	   /* from traceparent; 0x01 = sampled */
	uint64_t start_ns;	   /* wall clock, unix ns: first bytes of the request received */
	uint64_t end_ns;	   /* wall clock, unix ns: last bytes of the response handed over */
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
	char exe_name[SPAN_NAME_MAX];	  /* process.executable.name */
	/*
	 * resource, container and Kubernetes (user/k8s.c, k8s_span_fill): filled in the main
	 * thread's span hook before any consumer sees the span; see struct span_k8s
	 */
	struct span_k8s k8s;
	/*
	 * page cache (bpf/pagecache.bpf.c via user/pagecache.c, pc_req_to_span): what the
	 * serving thread looked up in the page cache while serving the request, in pages, and
	 * the files it read (each a child span "file.read"); has_page_cache false: not measured
	 */
	bool has_page_cache;
	bool pc_files_dropped; /* more files were read than pc_files holds */
	uint8_t pc_nfiles;
	uint64_t pc_hits;
	uint64_t pc_misses;
	struct span_file_read pc_files[SPAN_FILES_MAX];
};

/* Bytes of s that hold data: the struct up to its file.read children, and the ones it has. */
size_t span_size(const struct http_span *s);
/* Copies span_size(src) bytes (dst must be a whole struct or span_size(src) long). */
void span_copy(struct http_span *dst, const struct http_span *src);
/* Copies the string src into dst of size bytes, cut to fit, always terminated. */
void span_strcpy(char *dst, const char *src, size_t size);

/* "{method} {route}" when a route is known, else "{method}". */
void span_name(const struct http_span *s, char *buf, unsigned size);
/* Lower-case hex of n bytes into buf (2n+1 bytes). */
void span_hex(const uint8_t *id, unsigned n, char *buf);

#endif

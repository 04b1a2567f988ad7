/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Kubernetes metadata for spans and RED metrics. One thread of its own lists the pods of this
 * node from the API server (fieldSelector=spec.nodeName=$NODE_NAME, paged), then watches them
 * from the list's resourceVersion; ReplicaSets are read to find their Deployment. The main thread
 * only looks pods up in the cache, under a lock the API thread holds just to change the table
 * (never during I/O): an API server that is down or slow delays metadata, never capture.
 * Memory: at most --kube-max-pods pods of ~3 KiB each, a 256-entry ReplicaSet cache, one list
 * page (--kube-page-size pods) or one watch event in flight.
 *
 * Off, with one info line, without a node name or an API server (in-cluster
 * KUBERNETES_SERVICE_HOST/PORT or --kube-api-url). container.id and k8s.pod.uid come from the
 * process's cgroup either way.
 */
#ifndef O11Y_K8S_H
#define O11Y_K8S_H

#include "config.h"
#include "span.h"

extern const struct opt_table k8s_opt_table;

/* Starts the API thread when configured (else logs why not). Returns 0 or -errno. */
int k8s_start(void);
/* Stops the thread (an API request in flight is aborted within about a second). */
void k8s_stop(void);
/*
 * Main thread, for each finished span: sets s->k8s from the span's process and its pod, and
 * s->service_name by the precedence OTEL_SERVICE_NAME, app.kubernetes.io/name, owner
 * workload, executable name. Never blocks on the API.
 */
void k8s_span_fill(struct http_span *s);

#endif

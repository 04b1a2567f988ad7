/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The pod cache's data and the Kubernetes JSON it is built from: pods parsed from list and
 * watch bodies, the owner of a ReplicaSet, and the lookup that gives a span its pod. Pure: no
 * I/O, no locks (user/k8s.c owns the thread, the HTTP and the lock).
 */
#ifndef O11Y_K8S_META_H
#define O11Y_K8S_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroup.h"
#include "span.h"

#define K8S_MAX_CONTAINERS 16 /* containers remembered per pod (init and ephemeral included) */
#define K8S_RV_MAX 64         /* resourceVersion */
#define K8S_LABEL_VALUE_MAX 64

struct k8s_container {
	char id[CGROUP_CONTAINER_ID_MAX]; /* from "containerd://<id>", "cri-o://<id>", ... */
	char name[SPAN_K8S_LABEL_MAX];
};

struct k8s_pod {
	char uid[CGROUP_POD_UID_MAX];
	/* static pods: kubelet's hash (kubernetes.io/config.mirror), the uid the cgroup shows */
	char mirror_uid[CGROUP_POD_UID_MAX];
	char namespace_name[SPAN_K8S_LABEL_MAX];
	char name[SPAN_K8S_NAME_MAX];
	char node_name[SPAN_K8S_NAME_MAX];
	char app_name[K8S_LABEL_VALUE_MAX];          /* label app.kubernetes.io/name */
	char pod_template_hash[K8S_LABEL_VALUE_MAX]; /* label pod-template-hash */
	uint8_t owner_kind, top_kind;                /* enum span_k8s_kind */
	char owner_name[SPAN_K8S_NAME_MAX], top_name[SPAN_K8S_NAME_MAX];
	unsigned ncontainers;
	struct k8s_container c[K8S_MAX_CONTAINERS];
};

/* Pods by uid: an array of pointers sorted by uid, at most cap of them. */
struct k8s_pods {
	struct k8s_pod **v;
	unsigned n, cap;
};

enum k8s_event_type {
	K8S_EV_ADDED,
	K8S_EV_MODIFIED,
	K8S_EV_DELETED,
	K8S_EV_BOOKMARK,
	K8S_EV_ERROR,
};

/* "k8s.deployment.name" for SPAN_K8S_DEPLOYMENT, ...; NULL for NONE. */
const char *k8s_kind_attr(unsigned kind);
/*
 * Calls fn for each resource attribute k holds, empty ones left out, in this order:
 * container.id, k8s.pod.uid, k8s.namespace.name, service.namespace (the namespace),
 * k8s.pod.name, k8s.container.name, k8s.node.name, then the owner's and its owner's
 * k8s.<kind>.name. Returns how many it called fn for (at most K8S_RES_ATTRS_MAX).
 */
#define K8S_RES_ATTRS_MAX 9
unsigned k8s_resource_attrs(const struct span_k8s *k,
			    void (*fn)(const char *key, const char *val, void *ctx), void *ctx);

/* Constructor: an empty table for at most cap pods. NULL and errno on failure. */
struct k8s_pods *k8s_pods_new(unsigned cap);
void k8s_pods_free(struct k8s_pods *t);
/* Adds or replaces (by uid) a copy of p. Returns 0, -ENOSPC when full, or -ENOMEM. */
int k8s_pods_put(struct k8s_pods *t, const struct k8s_pod *p);
/* Forgets the pod; returns 0 or -ENOENT. */
int k8s_pods_del(struct k8s_pods *t, const char *uid);
/* The pod with this uid, or the static pod whose kubelet hash it is; NULL when unknown. */
const struct k8s_pod *k8s_pods_get(const struct k8s_pods *t, const char *uid);

/*
 * Fills s->k8s from the process's cgroup identity and its pod in t (t may be NULL: container id
 * and pod uid only), then applies the service.name precedence: the process's OTEL_SERVICE_NAME
 * (service_from_env: s->service_name is kept), the pod label app.kubernetes.io/name, the owner
 * workload's name (the Deployment or CronJob over the ReplicaSet or Job), the executable name
 * (what s->service_name already holds). Returns true when a pod was found.
 */
bool k8s_pods_fill(const struct k8s_pods *t, const struct cgroup_ident *cg, bool service_from_env,
		   struct http_span *s);

/*
 * Parses one pod object (json: a json-c object, opaque here to keep json-c out of the header).
 * Returns 0 or -EINVAL when it has no uid, name or namespace.
 */
int k8s_pod_from_json(const void *json, struct k8s_pod *p);
/*
 * A PodList page: each item goes through put(ctx, pod); rv gets metadata.resourceVersion and
 * cont metadata.continue ("" when this was the last page). Returns the number of items, or
 * -EINVAL when body is not a PodList.
 */
int k8s_list_parse(const char *body, size_t len, int (*put)(void *ctx, const struct k8s_pod *p),
		   void *ctx, char rv[K8S_RV_MAX], char *cont, size_t cont_size);
/*
 * One watch event line. ADDED/MODIFIED/DELETED fill p; every type but ERROR sets rv to the
 * object's resourceVersion; ERROR sets *code (410: the resourceVersion is too old). Returns the
 * type, or -EINVAL.
 */
int k8s_event_parse(const char *line, size_t len, struct k8s_pod *p, char rv[K8S_RV_MAX],
		    int *code);
/* The controller of a ReplicaSet (a Deployment's name) into name; 0, -ENOENT or -EINVAL. */
int k8s_rs_owner_parse(const char *body, size_t len, char *name, size_t size);
/*
 * Without the API: a ReplicaSet made by a Deployment is named "<deployment>-<pod-template-hash>".
 * Sets p's top owner from that when the pod's hash label ends its ReplicaSet's name.
 */
void k8s_pod_guess_deployment(struct k8s_pod *p);

#endif

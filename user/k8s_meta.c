// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_meta.h"

const char *k8s_kind_attr(unsigned kind)
{
	static const char *const attr[] = {
		[SPAN_K8S_REPLICASET] = "k8s.replicaset.name",
		[SPAN_K8S_DEPLOYMENT] = "k8s.deployment.name",
		[SPAN_K8S_DAEMONSET] = "k8s.daemonset.name",
		[SPAN_K8S_STATEFULSET] = "k8s.statefulset.name",
		[SPAN_K8S_JOB] = "k8s.job.name",
		[SPAN_K8S_CRONJOB] = "k8s.cronjob.name",
		[SPAN_K8S_REPLICATIONCONTROLLER] = "k8s.replicationcontroller.name",
	};

	return kind < sizeof(attr) / sizeof(attr[0]) ? attr[kind] : NULL;
}

unsigned k8s_resource_attrs(const struct span_k8s *k,
			    void (*fn)(const char *key, const char *val, void *ctx), void *ctx)
{
	const struct {
		const char *key, *val;
	} kv[K8S_RES_ATTRS_MAX] = {
		{ "container.id", k->container_id },
		{ "k8s.pod.uid", k->pod_uid },
		{ "k8s.namespace.name", k->namespace_name },
		{ "service.namespace", k->namespace_name },
		{ "k8s.pod.name", k->pod_name },
		{ "k8s.container.name", k->container_name },
		{ "k8s.node.name", k->node_name },
		{ k8s_kind_attr(k->owner_kind), k->owner_name },
		{ k8s_kind_attr(k->top_kind), k->top_name },
	};
	unsigned n = 0;

	for (unsigned i = 0; i < K8S_RES_ATTRS_MAX; i++) {
		if (kv[i].key && kv[i].val[0]) {
			fn(kv[i].key, kv[i].val, ctx);
			n++;
		}
	}
	return n;
}

/* ---- the table ------------------------------------------------------------------------ */

struct k8s_pods *k8s_pods_new(unsigned cap)
{
	struct k8s_pods *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cap = cap;
	t->v = calloc(cap ? cap : 1, sizeof(*t->v));
	if (!t->v) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

void k8s_pods_free(struct k8s_pods *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	free(t);
}

/* Index of uid, or of where it would go (*found false). */
static unsigned find(const struct k8s_pods *t, const char *uid, bool *found)
{
	unsigned lo = 0, hi = t->n;

	*found = false;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		int c = strcmp(t->v[mid]->uid, uid);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int k8s_pods_put(struct k8s_pods *t, const struct k8s_pod *p)
{
	bool found;
	unsigned i = find(t, p->uid, &found);
	struct k8s_pod *c;

	if (found) {
		*t->v[i] = *p;
		return 0;
	}
	if (t->n >= t->cap)
		return -ENOSPC;
	c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	*c = *p;
	memmove(&t->v[i + 1], &t->v[i], (t->n - i) * sizeof(*t->v));
	t->v[i] = c;
	t->n++;
	return 0;
}

int k8s_pods_del(struct k8s_pods *t, const char *uid)
{
	bool found;
	unsigned i = find(t, uid, &found);

	if (!found)
		return -ENOENT;
	free(t->v[i]);
	memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof(*t->v));
	t->n--;
	return 0;
}

const struct k8s_pod *k8s_pods_get(const struct k8s_pods *t, const char *uid)
{
	bool found;
	unsigned i;

	if (!t || !uid[0])
		return NULL;
	i = find(t, uid, &found);
	if (found)
		return t->v[i];
	/* a static pod's cgroup carries kubelet's 32-digit hash, not the mirror pod's uid */
	if (strlen(uid) == 32)
		for (i = 0; i < t->n; i++)
			if (strcmp(t->v[i]->mirror_uid, uid) == 0)
				return t->v[i];
	return NULL;
}

static void copy(char *dst, size_t size, const char *src)
{
	span_strcpy(dst, src ? src : "", size); /* truncates; runs per span: no printf */
}

bool k8s_pods_fill(const struct k8s_pods *t, const struct cgroup_ident *cg, bool service_from_env,
		   struct http_span *s)
{
	struct span_k8s *k = &s->k8s;
	const struct k8s_pod *p;
	const char *svc = NULL;

	memset(k, 0, sizeof(*k));
	copy(k->container_id, sizeof(k->container_id), cg->container_id);
	copy(k->pod_uid, sizeof(k->pod_uid), cg->pod_uid);
	p = k8s_pods_get(t, cg->pod_uid);
	if (!p)
		return false;
	copy(k->pod_uid, sizeof(k->pod_uid), p->uid);
	copy(k->namespace_name, sizeof(k->namespace_name), p->namespace_name);
	copy(k->pod_name, sizeof(k->pod_name), p->name);
	copy(k->node_name, sizeof(k->node_name), p->node_name);
	for (unsigned i = 0; i < p->ncontainers; i++)
		if (cg->container_id[0] && strcmp(p->c[i].id, cg->container_id) == 0)
			copy(k->container_name, sizeof(k->container_name), p->c[i].name);
	k->owner_kind = p->owner_kind;
	k->top_kind = p->top_kind;
	copy(k->owner_name, sizeof(k->owner_name), p->owner_name);
	copy(k->top_name, sizeof(k->top_name), p->top_name);

	if (service_from_env)
		return true;
	if (p->app_name[0])
		svc = p->app_name;
	else if (p->top_name[0])
		svc = p->top_name;
	else if (p->owner_name[0])
		svc = p->owner_name;
	if (svc)
		copy(s->service_name, sizeof(s->service_name), svc);
	return true;
}

/* ---- JSON ----------------------------------------------------------------------------- */

static json_object *get(json_object *o, const char *key)
{
	json_object *v;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *get_str(json_object *o, const char *key)
{
	json_object *v = get(o, key);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static json_object *parse(const char *body, size_t len)
{
	json_tokener *tok;
	json_object *o;

	if (len > INT_MAX)
		return NULL;
	tok = json_tokener_new();
	if (!tok)
		return NULL;
	o = json_tokener_parse_ex(tok, body, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

static unsigned kind_of(const char *kind)
{
	static const struct {
		const char *name;
		unsigned kind;
	} kinds[] = {
		{ "ReplicaSet", SPAN_K8S_REPLICASET },	 { "Deployment", SPAN_K8S_DEPLOYMENT },
		{ "DaemonSet", SPAN_K8S_DAEMONSET },	 { "StatefulSet", SPAN_K8S_STATEFULSET },
		{ "Job", SPAN_K8S_JOB },		 { "CronJob", SPAN_K8S_CRONJOB },
		{ "ReplicationController", SPAN_K8S_REPLICATIONCONTROLLER },
	};

	for (unsigned i = 0; kind && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kind, kinds[i].name) == 0)
			return kinds[i].kind;
	return SPAN_K8S_NONE;
}

/* The ownerReference with controller: true (the first one when none says so). */
static json_object *controller_ref(json_object *meta)
{
	json_object *refs = get(meta, "ownerReferences"), *first = NULL;
	size_t n;

	if (!refs || !json_object_is_type(refs, json_type_array))
		return NULL;
	n = json_object_array_length(refs);
	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(refs, i);
		json_object *c = get(r, "controller");

		if (!first)
			first = r;
		if (c && json_object_get_boolean(c))
			return r;
	}
	return first;
}

/*
 * A Job made by a CronJob is named "<cronjob>-<scheduled minutes since the epoch>"; jobs are not
 * readable with our ClusterRole, so the CronJob is taken from that name.
 */
static void guess_cronjob(struct k8s_pod *p)
{
	const char *dash = strrchr(p->owner_name, '-');
	size_t digits;

	if (!dash || dash == p->owner_name)
		return;
	digits = strlen(dash + 1);
	if (digits < 8 || strspn(dash + 1, "0123456789") != digits)
		return;
	p->top_kind = SPAN_K8S_CRONJOB;
	snprintf(p->top_name, sizeof(p->top_name), "%.*s", (int)(dash - p->owner_name),
		 p->owner_name);
}

void k8s_pod_guess_deployment(struct k8s_pod *p)
{
	size_t n = strlen(p->owner_name), h = strlen(p->pod_template_hash);

	if (p->owner_kind != SPAN_K8S_REPLICASET || !h || n < h + 2 ||
	    p->owner_name[n - h - 1] != '-' || strcmp(p->owner_name + n - h, p->pod_template_hash))
		return;
	p->top_kind = SPAN_K8S_DEPLOYMENT;
	snprintf(p->top_name, sizeof(p->top_name), "%.*s", (int)(n - h - 1), p->owner_name);
}

static void add_containers(struct k8s_pod *p, json_object *statuses)
{
	size_t n;

	if (!statuses || !json_object_is_type(statuses, json_type_array))
		return;
	n = json_object_array_length(statuses);
	for (size_t i = 0; i < n && p->ncontainers < K8S_MAX_CONTAINERS; i++) {
		json_object *st = json_object_array_get_idx(statuses, i);
		const char *name = get_str(st, "name"), *id = get_str(st, "containerID");
		const char *sep = id ? strstr(id, "://") : NULL;
		struct k8s_container *c = &p->c[p->ncontainers];

		/* "containerd://<id>", "cri-o://<id>", "docker://<id>"; none yet while pending */
		if (!name || !sep || strlen(sep + 3) != CGROUP_CONTAINER_ID_MAX - 1)
			continue;
		copy(c->id, sizeof(c->id), sep + 3);
		copy(c->name, sizeof(c->name), name);
		p->ncontainers++;
	}
}

int k8s_pod_from_json(const void *json, struct k8s_pod *p)
{
	json_object *o = (json_object *)json, *meta = get(o, "metadata"), *status, *ref;
	json_object *labels, *ann;
	const char *uid = get_str(meta, "uid"), *name = get_str(meta, "name");
	const char *ns = get_str(meta, "namespace"), *mirror;

	memset(p, 0, sizeof(*p));
	if (!uid || !name || !ns || strlen(uid) >= sizeof(p->uid))
		return -EINVAL;
	copy(p->uid, sizeof(p->uid), uid);
	copy(p->name, sizeof(p->name), name);
	copy(p->namespace_name, sizeof(p->namespace_name), ns);
	copy(p->node_name, sizeof(p->node_name), get_str(get(o, "spec"), "nodeName"));
	labels = get(meta, "labels");
	copy(p->app_name, sizeof(p->app_name), get_str(labels, "app.kubernetes.io/name"));
	copy(p->pod_template_hash, sizeof(p->pod_template_hash),
	     get_str(labels, "pod-template-hash"));
	ann = get(meta, "annotations");
	mirror = get_str(ann, "kubernetes.io/config.mirror");
	if (mirror && strlen(mirror) < sizeof(p->mirror_uid))
		copy(p->mirror_uid, sizeof(p->mirror_uid), mirror);
	ref = controller_ref(meta);
	if (ref) {
		p->owner_kind = kind_of(get_str(ref, "kind"));
		if (p->owner_kind)
			copy(p->owner_name, sizeof(p->owner_name), get_str(ref, "name"));
		if (p->owner_kind == SPAN_K8S_JOB)
			guess_cronjob(p);
	}
	status = get(o, "status");
	add_containers(p, get(status, "containerStatuses"));
	add_containers(p, get(status, "initContainerStatuses"));
	add_containers(p, get(status, "ephemeralContainerStatuses"));
	return 0;
}

int k8s_list_parse(const char *body, size_t len, int (*put)(void *ctx, const struct k8s_pod *p),
		   void *ctx, char rv[K8S_RV_MAX], char *cont, size_t cont_size)
{
	json_object *o = parse(body, len), *items, *meta;
	const char *kind;
	struct k8s_pod *p = malloc(sizeof(*p));
	int n = 0;
	size_t count;

	kind = get_str(o, "kind");
	items = get(o, "items");
	if (!p || !o || !kind || strcmp(kind, "PodList") ||
	    !json_object_is_type(items, json_type_array)) {
		n = -EINVAL;
		goto out;
	}
	meta = get(o, "metadata");
	copy(rv, K8S_RV_MAX, get_str(meta, "resourceVersion"));
	copy(cont, cont_size, get_str(meta, "continue"));
	count = json_object_array_length(items);
	for (size_t i = 0; i < count; i++) {
		if (k8s_pod_from_json(json_object_array_get_idx(items, i), p))
			continue;
		put(ctx, p);
		n++;
	}
out:
	free(p);
	json_object_put(o);
	return n;
}

int k8s_event_parse(const char *line, size_t len, struct k8s_pod *p, char rv[K8S_RV_MAX],
		    int *code)
{
	static const char *const types[] = {
		[K8S_EV_ADDED] = "ADDED",	[K8S_EV_MODIFIED] = "MODIFIED",
		[K8S_EV_DELETED] = "DELETED",	[K8S_EV_BOOKMARK] = "BOOKMARK",
		[K8S_EV_ERROR] = "ERROR",
	};
	json_object *o = parse(line, len), *obj;
	const char *type = get_str(o, "type");
	int ret = -EINVAL;

	obj = get(o, "object");
	if (!type || !obj)
		goto out;
	for (int i = 0; i < (int)(sizeof(types) / sizeof(types[0])); i++)
		if (strcmp(type, types[i]) == 0)
			ret = i;
	if (ret == K8S_EV_ERROR) {
		/* a Status object: {"kind":"Status","code":410,"reason":"Expired",...} */
		json_object *c = get(obj, "code");

		*code = c ? json_object_get_int(c) : 0;
		goto out;
	}
	if (ret < 0)
		goto out;
	copy(rv, K8S_RV_MAX, get_str(get(obj, "metadata"), "resourceVersion"));
	if (ret != K8S_EV_BOOKMARK && k8s_pod_from_json(obj, p))
		ret = -EINVAL;
out:
	json_object_put(o);
	return ret;
}

int k8s_rs_owner_parse(const char *body, size_t len, char *name, size_t size)
{
	json_object *o = parse(body, len), *ref;
	const char *kind = get_str(o, "kind");
	int err = -EINVAL;

	name[0] = '\0';
	if (!kind || strcmp(kind, "ReplicaSet"))
		goto out;
	err = -ENOENT;
	ref = controller_ref(get(o, "metadata"));
	if (!ref || kind_of(get_str(ref, "kind")) != SPAN_K8S_DEPLOYMENT || !get_str(ref, "name"))
		goto out;
	copy(name, size, get_str(ref, "name"));
	err = 0;
out:
	json_object_put(o);
	return err;
}

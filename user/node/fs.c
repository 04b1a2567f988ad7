// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * filesystem collector: statfs() of each mount in /proc/1/mounts. A statfs on a dead NFS server
 * can hang for ever (node_exporter issue #244), so the calls run in a worker thread and the
 * scrape waits for them until --collector.filesystem.mount-timeout: a mount still hanging then
 * is reported with node_filesystem_device_error 1, the collector fails for that scrape, and
 * later scrapes skip the mount until its statfs returns. The worker lives from one scrape to the
 * next (starting a thread per scrape cost tens of microseconds); one left hanging is abandoned
 * to exit when its statfs returns, and the next scrape starts a new one.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <time.h>

#include "log.h"
#include "node.h"

struct fs_mount {
	char *device, *mountpoint, *fstype; /* labels (mountpoint with the rootfs prefix stripped) */
	char *path;			    /* what statfs() is called on */
	bool ro, stuck, error;
	struct statfs st;
};

/* Shared by one scrape and its worker; the last one to let go frees it. */
struct fs_job {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned refs, n, done; /* done: mounts whose statfs has returned, in order */
	bool abandoned;		/* the scrape gave up waiting */
	struct fs_mount *m;
};

/* The worker waiting for jobs; it frees itself when it exits (told to quit, or abandoned). */
struct fs_worker {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* a job was posted, or quit */
	struct fs_job *job;
	bool quit;
};

/* The live worker, touched by the scraping thread only; NULL: start one at the next scrape. */
static struct fs_worker *worker;

/* Mountpoints whose statfs is still hanging in an abandoned worker. */
static pthread_mutex_t stuck_lock = PTHREAD_MUTEX_INITIALIZER;
static char *stuck[64];

static bool stuck_has(const char *mp)
{
	bool found = false;

	pthread_mutex_lock(&stuck_lock);
	for (unsigned i = 0; i < 64 && !found; i++)
		found = stuck[i] && strcmp(stuck[i], mp) == 0;
	pthread_mutex_unlock(&stuck_lock);
	return found;
}

static void stuck_set(const char *mp, bool on)
{
	pthread_mutex_lock(&stuck_lock);
	for (unsigned i = 0; i < 64; i++) {
		if (on && !stuck[i]) {
			stuck[i] = strdup(mp);
			break;
		}
		if (!on && stuck[i] && strcmp(stuck[i], mp) == 0) {
			free(stuck[i]);
			stuck[i] = NULL;
			break;
		}
	}
	pthread_mutex_unlock(&stuck_lock);
}

static void job_put(struct fs_job *j)
{
	bool last;

	pthread_mutex_lock(&j->lock);
	last = --j->refs == 0;
	pthread_mutex_unlock(&j->lock);
	if (!last)
		return;
	for (unsigned i = 0; i < j->n; i++) {
		free(j->m[i].device);
		free(j->m[i].mountpoint);
		free(j->m[i].fstype);
		free(j->m[i].path);
	}
	free(j->m);
	pthread_cond_destroy(&j->cond);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

/* Runs one job's statfs calls; false when the scrape abandoned it (the worker must exit). */
static bool fs_run(struct fs_job *j)
{
	bool abandoned = false;

	for (unsigned i = 0; i < j->n && !abandoned; i++) {
		struct fs_mount *m = &j->m[i];
		struct statfs st = { 0 };
		int r = 0;

		if (!m->stuck)
			r = statfs(m->path, &st);
		pthread_mutex_lock(&j->lock);
		abandoned = j->abandoned;
		if (!abandoned && !m->stuck) {
			m->st = st;
			m->error = r != 0;
		}
		j->done = i + 1;
		/* the scrape waits for all of them (or reads done when it gives up) */
		if (j->done == j->n)
			pthread_cond_signal(&j->cond);
		pthread_mutex_unlock(&j->lock);
		if (abandoned && !m->stuck) {
			log_info("node: filesystem: statfs(%s) returned again", m->path);
			stuck_set(m->mountpoint, false);
		}
	}
	job_put(j);
	return !abandoned;
}

static void *fs_worker_main(void *arg)
{
	struct fs_worker *w = arg;
	struct fs_job *j;

	for (;;) {
		pthread_mutex_lock(&w->lock);
		while (!w->job && !w->quit)
			pthread_cond_wait(&w->cond, &w->lock);
		j = w->job;
		w->job = NULL;
		pthread_mutex_unlock(&w->lock);
		if (!j || !fs_run(j))
			break;
	}
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
	return NULL;
}

static struct fs_worker *fs_worker_start(void)
{
	struct fs_worker *w;
	pthread_attr_t attr;
	pthread_t tid;
	int err;

	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	err = pthread_create(&tid, &attr, fs_worker_main, w);
	pthread_attr_destroy(&attr);
	if (err) {
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		free(w);
		errno = err;
		return NULL;
	}
	return w;
}

void node_fs_stop(void)
{
	if (!worker)
		return;
	pthread_mutex_lock(&worker->lock);
	worker->quit = true;
	pthread_cond_signal(&worker->cond);
	pthread_mutex_unlock(&worker->lock);
	worker = NULL; /* it frees itself */
}

/* fstab(5) escapes in /proc/mounts: \040 space, \011 tab (node_exporter decodes only these) */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (strncmp(s, "\\040", 4) == 0) {
			*w++ = ' ';
			s += 3;
		} else if (strncmp(s, "\\011", 4) == 0) {
			*w++ = '\t';
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

static int read_mounts(struct fs_job *j)
{
	char path[4096], *text, *line, *save = NULL;
	unsigned cap = 0;
	int err = 0;

	text = node_slurp(node_path(path, sizeof(path), node_cfg.procfs, "1/mounts"), NULL);
	if (!text && errno == ENOENT)
		text = node_slurp(node_path(path, sizeof(path), node_cfg.procfs, "mounts"), NULL);
	if (!text)
		return -errno;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char dev[1024], mp[1024], type[256], opts[1024], full[4096], *tok, *s2 = NULL;
		const char *label;
		struct fs_mount *m, *tmp;

		if (sscanf(line, "%1023s %1023s %255s %1023s", dev, mp, type, opts) != 4)
			continue;
		unescape(mp);
		label = node_rootfs_strip(mp);
		if (node_match(node_filt.fs_mount_exclude, label) ||
		    node_match(node_filt.fs_type_exclude, type))
			continue;
		/* the same device at the same place is reported once */
		for (unsigned i = 0; i < j->n; i++)
			if (!strcmp(j->m[i].device, dev) && !strcmp(j->m[i].mountpoint, label) &&
			    !strcmp(j->m[i].fstype, type))
				goto next;
		if (j->n == cap) {
			cap = cap ? cap * 2 : 16;
			tmp = realloc(j->m, cap * sizeof(*tmp));
			if (!tmp) {
				err = -ENOMEM;
				break;
			}
			j->m = tmp;
		}
		m = &j->m[j->n];
		memset(m, 0, sizeof(*m));
		if (strcmp(node_cfg.rootfs, "/") == 0)
			snprintf(full, sizeof(full), "%s", mp);
		else
			snprintf(full, sizeof(full), "%s%s", node_cfg.rootfs, mp);
		m->device = strdup(dev);
		m->mountpoint = strdup(label);
		m->fstype = strdup(type);
		m->path = strdup(full);
		j->n++;
		if (!m->device || !m->mountpoint || !m->fstype || !m->path) {
			err = -ENOMEM;
			break;
		}
		for (tok = strtok_r(opts, ",", &s2); tok; tok = strtok_r(NULL, ",", &s2))
			if (strcmp(tok, "ro") == 0)
				m->ro = true;
		m->stuck = stuck_has(m->mountpoint);
next:;
	}
	free(text);
	return err;
}

static void emit(struct prom_buf *b, const struct fs_job *j, const char *name, const char *help,
		 int what)
{
	prom_family(b, name, "gauge", help);
	for (unsigned i = 0; i < j->n; i++) {
		const struct fs_mount *m = &j->m[i];
		const char *lbl[] = { "device",	    m->device, "fstype", m->fstype,
				      "mountpoint", m->mountpoint, NULL };
		bool bad = m->error || m->stuck;
		double bs = (double)m->st.f_bsize, v = 0;

		if (bad && what != 1)
			continue;
		switch (what) {
		case 0: v = (double)m->st.f_bavail * bs; break;
		case 1: v = bad; break;
		case 2: v = (double)m->st.f_files; break;
		case 3: v = (double)m->st.f_ffree; break;
		case 4: v = (double)m->st.f_bfree * bs; break;
		case 5: v = m->ro; break;
		case 6: v = (double)m->st.f_blocks * bs; break;
		}
		prom_sample(b, name, lbl, v);
	}
}

int node_filesystem_collect(struct prom_buf *b)
{
	struct fs_job *j;
	struct timespec deadline;
	int err = 0;

	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->cond, NULL);
	j->refs = 1;
	err = read_mounts(j);
	if (err)
		goto out;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += node_cfg.fs_mount_timeout_ms / 1000;
	deadline.tv_nsec += node_cfg.fs_mount_timeout_ms % 1000 * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	if (!worker)
		worker = fs_worker_start();
	if (!worker) {
		err = -errno;
		goto out;
	}
	j->refs = 2;
	pthread_mutex_lock(&worker->lock);
	worker->job = j;
	pthread_cond_signal(&worker->cond);
	pthread_mutex_unlock(&worker->lock);
	pthread_mutex_lock(&j->lock);
	while (j->done < j->n && err != -ETIMEDOUT)
		err = -pthread_cond_timedwait(&j->cond, &j->lock, &deadline);
	if (j->done < j->n) {
		struct fs_mount *m = &j->m[j->done];

		/* the mount being stat'ed is stuck; the ones after it were not tried */
		j->abandoned = true;
		log_warn("node: filesystem: statfs(%s) did not return within %lld ms; skipping "
			 "it until it does",
			 m->path, node_cfg.fs_mount_timeout_ms);
		stuck_set(m->mountpoint, true);
		for (unsigned i = j->done; i < j->n; i++)
			j->m[i].error = true;
		worker = NULL; /* it exits once the statfs returns */
		err = -ETIMEDOUT;
	} else {
		err = 0;
	}
	/* from here on the worker only touches m[] past done, under the lock, or exits */
	pthread_mutex_unlock(&j->lock);

	emit(b, j, "node_filesystem_avail_bytes",
	     "Filesystem space available to non-root users in bytes.", 0);
	emit(b, j, "node_filesystem_device_error",
	     "Whether an error occurred while getting statistics for the given device.", 1);
	emit(b, j, "node_filesystem_files", "Filesystem total file nodes.", 2);
	emit(b, j, "node_filesystem_files_free", "Filesystem total free file nodes.", 3);
	emit(b, j, "node_filesystem_free_bytes", "Filesystem free space in bytes.", 4);
	emit(b, j, "node_filesystem_readonly", "Filesystem read-only status.", 5);
	emit(b, j, "node_filesystem_size_bytes", "Filesystem size in bytes.", 6);
out:
	job_put(j);
	return err;
}

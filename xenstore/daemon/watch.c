/*
 * Watches: an index from watched path to the watches on it, so a change at
 * /a/b/c looks up "/", "/a", "/a/b" and "/a/b/c" instead of scanning every
 * watch.  Events go to a connection only if it may read the node or its
 * parent (Xen's watch_permitted); for an @special node, only if its own
 * permissions let the connection read (Xen's check_perms_special).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xenstored.h"

struct wbucket {
    struct hnode h;
    struct watch *first;
    char path[];
};

static struct htab index_;
static size_t nwatches;

void watch_init(void)
{
    htab_init(&index_);
    nwatches = 0;
}

static void free_bucket(struct hnode *h, void *arg)
{
    (void)arg;
    free(xsd_container_of(h, struct wbucket, h));
}

void watch_fini(void)
{
    htab_each(&index_, free_bucket, NULL);
    htab_free(&index_);
    nwatches = 0;
}

size_t watch_count(void)
{
    return nwatches;
}

static struct wbucket *bucket(const char *path)
{
    struct hnode *h = htab_get(&index_, path);
    return h ? xsd_container_of(h, struct wbucket, h) : NULL;
}

int watch_add(struct conn *c, const char *path, const char *token, bool relative,
              struct watch **out)
{
    struct watch *w;
    struct wbucket *b;

    for (w = c->watches; w; w = w->conn_next)
        if (strcmp(w->path, path) == 0 && strcmp(w->token, token) == 0)
            return EEXIST;
    /* Xen compares the count before adding with ">": quota + 1 fit. */
    if (!conn_privileged(c) && c->nwatches > (unsigned int)xsd_quota[Q_WATCHES])
        return E2BIG;
    w = calloc(1, sizeof(*w));
    if (!w)
        return ENOMEM;
    w->path = strdup(path);
    w->token = strdup(token);
    b = bucket(path);
    if (!b) {
        size_t l = strlen(path) + 1;
        b = calloc(1, sizeof(*b) + l);
        if (b) {
            memcpy(b->path, path, l);
            htab_add(&index_, &b->h, b->path);
        }
    }
    if (!w->path || !w->token || !b) {
        free(w->path);
        free(w->token);
        free(w);
        return ENOMEM;
    }
    if (relative) {
        char prefix[32];
        w->strip = (size_t)xsc_domain_path(c->id, prefix, sizeof(prefix));
    }
    w->conn = c;
    /* Append, so that events of one change go out in registration order. */
    if (!b->first) {
        b->first = w;
    } else {
        struct watch *last = b->first;
        while (last->idx_next)
            last = last->idx_next;
        last->idx_next = w;
        w->idx_prev = last;
    }
    w->conn_next = c->watches;
    c->watches = w;
    c->nwatches++;
    nwatches++;
    *out = w;
    return 0;
}

static void unlink_watch(struct watch *w)
{
    struct wbucket *b = bucket(w->path);

    if (w->idx_prev)
        w->idx_prev->idx_next = w->idx_next;
    else if (b)
        b->first = w->idx_next;
    if (w->idx_next)
        w->idx_next->idx_prev = w->idx_prev;
    if (b && !b->first) {
        htab_del(&index_, &b->h);
        free(b);
    }
    nwatches--;
    free(w->path);
    free(w->token);
    free(w);
}

int watch_remove(struct conn *c, const char *path, const char *token)
{
    for (struct watch **pp = &c->watches; *pp; pp = &(*pp)->conn_next) {
        struct watch *w = *pp;
        if (strcmp(w->path, path) == 0 && strcmp(w->token, token) == 0) {
            *pp = w->conn_next;
            c->nwatches--;
            unlink_watch(w);
            return 0;
        }
    }
    return ENOENT;
}

void watch_remove_all(struct conn *c)
{
    while (c->watches) {
        struct watch *w = c->watches;
        c->watches = w->conn_next;
        unlink_watch(w);
    }
    c->nwatches = 0;
}

void watch_event(struct watch *w, const char *path)
{
    const char *p = path;

    if (w->strip && strlen(path) >= w->strip) {
        p += w->strip;
        if (*p == '/')
            p++;
    }
    send_event(w->conn, p, w->token);
}

/* Xen's watch_permitted: the permissions given (the old ones for a
 * SET_PERMS, the removed node's for a removal), the node's current ones, or
 * its parent's must let the watcher read.  A special node has no parent:
 * only the permissions given (its own) count. */
static bool permitted(struct conn *c, const char *path, const struct xsc_perm *perms,
                      uint32_t nperms)
{
    struct node *parent, *n;
    char *pp;
    bool ok;

    if (conn_privileged(c))
        return true;
    if (perms && (perm_for_conn(c, perms, nperms) & XSC_PERM_READ))
        return true;
    if (path[0] == '@')
        return false;
    n = tree_lookup(path);
    if (n && n->perms != perms && (perm_for_conn(c, n->perms, n->nperms) & XSC_PERM_READ))
        return true;
    pp = malloc(strlen(path) + 1);
    if (!pp)
        return false;
    parent_path(path, pp);
    parent = tree_lookup(pp);
    ok = parent && (perm_for_conn(c, parent->perms, parent->nperms) & XSC_PERM_READ);
    free(pp);
    return ok;
}

static void fire_bucket(const char *key, const char *path, const struct xsc_perm *perms,
                        uint32_t nperms)
{
    struct wbucket *b = bucket(key);

    if (!b)
        return;
    for (struct watch *w = b->first; w; w = w->idx_next) {
        struct conn *c = w->conn;
        if (c->dead || c->ignored)
            continue;
        if (permitted(c, path, perms, nperms))
            watch_event(w, path);
    }
}

void watch_fire(struct conn *src, struct transaction *t, const char *path, bool exact,
                const struct xsc_perm *perms, uint32_t nperms)
{
    (void)src;
    if (t) {
        tx_add_fire(t, path, exact);
        return;
    }
    if (!index_.count)
        return;
    if (!exact && path[0] == '/') {
        size_t len = strlen(path);
        char *key = malloc(len + 1);
        if (!key)
            return;
        fire_bucket("/", path, perms, nperms);
        for (size_t i = 1; i < len; i++) {
            if (path[i] != '/')
                continue;
            memcpy(key, path, i);
            key[i] = '\0';
            fire_bucket(key, path, perms, nperms);
        }
        free(key);
        if (len > 1)
            fire_bucket(path, path, perms, nperms);
        return;
    }
    fire_bucket(path, path, perms, nperms);
}

void watch_fire_special(const char *name)
{
    struct node *n = tree_lookup(name);

    if (n)
        watch_fire(NULL, NULL, name, true, n->perms, n->nperms);
}

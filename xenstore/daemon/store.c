/*
 * The view of the store that one request sees: the main tree, or inside a
 * transaction the transaction's private copies of every node it touched
 * (copied on first access, with the generation seen, for the conflict check
 * at commit).  Creation, removal and Xen's permission errors live here so
 * that every operation handles both cases the same way.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xenstored.h"

static struct node *tx_access(struct conn *c, struct transaction *t, const char *path)
{
    struct hnode *h = htab_get(&t->nodes, path);
    struct node *m, *copy;
    static const struct xsc_perm none = { 0, XSC_PERM_NONE };

    if (h) {
        copy = xsd_container_of(h, struct node, h);
        if (copy->deleted) {
            errno = ENOENT;
            return NULL;
        }
        return copy;
    }
    if (!conn_privileged(c) && t->nodes.count >= (size_t)xsd_quota[Q_TX_NODES]) {
        errno = ENOSPC;
        return NULL;
    }
    m = tree_lookup(path);
    copy = m ? node_new(path, m->value, m->vlen, m->perms, m->nperms)
             : node_new(path, NULL, 0, &none, 1);
    if (!copy) {
        errno = ENOMEM;
        return NULL;
    }
    if (m && m->childlen) {
        copy->children = malloc(m->childlen);
        if (!copy->children) {
            node_free(copy);
            errno = ENOMEM;
            return NULL;
        }
        memcpy(copy->children, m->children, m->childlen);
        copy->childlen = copy->childcap = m->childlen;
    }
    copy->base_exists = m != NULL;
    copy->base_gen = copy->gen = m ? m->gen : 0;
    copy->deleted = m == NULL;
    htab_add(&t->nodes, &copy->h, copy->name);
    if (!m) {
        errno = ENOENT;
        return NULL;
    }
    return copy;
}

struct node *store_read(struct conn *c, struct transaction *t, const char *path)
{
    struct node *n;

    if (t)
        return tx_access(c, t, path);
    n = tree_lookup(path);
    if (!n)
        errno = ENOENT;
    return n;
}

void store_write(struct conn *c, struct transaction *t, struct node *n)
{
    (void)c;
    if (t)
        n->modified = true;
    else
        tree_touch(n);
}

/* Xen's errno_from_parents: reveal ENOENT/EACCES only to a caller that has
 * the asked-for access to the nearest existing ancestor. */
static int parents_errno(struct conn *c, struct transaction *t, const char *path,
                         int err, unsigned int perm)
{
    char *name = strdup(path);
    struct node *n = NULL;
    int ret = EACCES;

    if (!name)
        return ENOMEM;
    do {
        parent_path(name, name);
        n = store_read(c, t, name);
        if (!n && (errno == ENOMEM || errno == ENOSPC)) {
            ret = errno;
            goto out;
        }
    } while (!n && strcmp(name, "/") != 0);
    if (n && (perm_for_conn(c, n->perms, n->nperms) & perm))
        ret = err;
out:
    free(name);
    return ret;
}

struct node *store_get(struct conn *c, struct transaction *t, const char *path,
                       unsigned int perm)
{
    struct node *n = store_read(c, t, path);

    if (n && (perm_for_conn(c, n->perms, n->nperms) & perm) != perm) {
        errno = EACCES;
        n = NULL;
    }
    if (!n && errno != ENOMEM && errno != ENOSPC)
        errno = parents_errno(c, t, path, errno, perm);
    return n;
}

/* Inserts a new node: into the main tree, or reusing the transaction's
 * tombstone for the path. */
static struct node *make_node(struct transaction *t, const char *path, const void *val,
                              uint32_t vlen, const struct xsc_perm *perms, uint32_t nperms)
{
    struct hnode *h = t ? htab_get(&t->nodes, path) : NULL;
    struct node *n;

    if (h) {
        n = xsd_container_of(h, struct node, h);
        if (node_set_value(n, val, vlen) || node_set_perms(n, perms, nperms))
            return NULL;
        n->deleted = false;
        n->modified = true;
        n->childlen = 0;
        return n;
    }
    n = node_new(path, val, vlen, perms, nperms);
    if (!n)
        return NULL;
    if (t) {
        n->modified = true;
        htab_add(&t->nodes, &n->h, n->name);
    } else {
        tree_insert(n);
    }
    return n;
}

static void unmake_node(struct transaction *t, struct node *n)
{
    if (!t) {
        tree_remove(n);
        return;
    }
    /* Tombstone: keeps its permissions for the watch check at commit. */
    node_set_value(n, NULL, 0);
    free(n->children);
    n->children = NULL;
    n->childlen = n->childcap = 0;
    n->deleted = true;
    n->modified = true;
}

static int owner_quota(struct conn *c, struct transaction *t, unsigned int more)
{
    unsigned int have = tree_owned(c->id) + (unsigned int)(t ? t->node_delta : 0);

    if (conn_privileged(c))
        return 0;
    return have + more > (unsigned int)xsd_quota[Q_NODES] ? ENOSPC : 0;
}

struct node *store_create(struct conn *c, struct transaction *t, const char *path,
                          const void *val, uint32_t vlen)
{
    size_t plen = strlen(path);
    char *buf = malloc(plen + 1);
    struct node *parent = NULL, *n = NULL;
    unsigned int levels = 0;
    bool quota = !conn_privileged(c);
    struct xsc_perm *perms = NULL;
    uint32_t nperms;
    int err = 0;

    if (!buf) {
        errno = ENOMEM;
        return NULL;
    }
    /* Walk up to the nearest existing ancestor. */
    memcpy(buf, path, plen + 1);
    while (!parent) {
        levels++;
        parent_path(buf, buf);
        parent = store_read(c, t, buf);
        if (!parent && (errno != ENOENT || strcmp(buf, "/") == 0)) {
            err = errno;
            goto out;
        }
    }
    if ((err = owner_quota(c, t, levels)) != 0)
        goto out;
    nperms = parent->nperms;
    perms = malloc(nperms * sizeof(*perms));
    if (!perms) {
        err = ENOMEM;
        goto out;
    }
    memcpy(perms, parent->perms, nperms * sizeof(*perms));
    if (quota)
        perms[0].id = c->id; /* unprivileged domains own what they create */
    if (quota) {
        /* Every node written, as Xen's write_node checks them: the ancestor
         * grown by its new child's name, each parent created on the way
         * (holding its one child's name) and the new leaf. */
        const size_t max = (size_t)xsd_quota[Q_NODE_SIZE], bare = 24 + nperms * sizeof(*perms);
        const char *comp = path + strlen(parent->name) + (parent->name[1] ? 1 : 0);
        size_t clen = strcspn(comp, "/");

        if (node_size(parent) + clen + 1 >= max || bare + vlen >= max) {
            err = ENOSPC;
            goto out;
        }
        while (comp[clen] == '/') {
            comp += clen + 1;
            clen = strcspn(comp, "/");
            if (bare + clen + 1 >= max) {
                err = ENOSPC;
                goto out;
            }
        }
    }
    /* Walk down creating each missing level. */
    for (unsigned int l = levels; l > 0; l--) {
        const char *end = path + plen;
        for (unsigned int k = 1; k < l; k++)
            end = memrchr(path, '/', (size_t)(end - path));
        memcpy(buf, path, (size_t)(end - path));
        buf[end - path] = '\0';
        if (node_add_child(parent, leaf_name(buf))) {
            err = ENOMEM;
            goto out;
        }
        store_write(c, t, parent);
        n = make_node(t, buf, l == 1 ? val : NULL, l == 1 ? vlen : 0, perms, nperms);
        if (!n) {
            node_del_child(parent, leaf_name(buf));
            err = ENOMEM;
            goto out;
        }
        if (t && perms[0].id == c->id)
            t->node_delta++;
        parent = n;
    }
out:
    free(perms);
    free(buf);
    if (err) {
        errno = err;
        return NULL;
    }
    return n;
}

static void fire_node(struct conn *c, struct transaction *t, struct node *n, bool exact)
{
    watch_fire(c, t, n->name, exact, n->perms, n->nperms);
}

static int rm_tree(struct conn *c, struct transaction *t, struct node *n)
{
    size_t nlen = strlen(n->name);
    uint32_t off = 0;

    /* Children first; n's own child list shrinks as they go. */
    while (off < n->childlen) {
        const char *leaf = n->children + off;
        size_t llen = strlen(leaf);
        char *cp = malloc(nlen + llen + 2);
        struct node *child;
        if (!cp)
            return ENOMEM;
        memcpy(cp, n->name, nlen);
        cp[nlen] = '/';
        memcpy(cp + (nlen == 1 ? 1 : nlen + 1), leaf, llen + 1);
        child = store_read(c, t, cp);
        free(cp);
        off += (uint32_t)llen + 1;
        if (!child) {
            if (errno != ENOENT)
                return errno;
            continue;
        }
        int err = rm_tree(c, t, child);
        if (err)
            return err;
        fire_node(c, t, child, true);
        if (t && node_owner(child) == c->id)
            t->node_delta--;
        unmake_node(t, child);
    }
    return 0;
}

int store_rm(struct conn *c, struct transaction *t, const char *path)
{
    struct node *n = store_read(c, t, path), *parent;
    char *pname;
    int err;

    if (!n)
        return errno;
    pname = malloc(strlen(path) + 1);
    if (!pname)
        return ENOMEM;
    parent_path(path, pname);
    parent = store_read(c, t, pname);
    free(pname);
    if (!parent) {
        return errno == ENOENT ? EINVAL : errno;
    }
    err = rm_tree(c, t, n);
    if (err)
        return err;
    fire_node(c, t, n, false);
    node_del_child(parent, leaf_name(path));
    store_write(c, t, parent);
    if (t && node_owner(n) == c->id)
        t->node_delta--;
    unmake_node(t, n);
    return 0;
}

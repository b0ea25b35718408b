/*
 * The node store: every node of the main tree in one hash table keyed by its
 * full path, children kept as the wire's list of leaf names, a global
 * generation counter stamped on every change, and per-owner node counts for
 * the nodes quota.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenstored.h"

uint64_t xsd_generation;
static struct htab tree;

/* Nodes per owner domid (0..65535), in lazily allocated blocks of 256 so
 * that an empty store costs nothing. */
#define ACC_DOMS 65536u
struct acc_table {
    uint32_t *blk[ACC_DOMS / 256];
};
static struct acc_table owned;

static uint32_t acc_get(const struct acc_table *t, unsigned int domid)
{
    const uint32_t *b = domid < ACC_DOMS ? t->blk[domid / 256] : NULL;
    return b ? b[domid % 256] : 0;
}

static void acc_add(struct acc_table *t, unsigned int domid, int delta)
{
    uint32_t **b;

    if (domid >= ACC_DOMS)
        return;
    b = &t->blk[domid / 256];
    if (!*b && !(*b = calloc(256, sizeof(uint32_t))))
        return; /* accounting lost under OOM; quotas then undercount */
    (*b)[domid % 256] += (uint32_t)delta;
}

static void acc_free(struct acc_table *t)
{
    for (size_t i = 0; i < XSD_ARRAY_SIZE(t->blk); i++) {
        free(t->blk[i]);
        t->blk[i] = NULL;
    }
}

const char *leaf_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

void parent_path(const char *path, char *buf)
{
    const char *s = path[0] ? strrchr(path + 1, '/') : NULL;
    size_t n = s ? (size_t)(s - path) : 1;

    if (!s) {
        strcpy(buf, "/"); /* "/x", "@special" and "/" itself */
        return;
    }
    memmove(buf, path, n);
    buf[n] = '\0';
}

struct node *node_new(const char *name, const void *val, uint32_t vlen,
                      const struct xsc_perm *perms, uint32_t nperms)
{
    struct node *n = calloc(1, sizeof(*n));

    if (!n)
        return NULL;
    n->name = strdup(name);
    if (!n->name || node_set_value(n, val, vlen) || node_set_perms(n, perms, nperms)) {
        node_free(n);
        return NULL;
    }
    return n;
}

void node_free(struct node *n)
{
    if (!n)
        return;
    free(n->name);
    free(n->value);
    free(n->children);
    free(n->perms);
    free(n);
}

int node_set_value(struct node *n, const void *val, uint32_t vlen)
{
    char *v = NULL;

    if (vlen) {
        v = malloc(vlen);
        if (!v)
            return ENOMEM;
        memcpy(v, val, vlen);
    }
    free(n->value);
    n->value = v;
    n->vlen = vlen;
    return 0;
}

int node_set_perms(struct node *n, const struct xsc_perm *perms, uint32_t nperms)
{
    struct xsc_perm *p = malloc(nperms * sizeof(*p));

    if (!p)
        return ENOMEM;
    memcpy(p, perms, nperms * sizeof(*p));
    free(n->perms);
    n->perms = p;
    n->nperms = nperms;
    return 0;
}

int node_add_child(struct node *n, const char *leaf)
{
    size_t l = strlen(leaf) + 1;

    if (n->childlen + l > n->childcap) {
        size_t cap = n->childcap ? n->childcap : 32;
        char *c;
        while (cap < n->childlen + l)
            cap *= 2;
        c = realloc(n->children, cap);
        if (!c)
            return ENOMEM;
        n->children = c;
        n->childcap = (uint32_t)cap;
    }
    memcpy(n->children + n->childlen, leaf, l);
    n->childlen += (uint32_t)l;
    return 0;
}

void node_del_child(struct node *n, const char *leaf)
{
    size_t l = strlen(leaf) + 1;

    for (uint32_t off = 0; off < n->childlen;) {
        size_t cl = strlen(n->children + off) + 1;
        if (cl == l && memcmp(n->children + off, leaf, l) == 0) {
            memmove(n->children + off, n->children + off + l, n->childlen - off - l);
            n->childlen -= (uint32_t)l;
            return;
        }
        off += (uint32_t)cl;
    }
}

size_t node_size(const struct node *n)
{
    /* Xen's record: a 24-byte header (generation and counts, padded),
     * permissions, value, children. */
    return 24 + n->nperms * sizeof(struct xsc_perm) + n->vlen + n->childlen;
}

void tree_acc(unsigned int domid, int delta)
{
    acc_add(&owned, domid, delta);
}

unsigned int tree_owned(unsigned int domid)
{
    return acc_get(&owned, domid);
}

struct node *tree_lookup(const char *path)
{
    struct hnode *h = htab_get(&tree, path);
    return h ? xsd_container_of(h, struct node, h) : NULL;
}

void tree_insert(struct node *n)
{
    n->gen = ++xsd_generation;
    htab_add(&tree, &n->h, n->name);
    tree_acc(node_owner(n), 1);
}

void tree_remove(struct node *n)
{
    htab_del(&tree, &n->h);
    tree_acc(node_owner(n), -1);
    node_free(n);
}

void tree_chown(struct node *n, unsigned int owner)
{
    tree_acc(node_owner(n), -1);
    n->perms[0].id = owner;
    tree_acc(owner, 1);
    tree_touch(n);
}

void tree_touch(struct node *n)
{
    n->gen = ++xsd_generation;
}

size_t tree_count(void)
{
    return tree.count;
}

static void add_initial(const char *path)
{
    static const struct xsc_perm dom0_none = { 0, XSC_PERM_NONE };
    struct node *n = node_new(path, NULL, 0, &dom0_none, 1);
    char parent[16];

    if (!n)
        abort(); /* start-up only */
    tree_insert(n);
    if (path[0] == '/' && path[1]) {
        parent_path(path, parent);
        if (node_add_child(tree_lookup(parent), leaf_name(path)))
            abort();
    }
}

void tree_init(void)
{
    tree_fini();
    htab_init(&tree);
    xsd_generation = 0;
    /* Xen's initial store. */
    add_initial("/");
    add_initial("/tool");
    add_initial("/tool/xenstored");
    add_initial("@releaseDomain");
    add_initial("@introduceDomain");
}

static void free_one(struct hnode *h, void *arg)
{
    (void)arg;
    node_free(xsd_container_of(h, struct node, h));
}

void tree_fini(void)
{
    htab_each(&tree, free_one, NULL);
    htab_free(&tree);
    acc_free(&owned);
}

struct check_ctx {
    char *msg;
    size_t size;
    int bad;
    struct acc_table count;
};

static void check_one(struct hnode *h, void *arg)
{
    struct check_ctx *cc = arg;
    struct node *n = xsd_container_of(h, struct node, h);
    char *path;

    if (n->nperms == 0) {
        if (!cc->bad++)
            snprintf(cc->msg, cc->size, "%s: no permissions", n->name);
        return;
    }
    acc_add(&cc->count, node_owner(n), 1);
    if (n->name[0] == '/' && n->name[1]) {
        char *parent = malloc(strlen(n->name) + 1);
        struct node *p;
        bool found = false;
        if (!parent)
            return;
        parent_path(n->name, parent);
        p = tree_lookup(parent);
        for (uint32_t off = 0; p && off < p->childlen; off += (uint32_t)strlen(p->children + off) + 1)
            if (strcmp(p->children + off, leaf_name(n->name)) == 0)
                found = true;
        if (!found && !cc->bad++)
            snprintf(cc->msg, cc->size, "%s: not listed in its parent", n->name);
        free(parent);
    }
    for (uint32_t off = 0; off < n->childlen; off += (uint32_t)strlen(n->children + off) + 1) {
        const char *leaf = n->children + off;
        if (asprintf(&path, "%s/%s", strcmp(n->name, "/") ? n->name : "", leaf) < 0)
            return;
        if (!tree_lookup(path) && !cc->bad++)
            snprintf(cc->msg, cc->size, "%s: missing child %s", n->name, leaf);
        free(path);
    }
}

int tree_check(char *msg, size_t size)
{
    struct check_ctx cc = { .msg = msg, .size = size };

    msg[0] = '\0';
    htab_each(&tree, check_one, &cc);
    for (unsigned int i = 0; i < ACC_DOMS && !cc.bad; i++) {
        if (!cc.count.blk[i / 256] && !owned.blk[i / 256]) {
            i += 255;
            continue;
        }
        if (acc_get(&cc.count, i) != acc_get(&owned, i)) {
            snprintf(msg, size, "domain %u: owns %u nodes, accounted %u", i,
                     acc_get(&cc.count, i), acc_get(&owned, i));
            cc.bad++;
        }
    }
    acc_free(&cc.count);
    return cc.bad ? EIO : 0;
}

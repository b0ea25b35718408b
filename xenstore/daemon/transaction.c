/*
 * Transactions as Xen's xenstored: every node a transaction touches is
 * copied on first access with the generation it had; writes go to the
 * copies.  Commit fails with EAGAIN if any accessed node changed (or
 * appeared, or vanished) in the main tree meanwhile, else the modified
 * copies replace the main nodes and the queued watch events fire.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xenstored.h"

struct transaction *tx_find(struct conn *c, uint32_t id)
{
    for (struct transaction *t = c->txs; t; t = t->next)
        if (t->id == id)
            return t;
    return NULL;
}

struct transaction *tx_start(struct conn *c)
{
    struct transaction *t;

    /* Xen compares the count before adding with ">": quota + 1 fit. */
    if (!conn_privileged(c) && c->ntx > (unsigned int)xsd_quota[Q_TRANSACTIONS]) {
        errno = ENOSPC;
        return NULL;
    }
    t = calloc(1, sizeof(*t));
    if (!t) {
        errno = ENOMEM;
        return NULL;
    }
    htab_init(&t->nodes);
    /* Pick an unused id; 0 means "no transaction". */
    do {
        t->id = c->next_txid++;
    } while (t->id == 0 || tx_find(c, t->id));
    t->next = c->txs;
    c->txs = t;
    c->ntx++;
    return t;
}

void tx_unlink(struct conn *c, struct transaction *t)
{
    for (struct transaction **pp = &c->txs; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            c->ntx--;
            return;
        }
    }
}

static void free_copy(struct hnode *h, void *arg)
{
    (void)arg;
    node_free(xsd_container_of(h, struct node, h));
}

void tx_free(struct transaction *t)
{
    struct tx_fire *f, *next;

    htab_each(&t->nodes, free_copy, NULL);
    htab_free(&t->nodes);
    for (f = t->fires; f; f = next) {
        next = f->next;
        free(f);
    }
    free(t);
}

void tx_add_fire(struct transaction *t, const char *path, bool exact)
{
    size_t l = strlen(path) + 1;
    struct hnode *h = htab_get(&t->nodes, path);
    uint8_t bit = exact ? 2 : 1;
    struct tx_fire *f;

    /* One event per node and kind, however often the transaction changed
     * it: the queue stays bounded by the accessed-nodes quota. */
    if (h) {
        struct node *n = xsd_container_of(h, struct node, h);
        if (n->fired & bit)
            return;
        n->fired |= bit;
    }
    f = malloc(sizeof(*f) + l);
    if (!f)
        return; /* a lost event; Xen allows spurious, not lost, but OOM */
    f->next = NULL;
    f->exact = exact;
    memcpy(f->path, path, l);
    if (t->fires_tail)
        t->fires_tail->next = f;
    else
        t->fires = f;
    t->fires_tail = f;
}

static void check_one(struct hnode *h, void *arg)
{
    struct node *n = xsd_container_of(h, struct node, h);
    struct node *m = tree_lookup(n->name);
    bool *conflict = arg;

    if (n->base_exists != (m != NULL) || (m && m->gen != n->base_gen))
        *conflict = true;
}

static void apply_one(struct hnode *h, void *arg)
{
    struct node *n = xsd_container_of(h, struct node, h);
    struct transaction *t = arg;
    struct node *m;

    if (!n->modified)
        return;
    m = tree_lookup(n->name);
    if (n->deleted) {
        if (m)
            tree_remove(m);
        return;
    }
    if (!m) {
        /* Move the copy into the main tree. */
        htab_del(&t->nodes, &n->h);
        n->modified = false;
        tree_insert(n);
        return;
    }
    /* Swap contents: the main node takes the copy's state. */
    tree_acc(node_owner(m), -1);
    {
        char *v = m->value, *ch = m->children;
        struct xsc_perm *p = m->perms;
        uint32_t vl = m->vlen, cl = m->childlen, cc = m->childcap, np = m->nperms;
        m->value = n->value; m->vlen = n->vlen;
        m->children = n->children; m->childlen = n->childlen; m->childcap = n->childcap;
        m->perms = n->perms; m->nperms = n->nperms;
        n->value = v; n->vlen = vl;
        n->children = ch; n->childlen = cl; n->childcap = cc;
        n->perms = p; n->nperms = np;
    }
    tree_acc(node_owner(m), 1);
    tree_touch(m);
}

int tx_commit(struct conn *c, struct transaction *t)
{
    bool conflict = false;

    htab_each(&t->nodes, check_one, &conflict);
    if (conflict)
        return EAGAIN;
    if (!conn_privileged(c) && t->node_delta > 0 &&
        tree_owned(c->id) + (unsigned int)t->node_delta > (unsigned int)xsd_quota[Q_NODES])
        return ENOSPC;
    htab_each(&t->nodes, apply_one, t);
    for (struct tx_fire *f = t->fires; f; f = f->next) {
        struct node *n = tree_lookup(f->path);
        struct hnode *h = n ? NULL : htab_get(&t->nodes, f->path);
        if (!n && h)
            n = xsd_container_of(h, struct node, h);
        if (n)
            watch_fire(c, NULL, f->path, f->exact, n->perms, n->nperms);
    }
    return 0;
}

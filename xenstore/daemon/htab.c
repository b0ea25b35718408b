/* Intrusive string-keyed hash table (chained, power-of-two buckets). */
#include <stdlib.h>
#include <string.h>

#include "xenstored.h"

uint32_t htab_hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static void htab_grow(struct htab *t)
{
    size_t nb = t->nbuckets ? t->nbuckets * 2 : 64;
    struct hnode **b = calloc(nb, sizeof(*b));

    if (!b)
        return; /* keep the old, longer chains */
    for (size_t i = 0; i < t->nbuckets; i++) {
        struct hnode *n = t->buckets[i], *next;
        for (; n; n = next) {
            next = n->next;
            n->next = b[n->hash & (nb - 1)];
            b[n->hash & (nb - 1)] = n;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = nb;
}

void htab_init(struct htab *t)
{
    t->buckets = NULL;
    t->nbuckets = 0;
    t->count = 0;
}

void htab_free(struct htab *t)
{
    free(t->buckets);
    htab_init(t);
}

struct hnode *htab_get(const struct htab *t, const char *key)
{
    uint32_t h;

    if (!t->nbuckets)
        return NULL;
    h = htab_hash(key);
    for (struct hnode *n = t->buckets[h & (t->nbuckets - 1)]; n; n = n->next)
        if (n->hash == h && strcmp(n->key, key) == 0)
            return n;
    return NULL;
}

void htab_add(struct htab *t, struct hnode *n, const char *key)
{
    if (t->count + 1 > t->nbuckets)
        htab_grow(t);
    n->key = key;
    n->hash = htab_hash(key);
    n->next = t->buckets[n->hash & (t->nbuckets - 1)];
    t->buckets[n->hash & (t->nbuckets - 1)] = n;
    t->count++;
}

void htab_del(struct htab *t, struct hnode *n)
{
    struct hnode **pp = &t->buckets[n->hash & (t->nbuckets - 1)];

    for (; *pp; pp = &(*pp)->next) {
        if (*pp == n) {
            *pp = n->next;
            t->count--;
            return;
        }
    }
}

void htab_each(struct htab *t, void (*fn)(struct hnode *, void *), void *arg)
{
    for (size_t i = 0; i < t->nbuckets; i++) {
        struct hnode *n = t->buckets[i], *next;
        for (; n; n = next) {
            next = n->next;
            fn(n, arg);
        }
    }
}

/*
 * One handler per message type, with Xen 4.17's argument rules, permission
 * checks and error names.  A handler either sends its reply and returns 0
 * or returns an errno that goes out as XS_ERROR.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenstored.h"

/* Longest canonical path: a payload plus the /local/domain/N/ prefix. */
#define PATH_BUF (XENSTORE_PAYLOAD_MAX + 32)

/* Resolves a request path (relative ones below /local/domain/<id>) and
 * checks it as Xen's is_valid_nodename does: the length is limited only for
 * unprivileged domains, by the path-length quota. */
static int canon(struct conn *c, const char *name, char *out, bool allow_special)
{
    size_t l;

    if (!name)
        return EINVAL;
    l = strlen(name);
    if (name[0] == '/' || (allow_special && name[0] == '@')) {
        if (l >= PATH_BUF)
            return EINVAL;
        memcpy(out, name, l + 1);
    } else if (snprintf(out, PATH_BUF, "/local/domain/%u/%s", c->id, name) >= PATH_BUF) {
        return EINVAL;
    }
    if (!xsc_valid_name(out, allow_special))
        return EINVAL;
    if (!conn_privileged(c) && xsc_path_rel_len(out) > (size_t)xsd_quota[Q_PATH_MAX])
        return EINVAL;
    return 0;
}

static unsigned int parse_uint(const char *s)
{
    return (unsigned int)strtoul(s, NULL, 10); /* Xen uses atoi() */
}

/* The node named by arg, if the connection may read it: 0, or the error
 * that the reply carries (canon's, or store_get's errno). */
static int readable_node(struct conn *c, struct transaction *t, const char *arg,
                         bool allow_special, struct node **out)
{
    char path[PATH_BUF];
    int err = canon(c, arg, path, allow_special);

    if (err)
        return err;
    if (!(*out = store_get(c, t, path, XSC_PERM_READ)))
        return errno;
    return 0;
}

static int do_read(struct conn *c, struct transaction *t, const struct xsd_msg *m)
{
    struct node *n;
    int err = readable_node(c, t, wire_onearg(m), false, &n);

    if (err)
        return err;
    send_reply(c, m, XS_READ, n->value, n->vlen);
    return 0;
}

static int do_directory(struct conn *c, struct transaction *t, const struct xsd_msg *m)
{
    struct node *n;
    int err = readable_node(c, t, wire_onearg(m), false, &n);

    if (err)
        return err;
    send_reply(c, m, XS_DIRECTORY, n->children, n->childlen);
    return 0;
}

static int do_directory_part(struct conn *c, struct transaction *t, const struct xsd_msg *m)
{
    char data[XENSTORE_PAYLOAD_MAX];
    const char *vec[2];
    struct node *n;
    unsigned int off;
    size_t genlen, len = 0, maxlen;
    int err;

    if (xsc_count_strings(m->body, m->hdr.len) != 2 || wire_strings(m, vec, 2) != 2)
        return EINVAL;
    if ((err = readable_node(c, t, vec[0], false, &n)) != 0)
        return err;
    off = (unsigned int)atoi(vec[1]);
    genlen = (size_t)snprintf(data, sizeof(data), "%" PRIu64, n->gen) + 1;
    if (off >= n->childlen) {
        data[genlen] = '\0'; /* past the end: an empty list */
        send_reply(c, m, XS_DIRECTORY_PART, data, genlen + 1);
        return 0;
    }
    /* Whole names only, as many as fit. */
    maxlen = XENSTORE_PAYLOAD_MAX - genlen - 1;
    while (off + len < n->childlen) {
        size_t l = strlen(n->children + off + len);
        if (len + l >= maxlen)
            break;
        len += l + 1;
    }
    memcpy(data + genlen, n->children + off, len);
    if (off + len == n->childlen)
        data[genlen + len++] = '\0';
    send_reply(c, m, XS_DIRECTORY_PART, data, genlen + len);
    return 0;
}

static int do_get_perms(struct conn *c, struct transaction *t, const struct xsd_msg *m)
{
    char out[XENSTORE_PAYLOAD_MAX + XSC_PERM_STRLEN];
    struct node *n;
    size_t len = 0;
    int err = readable_node(c, t, wire_onearg(m), true, &n);

    if (err)
        return err;
    for (uint32_t i = 0; i < n->nperms && len < XENSTORE_PAYLOAD_MAX; i++) {
        int l = xsc_perm_format(&n->perms[i], out + len, XSC_PERM_STRLEN);
        if (l < 0)
            return EINVAL;
        len += (size_t)l + 1;
    }
    send_reply(c, m, XS_GET_PERMS, out, len);
    return 0;
}

static int do_write(struct conn *c, struct transaction *t, const struct xsd_msg *m)
{
    char path[PATH_BUF];
    const char *vec[1];
    struct node *n;
    size_t off;
    uint32_t dlen;
    int err;

    if (wire_strings(m, vec, 1) < 1)
        return EINVAL;
    off = strlen(vec[0]) + 1;
    dlen = m->hdr.len - (uint32_t)off;
    if ((err = canon(c, vec[0], path, false)) != 0)
        return err;
    n = store_get(c, t, path, XSC_PERM_WRITE);
    if (!n) {
        if (errno != ENOENT)
            return errno;
        if (!(n = store_create(c, t, path, m->body + off, dlen)))
            return errno;
    } else {
        if (!conn_privileged(c) &&
            node_size(n) - n->vlen + dlen >= (size_t)xsd_quota[Q_NODE_SIZE])
            return ENOSPC;
        if (node_set_value(n, m->body + off, dlen))
            return ENOMEM;
        store_write(c, t, n);
    }
    watch_fire(c, t, path, false, n->perms, n->nperms);
    send_ack(c, m);
    return 0;
}

static int do_mkdir(struct conn *c, struct transaction *t, const struct xsd_msg *m)
{
    char path[PATH_BUF];
    struct node *n;
    int err = canon(c, wire_onearg(m), path, false);

    if (err)
        return err;
    n = store_get(c, t, path, XSC_PERM_WRITE);
    if (!n) {
        if (errno != ENOENT)
            return errno;
        if (!(n = store_create(c, t, path, NULL, 0)))
            return errno;
        watch_fire(c, t, path, false, n->perms, n->nperms);
    }
    send_ack(c, m);
    return 0;
}

static int do_rm(struct conn *c, struct transaction *t, const struct xsd_msg *m)
{
    char path[PATH_BUF], parent[PATH_BUF];
    int err = canon(c, wire_onearg(m), path, false);

    if (err)
        return err;
    if (!store_get(c, t, path, XSC_PERM_WRITE)) {
        if (errno != ENOENT)
            return errno;
        /* Absent is fine if the parent exists. */
        parent_path(path, parent);
        if (!store_read(c, t, parent))
            return errno;
        send_ack(c, m);
        return 0;
    }
    if (strcmp(path, "/") == 0)
        return EINVAL;
    if ((err = store_rm(c, t, path)) != 0)
        return err;
    send_ack(c, m);
    return 0;
}

static int do_set_perms(struct conn *c, struct transaction *t, const struct xsd_msg *m)
{
    char path[PATH_BUF];
    struct xsc_perm perms[XENSTORE_PAYLOAD_MAX / 3], *old;
    unsigned int num = xsc_count_strings(m->body, m->hdr.len);
    struct node *n;
    uint32_t nold;
    int err;

    if (num < 2)
        return EINVAL;
    num--;
    if (!conn_privileged(c) && num > (unsigned int)xsd_quota[Q_PERMS])
        return ENOSPC;
    if (num > XSD_ARRAY_SIZE(perms) ||
        !xsc_strings_to_perms(perms, num, m->body + strlen(m->body) + 1))
        return EINVAL;
    if ((err = canon(c, m->body, path, true)) != 0)
        return err;
    if (!(n = store_get(c, t, path, XSC_PERM_WRITE | XSD_PERM_OWNER)))
        return errno;
    /* Only privileged domains may give a node away. */
    if (!conn_privileged(c) && perms[0].id != node_owner(n))
        return EPERM;
    if (!conn_privileged(c) &&
        node_size(n) - n->nperms * sizeof(*perms) + num * sizeof(*perms) >=
            (size_t)xsd_quota[Q_NODE_SIZE])
        return ENOSPC;
    /* Watchers are checked against the permissions before the change. */
    old = n->perms;
    nold = n->nperms;
    n->perms = NULL;
    if (node_set_perms(n, perms, num)) {
        n->perms = old;
        return ENOMEM;
    }
    if (!t && old[0].id != perms[0].id) {
        tree_acc(old[0].id, -1);
        tree_acc(perms[0].id, 1);
    }
    store_write(c, t, n);
    watch_fire(c, t, path, false, old, nold);
    free(old);
    send_ack(c, m);
    return 0;
}

static int do_watch(struct conn *c, struct transaction *t, const struct xsd_msg *m)
{
    char path[PATH_BUF];
    const char *vec[2];
    struct watch *w;
    int err;

    (void)t;
    if (wire_strings(m, vec, 2) != 2)
        return EINVAL;
    if (vec[0][0] == '@') {
        if (strlen(vec[0]) > XENSTORE_REL_PATH_MAX)
            return EINVAL;
    }
    if ((err = canon(c, vec[0], path, true)) != 0)
        return err;
    err = watch_add(c, path, vec[1], vec[0][0] != '/' && vec[0][0] != '@', &w);
    if (err)
        return err;
    send_ack(c, m);
    /* Fire once up front, as Xen. */
    watch_event(w, w->path);
    return 0;
}

static int do_unwatch(struct conn *c, struct transaction *t, const struct xsd_msg *m)
{
    char path[PATH_BUF];
    const char *vec[2];

    (void)t;
    if (wire_strings(m, vec, 2) != 2)
        return EINVAL;
    if (vec[0][0] == '/' || vec[0][0] == '@')
        snprintf(path, sizeof(path), "%s", vec[0]);
    else
        snprintf(path, sizeof(path), "/local/domain/%u/%s", c->id, vec[0]);
    if (watch_remove(c, path, vec[1]))
        return ENOENT;
    send_ack(c, m);
    return 0;
}

static int do_transaction_start(struct conn *c, struct transaction *t, const struct xsd_msg *m)
{
    char id[16];

    if (t)
        return EBUSY;
    if (!(t = tx_start(c)))
        return errno;
    snprintf(id, sizeof(id), "%u", t->id);
    send_reply(c, m, XS_TRANSACTION_START, id, strlen(id) + 1);
    return 0;
}

static int do_transaction_end(struct conn *c, struct transaction *t, const struct xsd_msg *m)
{
    const char *arg = wire_onearg(m);
    int err = 0;

    if (!arg || (strcmp(arg, "T") != 0 && strcmp(arg, "F") != 0))
        return EINVAL;
    if (!t)
        return ENOENT;
    tx_unlink(c, t);
    if (arg[0] == 'T')
        err = tx_commit(c, t);
    tx_free(t);
    if (err)
        return err;
    send_ack(c, m);
    return 0;
}

static int do_introduce(struct conn *c, struct transaction *t, const struct xsd_msg *m)
{
    const char *vec[3];
    int port, err;

    (void)t;
    if (wire_strings(m, vec, 3) < 3)
        return EINVAL;
    port = atoi(vec[2]);
    if (port <= 0)
        return EINVAL;
    err = domain_introduce(parse_uint(vec[0]), (uint64_t)strtoll(vec[1], NULL, 10),
                           (unsigned int)port);
    if (err)
        return err;
    send_ack(c, m);
    return 0;
}

static int domid_arg(const struct xsd_msg *m, unsigned int *domid)
{
    const char *arg = wire_onearg(m);

    if (!arg)
        return EINVAL;
    *domid = parse_uint(arg);
    return 0;
}

static int do_release(struct conn *c, struct transaction *t, const struct xsd_msg *m)
{
    unsigned int domid;
    int err = domid_arg(m, &domid);

    (void)t;
    if (err || (err = domain_release(domid)) != 0)
        return err;
    send_ack(c, m);
    return 0;
}

static int do_get_domain_path(struct conn *c, struct transaction *t, const struct xsd_msg *m)
{
    char path[32];
    unsigned int domid;
    int err = domid_arg(m, &domid);

    (void)t;
    if (err)
        return err;
    xsc_domain_path(domid, path, sizeof(path));
    send_reply(c, m, XS_GET_DOMAIN_PATH, path, strlen(path) + 1);
    return 0;
}

static int do_is_domain_introduced(struct conn *c, struct transaction *t, const struct xsd_msg *m)
{
    unsigned int domid;
    struct xsd_domain *d;
    int err = domid_arg(m, &domid);

    (void)t;
    if (err)
        return err;
    if (domid == XSD_DOMID_FIRST_RESERVED) /* DOMID_SELF */
        domid = c->id;
    d = domain_find(domid);
    send_reply(c, m, XS_IS_DOMAIN_INTRODUCED, domid == 0 || (d && d->introduced) ? "T" : "F", 2);
    return 0;
}

static int do_resume(struct conn *c, struct transaction *t, const struct xsd_msg *m)
{
    unsigned int domid;
    struct xsd_domain *d;
    int err = domid_arg(m, &domid);

    (void)t;
    if (err)
        return err;
    if (domid == 0)
        return EINVAL;
    d = domain_find(domid);
    if (!d || !d->introduced)
        return ENOENT;
    d->shutdown = false;
    send_ack(c, m);
    return 0;
}

static int do_set_target(struct conn *c, struct transaction *t, const struct xsd_msg *m)
{
    const char *vec[2];
    struct xsd_domain *d, *td;

    (void)t;
    if (wire_strings(m, vec, 2) < 2)
        return EINVAL;
    d = domain_find(parse_uint(vec[0]));
    td = domain_find(parse_uint(vec[1]));
    if (!d || !d->introduced || !td || !td->introduced)
        return ENOENT;
    if (!d->conn)
        return EINVAL;
    d->conn->has_target = true;
    d->conn->target = td->domid;
    send_ack(c, m);
    return 0;
}

static int do_reset_watches(struct conn *c, struct transaction *t, const struct xsd_msg *m)
{
    (void)t;
    watch_remove_all(c);
    while (c->txs) {
        struct transaction *x = c->txs;
        tx_unlink(c, x);
        tx_free(x);
    }
    send_ack(c, m);
    return 0;
}

static int do_control(struct conn *c, struct transaction *t, const struct xsd_msg *m)
{
    (void)t;
    return control_dispatch(c, m);
}

/* The flags of Xen 4.17's wire_funcs table. */
#define NOTID 1u /* ignores the header's transaction id */
#define PRIV 2u  /* privileged connections only */
typedef int (*op_fn)(struct conn *, struct transaction *, const struct xsd_msg *);
static const struct {
    const char *name;
    op_fn fn;
    unsigned int flags;
} ops[XS_TYPE_COUNT] = {
    [XS_CONTROL] = { "CONTROL", do_control, PRIV },
    [XS_DIRECTORY] = { "DIRECTORY", do_directory, 0 },
    [XS_READ] = { "READ", do_read, 0 },
    [XS_GET_PERMS] = { "GET_PERMS", do_get_perms, 0 },
    [XS_WATCH] = { "WATCH", do_watch, NOTID },
    [XS_UNWATCH] = { "UNWATCH", do_unwatch, NOTID },
    [XS_TRANSACTION_START] = { "TRANSACTION_START", do_transaction_start, 0 },
    [XS_TRANSACTION_END] = { "TRANSACTION_END", do_transaction_end, 0 },
    [XS_INTRODUCE] = { "INTRODUCE", do_introduce, PRIV },
    [XS_RELEASE] = { "RELEASE", do_release, PRIV },
    [XS_GET_DOMAIN_PATH] = { "GET_DOMAIN_PATH", do_get_domain_path, 0 },
    [XS_WRITE] = { "WRITE", do_write, 0 },
    [XS_MKDIR] = { "MKDIR", do_mkdir, 0 },
    [XS_RM] = { "RM", do_rm, 0 },
    [XS_SET_PERMS] = { "SET_PERMS", do_set_perms, 0 },
    [XS_WATCH_EVENT] = { "WATCH_EVENT", NULL, 0 },
    [XS_ERROR] = { "ERROR", NULL, 0 },
    [XS_IS_DOMAIN_INTRODUCED] = { "IS_DOMAIN_INTRODUCED", do_is_domain_introduced, PRIV },
    [XS_RESUME] = { "RESUME", do_resume, PRIV },
    [XS_SET_TARGET] = { "SET_TARGET", do_set_target, PRIV },
    [XS_RESET_WATCHES] = { "RESET_WATCHES", do_reset_watches, 0 },
    [XS_DIRECTORY_PART] = { "DIRECTORY_PART", do_directory_part, 0 },
};

const char *ops_name(uint32_t type)
{
    return type < XS_TYPE_COUNT && ops[type].name ? ops[type].name : "UNKNOWN";
}

void ops_dispatch(struct conn *c, const struct xsd_msg *m)
{
    uint32_t type = m->hdr.type;
    struct transaction *t = NULL;
    int err;

    if (xsd_verbose || xsd_trace_on) {
        /* and the payload's first string (a path, mostly), printable
         * bytes only, at most 120 of them */
        char arg[121];
        size_t k = 0;
        for (uint32_t i = 0; i < m->hdr.len && m->body[i] && k < sizeof(arg) - 1; i++)
            arg[k++] = m->body[i] >= 0x20 && m->body[i] < 0x7f ? m->body[i] : '?';
        arg[k] = '\0';
        xsd_log(XSD_LOG_DEBUG, "IN  dom%u fd %d %s req %u tx %u len %u %s", c->id, c->fd,
                ops_name(type), m->hdr.req_id, m->hdr.tx_id, m->hdr.len, arg);
    }
    if (type >= XS_TYPE_COUNT || !ops[type].fn) {
        send_error(c, m, ENOSYS);
        return;
    }
    if ((ops[type].flags & PRIV) && !conn_privileged(c)) {
        send_error(c, m, EACCES);
        return;
    }
    if (!(ops[type].flags & NOTID) && m->hdr.tx_id) {
        t = tx_find(c, m->hdr.tx_id);
        if (!t) {
            send_error(c, m, ENOENT);
            return;
        }
    }
    err = ops[type].fn(c, t, m);
    if (err)
        send_error(c, m, err);
}

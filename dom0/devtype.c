/* The device-type table and what the toolstack does through it (devtype.h). */
#include "devtype.h"
#include "config.h"
#include "tdm_xenbus.h"
#include "rundir.h"
#include "util.h"
#include "vbd.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEV_CONNECT_TIMEOUT_MS 10000
#define XENBUS_INITWAIT 2
#define XENBUS_CLOSING 5
#define XENBUS_CLOSED 6

static const struct devtype *const types[] = { &vbd_devtype, &vif_devtype };
#define NTYPES (sizeof(types) / sizeof(types[0]))

bool devtype_put(struct devtype_tx *x, const char *dir, const char *key, const char *val)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, key);
    return xs_write(x->h, x->t, path, val, (unsigned)strlen(val));
}

void devtype_dirs(const struct devtype *dt, unsigned domid, unsigned devid, char *be, char *fe,
                  size_t len)
{
    snprintf(be, len, "/local/domain/0/backend/%s/%u/%u", dt->kind, domid, devid);
    snprintf(fe, len, "/local/domain/%u/device/%s/%u", domid, dt->kind, devid);
}

static int backend_ensure(const struct devtype *dt)
{
    char *args[] = { "--run-dir", (char *)rundir(), NULL };
    return daemon_ensure(dt->backend, args);
}

int devtype_backends_ensure(const struct tandem_config *c)
{
    for (size_t k = 0; k < NTYPES; k++)
        if (types[k]->count(c) && backend_ensure(types[k]) < 0)
            return -1;
    return 0;
}

/* libxl's permissions: the owner first (no access for others), then who
 * else may read. */
static bool perm(struct devtype_tx *x, const char *path, unsigned owner, unsigned reader)
{
    struct xs_permissions p[2] = { { owner, XS_PERM_NONE }, { reader, XS_PERM_READ } };
    return xs_set_permissions(x->h, x->t, path, p, 2);
}

static bool write_device(struct devtype_tx *x, const struct devtype *dt,
                         const struct tandem_config *c, size_t i)
{
    char id[16];
    snprintf(id, sizeof(id), "%u", x->domid);
    /* Leftovers of an earlier run (a backend that wrote into a removed
     * directory, say) must not keep their permissions. */
    xs_rm(x->h, x->t, x->be);
    xs_rm(x->h, x->t, x->fe);
    return xs_mkdir(x->h, x->t, x->be) && perm(x, x->be, 0, x->domid) &&
           devtype_put(x, x->be, "frontend", x->fe) && devtype_put(x, x->be, "frontend-id", id) &&
           devtype_put(x, x->be, "online", "1") && devtype_put(x, x->be, "state", "1") &&
           xs_mkdir(x->h, x->t, x->fe) && perm(x, x->fe, x->domid, 0) &&
           devtype_put(x, x->fe, "backend", x->be) && devtype_put(x, x->fe, "backend-id", "0") &&
           devtype_put(x, x->fe, "state", "1") && dt->write(x, c, i);
}

/* The frontend's parents exist before tandem-vmm writes the domain; the
 * guest must be able to list them (read-only). */
static bool write_parents(struct devtype_tx *x, const struct devtype *dt)
{
    char p[96];
    snprintf(p, sizeof(p), "/local/domain/%u/device", x->domid);
    bool ok = xs_mkdir(x->h, x->t, p) && perm(x, p, 0, x->domid);
    snprintf(p, sizeof(p), "/local/domain/%u/device/%s", x->domid, dt->kind);
    return ok && xs_mkdir(x->h, x->t, p) && perm(x, p, 0, x->domid);
}

static bool write_type(struct xs_handle *h, xs_transaction_t t, unsigned domid,
                       const struct devtype *dt, const struct tandem_config *c)
{
    struct devtype_tx x = { h, t, domid, NULL, NULL };
    size_t n = dt->count(c);
    bool ok = n == 0 || write_parents(&x, dt);
    for (size_t i = 0; ok && i < n; i++) {
        char be[128], fe[128];
        devtype_dirs(dt, domid, dt->devid(c, i), be, fe, sizeof(be));
        x.be = be;
        x.fe = fe;
        ok = write_device(&x, dt, c, i);
    }
    return ok;
}

struct write_ctx {
    unsigned domid;
    const struct tandem_config *c;
};

static int write_body(struct xs_handle *h, xs_transaction_t t, void *arg)
{
    struct write_ctx *w = arg;
    bool ok = true;
    for (size_t k = 0; ok && k < NTYPES; k++)
        ok = write_type(h, t, w->domid, types[k], w->c);
    return ok ? 0 : -1;
}

static int write_all(struct xs_handle *h, unsigned domid, const struct tandem_config *c)
{
    struct write_ctx w = { domid, c };
    if (tdm_xenbus_transact(h, write_body, &w) == 0)
        return 0;
    msg("cannot write the devices of domain %u to xenstore: %s", domid, strerror(errno));
    return -1;
}

static int read_state(struct xs_handle *h, const char *be)
{
    char path[160];
    unsigned len;
    snprintf(path, sizeof(path), "%s/state", be);
    char *v = xs_read(h, XBT_NULL, path, &len);
    int s = v ? atoi(v) : 0;
    free(v);
    return s;
}

static void report_backend_error(struct xs_handle *h, const char *be, const struct devtype *dt,
                                 const char *label)
{
    char path[160];
    unsigned len;
    snprintf(path, sizeof(path), "%s/error", be);
    char *e = xs_read(h, XBT_NULL, path, &len);
    msg("%s %s: the backend refused it: %s", dt->what, label, e ? e : "(no reason given)");
    free(e);
}

/* Waits (on a watch) until the backend leaves Initialising. */
static int wait_initwait(struct xs_handle *h, const char *be, const struct devtype *dt,
                         const char *label)
{
    char path[160];
    snprintf(path, sizeof(path), "%s/state", be);
    if (!xs_watch(h, path, "dev-wait")) {
        msg("%s %s: cannot watch %s: %s", dt->what, label, path, strerror(errno));
        return -1;
    }
    int64_t deadline = now_ms() + DEV_CONNECT_TIMEOUT_MS;
    int rc = -1;
    for (;;) {
        int s = read_state(h, be);
        if (s == XENBUS_INITWAIT || (s > XENBUS_INITWAIT && s < XENBUS_CLOSING)) {
            rc = 0;
            break;
        }
        if (s == XENBUS_CLOSING || s == XENBUS_CLOSED) {
            report_backend_error(h, be, dt, label);
            break;
        }
        int64_t left = deadline - now_ms();
        struct pollfd pfd = { .fd = xs_fileno(h), .events = POLLIN };
        if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
            char *logf = daemon_file(dt->backend, dt->backend->log);
            msg("%s %s: %s did not take the device within %d ms (see %s)", dt->what, label,
                dt->backend->bin, DEV_CONNECT_TIMEOUT_MS, logf ? logf : "its log");
            free(logf);
            break;
        }
        char **w;
        while ((w = xs_check_watch(h)) != NULL)
            free(w);
    }
    xs_unwatch(h, path, "dev-wait");
    return rc;
}

int devtype_add_all(struct xs_handle *h, unsigned domid, const struct tandem_config *c)
{
    size_t total = 0;
    for (size_t k = 0; k < NTYPES; k++)
        total += types[k]->count(c);
    if (!total)
        return 0;
    if (write_all(h, domid, c) < 0)
        return -1;
    for (size_t k = 0; k < NTYPES; k++)
        for (size_t i = 0; i < types[k]->count(c); i++) {
            char be[128], fe[128];
            devtype_dirs(types[k], domid, types[k]->devid(c, i), be, fe, sizeof(be));
            if (wait_initwait(h, be, types[k], types[k]->label(c, i)) < 0)
                return -1;
        }
    return 0;
}

/* ---- hotplug ---- */

static bool exists_tx(struct xs_handle *h, xs_transaction_t t, const char *path)
{
    unsigned len;
    char *v = xs_read(h, t, path, &len);
    free(v);
    return v != NULL;
}

struct attach_ctx {
    unsigned domid;
    const struct devtype *dt;
    struct tandem_config *c;
    size_t i;
    bool refused;                  /* why in err */
    char err[512];
};

/* The attach transaction's body: -1 aborts (errno; refused set when the
 * device may not be attached, nothing written). */
static int attach_body(struct xs_handle *h, xs_transaction_t t, void *arg)
{
    struct attach_ctx *a = arg;
    const struct devtype *dt = a->dt;
    char dom[64], be[128], fe[128];
    struct devtype_tx x = { h, t, a->domid, NULL, NULL };
    int rc = 0;
    snprintf(dom, sizeof(dom), "/local/domain/%u", a->domid);
    if (!exists_tx(h, t, dom)) {
        snprintf(a->err, sizeof(a->err), "domain %u is gone from xenstore", a->domid);
        rc = 1;
    } else if (dt->hot_prepare) {
        rc = dt->hot_prepare(&x, a->c, a->i, a->err, sizeof(a->err));
    }
    if (rc == 0) {
        devtype_dirs(dt, a->domid, dt->devid(a->c, a->i), be, fe, sizeof(be));
        if (exists_tx(h, t, be) || exists_tx(h, t, fe)) {
            snprintf(a->err, sizeof(a->err), "domain %u already has %s %s (%s)", a->domid, dt->what,
                     dt->label(a->c, a->i), exists_tx(h, t, be) ? be : fe);
            rc = 1;
        }
    }
    if (rc == 1) {
        a->refused = true;
        errno = EEXIST;
        return -1;
    }
    if (rc < 0)
        return -1;
    x.be = be;
    x.fe = fe;
    return write_parents(&x, dt) && write_device(&x, dt, a->c, a->i) ? 0 : -1;
}

struct dirs_ctx {
    const char *be, *fe;
};

static int remove_body(struct xs_handle *h, xs_transaction_t t, void *arg)
{
    struct dirs_ctx *d = arg;
    xs_rm(h, t, d->fe);
    xs_rm(h, t, d->be);
    return 0;
}

static void remove_dirs(struct xs_handle *h, const char *be, const char *fe)
{
    struct dirs_ctx d = { be, fe };
    if (tdm_xenbus_transact(h, remove_body, &d) == 0)
        return;
    xs_rm(h, XBT_NULL, fe);
    xs_rm(h, XBT_NULL, be);
}

int devtype_attach(struct xs_handle *h, unsigned domid, const struct devtype *dt,
                   struct tandem_config *c, size_t i)
{
    struct attach_ctx a = { .domid = domid, .dt = dt, .c = c, .i = i };
    if (backend_ensure(dt) < 0)
        return -1;
    if (tdm_xenbus_transact(h, attach_body, &a) < 0) {
        if (a.refused) {
            msg("%s", a.err);
            return 1;
        }
        msg("%s %s: cannot write it to xenstore: %s", dt->what, dt->label(c, i), strerror(errno));
        return -1;
    }
    char be[128], fe[128];
    devtype_dirs(dt, domid, dt->devid(c, i), be, fe, sizeof(be));
    if (wait_initwait(h, be, dt, dt->label(c, i)) < 0) {
        remove_dirs(h, be, fe);
        return -1;
    }
    return 0;
}

/* online = 0 and, unless the backend is Closed already, state = Closing:
 * libxl__initiate_device_generic_remove's transaction. false if the
 * directory is gone (errno ENOENT) or xenstore failed. */
static int close_body(struct xs_handle *h, xs_transaction_t t, void *arg)
{
    const char *be = arg;
    char online[160], state[160];
    unsigned len;
    snprintf(online, sizeof(online), "%s/online", be);
    snprintf(state, sizeof(state), "%s/state", be);
    char *s = xs_read(h, t, state, &len);
    if (!s) {
        errno = ENOENT;
        return -1;
    }
    bool ok = xs_write(h, t, online, "0", 1) &&
              (atoi(s) == XENBUS_CLOSED || xs_write(h, t, state, "5", 1));
    free(s);
    return ok ? 0 : -1;
}

static bool ask_close(struct xs_handle *h, const char *be)
{
    return tdm_xenbus_transact(h, close_body, (void *)be) == 0;
}

/* Waits (on a watch) for the backend to reach Closed, or its directory to
 * go. 0, or -1 on timeout. */
static int wait_closed(struct xs_handle *h, const char *be, int timeout_ms)
{
    char path[160];
    snprintf(path, sizeof(path), "%s/state", be);
    bool watching = xs_watch(h, path, "dev-close");
    int64_t deadline = now_ms() + timeout_ms;
    int rc = -1;
    for (;;) {
        unsigned len;
        char *v = xs_read(h, XBT_NULL, path, &len);
        int s = v ? atoi(v) : XENBUS_CLOSED;
        free(v);
        if (s == XENBUS_CLOSED) {
            rc = 0;
            break;
        }
        int64_t left = deadline - now_ms();
        struct pollfd pfd = { .fd = xs_fileno(h), .events = POLLIN };
        if (left <= 0)
            break;
        /* Without a watch, look again every 100 ms. */
        if (poll(&pfd, 1, watching ? (int)left : (left < 100 ? (int)left : 100)) < 0 &&
            errno != EINTR)
            break;
        char **w;
        while (watching && (w = xs_check_watch(h)) != NULL)
            free(w);
    }
    if (watching)
        xs_unwatch(h, path, "dev-close");
    return rc;
}

int devtype_detach(struct xs_handle *h, unsigned domid, const struct devtype *dt, unsigned devid,
                   const char *label, bool force)
{
    char be[128], fe[128];
    devtype_dirs(dt, domid, devid, be, fe, sizeof(be));
    if (!ask_close(h, be)) {
        if (errno == ENOENT)
            msg("domain %u has no %s %s", domid, dt->what, label);
        else
            msg("%s %s: cannot ask the backend to close: %s", dt->what, label, strerror(errno));
        return -1;
    }
    if (!force && wait_closed(h, be, DEVTYPE_DETACH_TIMEOUT_MS) < 0)
        msg("warning: %s %s of domain %u did not close within %d ms (the frontend did not "
            "answer); removing it anyway, as xl does", dt->what, label, domid,
            DEVTYPE_DETACH_TIMEOUT_MS);
    remove_dirs(h, be, fe);
    return 0;
}

size_t devtype_devids(struct xs_handle *h, unsigned domid, const struct devtype *dt,
                      unsigned *out, size_t max)
{
    char dir[96];
    unsigned n = 0;
    size_t k = 0;
    snprintf(dir, sizeof(dir), "/local/domain/0/backend/%s/%u", dt->kind, domid);
    char **ents = xs_directory(h, XBT_NULL, dir, &n);
    for (unsigned j = 0; ents && j < n && k < max; j++) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(ents[j], &end, 10);
        if (!errno && *end == '\0' && end != ents[j] && v <= 0xffffffffUL)
            out[k++] = (unsigned)v;
    }
    free(ents);
    for (size_t a = 1; a < k; a++)   /* insertion sort: a domain has few devices */
        for (size_t b = a; b > 0 && out[b - 1] > out[b]; b--) {
            unsigned tmp = out[b];
            out[b] = out[b - 1];
            out[b - 1] = tmp;
        }
    return k;
}

void devtype_remove_all(struct xs_handle *h, unsigned domid)
{
    for (size_t k = 0; k < NTYPES; k++) {
        char be[96];
        snprintf(be, sizeof(be), "/local/domain/0/backend/%s/%u", types[k]->kind, domid);
        xs_rm(h, XBT_NULL, be);
    }
}

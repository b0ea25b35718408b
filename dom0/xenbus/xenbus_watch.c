/* Watching /local/domain/0/backend/<type> for devices. Any event under the
 * directory triggers a rescan of its two levels (<frontend-id>/<devid>),
 * diffed against the devices already reported: simple, correct for every
 * order of writes and removals, and cheap at xenstore's scale. */
#include "tdm_xenbus.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dev {
    unsigned fe, devid;
};

struct tdm_xenbus_watch {
    struct xs_handle *h;
    char dir[64];                       /* /local/domain/0/backend/<type> */
    char token[64];
    struct dev *known;                  /* sorted */
    unsigned nknown;
    struct tdm_xenbus_dev_event *queue; /* events not yet handed out */
    unsigned qhead, qlen;
    bool need_scan;
};

static bool valid_type(const char *t)
{
    size_t n = strlen(t);

    if (n == 0 || n > 31)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= '0' && t[i] <= '9') ||
              t[i] == '_' || t[i] == '-'))
            return false;
    return true;
}

struct tdm_xenbus_watch *tdm_xenbus_watch_backends(const char *type)
{
    struct tdm_xenbus_watch *w;

    if (!valid_type(type)) {
        tdm_set_error(EINVAL, "xenbus: '%.40s' is not a device type", type);
        return NULL;
    }
    w = calloc(1, sizeof(*w));
    if (!w) {
        tdm_set_error(ENOMEM, "xenbus: out of memory");
        return NULL;
    }
    snprintf(w->dir, sizeof(w->dir), "/local/domain/0/backend/%s", type);
    snprintf(w->token, sizeof(w->token), "tdm-xenbus-%s", type);
    w->need_scan = true;
    w->h = xs_open(0);
    if (!w->h) {
        tdm_set_error(errno, "xenbus: cannot reach xenstored: %s", strerror(errno));
        free(w);
        return NULL;
    }
    if (!xs_watch(w->h, w->dir, w->token)) {
        tdm_set_error(errno, "xenbus: watch %s: %s", w->dir, strerror(errno));
        tdm_xenbus_watch_close(w);
        return NULL;
    }
    return w;
}

void tdm_xenbus_watch_close(struct tdm_xenbus_watch *w)
{
    if (!w)
        return;
    xs_close(w->h);
    free(w->known);
    free(w->queue);
    free(w);
}

int tdm_xenbus_watch_fd(struct tdm_xenbus_watch *w)
{
    return xs_fileno(w->h);
}

/* Strict decimal directory names; anything else is not a device. */
static bool parse_id(const char *s, unsigned long max, unsigned *out)
{
    unsigned long v = 0;

    if (!*s || (s[0] == '0' && s[1]))
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (unsigned long)(*s - '0');
        if (v > max)
            return false;
    }
    *out = (unsigned)v;
    return true;
}

static int cmp_dev(const void *a, const void *b)
{
    const struct dev *x = a, *y = b;

    if (x->fe != y->fe)
        return x->fe < y->fe ? -1 : 1;
    return x->devid < y->devid ? -1 : x->devid > y->devid;
}

/* Lists a directory; a missing one is empty. */
static char **list(struct tdm_xenbus_watch *w, const char *path, unsigned *n)
{
    char **v = xs_directory(w->h, XBT_NULL, path, n);

    if (!v && errno == ENOENT) {
        *n = 0;
        errno = 0;
    } else if (!v) {
        tdm_set_error(errno, "xenbus: list %s: %s", path, strerror(errno));
    }
    return v;
}

static int scan_frontend(struct tdm_xenbus_watch *w, unsigned fe, const char *name,
                         struct dev *out, unsigned *n)
{
    char path[128];
    unsigned count, devid;
    char **devs;

    snprintf(path, sizeof(path), "%s/%s", w->dir, name);
    devs = list(w, path, &count);
    if (!devs && errno)
        return -1;
    for (unsigned i = 0; i < count; i++) {
        if (!parse_id(devs[i], 0xFFFFFFFFul, &devid))
            continue;
        if (*n == TDM_XENBUS_MAX_DEVICES) {
            free(devs);
            return tdm_set_error(E2BIG, "xenbus: more than %d devices under %s",
                                 TDM_XENBUS_MAX_DEVICES, w->dir);
        }
        out[(*n)++] = (struct dev){ fe, devid };
    }
    free(devs);
    return 0;
}

/* The devices present now, sorted. */
static int scan(struct tdm_xenbus_watch *w, struct dev **out, unsigned *n)
{
    unsigned count, fe;
    char **fes = list(w, w->dir, &count);
    struct dev *devs;
    int rc = 0;

    *n = 0;
    if (!fes && errno)
        return -1;
    devs = malloc(TDM_XENBUS_MAX_DEVICES * sizeof(*devs));
    if (!devs) {
        free(fes);
        return tdm_set_error(ENOMEM, "xenbus: out of memory");
    }
    for (unsigned i = 0; i < count && rc == 0; i++)
        if (parse_id(fes[i], 0x7FEF, &fe))
            rc = scan_frontend(w, fe, fes[i], devs, n);
    free(fes);
    if (rc < 0) {
        free(devs);
        return -1;
    }
    qsort(devs, *n, sizeof(*devs), cmp_dev);
    *out = devs;
    return 0;
}

static void push(struct tdm_xenbus_watch *w, enum tdm_xenbus_dev_kind kind, const struct dev *d)
{
    struct tdm_xenbus_dev_event *e = &w->queue[w->qlen++];

    e->kind = kind;
    e->frontend_id = d->fe;
    e->devid = d->devid;
    snprintf(e->dir, sizeof(e->dir), "%s/%u/%u", w->dir, d->fe, d->devid);
}

/* Queues the difference between what was known and what is there now. */
static int rescan(struct tdm_xenbus_watch *w)
{
    struct dev *now = NULL;
    unsigned n, i = 0, j = 0;

    if (scan(w, &now, &n) < 0)
        return -1;
    free(w->queue);
    w->queue = malloc((w->nknown + n + 1) * sizeof(*w->queue));
    w->qhead = w->qlen = 0;
    if (!w->queue) {
        free(now);
        return tdm_set_error(ENOMEM, "xenbus: out of memory");
    }
    while (i < w->nknown || j < n) {
        int c = i == w->nknown ? 1 : j == n ? -1 : cmp_dev(&w->known[i], &now[j]);

        if (c < 0)
            push(w, TDM_XENBUS_DEV_REMOVED, &w->known[i++]);
        else if (c > 0)
            push(w, TDM_XENBUS_DEV_ADDED, &now[j++]);
        else
            i++, j++;
    }
    free(w->known);
    w->known = now;
    w->nknown = n;
    return 0;
}

/* Consumes queued watch events; any of ours means "look again". */
static int drain_events(struct tdm_xenbus_watch *w)
{
    char **ev;

    while ((ev = xs_check_watch(w->h)) != NULL) {
        if (strcmp(ev[XS_WATCH_TOKEN], w->token) == 0)
            w->need_scan = true;
        free(ev);
    }
    if (errno != EAGAIN)
        return tdm_set_error(errno, "xenbus: watch on %s: %s", w->dir, strerror(errno));
    return 0;
}

int tdm_xenbus_watch_next(struct tdm_xenbus_watch *w, struct tdm_xenbus_dev_event *ev)
{
    if (w->qhead == w->qlen) {
        if (drain_events(w) < 0)
            return -1;
        if (w->need_scan) {
            w->need_scan = false;
            if (rescan(w) < 0) {
                w->need_scan = true;      /* try again next time */
                return -1;
            }
        }
    }
    if (w->qhead == w->qlen)
        return 0;
    *ev = w->queue[w->qhead++];
    return 1;
}

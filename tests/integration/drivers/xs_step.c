/* xenstore steps for dom0 test drivers (see xs_step.h): a watch on the
 * node wakes us; the value is re-read after every event. */
#include "xs_step.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xenstore.h>

struct xs_step {
    struct xs_handle *xs;
    char dir[96];
};

struct xs_step *xs_step_open(unsigned domid, const char *app)
{
    struct xs_step *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->xs = xs_open(0);
    if (!s->xs) {
        fprintf(stderr, "xs_step: xs_open: %s\n", strerror(errno));
        free(s);
        return NULL;
    }
    snprintf(s->dir, sizeof(s->dir), "/local/domain/%u/data/%s", domid, app);
    return s;
}

void xs_step_close(struct xs_step *s)
{
    if (s) {
        xs_close(s->xs);
        free(s);
    }
}

bool xs_step_put(struct xs_step *s, const char *node, const char *value)
{
    char path[160];
    snprintf(path, sizeof(path), "%s/%s", s->dir, node);
    if (!xs_write(s->xs, XBT_NULL, path, value, (unsigned)strlen(value))) {
        fprintf(stderr, "xs_step: write %s: %s\n", path, strerror(errno));
        return false;
    }
    return true;
}

bool xs_step_put_u64(struct xs_step *s, const char *node, uint64_t value)
{
    char v[24];
    snprintf(v, sizeof(v), "%" PRIu64, value);
    return xs_step_put(s, node, v);
}

/* The node's value, malloc'd, or NULL if absent. */
static char *get(struct xs_step *s, const char *node)
{
    char path[160];
    unsigned len;
    snprintf(path, sizeof(path), "%s/%s", s->dir, node);
    return xs_read(s->xs, XBT_NULL, path, &len);
}

bool xs_step_get_u64(struct xs_step *s, const char *node, uint64_t *out)
{
    char *v = get(s, node), *end;
    bool ok = v && *v;
    if (ok) {
        errno = 0;
        *out = strtoull(v, &end, 10);
        ok = !errno && !*end;
    }
    free(v);
    return ok;
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Consumes every queued watch event (we re-read the node anyway). */
static void drain_events(struct xs_step *s)
{
    char **ev;
    while ((ev = xs_check_watch(s->xs)))
        free(ev);
}

bool xs_step_wait(struct xs_step *s, const char *node, const char *want, int timeout_ms)
{
    char path[160];
    snprintf(path, sizeof(path), "%s/%s", s->dir, node);
    if (!xs_watch(s->xs, path, "step")) {
        fprintf(stderr, "xs_step: watch %s: %s\n", path, strerror(errno));
        return false;
    }
    int64_t deadline = now_ms() + timeout_ms;
    bool ok = false;
    char *v = NULL;
    for (;;) {
        free(v);
        drain_events(s);
        v = get(s, node);
        if (v && !strcmp(v, want)) {
            ok = true;
            break;
        }
        if (v && !strncmp(v, "fail", 4))
            break;
        int64_t left = deadline - now_ms();
        struct pollfd p = { .fd = xs_fileno(s->xs), .events = POLLIN };
        if (left <= 0 || poll(&p, 1, (int)left) < 0)
            break;
    }
    if (!ok)
        fprintf(stderr, "xs_step: %s is '%s', waited for '%s'\n", path, v ? v : "(absent)", want);
    free(v);
    xs_unwatch(s->xs, path, "step");
    return ok;
}

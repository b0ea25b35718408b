/*
 * The XenbusState machine on the guest side (see xenbus.h): state nodes,
 * the other end's directory and domain, and a frontend device's watch on
 * its backend.  Everything read from xenstore is checked here: a state is
 * a decimal 0..8, an other-end path must sit under the domain its -id
 * node names.
 */
#include "kernel.h"
#include "kerrno.h"
#include "platform.h"
#include "xenbus.h"

static const char *const state_names[] = {
    "Unknown", "Initialising", "InitWait", "Initialised", "Connected",
    "Closing", "Closed", "Reconfiguring", "Reconfigured",
};

const char *xenbus_state_name(int state)
{
    if (state < 0 || (unsigned int)state >= ARRAY_SIZE(state_names))
        return "Invalid";
    return state_names[state];
}

int xenbus_state_parse(const char *value, size_t len)
{
    if (len != 1 || value[0] < '0' || value[0] > '0' + XenbusStateReconfigured)
        return -EINVAL;
    return value[0] - '0';
}

int xenbus_read_state(xenbus_transaction_t t, const char *dir)
{
    char path[XENBUS_PATH_MAX], value[8];
    if ((size_t)snprintf(path, sizeof(path), "%s/state", dir) >= sizeof(path))
        return -ENAMETOOLONG;
    int n = xenbus_read(t, path, value, sizeof(value));
    if (n == -ENOENT)
        return XenbusStateUnknown; /* as Xen's xenbus_read_driver_state */
    if (n < 0)
        return n;
    return xenbus_state_parse(value, (size_t)n);
}

struct switch_args {
    const char *dir;
    int state;
};

static int switch_in(xenbus_transaction_t t, void *arg)
{
    const struct switch_args *a = arg;
    int cur = xenbus_read_state(t, a->dir);
    if (cur == a->state)
        return 0;
    return xenbus_printf(t, a->dir, "state", "%d", a->state);
}

int xenbus_switch_state(xenbus_transaction_t t, const char *dir, int state)
{
    if (state < XenbusStateUnknown || state > XenbusStateReconfigured)
        return -EINVAL;
    struct switch_args a = { dir, state };
    if (t != XBT_NIL)
        return switch_in(t, &a);
    return xenbus_transaction_run(switch_in, &a, 0, NULL);
}

struct state_wait {
    unsigned int mask;
    int seen;
};

static bool state_in_mask(const char *value, void *ctx)
{
    struct state_wait *sw = ctx;
    int s = value ? xenbus_state_parse(value, strlen(value)) : XenbusStateUnknown;
    if (s < 0 || !(sw->mask & XENBUS_STATE_BIT(s)))
        return false;
    sw->seen = s;
    return true;
}

int xenbus_wait_for_state_mask(const char *dir, unsigned int mask, uint64_t timeout_ns)
{
    char path[XENBUS_PATH_MAX];
    if ((size_t)snprintf(path, sizeof(path), "%s/state", dir) >= sizeof(path))
        return -ENAMETOOLONG;
    struct state_wait sw = { mask, -1 };
    int r = xenbus_wait_for(path, state_in_mask, &sw, timeout_ns);
    return r < 0 ? r : sw.seen;
}

int xenbus_wait_for_state(const char *dir, int state, uint64_t timeout_ns)
{
    if (state < XenbusStateUnknown || state > XenbusStateReconfigured)
        return -EINVAL;
    return xenbus_wait_for_state_mask(dir, XENBUS_STATE_BIT(state), timeout_ns);
}

/* A domain id as xenstore holds it: strict decimal, below the reserved ids. */
static int parse_domid(const char *s, domid_t *out)
{
    uint64_t v;
    if (xenbus_parse_u64(s, DOMID_FIRST_RESERVED - 1, &v) < 0)
        return -EINVAL;
    *out = (domid_t)v;
    return 0;
}

static const char *find(const char *s, const char *sub)
{
    size_t n = strlen(sub);
    for (; *s; s++)
        if (strncmp(s, sub, n) == 0)
            return s;
    return NULL;
}

/* path must be /local/domain/<domid>/<area>/<something>. */
static bool path_in_domain(const char *path, domid_t domid, const char *area)
{
    char prefix[64];
    int n = snprintf(prefix, sizeof(prefix), "/local/domain/%u/%s/", domid, area);
    size_t plen = (size_t)n;
    return strncmp(path, prefix, plen) == 0 && path[plen] != '\0' && !find(path, "//");
}

int xenbus_read_otherend(xenbus_transaction_t t, const char *dir, const char *which, char *path,
                         size_t len, domid_t *domid)
{
    const char *area;
    if (strcmp(which, "backend") == 0)
        area = "backend";
    else if (strcmp(which, "frontend") == 0)
        area = "device";
    else
        return -EINVAL;
    char node[XENBUS_PATH_MAX], idbuf[16];
    if ((size_t)snprintf(node, sizeof(node), "%s/%s-id", dir, which) >= sizeof(node))
        return -ENAMETOOLONG;
    int n = xenbus_read(t, node, idbuf, sizeof(idbuf));
    if (n < 0)
        return n;
    domid_t id;
    if ((size_t)n >= sizeof(idbuf) || parse_domid(idbuf, &id) < 0)
        return -EINVAL;
    snprintf(node, sizeof(node), "%s/%s", dir, which);
    n = xenbus_read(t, node, path, len);
    if (n < 0)
        return n;
    if ((size_t)n >= len)
        return -ENAMETOOLONG;
    if (!path_in_domain(path, id, area))
        return -EINVAL;
    *domid = id;
    return 0;
}

/* ---- frontend devices ---- */

int xenbus_list_devices(const char *type, char *buf, size_t len)
{
    char dir[XENBUS_PATH_MAX];
    if ((size_t)snprintf(dir, sizeof(dir), "device/%s", type) >= sizeof(dir))
        return -ENAMETOOLONG;
    return xenbus_directory(XBT_NIL, dir, buf, len);
}

int xenbus_device_init(struct xenbus_device *dev, const char *type, const char *id)
{
    memset(dev, 0, sizeof(*dev));
    dev->otherend_state = XenbusStateUnknown;
    int n = snprintf(dev->nodename, sizeof(dev->nodename), "/local/domain/%u/device/%s/%s",
                     platform.domid, type, id);
    if (n < 0 || (size_t)n >= sizeof(dev->nodename))
        return -ENAMETOOLONG;
    return xenbus_read_otherend(XBT_NIL, dev->nodename, "backend", dev->otherend,
                                sizeof(dev->otherend), &dev->otherend_id);
}

static void otherend_fired(struct xenbus_watch *w, const char *path, void *arg)
{
    (void)w;
    (void)path;
    struct xenbus_device *dev = arg;
    int s = xenbus_read_state(XBT_NIL, dev->otherend);
    if (s < 0) {
        printk("xenbus: %s: unreadable backend state (%d)\n", dev->nodename, s);
        return;
    }
    dev->otherend_state = s;
    if (dev->otherend_changed)
        dev->otherend_changed(dev, s);
}

int xenbus_watch_otherend(struct xenbus_device *dev, xenbus_otherend_fn fn)
{
    char path[XENBUS_PATH_MAX];
    if ((size_t)snprintf(path, sizeof(path), "%s/state", dev->otherend) >= sizeof(path))
        return -ENAMETOOLONG;
    dev->otherend_changed = fn;
    return xenbus_watch_path(&dev->otherend_watch, path, otherend_fired, dev);
}

int xenbus_device_resume(struct xenbus_device *dev, const char *type, const char *id)
{
    xenbus_otherend_fn fn = dev->otherend_changed;
    bool watched = dev->otherend_watch.registered;
    if (watched)
        xenbus_unwatch(&dev->otherend_watch);
    int n = snprintf(dev->nodename, sizeof(dev->nodename), "/local/domain/%u/device/%s/%s",
                     platform.domid, type, id);
    if (n < 0 || (size_t)n >= sizeof(dev->nodename))
        return -ENAMETOOLONG;
    dev->otherend_state = XenbusStateUnknown;
    int r = xenbus_read_otherend(XBT_NIL, dev->nodename, "backend", dev->otherend,
                                 sizeof(dev->otherend), &dev->otherend_id);
    if (r < 0)
        return r;
    return watched ? xenbus_watch_otherend(dev, fn) : 0;
}

void xenbus_unwatch_otherend(struct xenbus_device *dev)
{
    if (dev->otherend_watch.registered)
        xenbus_unwatch(&dev->otherend_watch);
}

int xenbus_dev_switch_state(struct xenbus_device *dev, int state)
{
    return xenbus_switch_state(XBT_NIL, dev->nodename, state);
}

int xenbus_dev_wait_otherend(struct xenbus_device *dev, unsigned int mask, uint64_t timeout_ns)
{
    return xenbus_wait_for_state_mask(dev->otherend, mask, timeout_ns);
}

void xenbus_dev_fatal(struct xenbus_device *dev, int err, const char *fmt, ...)
{
    char msg[160], path[XENBUS_PATH_MAX + 16];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    printk("xenbus: %s: error %d: %s\n", dev->nodename, err, msg);
    /* as Xen, errors go outside the device directory:
     * <home>/error/device/<type>/<id>/error */
    const char *rel = find(dev->nodename, "/device/");
    if (rel && (size_t)snprintf(path, sizeof(path), "error%s", rel) < sizeof(path))
        xenbus_printf(XBT_NIL, path, "error", "%d %s", -err, msg);
    xenbus_dev_switch_state(dev, XenbusStateClosing);
}

/* The vif entry of the device-type table (devtype.h): the keys libxl
 * writes for a network device (libxl_nic.c; no hotplug script: the
 * backend attaches the tap to the bridge itself), served by
 * tandem-netback (rundir/netback/{pid,log}; per-vif counters in
 * rundir/netback/<domid>.<devid>). */
#include "config.h"
#include "devtype.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct daemon_spec netback_daemon = {
    .dir = "netback", .env = "TANDEM_NETBACK", .bin = "tandem-netback",
    .comm = "tandem-netback", .log = "log", .lock = "lock",
};

/* A type = "hvm" domain's vifs are the VMM's e1000s: no netback. */
static size_t vif_count(const struct tandem_config *c) { return config_is_hvm(c) ? 0 : c->nvifs; }
static unsigned vif_devid(const struct tandem_config *c, size_t i) { return c->vifs[i].devid; }
static const char *vif_label(const struct tandem_config *c, size_t i) { return c->vifs[i].mac; }

static bool vif_write(struct devtype_tx *x, const struct tandem_config *c, size_t i)
{
    const struct vif_spec *v = &c->vifs[i];
    char num[16];
    snprintf(num, sizeof(num), "%u", v->devid);
    return devtype_put(x, x->be, "handle", num) && devtype_put(x, x->be, "mac", v->mac) &&
           devtype_put(x, x->be, "bridge", v->bridge) && devtype_put(x, x->be, "type", "vif") &&
           (!v->ip[0] || devtype_put(x, x->be, "ip", v->ip)) &&
           (!v->vifname[0] || devtype_put(x, x->be, "vifname", v->vifname)) &&
           devtype_put(x, x->fe, "handle", num) && devtype_put(x, x->fe, "mac", v->mac);
}

/* network-attach: the next devid after the highest the domain has (as
 * libxl__device_nextid), and a MAC no other vif of the domain has. */
static int vif_hot_prepare(struct devtype_tx *x, struct tandem_config *c, size_t i, char *err,
                           size_t errlen)
{
    char dir[96];
    unsigned n = 0, next = 0;
    snprintf(dir, sizeof(dir), "/local/domain/0/backend/vif/%u", x->domid);
    errno = 0;
    char **ents = xs_directory(x->h, x->t, dir, &n);
    if (!ents && errno != ENOENT)
        return -1;
    int rc = 0;
    for (unsigned k = 0; k < n && rc == 0; k++) {
        char *end, path[160];
        unsigned long id = strtoul(ents[k], &end, 10);
        if (*end || end == ents[k] || id >= 0xffffffffUL)
            continue;
        if (id + 1 > next)
            next = (unsigned)id + 1;
        snprintf(path, sizeof(path), "%s/%lu/mac", dir, id);
        unsigned len;
        char *mac = xs_read(x->h, x->t, path, &len);
        if (mac && !strcasecmp(mac, c->vifs[i].mac)) {
            snprintf(err, errlen, "domain %u already has a network device with MAC %s (devid %lu)",
                     x->domid, mac, id);
            rc = 1;
        }
        free(mac);
    }
    free(ents);
    c->vifs[i].devid = next;
    return rc;
}

static bool vif_record_add(struct tandem_config *rec, const struct tandem_config *c, size_t i)
{
    struct vif_spec *more = realloc(rec->vifs, (rec->nvifs + 1) * sizeof(*more));
    if (!more)
        return false;
    rec->vifs = more;
    more[rec->nvifs++] = c->vifs[i];   /* devid and MAC as attached: the same NIC again */
    return true;
}

static void vif_record_remove(struct tandem_config *rec, unsigned devid)
{
    for (size_t i = 0; i < rec->nvifs; i++)
        if (rec->vifs[i].devid == devid) {
            memmove(&rec->vifs[i], &rec->vifs[i + 1], (rec->nvifs - i - 1) * sizeof(rec->vifs[0]));
            rec->nvifs--;
            break;
        }
    if (!rec->nvifs)
        config_strlist_free(&rec->vif);   /* config_print would fall back to it */
}

const struct devtype vif_devtype = {
    .kind = "vif", .what = "network device", .backend = &netback_daemon, .count = vif_count,
    .devid = vif_devid, .label = vif_label, .write = vif_write, .hot_prepare = vif_hot_prepare,
    .record_add = vif_record_add, .record_remove = vif_record_remove,
};

/* The vif entry of the device-type table (devtype.h): the keys libxl
 * writes for a network device (libxl_nic.c; no hotplug script: the
 * backend attaches the tap to the bridge itself), served by
 * tandem-netback (rundir/netback/{pid,log}; per-vif counters in
 * rundir/netback/<domid>.<devid>). */
#include "config.h"
#include "devtype.h"

#include <stdio.h>

static const struct daemon_spec netback_daemon = {
    .dir = "netback", .env = "TANDEM_NETBACK", .bin = "tandem-netback",
    .comm = "tandem-netback", .log = "log", .lock = "lock",
};

static size_t vif_count(const struct tandem_config *c) { return c->nvifs; }
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

const struct devtype vif_devtype = {
    .kind = "vif", .what = "network device", .backend = &netback_daemon, .count = vif_count,
    .devid = vif_devid, .label = vif_label, .write = vif_write,
};

/* A `vif = [ ... ]` item in xl's syntax (xl-network-configuration):
 * comma-separated key=value pairs; mac=, bridge=, ip=, vifname=, devid= are
 * understood (a MAC in Xen's 00:16:3e range is generated when none is
 * given; the bridge defaults to xl's xenbr0). Parsed and checked here,
 * once; pure code (no xenstore), in the config library. */
#ifndef TANDEM_DOM0_VIF_H
#define TANDEM_DOM0_VIF_H

#include <stddef.h>

#define VIF_NAME_MAX 16             /* an interface name and its NUL (IFNAMSIZ) */
#define VIF_DEFAULT_BRIDGE "xenbr0"
#define VIF_DEVID_MAX 65535         /* devid= (the default vifname vif<domid>.<devid> fits IFNAMSIZ) */

#include <stdbool.h>

struct vif_spec {
    unsigned devid;                 /* devid=, else its index in vif[] (libxl's devid) */
    char mac[18];                   /* "00:16:3e:xx:xx:xx" */
    char bridge[VIF_NAME_MAX];
    char vifname[VIF_NAME_MAX];     /* "" = netback's vif<domid>.<devid> */
    char ip[19];                    /* "A.B.C.D/NN" or "A.B.C.D", "" if none */
    bool mac_generated;             /* no mac= given: a random one in Xen's range */
};

struct tandem_config;

/* Parses one item. 0, or -1 with a message (no prefix) in err. */
int vif_parse(const char *spec, unsigned devid, struct vif_spec *out, char *err, size_t errlen);

/* config_finish's hook: parses every vif[] item into c->vifs. 0, or -1
 * with "file:line: message" in err. */
int vif_finish(struct tandem_config *c, char *err, size_t errlen);

void vif_free_all(struct tandem_config *c);

#endif

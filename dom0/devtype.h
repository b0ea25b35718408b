/* The device types of a domain, after libxl's device_type table: for each
 * one the xenstore kind ("vbd", "vif"), how many devices a config has,
 * the keys of one device's backend and frontend directories, and the
 * backend daemon that serves the kind. The toolstack writes every device
 * through this table (as libxl__device_generic_add does), starts the
 * daemons it names, waits for each backend, and removes them all. */
#ifndef TANDEM_DOM0_DEVTYPE_H
#define TANDEM_DOM0_DEVTYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <xenstore.h>

#include "daemon.h"

struct tandem_config;

/* One transaction's writes for one device. */
struct devtype_tx {
    struct xs_handle *h;
    xs_transaction_t t;
    unsigned domid;
    const char *be, *fe;            /* the two directories */
};

/* <dir>/<key> = val in the transaction. */
bool devtype_put(struct devtype_tx *x, const char *dir, const char *key, const char *val);

struct devtype {
    const char *kind;               /* xenstore name: backend/<kind>, device/<kind> */
    const char *what;               /* in messages: "disk", "network device" */
    const struct daemon_spec *backend;
    size_t (*count)(const struct tandem_config *c);
    unsigned (*devid)(const struct tandem_config *c, size_t i);
    const char *(*label)(const struct tandem_config *c, size_t i);  /* "xvda", "vif 0" */
    /* The type's own keys (frontend/backend links, state and permissions
     * are written by the table's code). */
    bool (*write)(struct devtype_tx *x, const struct tandem_config *c, size_t i);
    /* Hotplug only, optional: inside the attach transaction, before the
     * directories are written, picks the device's devid (x->be and x->fe
     * are NULL) and checks it against the domain's other devices. 0, -1
     * (xenstore failed, errno set) or 1 (refused: why in err). */
    int (*hot_prepare)(struct devtype_tx *x, struct tandem_config *c, size_t i, char *err,
                       size_t errlen);
    /* The domain's record (record.c): device i of c appended to rec's
     * devices of this type (false: out of memory), or device devid taken
     * out of them (nothing if rec has none). rec is a finished config;
     * its parsed devices are what config_print writes. */
    bool (*record_add)(struct tandem_config *rec, const struct tandem_config *c, size_t i);
    void (*record_remove)(struct tandem_config *rec, unsigned devid);
};

/* The entries (vbd.c, vifdev.c). */
extern const struct devtype vbd_devtype, vif_devtype;

/* Starts the backend daemon of every type the config uses. 0 or -1. */
int devtype_backends_ensure(const struct tandem_config *c);

/* Writes the directories of every device (one transaction), then waits
 * until each backend left Initialising; a backend that reports an error
 * fails the call with its message. 0 or -1 (message printed). */
int devtype_add_all(struct xs_handle *h, unsigned domid, const struct tandem_config *c);

/* ---- hotplug (block-attach, network-attach, and their detach) ---- */

#define DEVTYPE_DETACH_TIMEOUT_MS 10000   /* libxl's LIBXL_DESTROY_TIMEOUT */

/* The two directories of one device. */
void devtype_dirs(const struct devtype *dt, unsigned domid, unsigned devid, char *be, char *fe,
                  size_t len);

/* Adds device i of c (the only device of its type there) to a running
 * domain as libxl does: starts the type's backend daemon if none runs,
 * writes the frontend and backend directories in one transaction (refused
 * if either exists, or the domain is gone from xenstore), then waits until
 * the backend left Initialising. On any failure nothing stays written.
 * 0, -1 (message printed), or 1 (refused: a double attach; message
 * printed). */
int devtype_attach(struct xs_handle *h, unsigned domid, const struct devtype *dt,
                   struct tandem_config *c, size_t i);

/* Removes one device as libxl does: online = 0 and backend state Closing
 * (one transaction), then waits (up to DEVTYPE_DETACH_TIMEOUT_MS) for the
 * backend to reach Closed, which it does once the frontend closed; then
 * removes both directories. force: removes them without waiting (xl -f);
 * after the timeout the removal is forced too, with a warning. 0, or -1
 * (message printed). */
int devtype_detach(struct xs_handle *h, unsigned domid, const struct devtype *dt, unsigned devid,
                   const char *label, bool force);

/* The devids a domain has of type dt (its backend directories), sorted. */
size_t devtype_devids(struct xs_handle *h, unsigned domid, const struct devtype *dt,
                      unsigned *out, size_t max);

/* Removes the backend directories of domid (the frontend ones go with
 * /local/domain/N). */
void devtype_remove_all(struct xs_handle *h, unsigned domid);

#endif

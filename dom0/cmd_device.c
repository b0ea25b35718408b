/* The hotplug verbs, as xl's: block-attach/-detach/-list and
 * network-attach/-detach/-list. A spec is parsed and checked here (disk.c,
 * vif.c, vbd.c) before anything is written; the xenstore work is the
 * device-type table's (devtype.c), the same code `create` uses. A device
 * attached or detached is also added to or taken out of the domain's
 * record (record.c), from which a restart and a restore start the domain,
 * as libxl keeps hot-plugged devices in a domain's stored configuration.
 * The supervisor removes every backend directory of a domain when it
 * ends, hot-attached ones too. */
#include "cmds.h"
#include "config.h"
#include "devtype.h"
#include "domain.h"
#include "record.h"
#include "rundir.h"
#include "store.h"
#include "util.h"
#include "vbd.h"
#include "xsd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#define LIST_DEVICES_MAX 256

/* xl takes a spec as one argument or as several, joined with commas. */
static char *join_spec(int argc, char **argv)
{
    size_t len = 1;
    for (int i = 0; i < argc; i++)
        len += strlen(argv[i]) + 1;
    char *s = calloc(1, len);
    if (!s)
        return NULL;
    for (int i = 0; i < argc; i++) {
        if (i)
            strcat(s, ",");
        strcat(s, argv[i]);
    }
    return s;
}

/* The store, and DOM resolved to a running domain. NULL (message printed,
 * *rc set) if not. */
static struct xs_handle *open_domain(const char *dom, unsigned *domid, int *rc)
{
    *rc = EXIT_RUNTIME;
    if (!xsd_available()) {
        msg("xenstored is not running (no domain can have devices)");
        return NULL;
    }
    struct xs_handle *xs = store_open(true);
    if (!xs)
        return NULL;
    if (domain_resolve(xs, dom, domid) < 0) {
        store_close(xs);
        return NULL;
    }
    return xs;
}

static bool require_running(unsigned domid)
{
    if (domain_ctl_alive(domid))
        return true;
    msg("domain %u is not running (its tandem-vmm does not answer)", domid);
    return false;
}

/* ---- attach ---- */

/* A type = "hvm" domain (image/ostype under its /vm path) has emulated
 * devices, set when it starts: no PV backend is attached to it. */
static bool is_hvm_domain(struct xs_handle *xs, unsigned domid)
{
    char *vm = store_read(xs, "/local/domain/%u/vm", domid);
    char *os = vm ? store_read(xs, "%s/image/ostype", vm) : NULL;
    bool hvm = os && !strcmp(os, "hvm");
    free(vm);
    free(os);
    return hvm;
}

/* Device 0 of c (checked) to the running domain DOM. */
static int attach_to(const char *dom, const struct devtype *dt, struct tandem_config *c)
{
    unsigned domid;
    int rc;
    struct xs_handle *xs = open_domain(dom, &domid, &rc);
    if (xs) {
        rc = EXIT_RUNTIME;
        if (is_hvm_domain(xs, domid)) {
            msg("domain %u is type = \"hvm\": its disks and NICs are emulated devices (NVMe, "
                "e1000) given at start (no hot-plug of them yet)", domid);
            rc = EXIT_BADINPUT;
        } else if (require_running(domid) && devtype_attach(xs, domid, dt, c, 0) == 0) {
            rc = 0;
            record_add_device(domid, dt, c, 0);   /* a warning if not: it is attached */
        }
    }
    store_close(xs);
    return rc;
}

/* The spec into c as its one device (heap, freed by config_free). 0, or
 * -1 with the reason in err. */
typedef int (*spec_parse_fn)(const char *spec, struct tandem_config *c, char *err, size_t len);

static int parse_disk(const char *spec, struct tandem_config *c, char *err, size_t len)
{
    c->disks = calloc(1, sizeof(*c->disks));
    if (!c->disks) {
        snprintf(err, len, "out of memory");
        return -1;
    }
    if (disk_parse(spec, &c->disks[0], err, len) < 0)
        return -1;
    c->ndisks = 1;
    return vbd_check_disks(c) < 0 ? 1 : 0;   /* 1: its message is printed */
}

static int parse_vif(const char *spec, struct tandem_config *c, char *err, size_t len)
{
    c->vifs = calloc(1, sizeof(*c->vifs));
    if (!c->vifs) {
        snprintf(err, len, "out of memory");
        return -1;
    }
    c->nvifs = 1;
    return vif_parse(spec, 0, &c->vifs[0], err, len);
}

/* VERB DOM SPEC...: parse and check the spec, then attach it. */
static int attach_verb(int argc, char **argv, const char *usage, const char *kind,
                       spec_parse_fn parse, const struct devtype *dt)
{
    bool spec_required = usage[0] != '[';
    if (argc < (spec_required ? 3 : 2) || argv[1][0] == '-') {
        fprintf(stderr, "usage: tandem %s DOM %s\nSee 'tandem help %s'.\n", argv[0], usage,
                argv[0]);
        return EXIT_BADINPUT;
    }
    char err[CFG_ERR_MAX] = "out of memory";
    char *spec = join_spec(argc - 2, argv + 2);
    struct tandem_config c;
    config_init(&c);
    int rc = spec ? parse(spec, &c, err, sizeof(err)) : -1;
    if (rc < 0)
        msg("%s spec '%s': %s", kind, spec ? spec : "", err);
    rc = rc ? EXIT_BADINPUT : attach_to(argv[1], dt, &c);
    free(spec);
    config_free(&c);
    return rc;
}

int cmd_block_attach(int argc, char **argv)
{
    return attach_verb(argc, argv, "DISKSPEC", "disk", parse_disk, &vbd_devtype);
}

int cmd_network_attach(int argc, char **argv)
{
    return attach_verb(argc, argv, "[VIFSPEC]", "vif", parse_vif, &vif_devtype);
}

/* ---- detach ---- */

/* -f (force) and the two operands. false on bad usage. */
static bool detach_args(int argc, char **argv, bool *force)
{
    int opt;
    *force = false;
    optind = 1;
    while ((opt = getopt(argc, argv, "+f")) != -1) {
        if (opt != 'f')
            return false;
        *force = true;
    }
    return argc - optind == 2;
}

/* Out of the record first, then detached: the frontend may end its
 * domain as soon as the backend goes (a guest that powers off without its
 * disk), and a restart must not start it with the device again. If the
 * detach is refused, the record gets the device back. */
static int detach_recorded(struct xs_handle *xs, unsigned domid, const struct devtype *dt,
                           unsigned devid, const char *which, bool force)
{
    char err[CFG_ERR_MAX + 256];
    struct tandem_config saved;
    config_init(&saved);
    bool have = record_read(domid, &saved, err, sizeof(err)) == 0;
    if (have)
        record_remove_device(domid, dt, devid);
    int rc = devtype_detach(xs, domid, dt, devid, which, force);
    if (rc != 0 && have)
        record_write(domid, &saved);
    config_free(&saved);
    return rc;
}

int cmd_block_detach(int argc, char **argv)
{
    bool force;
    if (!detach_args(argc, argv, &force)) {
        fprintf(stderr, "usage: tandem block-detach [-f] DOM VDEV\nSee 'tandem help block-detach'.\n");
        return EXIT_BADINPUT;
    }
    const char *vdev = argv[optind + 1];
    long devid = disk_vdev_devid(vdev);
    if (devid < 0) {
        msg("'%s' is not a virtual device name (xvdb, sdb, hda, d3p1 or a number)", vdev);
        return EXIT_BADINPUT;
    }
    unsigned domid;
    int rc;
    struct xs_handle *xs = open_domain(argv[optind], &domid, &rc);
    if (xs && detach_recorded(xs, domid, &vbd_devtype, (unsigned)devid, vdev, force) == 0)
        rc = 0;
    store_close(xs);
    return rc;
}

/* A vif by devid or by MAC (backend's `mac`). -1 if the domain has none. */
static long find_vif(struct xs_handle *xs, unsigned domid, const char *which)
{
    unsigned ids[LIST_DEVICES_MAX], id;
    size_t n = devtype_devids(xs, domid, &vif_devtype, ids, LIST_DEVICES_MAX);
    bool by_devid = parse_domid(which, &id, true);   /* a plain decimal number */
    for (size_t i = 0; i < n; i++) {
        if (by_devid) {
            if (ids[i] == id)
                return id;
            continue;
        }
        char *mac = store_read(xs, "/local/domain/0/backend/vif/%u/%u/mac", domid, ids[i]);
        bool match = mac && !strcasecmp(mac, which);
        free(mac);
        if (match)
            return ids[i];
    }
    return -1;
}

int cmd_network_detach(int argc, char **argv)
{
    bool force;
    if (!detach_args(argc, argv, &force)) {
        fprintf(stderr, "usage: tandem network-detach [-f] DOM MAC|DEVID\n"
                        "See 'tandem help network-detach'.\n");
        return EXIT_BADINPUT;
    }
    const char *which = argv[optind + 1];
    unsigned domid;
    int rc;
    struct xs_handle *xs = open_domain(argv[optind], &domid, &rc);
    if (xs) {
        long devid = find_vif(xs, domid, which);
        if (devid < 0)
            msg("domain %u has no network device %s", domid, which);
        else if (detach_recorded(xs, domid, &vif_devtype, (unsigned)devid, which, force) == 0)
            rc = 0;
    }
    store_close(xs);
    return rc;
}

/* ---- list ---- */

/* A number from the frontend's directory (key, or queue-0/key for a
 * multi-queue device); -1 when absent, as xl prints it. */
static long fe_number(struct xs_handle *xs, const char *fe, const char *key)
{
    char *v = store_read(xs, "%s/%s", fe, key);
    if (!v)
        v = store_read(xs, "%s/queue-0/%s", fe, key);
    char *end;
    long n = v ? strtol(v, &end, 10) : -1;
    if (v && (end == v || *end))
        n = -1;
    free(v);
    return n;
}

typedef void (*list_row_fn)(struct xs_handle *xs, unsigned domid, unsigned devid, const char *be,
                            const char *fe);

static void block_row(struct xs_handle *xs, unsigned domid, unsigned devid, const char *be,
                      const char *fe)
{
    printf("%-5u %-3d %-6u %-5ld %-6ld %-8ld %-30s\n", devid, 0, domid, fe_number(xs, fe, "state"),
           fe_number(xs, fe, "event-channel"), fe_number(xs, fe, "ring-ref"), be);
}

/* rundir/netback/D.N: "key value" lines (tandem-netback's net_device.c). */
static void vif_counters(unsigned domid, unsigned devid, unsigned long long out[4])
{
    static const char *const keys[4] = { "tx_packets", "tx_bytes", "rx_packets", "rx_bytes" };
    char *name = xasprintf("netback/%u.%u", domid, devid);
    char *path = name ? rundir_file(name) : NULL;
    FILE *f = path ? fopen(path, "re") : NULL;
    char line[512], key[64];
    unsigned long long v;
    memset(out, 0, 4 * sizeof(out[0]));
    while (f && fgets(line, sizeof(line), f))
        for (int k = 0; k < 4; k++)
            if (sscanf(line, "%63s %llu", key, &v) == 2 && !strcmp(key, keys[k]))
                out[k] = v;
    if (f)
        fclose(f);
    free(path);
    free(name);
}

static void vif_row(struct xs_handle *xs, unsigned domid, unsigned devid, const char *be,
                    const char *fe)
{
    char *mac = store_read(xs, "%s/mac", be);
    unsigned long long c[4];
    long ev = fe_number(xs, fe, "event-channel");
    if (ev < 0)
        ev = fe_number(xs, fe, "event-channel-tx");
    vif_counters(domid, devid, c);
    printf("%-3u %-2d %-17s %6u %5ld %6ld %5ld/%-11ld %-30s %10llu %12llu %10llu %12llu\n", devid,
           0, mac ? mac : "-", devid, fe_number(xs, fe, "state"), ev,
           fe_number(xs, fe, "tx-ring-ref"), fe_number(xs, fe, "rx-ring-ref"), be, c[0], c[1],
           c[2], c[3]);
    free(mac);
}

static int list_devices(int argc, char **argv, const struct devtype *dt, list_row_fn row)
{
    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: tandem %s DOM [DOM ...]\nSee 'tandem help %s'.\n", argv[0],
                argv[0]);
        return EXIT_BADINPUT;
    }
    if (dt == &vbd_devtype)
        printf("%-5s %-3s %-6s %-5s %-6s %-8s %-30s\n", "Vdev", "BE", "handle", "state", "evt-ch",
               "ring-ref", "BE-path");
    else
        printf("%-3s %-2s %-17s %-6s %-5s %-6s %5s/%-11s %-30s %10s %12s %10s %12s\n", "Idx", "BE",
               "Mac Addr.", "handle", "state", "evt-ch", "tx-", "rx-ring-ref", "BE-path",
               "TX-pkts", "TX-bytes", "RX-pkts", "RX-bytes");
    int rc = 0;
    for (int a = 1; a < argc; a++) {
        unsigned domid, ids[LIST_DEVICES_MAX];
        int r;
        struct xs_handle *xs = open_domain(argv[a], &domid, &r);
        if (!xs) {
            rc = r;
            continue;
        }
        size_t n = devtype_devids(xs, domid, dt, ids, LIST_DEVICES_MAX);
        for (size_t i = 0; i < n; i++) {
            char be[128], fe[128];
            devtype_dirs(dt, domid, ids[i], be, fe, sizeof(be));
            row(xs, domid, ids[i], be, fe);
        }
        store_close(xs);
    }
    return rc;
}

int cmd_block_list(int argc, char **argv)
{
    return list_devices(argc, argv, &vbd_devtype, block_row);
}

int cmd_network_list(int argc, char **argv)
{
    return list_devices(argc, argv, &vif_devtype, vif_row);
}

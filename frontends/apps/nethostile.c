/*
 * app=nethostile [ip=...] [mode=all|nonfatal|fatal]: puts each malformed
 * TX request of issue 11 section 1 straight on the ring and prints what
 * came back, one line per case:
 *   nethostile: case=NAME expect=error got=N/N error ok
 *   nethostile: case=NAME expect=fatal error="vif disabled: ..." ok
 * Non-fatal cases must have every slot answered XEN_NETIF_RSP_ERROR; fatal
 * ones must disable the vif (netback writes "vif disabled: <reason>" to
 * the backend's error node, no slot answered), after which we reconnect
 * with fresh rings.  After every case a good frame (an ARP request for
 * the peer, peer= or our .1) must be answered OKAY.  Pings answered
 * meanwhile show that good traffic flows.  Ends with
 *   nethostile: ok nonfatal=N fatal=N good=N
 * or nethostile: FAIL case=NAME ... (crash, 5).
 */
#include "apps.h"
#include "evtchn.h"
#include "gnttab.h"
#include "kernel.h"
#include "ktime.h"
#include "mm.h"
#include "netdev.h"

#define RAW_ID 1000
#define WAIT_NS (30 * NSEC_PER_SEC)

static struct netdev nd;
static unsigned int got_error, got_other;
static void *page;               /* our hostile slots' data, granted read-only */
static grant_ref_t page_ref;
static uint32_t peer;

static void on_raw(void *arg, const struct netif_tx_response *rsp)
{
    (void)arg;
    if (rsp->id < RAW_ID)
        return;                  /* a good frame's error: counted by netfront */
    if (rsp->status == XEN_NETIF_RSP_ERROR)
        got_error++;
    else
        got_other++;
}

static void slot(uint16_t n, grant_ref_t gref, uint16_t offset, uint16_t flags, uint16_t size)
{
    netif_tx_front_ring_t *r = netfront_raw_tx(nd.nf);
    struct netif_tx_request *q = RING_GET_REQUEST(r, r->req_prod_pvt);
    q->gref = gref;
    q->offset = offset;
    q->flags = flags;
    q->id = (uint16_t)(RAW_ID + n);
    q->size = size;
    r->req_prod_pvt++;
}

static void extra(uint8_t type, uint8_t flags, uint16_t gso_size, uint8_t gso_type)
{
    netif_tx_front_ring_t *r = netfront_raw_tx(nd.nf);
    union netif_tx_slot *s = (union netif_tx_slot *)RING_GET_REQUEST(r, r->req_prod_pvt);
    memset(s, 0, sizeof(*s));
    s->extra.type = type;
    s->extra.flags = flags;
    s->extra.u.gso.size = gso_size;
    s->extra.u.gso.type = gso_type;
    r->req_prod_pvt++;
}

/* A chain: the first slot of size total, then n-1 slots of `each`. */
static void chain(unsigned int n, uint16_t total, uint16_t each)
{
    for (unsigned int i = 0; i < n; i++)
        slot((uint16_t)i, page_ref, 0, i + 1 < n ? XEN_NETTXF_more_data : 0,
             i ? each : total);
}

struct hcase {
    const char *name;
    bool fatal;
    unsigned int slots;          /* answered slots expected (non-fatal) */
    const char *why;             /* netback's reason (fatal) */
    void (*put)(void);
};

static grant_ref_t never_granted(void)
{
    return (grant_ref_t)(gnttab_nr_entries() - 1);
}

static void put_short(void) { slot(0, page_ref, 0, 0, 10); }
static void put_badgrant(void) { slot(0, never_granted(), 0, 0, 60); }
static void put_19(void) { chain(20, 400, 10); }
static void put_larger(void) { chain(2, 100, 200); }
static void put_csum(void) { slot(0, page_ref, 0, XEN_NETTXF_csum_blank, 60); }
static void put_cross(void) { slot(0, page_ref, 4000, 0, 200); }
static void put_21(void) { chain(22, 400, 10); }
static void put_claims(void) { slot(0, page_ref, 0, XEN_NETTXF_more_data, 60); }
static void put_missing_extra(void) { slot(0, page_ref, 0, XEN_NETTXF_extra_info, 60); }
static void put_unknown_extra(void)
{
    slot(0, page_ref, 0, XEN_NETTXF_extra_info, 60);
    extra(9, 0, 0, 0);
}
static void put_gso0(void)
{
    slot(0, page_ref, 0, XEN_NETTXF_extra_info, 60);
    extra(XEN_NETIF_EXTRA_TYPE_GSO, 0, 0, XEN_NETIF_GSO_TYPE_TCPV4);
}
static void put_gsotype(void)
{
    slot(0, page_ref, 0, XEN_NETTXF_extra_info, 60);
    extra(XEN_NETIF_EXTRA_TYPE_GSO, 0, 1400, 7);
}

static const struct hcase cases[] = {
    { "under-14-bytes", false, 1, NULL, put_short },
    { "grant-never-given", false, 1, NULL, put_badgrant },
    { "19-slots-after-first", false, 20, NULL, put_19 },
    { "later-slot-larger-than-rest", false, 2, NULL, put_larger },
    { "csum-blank-not-ip", false, 1, NULL, put_csum },
    { "slot-crosses-page", true, 0, "a slot crosses its page", put_cross },
    { "21-slots-after-first", true, 0, "more than 20 slots after the first", put_21 },
    { "more-slots-than-posted", true, 0, "packet claims more slots than are posted", put_claims },
    { "missing-extra", true, 0, "missing extra info", put_missing_extra },
    { "unknown-extra-type", true, 0, "unknown extra info type", put_unknown_extra },
    { "gso-size-0", true, 0, "GSO size 0", put_gso0 },
    { "unknown-gso-type", true, 0, "unknown GSO type", put_gsotype },
    { "producer-ring-ahead", true, 0, "producer index more than a ring ahead", NULL },
};

/* The good frame: an ARP request for the peer, answered OKAY. */
static int good_frame(void)
{
    uint64_t end = monotonic_ns() + WAIT_NS;
    struct netfront_stats before, after;
    netfront_get_stats(nd.nf, &before);
    while (net_arp_request(&nd.st, peer) < 0 || nd.st.stats.tx_errors) {
        if (monotonic_ns() > end)
            return -1;
        nd.st.stats.tx_errors = 0;
        netdev_poll(&nd, monotonic_ns() + NSEC_PER_MSEC);
    }
    while (nd.nf->nr_tx_free != NETFRONT_IDS && monotonic_ns() < end)
        netdev_poll(&nd, end);
    netfront_get_stats(nd.nf, &after);
    return nd.nf->nr_tx_free == NETFRONT_IDS && after.tx_errors == before.tx_errors ? 0 : -1;
}

static int run_nonfatal(const struct hcase *c)
{
    got_error = got_other = 0;
    c->put();
    netfront_raw_push(nd.nf);
    uint64_t end = monotonic_ns() + WAIT_NS;
    while (got_error + got_other < c->slots && monotonic_ns() < end)
        netdev_poll(&nd, end);
    bool ok = got_error == c->slots && got_other == 0;
    printk("nethostile: case=%s expect=error got=%u/%u error%s%s\n", c->name, got_error, c->slots,
           got_other ? " and other statuses" : "", ok ? " ok" : " FAIL");
    return ok ? 0 : -1;
}

static bool error_is(const char *value, void *ctx)
{
    char want[160];
    snprintf(want, sizeof(want), "vif disabled: %s", (const char *)ctx);
    return value && strcmp(value, want) == 0;
}

static int run_fatal(const struct hcase *c)
{
    char path[XENBUS_PATH_MAX];
    snprintf(path, sizeof(path), "%s/error", nd.nf->xf.xb.otherend);
    got_error = got_other = 0;
    uint64_t reconnects = nd.nf->xf.reconnects;
    if (c->put) {
        c->put();
        netfront_raw_push(nd.nf);
    } else {
        netif_tx_front_ring_t *r = netfront_raw_tx(nd.nf);
        r->sring->req_prod = r->rsp_cons + 300;
        evtchn_notify(nd.nf->port);
    }
    int rc = xenbus_wait_for(path, error_is, (void *)c->why, WAIT_NS);
    char seen[160] = "";
    xenbus_read(XBT_NIL, path, seen, sizeof(seen));
    /* whatever arrives now (nothing should) is counted before the reset */
    netdev_poll(&nd, 1);
    bool ok = rc == 0 && got_error + got_other == 0;
    printk("nethostile: case=%s expect=fatal error=\"%s\" answered=%u%s\n", c->name, seen,
           got_error + got_other, ok ? " ok" : " FAIL");
    netfront_reconnect(nd.nf);
    wait_event_until(&nd.nf->xf.state_wq,
                     nd.nf->xf.reconnects > reconnects && netfront_connected(nd.nf),
                     monotonic_ns() + WAIT_NS);
    if (!netfront_connected(nd.nf)) {
        printk("nethostile: FAIL case=%s: no reconnect after the fatal error\n", c->name);
        return -1;
    }
    xenbus_rm(XBT_NIL, path);    /* fails (EACCES) if the backend owns it; harmless */
    return ok ? 0 : -1;
}

int app_nethostile(const struct cmdline *cl)
{
    const char *mode = cmdline_get(cl, "mode");
    if (!mode)
        mode = "all";
    bool nonfatal = strcmp(mode, "all") == 0 || strcmp(mode, "nonfatal") == 0;
    bool fatal = strcmp(mode, "all") == 0 || strcmp(mode, "fatal") == 0;
    if (!nonfatal && !fatal) {
        printk("nethostile: FAIL mode= must be all, nonfatal or fatal\n");
        return 1;
    }
    if (netdev_open(&nd, cl, "nethostile") < 0)
        return 1;
    const char *p = cmdline_get(cl, "peer");
    if (p ? net_parse_ip(p, &peer, NULL) < 0 : false) {
        printk("nethostile: FAIL peer= must be an address A.B.C.D\n");
        return 1;
    }
    if (!p)
        peer = (nd.st.ip & nd.st.mask) | 1;
    page = page_alloc_zeroed(1);
    int ref = page ? gnttab_grant_page(nd.nf->backend_id, page, true) : -ENOMEM;
    if (ref < 0) {
        printk("nethostile: FAIL cannot grant a page (%d)\n", ref);
        return 1;
    }
    page_ref = (grant_ref_t)ref;
    /* a plausible frame in it: broadcast, ARP type */
    memset(page, 0xff, 6);
    memcpy((uint8_t *)page + 6, nd.st.mac, 6);
    net_put16((uint8_t *)page + 12, ETH_P_ARP);
    netfront_set_raw_handler(nd.nf, on_raw, NULL);
    printk("nethostile: ready mode=%s\n", mode);
    if (good_frame() < 0) {
        printk("nethostile: FAIL a good frame before any case was not answered OKAY\n");
        return 1;
    }
    unsigned int nf = 0, f = 0, good = 1, failed = 0;
    for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
        const struct hcase *c = &cases[i];
        if (c->fatal ? !fatal : !nonfatal)
            continue;
        int rc = c->fatal ? run_fatal(c) : run_nonfatal(c);
        if (rc < 0)
            failed++;
        c->fatal ? f++ : nf++;
        if (good_frame() < 0) {
            printk("nethostile: FAIL case=%s: the good frame after it was not answered OKAY\n",
                   c->name);
            failed++;
        } else {
            good++;
        }
    }
    if (failed) {
        printk("nethostile: FAIL %u of %u checks\n", failed, nf + f + good);
        return 1;
    }
    printk("nethostile: ok nonfatal=%u fatal=%u good=%u icmp=%llu\n", nf, f, good,
           (unsigned long long)nd.st.stats.icmp_echo_replies);
    return 0;
}

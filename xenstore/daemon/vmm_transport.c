/*
 * The real domain transport: the ring page and event channel come from the
 * domain's tandem-vmm.  Through the dom0 control-socket client (tdm_ctl,
 * dom0/evtchn/ctl_client.c, which parses and checks the reply) we send
 * "xenstore-ring" to <vmm-dir>/dom<ID>.ctl and get "OK gpa=<hex>
 * offset=<dec> port=<dec>" with three fds (guest memfd, kick eventfd,
 * notify eventfd), see docs/control-socket.md.  The exchange is short and
 * blocking (xenstored is single-threaded), bounded by VMM_TIMEOUT_MS.  The
 * control connection is then kept open: when the VMM exits it hangs up,
 * which tells us the domain is gone (Xen learns that from VIRQ_DOM_EXC).
 */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ctl_client.h"
#include "tdm_error.h"
#include "xenstored.h"

#define VMM_TIMEOUT_MS 2000

const char *xsd_vmm_dir = ".";

/* The VMM did not answer (hung up, timed out): EIO; it answered something
 * we refuse (ERR, a malformed reply, wrong fds): EINVAL, as before. */
static int attach_error(int err)
{
    return err == ECONNRESET || err == EPIPE || err == ETIMEDOUT ? EIO : EINVAL;
}

/* Asks for the ring; on success r holds the three fds and the values. */
static int request_ring(struct tdm_ctl *c, unsigned int domid, struct tdm_ctl_reply *r,
                        uint64_t *gpa, uint64_t *offset, uint64_t *vport)
{
    if (tdm_ctl_request(c, "xenstore-ring", 3, r) < 0)
        goto refused;
    if (tdm_ctl_get_u64(r, "gpa", UINT64_MAX, gpa) < 0 ||
        tdm_ctl_get_u64(r, "offset", INT64_MAX - 4096, offset) < 0 ||
        tdm_ctl_get_u64(r, "port", UINT32_MAX, vport) < 0) {
        tdm_ctl_reply_close_fds(r);
        goto refused;
    }
    return 0;
refused:
    xsd_log(XSD_LOG_ERR, "domain %u: xenstore-ring: %s", domid, tdm_last_error());
    return -1;
}

/* Maps len bytes of the guest memfd ending with the ring page at offset. */
static void *map_ring(unsigned int domid, int memfd, uint64_t offset, size_t len)
{
    void *base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, memfd,
                      (off_t)(offset - (offset & 4095u)));

    if (base != MAP_FAILED)
        return base;
    xsd_log(XSD_LOG_ERR, "domain %u: cannot map the ring at offset %llu: %m", domid,
            (unsigned long long)offset);
    return NULL;
}

static int vmm_attach(const struct domain_transport *t, unsigned int domid, uint64_t gfn,
                      unsigned int port, struct ring_attach *out)
{
    struct tdm_ctl_reply r;
    struct tdm_ctl *c;
    uint64_t gpa, offset, vport, pageoff;
    void *base;
    int err;

    (void)t;
    c = tdm_ctl_connect(xsd_vmm_dir, domid);
    if (!c) {
        xsd_log(XSD_LOG_ERR, "domain %u: cannot reach its VMM: %s", domid, tdm_last_error());
        return EINVAL;
    }
    tdm_ctl_set_timeout(c, VMM_TIMEOUT_MS);
    if (request_ring(c, domid, &r, &gpa, &offset, &vport) < 0) {
        err = attach_error(errno);
        tdm_ctl_close(c);
        return err;
    }
    if (gfn && gpa >> 12 != gfn)
        xsd_log(XSD_LOG_INFO, "domain %u: INTRODUCE gfn %#llx, VMM ring at gpa %#llx", domid,
                (unsigned long long)gfn, (unsigned long long)gpa);
    if (vport != port)
        xsd_log(XSD_LOG_INFO, "domain %u: INTRODUCE port %u, VMM port %llu", domid, port,
                (unsigned long long)vport);
    pageoff = offset & 4095u;
    base = map_ring(domid, r.fds[0], offset, 4096 + pageoff);
    close(r.fds[0]);
    if (!base) {
        close(r.fds[1]);
        close(r.fds[2]);
        tdm_ctl_close(c);
        return EINVAL;
    }
    out->map_base = base;
    out->map_len = 4096 + pageoff;
    out->page = (char *)base + pageoff;
    out->kick_fd = r.fds[1];
    out->notify_fd = r.fds[2];
    out->ctl_fd = tdm_ctl_release_fd(c);
    return 0;
}

static void vmm_detach(const struct domain_transport *t, struct ring_attach *ra)
{
    (void)t;
    if (ra->map_base)
        munmap(ra->map_base, ra->map_len);
    if (ra->kick_fd >= 0)
        close(ra->kick_fd);
    if (ra->notify_fd >= 0)
        close(ra->notify_fd);
    if (ra->ctl_fd >= 0)
        close(ra->ctl_fd);
}

const struct domain_transport vmm_transport = {
    .name = "tandem-vmm", .attach = vmm_attach, .detach = vmm_detach,
};

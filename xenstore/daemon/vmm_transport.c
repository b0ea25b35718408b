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
 *
 * The guest memfd comes from another process, which can make it too short
 * for the offset it names or shrink it later; touching a page past the
 * end of a shared file mapping raises SIGBUS.  So the ring page must lie
 * within the file, a memfd that can be sealed must carry F_SEAL_SHRINK,
 * and a file that cannot be sealed (a tmpfs file for mem_path, a memfd
 * made without MFD_ALLOW_SEALING) is mapped under a SIGBUS guard: a fault
 * inside its mapping replaces the mapping by anonymous memory, flags the
 * ring, and the event loop then releases that domain (domain_check_faults).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
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

/* ---- the SIGBUS guard -------------------------------------------------- */
/* Guarded mappings, indexed by domain id; read by the signal handler. */
static struct ring_attach *volatile *guarded;
volatile sig_atomic_t xsd_ring_faults;

static void on_sigbus(int sig, siginfo_t *si, void *uctx)
{
    const char *addr = si->si_addr;

    (void)uctx;
    for (unsigned int i = 0; guarded && i < XSD_DOMID_FIRST_RESERVED; i++) {
        struct ring_attach *ra = guarded[i];
        if (!ra || addr < (const char *)ra->map_base ||
            addr >= (const char *)ra->map_base + ra->map_len)
            continue;
        /* The access is retried on private zeroed memory: harmless. */
        if (mmap(ra->map_base, ra->map_len, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
            break;
        ra->faulted = 1;
        xsd_ring_faults = 1;
        return;
    }
    signal(sig, SIG_DFL); /* not ours: the fault is fatal as it would be */
}

static int guard(unsigned int domid, struct ring_attach *ra)
{
    static bool installed;

    if (!installed) {
        struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO | SA_NODEFER };
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGBUS, &sa, NULL) != 0)
            return errno;
        installed = true;
    }
    if (!guarded && !(guarded = calloc(XSD_DOMID_FIRST_RESERVED, sizeof(*guarded))))
        return ENOMEM;
    ra->guard_slot = (int)domid;
    guarded[domid] = ra;
    return 0;
}

static void unguard(struct ring_attach *ra)
{
    if (ra->guard_slot >= 0 && guarded)
        guarded[ra->guard_slot] = NULL;
    ra->guard_slot = -1;
}

/* Checks the guest memfd: the page at offset inside it, and shrink-proof
 * (sealed) if it can be sealed.  0, or EINVAL logged; *need_guard set for
 * a file that cannot be sealed. */
static int check_memfd(unsigned int domid, int memfd, uint64_t offset, bool *need_guard)
{
    struct stat st;
    int seals;

    if (fstat(memfd, &st) != 0 || !S_ISREG(st.st_mode)) {
        xsd_log(XSD_LOG_ERR, "domain %u: the VMM's guest memory is not a regular file", domid);
        return EINVAL;
    }
    if ((uint64_t)st.st_size < 4096 || offset > (uint64_t)st.st_size - 4096) {
        xsd_log(XSD_LOG_ERR, "domain %u: ring page at offset %llu lies past the end of the "
                "VMM's guest memory (%lld bytes)", domid, (unsigned long long)offset,
                (long long)st.st_size);
        return EINVAL;
    }
    seals = fcntl(memfd, F_GET_SEALS);
    *need_guard = seals < 0 || !(seals & F_SEAL_SHRINK);
    if (seals >= 0 && !(seals & (F_SEAL_SHRINK | F_SEAL_SEAL))) {
        xsd_log(XSD_LOG_ERR, "domain %u: the VMM's guest memfd can be sealed but is not "
                "sealed against shrinking (F_SEAL_SHRINK)", domid);
        return EINVAL;
    }
    return 0;
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
    bool need_guard = false;
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
    err = check_memfd(domid, r.fds[0], offset, &need_guard);
    base = err ? NULL : map_ring(domid, r.fds[0], offset, 4096 + pageoff);
    close(r.fds[0]);
    if (base) {
        out->map_base = base;
        out->map_len = 4096 + pageoff;
        out->page = (char *)base + pageoff;
        if (need_guard && (err = guard(domid, out)) != 0) {
            xsd_log(XSD_LOG_ERR, "domain %u: cannot guard the ring mapping: %s", domid,
                    strerror(err));
            munmap(base, out->map_len);
            base = NULL;
        }
    }
    if (!base) {
        close(r.fds[1]);
        close(r.fds[2]);
        tdm_ctl_close(c);
        return EINVAL;
    }
    out->kick_fd = r.fds[1];
    out->notify_fd = r.fds[2];
    out->ctl_fd = tdm_ctl_release_fd(c);
    return 0;
}

static void vmm_detach(const struct domain_transport *t, struct ring_attach *ra)
{
    (void)t;
    unguard(ra);
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

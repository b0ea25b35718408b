/*
 * The domain in xenstore, laid out as libxl does (docs/vmm.md):
 * /local/domain/N (name, domid, vm, memory/, cpu/, store/, console/,
 * control/, device/, data/ ...) and /vm/UUID, then XS_INTRODUCE with the
 * ring gfn and port 1; on exit XS_RELEASE and everything removed. Uses
 * libxenstore (xenstore/lib). Registration runs on its own thread: while
 * introducing, xenstored calls back on our control socket (xenstore-ring),
 * which the main loop must be free to answer.
 *
 * Also the xenstore port's service (xs_link_init): the platform's port 1
 * stays bound to domain 0, and the control request `xenstore-ring` hands
 * xenstored the ring's memfd and two eventfds, made on the first request:
 * kick (guest->xenstored: the doorbell's ioeventfd, evtchn_local_kick) and
 * notify (xenstored->guest: the main loop raises the port).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <xenstore.h>

#include "tdm_xenbus.h"
#include "vmm.h"

enum perm_kind { PERM_RO, PERM_RW, PERM_DOM0 };

struct xs_state {
    struct xs_handle *h;
    pthread_t thread;
    bool thread_started;
    bool introduced;
    char dom_path[64];
    char vm_path[64];
};

static struct xs_state xs;

/* roperm: owner dom0, domain may read; rwperm: owned by the domain. */
static bool set_perm(struct vm *vm, xs_transaction_t t, const char *path, enum perm_kind k)
{
    unsigned int domid = vm->cfg->domid;
    struct xs_permissions ro[2] = { { 0, XS_PERM_NONE }, { domid, XS_PERM_READ } };
    struct xs_permissions rw[1] = { { domid, XS_PERM_NONE } };
    struct xs_permissions d0[1] = { { 0, XS_PERM_NONE } };
    switch (k) {
    case PERM_RO:
        return xs_set_permissions(xs.h, t, path, ro, 2);
    case PERM_RW:
        return xs_set_permissions(xs.h, t, path, rw, 1);
    default:
        return xs_set_permissions(xs.h, t, path, d0, 1);
    }
}

static bool put(struct vm *vm, xs_transaction_t t, const char *base, const char *rel,
                const char *value, enum perm_kind k)
{
    char path[256];
    snprintf(path, sizeof(path), "%s%s%s", base, rel[0] ? "/" : "", rel);
    bool ok = value ? xs_write(xs.h, t, path, value, (unsigned int)strlen(value))
                    : xs_mkdir(xs.h, t, path);
    return ok && set_perm(vm, t, path, k);
}

static bool write_domain(struct vm *vm, xs_transaction_t t)
{
    const struct vmm_config *c = vm->cfg;
    const char *d = xs.dom_path;
    char num[64], kib[32];
    snprintf(kib, sizeof(kib), "%llu", (unsigned long long)(vm->ram_size >> 10));
    bool ok = put(vm, t, d, "", NULL, PERM_RO);
    snprintf(num, sizeof(num), "%u", c->domid);
    ok = ok && put(vm, t, d, "domid", num, PERM_RO) && put(vm, t, d, "name", c->name, PERM_RO) &&
         put(vm, t, d, "vm", xs.vm_path, PERM_RO) && put(vm, t, d, "memory", NULL, PERM_RO) &&
         put(vm, t, d, "memory/static-max", kib, PERM_RO) &&
         put(vm, t, d, "memory/target", kib, PERM_RO) && put(vm, t, d, "memory/videoram", "0", PERM_RO) &&
         put(vm, t, d, "cpu", NULL, PERM_RO);
    for (unsigned int i = 0; ok && i < vm->nr_vcpus; i++) {
        char rel[32];
        snprintf(rel, sizeof(rel), "cpu/%u/availability", i);
        ok = put(vm, t, d, rel, "online", PERM_RO);
    }
    snprintf(num, sizeof(num), "%llu", (unsigned long long)(TANDEM_XENSTORE_RING_GPA >> XEN_PAGE_SHIFT));
    ok = ok && put(vm, t, d, "store", NULL, PERM_RO) && put(vm, t, d, "store/ring-ref", num, PERM_RO) &&
         put(vm, t, d, "store/port", "1", PERM_RO);
    snprintf(num, sizeof(num), "%llu", (unsigned long long)(TANDEM_CONSOLE_RING_GPA >> XEN_PAGE_SHIFT));
    ok = ok && put(vm, t, d, "console", NULL, PERM_RO) &&
         put(vm, t, d, "console/ring-ref", num, PERM_RO) && put(vm, t, d, "console/port", "2", PERM_RO) &&
         put(vm, t, d, "console/type", "xenconsoled", PERM_RO) &&
         put(vm, t, d, "console/output", vm->cfg->console == CONSOLE_PTY ? "pty" : "vmm", PERM_RO) &&
         put(vm, t, d, "console/limit", "1048576", PERM_RO);
    ok = ok && put(vm, t, d, "control", NULL, PERM_RO) &&
         put(vm, t, d, "control/shutdown", "", PERM_RW) &&
         put(vm, t, d, "control/feature-poweroff", "", PERM_RW) &&
         put(vm, t, d, "control/feature-reboot", "", PERM_RW) &&
         put(vm, t, d, "control/feature-suspend", "", PERM_RW) &&
         put(vm, t, d, "control/sysrq", "", PERM_RW) &&
         put(vm, t, d, "control/platform-feature-multiprocessor-suspend", "1", PERM_RO) &&
         put(vm, t, d, "control/platform-feature-xs_reset_watches", "1", PERM_RO);
    ok = ok && put(vm, t, d, "device", NULL, PERM_RO) && put(vm, t, d, "data", NULL, PERM_RW) &&
         put(vm, t, d, "drivers", NULL, PERM_RW) && put(vm, t, d, "feature", NULL, PERM_RW) &&
         put(vm, t, d, "attr", NULL, PERM_RW) && put(vm, t, d, "error", NULL, PERM_RW);
    ok = ok && put(vm, t, xs.vm_path, "", NULL, PERM_RO) &&
         put(vm, t, xs.vm_path, "uuid", c->uuid, PERM_RO) &&
         put(vm, t, xs.vm_path, "name", c->name, PERM_RO) &&
         put(vm, t, xs.vm_path, "image/ostype", "pvh", PERM_RO);
    return ok;
}

/* The PC (--firmware): a guest with no xenstore ring, no PV console and
 * no PV control interface, as an HVM domain without PV drivers looks to
 * libxl: its name, vm, memory and vCPUs, and COM1's pty as Xen's
 * serial/0/tty (`tandem console -t serial`, xl's). */
static bool write_pc_domain(struct vm *vm, xs_transaction_t t)
{
    const struct vmm_config *c = vm->cfg;
    const char *d = xs.dom_path;
    char num[64], kib[32];
    snprintf(kib, sizeof(kib), "%llu", (unsigned long long)(vm->ram_size >> 10));
    snprintf(num, sizeof(num), "%u", c->domid);
    bool ok = put(vm, t, d, "", NULL, PERM_RO) && put(vm, t, d, "domid", num, PERM_RO) &&
              put(vm, t, d, "name", c->name, PERM_RO) && put(vm, t, d, "vm", xs.vm_path, PERM_RO) &&
              put(vm, t, d, "memory", NULL, PERM_RO) &&
              put(vm, t, d, "memory/static-max", kib, PERM_RO) &&
              put(vm, t, d, "memory/target", kib, PERM_RO) && put(vm, t, d, "cpu", NULL, PERM_RO);
    for (unsigned int i = 0; ok && i < vm->nr_vcpus; i++) {
        char rel[32];
        snprintf(rel, sizeof(rel), "cpu/%u/availability", i);
        ok = put(vm, t, d, rel, "online", PERM_RO);
    }
    if (ok && vm->con.pty_name[0])
        ok = put(vm, t, d, "serial", NULL, PERM_RO) && put(vm, t, d, "serial/0", NULL, PERM_RO) &&
             put(vm, t, d, "serial/0/tty", vm->con.pty_name, PERM_RO);
    ok = ok && put(vm, t, d, "device", NULL, PERM_RO) && put(vm, t, d, "data", NULL, PERM_RW) &&
         put(vm, t, xs.vm_path, "", NULL, PERM_RO) &&
         put(vm, t, xs.vm_path, "uuid", c->uuid, PERM_RO) &&
         put(vm, t, xs.vm_path, "name", c->name, PERM_RO) &&
         put(vm, t, xs.vm_path, "image/ostype", "hvm", PERM_RO);
    return ok;
}

static int write_body(struct xs_handle *h, xs_transaction_t t, void *arg)
{
    (void)h;
    struct vm *vm = arg;
    return (vm->pc_platform ? write_pc_domain(vm, t) : write_domain(vm, t)) ? 0 : -1;
}

/* The two roots are made first, each in one request of its own: a
 * transaction that adds a child to /local/domain or /vm conflicts (EAGAIN)
 * with every other domain registering meanwhile, and 16 at once under
 * emulation kept conflicting for 30 s. Inside the roots only this VMM
 * writes, so the transaction that fills them commits first time;
 * tdm_xenbus_transact still retries should anything else touch them. The
 * roots carry dom0-only permissions until the transaction sets the
 * domain's, and the domain is introduced only after. */
static bool write_all(struct vm *vm)
{
    if (!put(vm, XBT_NULL, xs.dom_path, "", NULL, PERM_DOM0) ||
        !put(vm, XBT_NULL, xs.vm_path, "", NULL, PERM_DOM0))
        return false;
    return tdm_xenbus_transact(xs.h, write_body, vm) == 0;
}

static void registration_done(struct vm *vm)
{
    loop_hold(false);
    vm_wake_main(vm); /* a stopped main loop may be waiting for us */
}

static void *register_thread(void *arg)
{
    struct vm *vm = arg;
    const char *step = "connect";
    xs.h = xs_open(0);
    if (xs.h) {
        step = "write the domain's nodes";
        bool written = write_all(vm);
        if (written && vm->pc_platform) {
            registration_done(vm);   /* no ring to introduce */
            return NULL;
        }
        if (written) {
            step = "introduce the domain";
            xs.introduced = xs_introduce_domain(xs.h, vm->cfg->domid,
                                                TANDEM_XENSTORE_RING_GPA >> XEN_PAGE_SHIFT,
                                                TANDEM_XENSTORE_PORT);
            if (xs.introduced) {
                registration_done(vm);
                return NULL;
            }
        }
    }
    char why[160];
    snprintf(why, sizeof(why), "xenstore %s: cannot %s: %s", vm->cfg->xenstore, step,
             strerror(errno));
    vm_stop(vm, TANDEM_EXIT_ERROR, why);
    registration_done(vm);
    return NULL;
}

int xs_domain_register(struct vm *vm)
{
    if (!vm->cfg->xenstore)
        return 0;
    snprintf(xs.dom_path, sizeof(xs.dom_path), "/local/domain/%u", vm->cfg->domid);
    snprintf(xs.vm_path, sizeof(xs.vm_path), "/vm/%s", vm->cfg->uuid);
    /* libxenstore finds the daemon through XENSTORED_PATH */
    if (setenv("XENSTORED_PATH", vm->cfg->xenstore, 1))
        return -1;
    loop_hold(true);   /* served after a stop until the registration is done */
    int e = pthread_create(&xs.thread, NULL, register_thread, vm);
    if (e) {
        loop_hold(false);
        fprintf(stderr, "tandem-vmm: xenstore thread: %s\n", strerror(e));
        return -1;
    }
    xs.thread_started = true;
    return 0;
}

/*
 * While introducing, xenstored calls back on our control socket; a guest
 * that stops meanwhile must not leave that call unanswered (xenstored, which
 * serves every domain, would wait for its timeout), so the registration
 * holds the main loop (loop_hold) until it is done.
 */
void xs_domain_unregister(struct vm *vm)
{
    if (!xs.thread_started)
        return;
    pthread_join(xs.thread, NULL);
    xs.thread_started = false;
    if (!xs.h)
        return;
    if (xs.introduced)
        xs_release_domain(xs.h, vm->cfg->domid);
    xs_rm(xs.h, XBT_NULL, xs.dom_path);
    xs_rm(xs.h, XBT_NULL, xs.vm_path);
    xs_close(xs.h);
    xs.h = NULL;
}

static int link_kick_fd = -1, link_notify_fd = -1;
static struct loop_handler notify_h;

static void on_notify(struct vm *vm, struct loop_handler *h, uint32_t ev)
{
    (void)ev;
    uint64_t n;
    if (read(h->fd, &n, sizeof(n)) == sizeof(n))
        evtchn_raise(vm, TANDEM_XENSTORE_PORT);
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static int link_fds(struct vm *vm)
{
    if (link_kick_fd >= 0)
        return 0;
    int kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int notify = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (kick < 0 || notify < 0 || evtchn_local_kick(vm, TANDEM_XENSTORE_PORT, kick)) {
        close_fd(&kick);
        close_fd(&notify);
        return -1;
    }
    notify_h = (struct loop_handler){ on_notify, notify, vm };
    if (loop_add(&notify_h, EPOLLIN)) {
        evtchn_local_remove(vm, TANDEM_XENSTORE_PORT);   /* takes the ioeventfd away */
        evtchn_local_add(vm, TANDEM_XENSTORE_PORT, false);
        close_fd(&kick);
        close_fd(&notify);
        return -1;
    }
    link_kick_fd = kick;
    link_notify_fd = notify;
    return 0;
}

static void op_xenstore_ring(struct vm *vm, int fd, char **argv, int argc)
{
    (void)argv;
    if (argc != 1) {
        control_reply_err(fd, "EINVAL", "this request takes no arguments");
        return;
    }
    if (link_fds(vm)) {
        control_reply_err(fd, "EIO", "cannot set up the xenstore event channel");
        return;
    }
    char line[128];
    snprintf(line, sizeof(line), "OK gpa=%#llx offset=%llu port=%u\n",
             (unsigned long long)TANDEM_XENSTORE_RING_GPA,
             (unsigned long long)vm_region_offset(vm, TANDEM_XENSTORE_RING_GPA),
             TANDEM_XENSTORE_PORT);
    int fds[3] = { vm->memfd, link_kick_fd, link_notify_fd };
    control_reply(fd, line, fds, 3);
}

/* A dom0 service may bind port 1 only until xenstored has asked for it. */
int xs_link_init(struct vm *vm)
{
    if (evtchn_local_add(vm, TANDEM_XENSTORE_PORT, false) ||
        control_add_request("xenstore-ring", op_xenstore_ring)) {
        fprintf(stderr, "tandem-vmm: the xenstore port's service cannot be set up\n");
        return -1;
    }
    return 0;
}

/* After the vCPUs have stopped. */
void xs_link_close(struct vm *vm)
{
    evtchn_local_remove(vm, TANDEM_XENSTORE_PORT);
    close_fd(&link_kick_fd);
    close_fd(&link_notify_fd);
}

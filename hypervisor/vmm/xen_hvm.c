/*
 * The Xen HVM platform (docs/vmm.md "Platforms"): what a kernel that was
 * not written for Tandem — Linux — needs to find Xen where it looks for it.
 *
 *  - KVM's Xen support (KVM_CAP_XEN_HVM): vmcall/vmmcall (Linux >= 6.1.119
 *    issues them directly, XSA-466) exit as KVM_EXIT_XEN and feed the same
 *    dispatcher as Tandem's port-I/O hypercall page. Without it a Linux
 *    guest cannot be run at all: KVM would answer its hypercalls itself.
 *  - Xen's CPUID leaves at 0x40000000 (signature, version, the hypercall
 *    page MSR, the HVM feature leaf with the vCPU and domain ids and the
 *    per-vCPU upcall vector), in place of KVM's own.
 *  - EVTCHNOP_send on a port a dom0 service holds is answered inside KVM
 *    (KVM_XEN_ATTR_TYPE_EVTCHN: the port signals the service's eventfd),
 *    as the doorbell ioeventfd does for Tandem guests: the data path never
 *    leaves the kernel.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "public/event_channel.h"
#include "vmm.h"

#define XEN_CPUID_BASE 0x40000000u
#define XEN_CPUID_MAX_LEAF (XEN_CPUID_BASE + 4)
#define XEN_HYPERCALL_MSR 0x40000000u      /* where Xen (and QEMU) put it */
#define XEN_VERSION_4_17 ((4u << 16) | 17u)

/* XEN_CPUID_LEAF(4) EAX flags (Xen's arch-x86/cpuid.h). */
#define XEN_HVM_CPUID_X2APIC_VIRT     (1u << 1)
#define XEN_HVM_CPUID_VCPU_ID_PRESENT (1u << 3)
#define XEN_HVM_CPUID_DOMID_PRESENT   (1u << 4)
#define XEN_HVM_CPUID_UPCALL_VECTOR   (1u << 6)

static int set_attr(struct vm *vm, uint16_t type, uint64_t value, const char *what)
{
    struct kvm_xen_hvm_attr a = { .type = type };
    if (type == KVM_XEN_ATTR_TYPE_LONG_MODE)
        a.u.long_mode = (uint8_t)value;
    else
        a.u.xen_version = (uint32_t)value;
    if (ioctl(vm->vm_fd, KVM_XEN_HVM_SET_ATTR, &a) < 0) {
        fprintf(stderr, "tandem-vmm: KVM_XEN_HVM_SET_ATTR %s: %s\n", what, strerror(errno));
        return -1;
    }
    return 0;
}

int xen_hvm_init(struct vm *vm)
{
    int caps = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XEN_HVM);
    if (caps <= 0 || !(caps & KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL)) {
        fprintf(stderr,
                "tandem-vmm: this kernel is not a Tandem guest (no XEN_ELFNOTE_GUEST_OS \"Tandem\"), "
                "so it needs Xen's HVM interface, and this host's KVM has no Xen support "
                "(KVM_CAP_XEN_HVM with hypercall interception): Linux guests need a host kernel built "
                "with CONFIG_KVM_XEN (Debian 12's is not; docs/linux-guests.md)\n");
        return -1;
    }
    /* Hypercalls exit to us (INTERCEPT_HCALL); a guest that still asks for a
     * hypercall page by writing the MSR gets one KVM fills with vmcall or
     * vmmcall stubs. No EVTCHN_SEND flag: SCHEDOP_poll must come to us, whose
     * evtchn_raise wakes pollers (KVM's in-kernel poll would wait for events
     * it never sees, since event delivery is ours). */
    struct kvm_xen_hvm_config c = {
        .flags = KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL,
        .msr = XEN_HYPERCALL_MSR,
    };
    if (ioctl(vm->vm_fd, KVM_XEN_HVM_CONFIG, &c) < 0) {
        fprintf(stderr, "tandem-vmm: KVM_XEN_HVM_CONFIG: %s\n", strerror(errno));
        return -1;
    }
    /* 64-bit guest: 4096 event channel ports in KVM's send path too. */
    if (set_attr(vm, KVM_XEN_ATTR_TYPE_LONG_MODE, 1, "long mode") ||
        set_attr(vm, KVM_XEN_ATTR_TYPE_XEN_VERSION, XEN_VERSION_4_17, "version"))
        return -1;
    vm->kvm_xen = true;
    return 0;
}

static struct kvm_cpuid_entry2 leaf(uint32_t fn, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    return (struct kvm_cpuid_entry2){ .function = fn, .eax = a, .ebx = b, .ecx = c, .edx = d };
}

/* Replaces KVM's hypervisor leaves (0x40000000..0x400000ff) in e[0, *n) by
 * Xen's, for vCPU vcpu_id. Returns -1 if max entries would be exceeded. */
int xen_hvm_cpuid(struct vm *vm, struct kvm_cpuid_entry2 *e, uint32_t *n, uint32_t max,
                  uint32_t vcpu_id)
{
    uint32_t out = 0;
    for (uint32_t i = 0; i < *n; i++)
        if ((e[i].function & 0xffffff00u) != XEN_CPUID_BASE)
            e[out++] = e[i];
    if (out + 5 > max)
        return -1;
    uint32_t sig[3];
    memcpy(sig, "XenVMMXenVMM", 12);
    e[out++] = leaf(XEN_CPUID_BASE, XEN_CPUID_MAX_LEAF, sig[0], sig[1], sig[2]);
    e[out++] = leaf(XEN_CPUID_BASE + 1, XEN_VERSION_4_17, 0, 0, 0);
    /* One hypercall page; its MSR. */
    e[out++] = leaf(XEN_CPUID_BASE + 2, 1, XEN_HYPERCALL_MSR, 0, 0);
    /* TSC: mode 0 (default), the frequency in kHz in sub-leaf 2 is what
     * Xen reports; Linux takes its TSC rate from pvclock instead. */
    e[out++] = leaf(XEN_CPUID_BASE + 3, 0, 0, 0, 0);
    e[out++] = leaf(XEN_CPUID_BASE + 4,
                    XEN_HVM_CPUID_X2APIC_VIRT | XEN_HVM_CPUID_VCPU_ID_PRESENT |
                        XEN_HVM_CPUID_DOMID_PRESENT | XEN_HVM_CPUID_UPCALL_VECTOR,
                    vcpu_id, vm->cfg->domid, 0);
    *n = out;
    return 0;
}

/* Guest sends on `port` -> fd is signalled inside KVM (assign), or no
 * longer (deassign). 0 or -errno. */
int xen_hvm_evtchn_route(struct vm *vm, uint32_t port, int fd, bool assign)
{
    if (!vm->kvm_xen)
        return 0;
    struct kvm_xen_hvm_attr a = { .type = KVM_XEN_ATTR_TYPE_EVTCHN };
    a.u.evtchn.send_port = port;
    a.u.evtchn.type = EVTCHNSTAT_interdomain;
    a.u.evtchn.flags = assign ? 0 : KVM_XEN_EVTCHN_DEASSIGN;
    a.u.evtchn.deliver.eventfd.port = 0;   /* 0: deliver to the eventfd */
    a.u.evtchn.deliver.eventfd.fd = fd;
    if (ioctl(vm->vm_fd, KVM_XEN_HVM_SET_ATTR, &a) < 0) {
        int e = errno;
        if (!(assign && e == EEXIST))
            fprintf(stderr, "tandem-vmm: %s the in-kernel send path of port %u: %s\n",
                    assign ? "setting up" : "removing", port, strerror(e));
        return -e;
    }
    return 0;
}

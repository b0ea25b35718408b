/*
 * Core Xen guest interface: hypercall numbers, domain ids, VIRQs and the
 * shared_info / vcpu_info / vcpu_time_info layouts for x86_64, with the
 * numbers and layouts of Xen 4.17's public xen.h and arch-x86 headers
 * (written here from the documented values).
 */
#ifndef TANDEM_PUBLIC_XEN_H
#define TANDEM_PUBLIC_XEN_H

#include <stdint.h>
#include <stddef.h>

/* x86_64 basic types */
typedef unsigned long xen_ulong_t;
typedef unsigned long xen_pfn_t;
typedef uint16_t domid_t;
typedef uint8_t xen_domain_handle_t[16];

/* Guest handles are plain pointers on x86_64 (8 bytes, 8-aligned). */
#define XEN_GUEST_HANDLE_64(type) uint64_t
#define XEN_PAGE_SHIFT 12
#define XEN_PAGE_SIZE (1UL << XEN_PAGE_SHIFT)

/* Hypercall numbers */
#define __HYPERVISOR_set_trap_table            0
#define __HYPERVISOR_mmu_update                1
#define __HYPERVISOR_set_gdt                   2
#define __HYPERVISOR_stack_switch              3
#define __HYPERVISOR_set_callbacks             4
#define __HYPERVISOR_fpu_taskswitch            5
#define __HYPERVISOR_sched_op_compat           6
#define __HYPERVISOR_platform_op               7
#define __HYPERVISOR_set_debugreg              8
#define __HYPERVISOR_get_debugreg              9
#define __HYPERVISOR_update_descriptor        10
#define __HYPERVISOR_memory_op                12
#define __HYPERVISOR_multicall                13
#define __HYPERVISOR_update_va_mapping        14
#define __HYPERVISOR_set_timer_op             15
#define __HYPERVISOR_event_channel_op_compat  16
#define __HYPERVISOR_xen_version              17
#define __HYPERVISOR_console_io               18
#define __HYPERVISOR_physdev_op_compat        19
#define __HYPERVISOR_grant_table_op           20
#define __HYPERVISOR_vm_assist                21
#define __HYPERVISOR_update_va_mapping_otherdomain 22
#define __HYPERVISOR_iret                     23
#define __HYPERVISOR_vcpu_op                  24
#define __HYPERVISOR_set_segment_base         25
#define __HYPERVISOR_mmuext_op                26
#define __HYPERVISOR_xsm_op                   27
#define __HYPERVISOR_nmi_op                   28
#define __HYPERVISOR_sched_op                 29
#define __HYPERVISOR_callback_op              30
#define __HYPERVISOR_xenoprof_op              31
#define __HYPERVISOR_event_channel_op         32
#define __HYPERVISOR_physdev_op               33
#define __HYPERVISOR_hvm_op                   34
#define __HYPERVISOR_sysctl                   35
#define __HYPERVISOR_domctl                   36
#define __HYPERVISOR_kexec_op                 37
#define __HYPERVISOR_tmem_op                  38
#define __HYPERVISOR_argo_op                  39
#define __HYPERVISOR_xenpmu_op                40
#define __HYPERVISOR_dm_op                    41
#define __HYPERVISOR_hypfs_op                 42
/* Hypercall page: 4096 / 32 slots */
#define XEN_HYPERCALL_SLOT_SIZE 32
#define XEN_HYPERCALL_NR_SLOTS  128

/* Virtual interrupts */
#define VIRQ_TIMER      0
#define VIRQ_DEBUG      1
#define VIRQ_CONSOLE    2
#define VIRQ_DOM_EXC    3
#define VIRQ_TBUF       4
#define VIRQ_DEBUGGER   6
#define VIRQ_XENOPROF   7
#define VIRQ_CON_RING   8
#define VIRQ_PCPU_STATE 9
#define VIRQ_MEM_EVENT  10
#define VIRQ_ARGO       11
#define VIRQ_ENOMEM     12
#define VIRQ_XENPMU     13
#define VIRQ_ARCH_0     16
#define VIRQ_ARCH_7     23
#define NR_VIRQS        24

/* console_io commands */
#define CONSOLEIO_write 0
#define CONSOLEIO_read  1

/* vm_assist */
#define VMASST_CMD_enable  0
#define VMASST_CMD_disable 1

/* Special domain ids */
#define DOMID_FIRST_RESERVED 0x7FF0U
#define DOMID_SELF           0x7FF0U
#define DOMID_IO             0x7FF1U
#define DOMID_XEN            0x7FF2U
#define DOMID_COW            0x7FF3U
#define DOMID_INVALID        0x7FF4U
#define DOMID_IDLE           0x7FFFU

/* start_info flags (also used by PVH boot) */
#define SIF_PRIVILEGED    (1 << 0)
#define SIF_INITDOMAIN    (1 << 1)
#define SIF_MULTIBOOT_MOD (1 << 2)
#define SIF_MOD_START_PFN (1 << 3)
#define SIF_VIRT_P2M_4TOOLS (1 << 4)

#define XEN_LEGACY_MAX_VCPUS 32

/*
 * Per-vCPU time: system_time (ns since boot) at tsc_timestamp; the guest
 * extrapolates with ((tsc - tsc_timestamp) << tsc_shift) * mul >> 32
 * (a negative shift shifts right). version is odd while being updated.
 */
struct vcpu_time_info {
    uint32_t version;
    uint32_t pad0;
    uint64_t tsc_timestamp;
    uint64_t system_time;
    uint32_t tsc_to_system_mul;
    int8_t tsc_shift;
    uint8_t flags;
    uint8_t pad1[2];
};
#define XEN_PVCLOCK_TSC_STABLE_BIT (1 << 0)
#define XEN_PVCLOCK_GUEST_STOPPED  (1 << 1)

struct arch_vcpu_info {
    unsigned long cr2;
    unsigned long pad;
};

struct vcpu_info {
    uint8_t evtchn_upcall_pending;
    uint8_t evtchn_upcall_mask;
    xen_ulong_t evtchn_pending_sel;
    struct arch_vcpu_info arch;
    struct vcpu_time_info time;
};

struct arch_shared_info {
    unsigned long max_pfn;
    xen_pfn_t pfn_to_mfn_frame_list_list;
    unsigned long nmi_reason;
    uint64_t p2m_cr3;
    uint64_t p2m_vaddr;
    uint64_t p2m_generation;
};

struct shared_info {
    struct vcpu_info vcpu_info[XEN_LEGACY_MAX_VCPUS];
    /* 2-level event channels: bit n of the array = port n */
    xen_ulong_t evtchn_pending[sizeof(xen_ulong_t) * 8];
    xen_ulong_t evtchn_mask[sizeof(xen_ulong_t) * 8];
    /* Wallclock at system_time 0; wc_version odd while being updated */
    uint32_t wc_version;
    uint32_t wc_sec;
    uint32_t wc_nsec;
    uint32_t wc_sec_hi;
    struct arch_shared_info arch;
};

/* Number of 2-level event channels: 64 * 64 on x86_64 */
#define EVTCHN_2L_NR_CHANNELS (sizeof(xen_ulong_t) * sizeof(xen_ulong_t) * 64)

_Static_assert(sizeof(struct vcpu_time_info) == 32, "vcpu_time_info size");
_Static_assert(offsetof(struct vcpu_time_info, tsc_timestamp) == 8, "tsc_timestamp");
_Static_assert(offsetof(struct vcpu_time_info, system_time) == 16, "system_time");
_Static_assert(offsetof(struct vcpu_time_info, tsc_to_system_mul) == 24, "mul");
_Static_assert(offsetof(struct vcpu_time_info, tsc_shift) == 28, "shift");
_Static_assert(sizeof(struct vcpu_info) == 64, "vcpu_info size");
_Static_assert(offsetof(struct vcpu_info, evtchn_pending_sel) == 8, "pending_sel");
_Static_assert(offsetof(struct vcpu_info, arch) == 16, "vcpu_info arch");
_Static_assert(offsetof(struct vcpu_info, time) == 32, "vcpu_info time");
_Static_assert(offsetof(struct shared_info, evtchn_pending) == 2048, "evtchn_pending");
_Static_assert(offsetof(struct shared_info, evtchn_mask) == 2560, "evtchn_mask");
_Static_assert(offsetof(struct shared_info, wc_version) == 3072, "wc_version");
_Static_assert(offsetof(struct shared_info, wc_sec_hi) == 3084, "wc_sec_hi");
_Static_assert(offsetof(struct shared_info, arch) == 3088, "shared_info arch");
_Static_assert(sizeof(struct shared_info) == 3136, "shared_info size");
_Static_assert(EVTCHN_2L_NR_CHANNELS == 4096, "2-level channel count");

#endif

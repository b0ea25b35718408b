/*
 * Tandem's own platform constants (docs/abi.md): trap ports, the platform
 * region, the fixed low boot layout, device-tree names, tandem-vmm exit
 * statuses, the PVM MSRs and the secondary-vCPU context. Shared by
 * tandem-vmm, the guest kernel and the dom0 services.
 */
#ifndef TANDEM_PUBLIC_TANDEM_H
#define TANDEM_PUBLIC_TANDEM_H

#include <stdint.h>
#include <stddef.h>

/* I/O ports */
#define TANDEM_HYPERCALL_PORT 0xB0  /* 32-bit write: hypercall number */
#define TANDEM_DOORBELL_PORT  0xB4  /* 32-bit write: local event port */
#define TANDEM_DEBUG_PORT     0xE9  /* 8-bit write: early debug byte */

/* Guest physical layout */
#define TANDEM_MAX_MEMORY        (3ULL << 30)   /* RAM is [0, memory) */
#define TANDEM_REGION_GPA        0xFC000000ULL  /* platform region base */
#define TANDEM_REGION_SIZE       0x00200000ULL  /* 2 MiB, after RAM in the memfd */
#define TANDEM_HYPERCALL_PAGE_GPA 0xFC000000ULL
#define TANDEM_XENSTORE_RING_GPA 0xFC001000ULL
#define TANDEM_CONSOLE_RING_GPA  0xFC002000ULL
#define TANDEM_ACPI_GPA          0xFC008000ULL  /* Xen HVM platform: RSDP and tables */
#define TANDEM_ACPI_SIZE         0x00008000ULL
#define TANDEM_OVERLAY_GPA       0xFC080000ULL  /* backing of grant frames placed outside RAM */
#define TANDEM_PHYSMAP_GPA       0xFC100000ULL  /* shared_info + grant frames go here */
#define TANDEM_PHYSMAP_SIZE      0x00100000ULL
#define TANDEM_LAPIC_GPA         0xFEE00000ULL
#define TANDEM_LAPIC_EOI_GPA     0xFEE000B0ULL

/* Fixed low boot layout written by tandem-vmm */
#define TANDEM_START_INFO_GPA    0x1000ULL   /* start_info, modlist, memmap */
#define TANDEM_CMDLINE_GPA       0x2000ULL
#define TANDEM_CMDLINE_MAX       4096
#define TANDEM_FDT_GPA           0x10000ULL
#define TANDEM_FDT_MAX           0x10000
#define TANDEM_KERNEL_MIN_GPA    0x100000ULL /* kernels link at 1 MiB or above */

/* Defaults where the VMM places frames the guest did not place itself */
#define TANDEM_DEFAULT_SHARED_INFO_GPA TANDEM_PHYSMAP_GPA
#define TANDEM_DEFAULT_GNTTAB_GPA      (TANDEM_PHYSMAP_GPA + 0x1000)

/* Event channels pre-bound to domain 0 */
#define TANDEM_XENSTORE_PORT 1
#define TANDEM_CONSOLE_PORT  2

#define TANDEM_MAX_GRANT_FRAMES 64     /* upper bound of --grant-frames (Xen: 64) */
#define TANDEM_DEFAULT_GRANT_FRAMES 32 /* default grant-table frames */
#define TANDEM_UPCALL_VECTOR    0xf3 /* suggested upcall vector (FDT upcall-vector) */
#define TANDEM_MAX_VCPUS        32   /* vcpu_info slots in shared_info */
#define TANDEM_XEN_VERSION      0x00040011  /* interface of Xen 4.17 */

/* Device tree (first PVH module) */
#define TANDEM_FDT_COMPATIBLE       "tandem,pvh"
#define TANDEM_FDT_HV_NODE          "/hypervisor"
#define TANDEM_FDT_HV_COMPATIBLE    "tandem,hypervisor"
#define TANDEM_FDT_PROP_VERSION     "version"
#define TANDEM_FDT_PROP_DOMID       "domid"
#define TANDEM_FDT_PROP_UUID        "uuid"
#define TANDEM_FDT_PROP_CPU_MODE    "cpu-mode"       /* "pvm" | "plain" */
#define TANDEM_FDT_PROP_TSC_KHZ     "tsc-khz"
#define TANDEM_FDT_PROP_HCALL_PAGE  "hypercall-page"
#define TANDEM_FDT_PROP_HCALL_PORT  "hypercall-port"
#define TANDEM_FDT_PROP_DOORBELL    "doorbell-port"
#define TANDEM_FDT_PROP_PHYSMAP     "physmap-window"
#define TANDEM_FDT_PROP_GNT_FRAMES  "grant-frames"
#define TANDEM_FDT_PROP_LAPIC       "lapic"
#define TANDEM_FDT_PROP_UPCALL_VEC  "upcall-vector"  /* suggested; the guest sets its own */
#define TANDEM_FDT_XENSTORE_NODE    "/hypervisor/xenstore"
#define TANDEM_FDT_CONSOLE_NODE     "/hypervisor/console"
#define TANDEM_FDT_PROP_RING        "ring"
#define TANDEM_FDT_PROP_EVTCHN      "evtchn"
#define TANDEM_CPU_MODE_PVM         "pvm"
#define TANDEM_CPU_MODE_PLAIN       "plain"

/* Exit status of tandem-vmm (and of `tandem run`) */
#define TANDEM_EXIT_POWEROFF  0
#define TANDEM_EXIT_ERROR     1
#define TANDEM_EXIT_BADINPUT  2
#define TANDEM_EXIT_REBOOT    3
#define TANDEM_EXIT_SUSPEND   4
#define TANDEM_EXIT_CRASH     5
#define TANDEM_EXIT_WATCHDOG  6
#define TANDEM_EXIT_GUESTFAIL 7
#define TANDEM_EXIT_DESTROYED 8

/* PVM host interface (../shared/reference/pvm-native.md) */
#define PVM_MSR_VIF       0x4b564d10  /* VIF page gpa */
#define PVM_MSR_SIGNATURE 0x4b564d11  /* reads PVM_SIGNATURE */
#define PVM_MSR_FEATURES  0x4b564d12
#define PVM_MSR_TSC_KHZ   0x4b564d13
#define PVM_SIGNATURE     0x4d5650
#define PVM_HC_HALT       0x1009      /* int $0x1b, rax = this */
#define PVM_HC_VECTOR     0x1b

/*
 * VCPUOP_initialise argument (Tandem's, not Xen's vcpu_hvm_context): the
 * new vCPU starts in 64-bit mode, CPL 0, paging on with cr3, flat segments
 * (CS 0x08, data 0x10), interrupts off, at rip with rsp, rdi, rsi set.
 */
struct tandem_vcpu_context {
    uint64_t rip;
    uint64_t rsp;
    uint64_t cr3;
    uint64_t rdi;
    uint64_t rsi;
    uint64_t flags;  /* must be 0 */
};
#define TANDEM_VCPU_CS 0x08
#define TANDEM_VCPU_DS 0x10

_Static_assert(sizeof(struct tandem_vcpu_context) == 48, "tandem_vcpu_context");

#endif

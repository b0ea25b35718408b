/*
 * Memory operations (__HYPERVISOR_memory_op): numbers and structs of Xen
 * 4.17's public memory.h, plus the e820 entry XENMEM_memory_map returns.
 */
#ifndef TANDEM_PUBLIC_MEMORY_H
#define TANDEM_PUBLIC_MEMORY_H

#include "xen.h"

#define XENMEM_increase_reservation   0
#define XENMEM_decrease_reservation   1
#define XENMEM_maximum_ram_page       2
#define XENMEM_current_reservation    3
#define XENMEM_maximum_reservation    4
#define XENMEM_machphys_mfn_list      5
#define XENMEM_populate_physmap       6
#define XENMEM_add_to_physmap         7
#define XENMEM_memory_map             9
#define XENMEM_machine_memory_map    10
#define XENMEM_exchange              11
#define XENMEM_machphys_mapping      12
#define XENMEM_set_memory_map        13
#define XENMEM_maximum_gpfn          14
#define XENMEM_remove_from_physmap   15
#define XENMEM_add_to_physmap_batch  23
#define XENMEM_machphys_compat_mfn_list 25
#define XENMEM_get_vnumainfo         26
#define XENMEM_acquire_resource      28

#define XENMAPSPACE_shared_info  0
#define XENMAPSPACE_grant_table  1
#define XENMAPSPACE_gmfn         2
#define XENMAPSPACE_gmfn_range   3
#define XENMAPSPACE_gmfn_foreign 4
#define XENMAPSPACE_dev_mmio     5
#define XENMAPIDX_grant_table_status 0x80000000U

struct xen_add_to_physmap {
    domid_t domid;
    uint16_t size;       /* XENMAPSPACE_gmfn_range only */
    unsigned int space;  /* XENMAPSPACE_* */
    xen_ulong_t idx;     /* index into the space */
    xen_pfn_t gpfn;      /* where to put it */
};

struct xen_remove_from_physmap {
    domid_t domid;
    xen_pfn_t gpfn;
};

struct xen_memory_reservation {
    XEN_GUEST_HANDLE_64(xen_pfn_t) extent_start;
    xen_ulong_t nr_extents;
    unsigned int extent_order;
    unsigned int mem_flags;
    domid_t domid;
};

struct xen_memory_map {
    unsigned int nr_entries;              /* IN: buffer size, OUT: entries */
    XEN_GUEST_HANDLE_64(void) buffer;     /* struct e820entry[] */
};

#define E820_RAM      1
#define E820_RESERVED 2
#define E820_ACPI     3
#define E820_NVS      4
#define E820_UNUSABLE 5

struct e820entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
} __attribute__((packed));

_Static_assert(sizeof(struct xen_add_to_physmap) == 24, "add_to_physmap");
_Static_assert(offsetof(struct xen_add_to_physmap, idx) == 8, "add_to_physmap.idx");
_Static_assert(offsetof(struct xen_add_to_physmap, gpfn) == 16, "add_to_physmap.gpfn");
_Static_assert(sizeof(struct xen_memory_reservation) == 32, "memory_reservation");
_Static_assert(sizeof(struct xen_memory_map) == 16, "memory_map");
_Static_assert(sizeof(struct e820entry) == 20, "e820entry");

#endif

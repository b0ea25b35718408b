/*
 * Version queries (__HYPERVISOR_xen_version): numbers and structs of Xen
 * 4.17's public version.h and the XENFEAT_* bits of features.h.
 */
#ifndef TANDEM_PUBLIC_VERSION_H
#define TANDEM_PUBLIC_VERSION_H

#include "xen.h"

#define XENVER_version      0   /* returns (major << 16) | minor */
#define XENVER_extraversion 1
#define XENVER_compile_info 2
#define XENVER_capabilities 3
#define XENVER_changeset    4
#define XENVER_platform_parameters 5
#define XENVER_get_features 6
#define XENVER_pagesize     7
#define XENVER_guest_handle 8
#define XENVER_commandline  9
#define XENVER_build_id    10

typedef char xen_extraversion_t[16];
#define XEN_EXTRAVERSION_LEN (sizeof(xen_extraversion_t))
typedef char xen_capabilities_info_t[1024];
#define XEN_CAPABILITIES_INFO_LEN (sizeof(xen_capabilities_info_t))
typedef char xen_changeset_info_t[64];
#define XEN_CHANGESET_INFO_LEN (sizeof(xen_changeset_info_t))
typedef char xen_commandline_t[1024];

struct xen_compile_info {
    char compiler[64];
    char compile_by[16];
    char compile_domain[32];
    char compile_date[32];
};

struct xen_platform_parameters {
    xen_ulong_t virt_start;
};

struct xen_feature_info {
    unsigned int submap_idx;  /* IN: which 32-bit submap */
    uint32_t submap;          /* OUT */
};

#define XENFEAT_writable_page_tables       0
#define XENFEAT_writable_descriptor_tables 1
#define XENFEAT_auto_translated_physmap    2
#define XENFEAT_supervisor_mode_kernel     3
#define XENFEAT_pae_pgdir_above_4gb        4
#define XENFEAT_mmu_pt_update_preserve_ad  5
#define XENFEAT_highmem_assist             6
#define XENFEAT_gnttab_map_avail_bits      7
#define XENFEAT_hvm_callback_vector        8
#define XENFEAT_hvm_safe_pvclock           9
#define XENFEAT_hvm_pirqs                 10
#define XENFEAT_dom0                      11
#define XENFEAT_grant_map_identity        12
#define XENFEAT_memory_op_vnode_supported 13
#define XENFEAT_ARM_SMCCC_supported       14
#define XENFEAT_linux_rsdp_unrestricted   15
#define XENFEAT_direct_mapped             16
#define XENFEAT_not_direct_mapped         17
#define XENFEAT_NR_SUBMAPS 1

_Static_assert(sizeof(struct xen_feature_info) == 8, "feature_info");
_Static_assert(sizeof(struct xen_compile_info) == 144, "compile_info");

#endif

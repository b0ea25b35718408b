/*
 * Grant tables (__HYPERVISOR_grant_table_op): v1 entries, flags, operation
 * numbers and argument structs of Xen 4.17's public grant_table.h.
 */
#ifndef TANDEM_PUBLIC_GRANT_TABLE_H
#define TANDEM_PUBLIC_GRANT_TABLE_H

#include "xen.h"

typedef uint32_t grant_ref_t;
typedef uint32_t grant_handle_t;

struct grant_entry_v1 {
    uint16_t flags;  /* GTF_* */
    domid_t domid;   /* domain being granted access */
    uint32_t frame;  /* gfn of the granted page */
};
typedef struct grant_entry_v1 grant_entry_v1_t;
#define GNTTAB_ENTRIES_PER_FRAME_V1 (XEN_PAGE_SIZE / sizeof(struct grant_entry_v1))

#define GNTTAB_NR_RESERVED_ENTRIES 8
#define GNTTAB_RESERVED_CONSOLE    0
#define GNTTAB_RESERVED_XENSTORE   1

#define GTF_invalid         0
#define GTF_permit_access   1
#define GTF_accept_transfer 2
#define GTF_transitive      3
#define GTF_type_mask       3
#define _GTF_readonly       2
#define GTF_readonly        (1U << _GTF_readonly)
#define _GTF_reading        3
#define GTF_reading         (1U << _GTF_reading)
#define _GTF_writing        4
#define GTF_writing         (1U << _GTF_writing)
#define GTF_PWT             (1U << 5)
#define GTF_PCD             (1U << 6)
#define GTF_PAT             (1U << 7)
#define GTF_sub_page        (1U << 8)
#define GTF_transfer_committed (1U << 2)
#define GTF_transfer_completed (1U << 3)

#define GNTTABOP_map_grant_ref       0
#define GNTTABOP_unmap_grant_ref     1
#define GNTTABOP_setup_table         2
#define GNTTABOP_dump_table          3
#define GNTTABOP_transfer            4
#define GNTTABOP_copy                5
#define GNTTABOP_query_size          6
#define GNTTABOP_unmap_and_replace   7
#define GNTTABOP_set_version         8
#define GNTTABOP_get_status_frames   9
#define GNTTABOP_get_version        10
#define GNTTABOP_swap_grant_ref     11
#define GNTTABOP_cache_flush        12

#define GNTMAP_device_map      (1U << 0)
#define GNTMAP_host_map        (1U << 1)
#define GNTMAP_readonly        (1U << 2)
#define GNTMAP_application_map (1U << 3)
#define GNTMAP_contains_pte    (1U << 4)

#define GNTST_okay              0
#define GNTST_general_error    (-1)
#define GNTST_bad_domain       (-2)
#define GNTST_bad_gntref       (-3)
#define GNTST_bad_handle       (-4)
#define GNTST_bad_virt_addr    (-5)
#define GNTST_bad_dev_addr     (-6)
#define GNTST_no_device_space  (-7)
#define GNTST_permission_denied (-8)
#define GNTST_bad_page         (-9)
#define GNTST_bad_copy_arg     (-10)
#define GNTST_address_too_big  (-11)
#define GNTST_eagain           (-12)
#define GNTST_no_space         (-13)

struct gnttab_map_grant_ref {
    uint64_t host_addr;
    uint32_t flags;
    grant_ref_t ref;
    domid_t dom;
    int16_t status;         /* OUT */
    grant_handle_t handle;  /* OUT */
    uint64_t dev_bus_addr;  /* OUT */
};

struct gnttab_unmap_grant_ref {
    uint64_t host_addr;
    uint64_t dev_bus_addr;
    grant_handle_t handle;
    int16_t status;         /* OUT */
};

struct gnttab_setup_table {
    domid_t dom;
    uint32_t nr_frames;
    int16_t status;                           /* OUT */
    XEN_GUEST_HANDLE_64(xen_pfn_t) frame_list; /* OUT: nr_frames gfns */
};

struct gnttab_query_size {
    domid_t dom;
    uint32_t nr_frames;      /* OUT */
    uint32_t max_nr_frames;  /* OUT */
    int16_t status;          /* OUT */
};

#define _GNTCOPY_source_gref 0
#define GNTCOPY_source_gref  (1U << _GNTCOPY_source_gref)
#define _GNTCOPY_dest_gref   1
#define GNTCOPY_dest_gref    (1U << _GNTCOPY_dest_gref)

struct gnttab_copy_ptr {
    union {
        grant_ref_t ref;
        xen_pfn_t gmfn;
    } u;
    domid_t domid;
    uint16_t offset;
};

struct gnttab_copy {
    struct gnttab_copy_ptr source, dest;
    uint16_t len;
    uint16_t flags;   /* GNTCOPY_* */
    int16_t status;   /* OUT */
};

struct gnttab_set_version {
    uint32_t version;
};

struct gnttab_get_version {
    domid_t dom;
    uint16_t pad;
    uint32_t version;  /* OUT */
};

_Static_assert(sizeof(struct grant_entry_v1) == 8, "grant_entry_v1");
_Static_assert(GNTTAB_ENTRIES_PER_FRAME_V1 == 512, "entries per frame");
_Static_assert(sizeof(struct gnttab_map_grant_ref) == 32, "map_grant_ref");
_Static_assert(offsetof(struct gnttab_map_grant_ref, status) == 18, "map.status");
_Static_assert(sizeof(struct gnttab_unmap_grant_ref) == 24, "unmap_grant_ref");
_Static_assert(sizeof(struct gnttab_setup_table) == 16 + 8, "setup_table");
_Static_assert(offsetof(struct gnttab_setup_table, frame_list) == 16, "setup_table.frame_list");
_Static_assert(sizeof(struct gnttab_query_size) == 16, "query_size");
_Static_assert(sizeof(struct gnttab_copy) == 40, "gnttab_copy");

#endif

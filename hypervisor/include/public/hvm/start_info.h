/*
 * PVH boot: struct hvm_start_info (pointed to by %ebx at the
 * XEN_ELFNOTE_PHYS32_ENTRY entry point), module list and memory map, with
 * the layout of Xen 4.17's public hvm/start_info.h.
 */
#ifndef TANDEM_PUBLIC_HVM_START_INFO_H
#define TANDEM_PUBLIC_HVM_START_INFO_H

#include <stdint.h>
#include <stddef.h>

#define XEN_HVM_START_MAGIC_VALUE 0x336ec578

#define XEN_HVM_MEMMAP_TYPE_RAM       1
#define XEN_HVM_MEMMAP_TYPE_RESERVED  2
#define XEN_HVM_MEMMAP_TYPE_ACPI      3
#define XEN_HVM_MEMMAP_TYPE_NVS       4
#define XEN_HVM_MEMMAP_TYPE_UNUSABLE  5
#define XEN_HVM_MEMMAP_TYPE_DISABLED  6
#define XEN_HVM_MEMMAP_TYPE_PMEM      7

struct hvm_start_info {
    uint32_t magic;          /* XEN_HVM_START_MAGIC_VALUE */
    uint32_t version;        /* 1: memmap fields valid */
    uint32_t flags;          /* SIF_* */
    uint32_t nr_modules;
    uint64_t modlist_paddr;  /* struct hvm_modlist_entry[nr_modules] */
    uint64_t cmdline_paddr;  /* NUL-terminated */
    uint64_t rsdp_paddr;
    uint64_t memmap_paddr;   /* struct hvm_memmap_table_entry[] (v1) */
    uint32_t memmap_entries;
    uint32_t reserved;
};

struct hvm_modlist_entry {
    uint64_t paddr;
    uint64_t size;
    uint64_t cmdline_paddr;
    uint64_t reserved;
};

struct hvm_memmap_table_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;   /* XEN_HVM_MEMMAP_TYPE_* */
    uint32_t reserved;
};

_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info");
_Static_assert(offsetof(struct hvm_start_info, modlist_paddr) == 16, "modlist_paddr");
_Static_assert(offsetof(struct hvm_start_info, cmdline_paddr) == 24, "cmdline_paddr");
_Static_assert(offsetof(struct hvm_start_info, memmap_paddr) == 40, "memmap_paddr");
_Static_assert(offsetof(struct hvm_start_info, memmap_entries) == 48, "memmap_entries");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "hvm_memmap_table_entry");

#endif

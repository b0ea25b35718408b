/*
 * Xen ELF note types (name "Xen"), numbers of Xen 4.17's public elfnote.h.
 * A PVH kernel carries XEN_ELFNOTE_PHYS32_ENTRY: a 32-bit physical entry
 * address, entered in 32-bit flat protected mode with paging off.
 */
#ifndef TANDEM_PUBLIC_ELFNOTE_H
#define TANDEM_PUBLIC_ELFNOTE_H

#define XEN_ELFNOTE_INFO               0
#define XEN_ELFNOTE_ENTRY              1
#define XEN_ELFNOTE_HYPERCALL_PAGE     2
#define XEN_ELFNOTE_VIRT_BASE          3
#define XEN_ELFNOTE_PADDR_OFFSET       4
#define XEN_ELFNOTE_XEN_VERSION        5
#define XEN_ELFNOTE_GUEST_OS           6
#define XEN_ELFNOTE_GUEST_VERSION      7
#define XEN_ELFNOTE_LOADER             8
#define XEN_ELFNOTE_PAE_MODE           9
#define XEN_ELFNOTE_FEATURES          10
#define XEN_ELFNOTE_BSD_SYMTAB        11
#define XEN_ELFNOTE_HV_START_LOW      12
#define XEN_ELFNOTE_L1_MFN_VALID      13
#define XEN_ELFNOTE_SUSPEND_CANCEL    14
#define XEN_ELFNOTE_INIT_P2M          15
#define XEN_ELFNOTE_MOD_START_PFN     16
#define XEN_ELFNOTE_SUPPORTED_FEATURES 17
#define XEN_ELFNOTE_PHYS32_ENTRY      18
#define XEN_ELFNOTE_MAX XEN_ELFNOTE_PHYS32_ENTRY

#define XEN_ELFNOTE_NAME "Xen"

#ifdef __ASSEMBLER__
/*
 * The notes of a Tandem PVH kernel, for assembly sources: the 32-bit entry
 * (XEN_ELFNOTE_PHYS32_ENTRY) and XEN_ELFNOTE_GUEST_OS "Tandem", by which
 * tandem-vmm's `--platform auto` gives the kernel Tandem's platform (the
 * device tree module, the port-I/O hypercall); a kernel without it (Linux)
 * gets Xen's HVM interface (docs/vmm.md "Platforms"). Leaves the current
 * section unchanged.
 */
    .macro TANDEM_PVH_NOTES entry
    .pushsection .note.Xen, "a", @note
    .balign 4
    .long 4, 4, XEN_ELFNOTE_PHYS32_ENTRY    /* namesz, descsz, type */
    .asciz "Xen"
    .long \entry
    .balign 4
    .long 4, 7, XEN_ELFNOTE_GUEST_OS
    .asciz "Xen"
    .asciz "Tandem"
    .balign 4
    .popsection
    .endm
#endif

#endif

/* tandem-vmm command line, parsed and checked in one place (config.c). */
#ifndef TANDEM_VMM_CONFIG_H
#define TANDEM_VMM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum console_kind { CONSOLE_STDIO, CONSOLE_PTY, CONSOLE_FILE };
enum cpu_mode_req { CPU_MODE_AUTO, CPU_MODE_PVM, CPU_MODE_PLAIN };
/* Which guest interface the domain gets (docs/vmm.md "Platforms"): Tandem's
 * (device tree, port-I/O hypercall page) or Xen's HVM one (Linux: Xen CPUID
 * leaves, vmcall/vmmcall through KVM_EXIT_XEN, ACPI). auto: Tandem's for a
 * kernel whose XEN_ELFNOTE_GUEST_OS is "Tandem", else Xen's. */
enum platform_req { PLATFORM_AUTO, PLATFORM_TANDEM, PLATFORM_XEN };

/* A disk of the PC: an NVMe namespace (pc.c, dev/nvme.c). */
#define VMM_MAX_DISKS 16
struct vmm_disk {
    const char *path;
    bool readonly;
};

/* A NIC of the PC: an e1000 on a tap (pc.c, dev/e1000.c). */
#define VMM_MAX_NICS 4
struct vmm_nic {
    char tap[16];             /* the tap to create (or open) */
    char bridge[16];          /* "" = leave it unattached */
    uint8_t mac[6];
};

struct vmm_config {
    const char *kernel;       /* PVH ELF or bzImage */
    bool pc;                  /* --machine pc (or --firmware): the full-emulation PC (pc.c) */
    const char *firmware;     /* --firmware: the PC boots this ROM; else --kernel, directly */
    bool boot_menu;           /* --boot-menu: the firmware offers its boot menu (QEMU -boot menu=on) */
    struct vmm_disk disks[VMM_MAX_DISKS];  /* --disk PATH[,ro]: the PC's NVMe namespaces, in order */
    unsigned int nr_disks;
    struct vmm_nic nics[VMM_MAX_NICS];    /* --nic tap=NAME[,bridge=BR][,mac=MAC]: the PC's e1000s */
    unsigned int nr_nics;
    const char *ramdisk;      /* NULL = none */
    bool check_only;          /* --check: report the kernel's placement, run nothing */
    uint64_t memory_mib;
    unsigned int vcpus;
    const char *cmdline;
    const char *name;
    char name_buf[32];        /* default name storage */
    unsigned int domid;
    char uuid[37];
    const char *xenstore;     /* xenstored socket, NULL = no registration */
    enum console_kind console;
    const char *console_path; /* CONSOLE_FILE */
    const char *run_dir;
    enum cpu_mode_req cpu_mode;
    enum platform_req platform;
    bool stats;
    bool console_daemon;      /* the ring is served by a dom0 console daemon */
    bool start_paused;        /* vCPUs wait for `unpause` */
    unsigned int grant_frames; /* grant-table frames the guest may set up */
    const char *mem_path;     /* guest memory in this tmpfs directory, NULL = memfd */
    const char *restore;      /* --restore: a save file; memory, vCPUs, cmdline come from it */
};

/*
 * Fills cfg from argv. On a usage error writes one line to err and returns
 * -1; returns 1 for --help (usage printed by the caller), 0 on success.
 * host_mem_bytes bounds --memory (0 = unknown, no bound).
 */
int config_parse(struct vmm_config *cfg, int argc, char **argv, uint64_t host_mem_bytes,
                 char *err, size_t errlen);
const char *config_usage(void);

#endif

/*
 * The save file of `tandem save` / `tandem-vmm --restore` (docs/save-restore.md):
 * a flattened device tree (the header: one node per subsystem, each with
 * its own version) followed, at the next 4 KiB boundary, by the populated
 * extents of guest memory. This file knows the format only: building a
 * header from a struct save_header, and parsing and checking one, in one
 * place, for tandem-vmm and the tandem CLI alike. It does not touch KVM.
 */
#ifndef TANDEM_VMM_SAVEFILE_H
#define TANDEM_VMM_SAVEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SAVE_COMPATIBLE "tandem,save"
#define SAVE_FORMAT_VERSION 1
#define SAVE_HEADER_MAX (1u << 20)      /* an FDT header larger than this is refused */
#define SAVE_DATA_ALIGN 4096u
#define SAVE_MAX_VCPUS 32
#define SAVE_MAX_PORTS 4096
#define SAVE_MAX_FRAMES 64
#define SAVE_MAX_EXTENTS 65536
#define SAVE_MAX_MSRS 64
#define SAVE_TEXT_MAX 65536             /* cmdline, toolstack config */

/* Section versions: a reader refuses a section newer than it knows. */
#define SAVE_V_CONFIG 1
#define SAVE_V_CPUS 1
#define SAVE_V_CLOCK 1
#define SAVE_V_PHYSMAP 1
#define SAVE_V_EVTCHN 1
#define SAVE_V_GNTTAB 1
#define SAVE_V_XENSTORE 1
#define SAVE_V_CONSOLE 1
#define SAVE_V_MEMORY 1

/* A binary property: bytes inside the parsed buffer (or the writer's). */
struct save_blob {
    const void *data;
    size_t len;
};

struct save_msr {
    uint32_t index;
    uint64_t value;
};

struct save_vcpu {
    bool initialised, up;
    uint64_t vcpu_info_gpa;        /* 0 = slot in shared_info */
    uint32_t upcall_vector;
    uint64_t timer_deadline_ns;    /* guest system time, 0 = none */
    uint64_t periodic_ns;          /* 0 = none */
    /* KVM state, raw (same host: native layout), lengths checked by the
     * reader against the structs it was built with (expect_* below). */
    struct save_blob regs, sregs, xsave, xcrs, lapic, mp_state, events;
    unsigned int nr_msrs;
    struct save_msr msrs[SAVE_MAX_MSRS];
};

struct save_port {
    uint32_t port;
    uint32_t state, virq, vcpu;
    uint32_t remote_dom, remote_port;
};

struct save_extent {
    uint64_t offset, len;          /* in the guest's memory file */
};

struct save_header {
    uint32_t format_version;
    /* config */
    uint64_t memory_mib;
    uint32_t vcpus;
    uint32_t grant_frames;
    uint32_t domid;                /* of the saved domain (informative) */
    const char *name, *uuid, *cmdline, *cpu_mode, *kernel;
    const char *toolstack;         /* the xl.cfg the toolstack ran it with ("" = none) */
    /* clock */
    uint32_t tsc_khz, tsc_mul;
    int32_t tsc_shift;
    uint64_t ref_tsc, ref_ns, boot_realtime_ns;
    uint64_t saved_tsc, saved_ns;  /* guest TSC and system time at the save */
    /* physmap */
    uint64_t shared_info_gpa, callback_irq;
    /* gnttab */
    uint32_t gnttab_version, gnttab_nr_frames, gnttab_max_frames;
    uint64_t gnttab_frames[SAVE_MAX_FRAMES];
    /* evtchn */
    unsigned int nr_ports;
    struct save_port *ports;       /* parse: malloc'd (save_header_free) */
    /* xenstore, console */
    uint64_t xenstore_ring, console_ring;
    uint32_t xenstore_port, console_port;
    /* cpus */
    struct save_vcpu cpu[SAVE_MAX_VCPUS];
    /* memory */
    uint64_t ram_size, mem_size;   /* mem_size: RAM + platform region */
    unsigned int nr_extents;
    struct save_extent *extents;   /* parse: malloc'd */
    uint64_t data_offset, data_len;
    uint64_t mem_checksum;
};

/* Sizes the reader expects for the KVM blobs (0 = any); tandem-vmm sets
 * them from <linux/kvm.h>, the CLI leaves them 0. */
struct save_expect {
    size_t regs, sregs, xcrs, lapic, mp_state, events;
    size_t xsave_min;
};

/* Checksum of memory data, streamed: h = save_checksum(h, buf, len), from
 * SAVE_CHECKSUM_INIT, over the extents' bytes in file order. len must be
 * a multiple of 8 except for the last piece. */
#define SAVE_CHECKSUM_INIT 0xcbf29ce484222325ULL
uint64_t save_checksum(uint64_t h, const void *buf, size_t len);

/* Builds the header blob (malloc'd, *len = its size; the data follows at
 * h->data_offset, which this computes, as it computes data_len). 0, or -1
 * with a message in err. */
int save_header_build(struct save_header *h, void **blob, size_t *len, char *err, size_t errlen);

/*
 * Parses and checks a header: buf holds at least the FDT (its totalsize
 * <= buflen), file_size is the whole file's. Everything is checked here:
 * magic, FDT structure, the header checksum, the format and section
 * versions, every size and range, the extents against the memory size
 * and the file size. On success h points into buf (keep it) and owns two
 * arrays (save_header_free). -1 with one line in err otherwise.
 */
int save_header_parse(const void *buf, size_t buflen, uint64_t file_size,
                      const struct save_expect *expect, struct save_header *h, char *err,
                      size_t errlen);
void save_header_free(struct save_header *h);

/* The FDT's total size from its first 40 bytes (after checking its magic
 * and bounds), so a reader knows how much to read: 0, or -1 and err. */
int save_header_size(const void *first, size_t len, uint64_t file_size, size_t *size, char *err,
                     size_t errlen);

/*
 * Opens a save file, reads and parses its header (h, its buffer in *hdr,
 * free both with save_file_close) and, if verify_memory, reads the memory
 * data and checks its checksum. Returns the fd (positioned anywhere), or
 * -1 with "FILE: what is wrong" in err.
 */
int save_file_open(const char *path, const struct save_expect *expect, bool verify_memory,
                   struct save_header *h, void **hdr, char *err, size_t errlen);
void save_file_close(int fd, struct save_header *h, void *hdr);

/* pread/pwrite until len bytes moved (EINTR retried): 0, or -1 with errno
 * (0 for a read that met the end of the file). */
int save_pread_full(int fd, void *buf, size_t len, uint64_t off);
int save_pwrite_full(int fd, const void *buf, size_t len, uint64_t off);

#endif

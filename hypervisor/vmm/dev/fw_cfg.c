/*
 * QEMU fw_cfg (fw_cfg.h; docs/hvm.md "Emulated devices").
 *
 * Items live in one array, looked up by key. The port interface reads the
 * selected item a byte at a time from the data offset (0 past its end, or
 * for a key nobody added); data-port writes are ignored, as in QEMU since
 * 2.4. A DMA transfer reads its 16-byte FWCfgDmaAccess {be32 control,
 * be32 length, be64 address} from guest memory, optionally selects
 * (control >> 16), then does one of read / write / skip, in that order of
 * precedence, and writes back control as 0 or FW_CFG_DMA_CTL_ERROR. Guest
 * memory is reached only through the dma ops, which refuse anything
 * outside RAM: a bad address sets the error bit (a bad descriptor address
 * leaves everything as it was); the host side of every copy is an item's
 * own buffer, bounded by its size.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev/fw_cfg.h"
#include "iobus.h"

#define DMA_CHUNK 4096
#define KEY_MASK ((uint16_t)~FW_CFG_WRITE_CHANNEL)

struct item {
    uint16_t key;
    bool writable;
    char name[FW_CFG_FILE_NAME];       /* "" for a numbered item */
    uint8_t *data;
    uint32_t len;
};

struct fw_cfg {
    pthread_mutex_t lock;
    struct iobus *bus;
    struct fw_cfg_dma_ops dma;
    bool has_dma;

    struct item *items;
    unsigned nitems, cap;
    unsigned nfiles;

    int cur;                           /* the selected item's index, or -1 */
    uint32_t offset;
    uint32_t dma_hi;                   /* the address register's high half */
};

static void put_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put_be32(uint8_t *p, uint32_t v) { put_be16(p, (uint16_t)(v >> 16)); put_be16(p + 2, (uint16_t)v); }
static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t get_be64(const uint8_t *p) { return (uint64_t)get_be32(p) << 32 | get_be32(p + 4); }

static int find(const struct fw_cfg *f, uint16_t key)
{
    for (unsigned i = 0; i < f->nitems; i++)
        if (f->items[i].key == key)
            return (int)i;
    return -1;
}

/* Stores (a copy of) data under key, replacing what was there. */
static int set_item(struct fw_cfg *f, uint16_t key, const char *name, const void *data,
                    size_t len, bool writable)
{
    if (len > UINT32_MAX) {
        errno = EINVAL;
        return -1;
    }
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return -1;
    if (len)
        memcpy(copy, data, len);
    int i = find(f, key);
    if (i < 0) {
        if (f->nitems == f->cap) {
            unsigned cap = f->cap ? f->cap * 2 : 16;
            struct item *n = realloc(f->items, cap * sizeof(*n));
            if (!n) {
                free(copy);
                return -1;
            }
            f->items = n;
            f->cap = cap;
        }
        i = (int)f->nitems++;
    } else
        free(f->items[i].data);
    struct item *it = &f->items[i];
    it->key = key;
    it->writable = writable;
    snprintf(it->name, sizeof(it->name), "%s", name ? name : "");
    it->data = copy;
    it->len = (uint32_t)len;
    return 0;
}

static int cmp_name(const void *a, const void *b)
{
    const struct item *x = *(const struct item *const *)a, *y = *(const struct item *const *)b;
    return strcmp(x->name, y->name);
}

/* FW_CFG_FILE_DIR: be32 count, then {be32 size, be16 select, be16 0,
 * name[56]} per file, by name. */
static int rebuild_dir(struct fw_cfg *f)
{
    size_t ent = 8 + FW_CFG_FILE_NAME, len = 4 + (size_t)f->nfiles * ent;
    uint8_t *dir = calloc(1, len);
    const struct item **files = calloc(f->nfiles ? f->nfiles : 1, sizeof(*files));
    int r = -1;
    if (!dir || !files)
        goto out;
    unsigned n = 0;
    for (unsigned i = 0; i < f->nitems; i++)
        if (f->items[i].name[0])
            files[n++] = &f->items[i];
    qsort(files, n, sizeof(*files), cmp_name);
    put_be32(dir, n);
    for (unsigned i = 0; i < n; i++) {
        uint8_t *e = dir + 4 + i * ent;
        put_be32(e, files[i]->len);
        put_be16(e + 4, files[i]->key);
        memcpy(e + 8, files[i]->name, FW_CFG_FILE_NAME);
    }
    r = set_item(f, FW_CFG_FILE_DIR, NULL, dir, len, false);
out:
    free(dir);
    free(files);
    return r;
}

static bool owned_key(uint16_t key)
{
    uint16_t k = key & (uint16_t)~FW_CFG_ARCH_LOCAL;
    return key & FW_CFG_WRITE_CHANNEL || key == FW_CFG_SIGNATURE || key == FW_CFG_ID ||
           key == FW_CFG_FILE_DIR || (!(key & FW_CFG_ARCH_LOCAL) && k >= FW_CFG_FILE_FIRST);
}

int fw_cfg_add(struct fw_cfg *f, uint16_t key, const void *data, size_t len)
{
    if (owned_key(key)) {
        errno = EINVAL;
        return -1;
    }
    pthread_mutex_lock(&f->lock);
    int r = set_item(f, key, NULL, data, len, false);
    pthread_mutex_unlock(&f->lock);
    return r;
}

int fw_cfg_add_u8(struct fw_cfg *f, uint16_t key, uint8_t v)
{
    return fw_cfg_add(f, key, &v, 1);
}

static int add_le(struct fw_cfg *f, uint16_t key, uint64_t v, unsigned bytes)
{
    uint8_t b[8];
    for (unsigned i = 0; i < bytes; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return fw_cfg_add(f, key, b, bytes);
}

int fw_cfg_add_u16(struct fw_cfg *f, uint16_t key, uint16_t v) { return add_le(f, key, v, 2); }
int fw_cfg_add_u32(struct fw_cfg *f, uint16_t key, uint32_t v) { return add_le(f, key, v, 4); }
int fw_cfg_add_u64(struct fw_cfg *f, uint16_t key, uint64_t v) { return add_le(f, key, v, 8); }

int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, size_t len,
                    bool guest_writable)
{
    if (!name || !name[0] || len > UINT32_MAX) {
        errno = EINVAL;
        return -1;
    }
    if (strlen(name) >= FW_CFG_FILE_NAME) {
        errno = ENAMETOOLONG;
        return -1;
    }
    pthread_mutex_lock(&f->lock);
    int key = -1;
    for (unsigned i = 0; i < f->nitems; i++)
        if (!strcmp(f->items[i].name, name)) {
            errno = EEXIST;
            goto out;
        }
    if (f->nfiles >= FW_CFG_MAX_FILES) {
        errno = ENOSPC;
        goto out;
    }
    uint16_t k = (uint16_t)(FW_CFG_FILE_FIRST + f->nfiles);
    if (set_item(f, k, name, data, len, guest_writable) < 0)
        goto out;
    f->nfiles++;
    if (rebuild_dir(f) < 0) {
        /* Take the file back out: the directory must list what exists. */
        int i = find(f, k);
        free(f->items[i].data);
        f->items[i] = f->items[--f->nitems];
        f->nfiles--;
        f->cur = -1;
        goto out;
    }
    key = k;
out:
    pthread_mutex_unlock(&f->lock);
    return key;
}

long fw_cfg_get(struct fw_cfg *f, uint16_t key, void *buf, size_t cap)
{
    pthread_mutex_lock(&f->lock);
    int i = find(f, key);
    long len = -1;
    if (i >= 0) {
        len = f->items[i].len;
        memcpy(buf, f->items[i].data, (size_t)len < cap ? (size_t)len : cap);
    }
    pthread_mutex_unlock(&f->lock);
    return len;
}

int fw_cfg_add_e820(struct fw_cfg *f, const struct fw_cfg_e820 *e, unsigned n)
{
    uint8_t *t = calloc(n ? n : 1, 20);
    if (!t)
        return -1;
    for (unsigned i = 0; i < n; i++)
        for (unsigned b = 0; b < 8; b++) {
            t[i * 20 + b] = (uint8_t)(e[i].addr >> (8 * b));
            t[i * 20 + 8 + b] = (uint8_t)(e[i].len >> (8 * b));
            if (b < 4)
                t[i * 20 + 16 + b] = (uint8_t)(e[i].type >> (8 * b));
        }
    int r = fw_cfg_add_file(f, "etc/e820", t, (size_t)n * 20, false);
    free(t);
    return r < 0 ? -1 : 0;
}

int fw_cfg_add_pc_items(struct fw_cfg *f, unsigned cpus, unsigned max_cpus, uint64_t ram)
{
    if (max_cpus < cpus)
        max_cpus = cpus;
    /* NUMA: no nodes; a node number per possible CPU (all 0). */
    size_t numa_len = 8 + (size_t)max_cpus * 8;
    uint8_t *numa = calloc(1, numa_len);
    if (!numa)
        return -1;
    uint8_t boot_cpus[2] = { (uint8_t)cpus, (uint8_t)(cpus >> 8) };
    int r = fw_cfg_add_u16(f, FW_CFG_NB_CPUS, (uint16_t)cpus) |
            fw_cfg_add_u16(f, FW_CFG_MAX_CPUS, (uint16_t)max_cpus) |
            fw_cfg_add_u64(f, FW_CFG_RAM_SIZE, ram) |
            fw_cfg_add_u16(f, FW_CFG_NOGRAPHIC, 1) |
            fw_cfg_add_u16(f, FW_CFG_BOOT_MENU, 0) |
            fw_cfg_add(f, FW_CFG_NUMA, numa, numa_len) |
            fw_cfg_add_u16(f, FW_CFG_ACPI_TABLES, 0) |
            fw_cfg_add_u16(f, FW_CFG_SMBIOS_ENTRIES, 0) |
            fw_cfg_add_u8(f, FW_CFG_IRQ0_OVERRIDE, 1) |
            fw_cfg_add_u32(f, FW_CFG_E820_TABLE, 0);
    free(numa);
    if (r < 0)
        return -1;
    return fw_cfg_add_file(f, "etc/boot-cpus", boot_cpus, 2, false) < 0 ? -1 : 0;
}

static void select_key(struct fw_cfg *f, uint16_t key)
{
    f->cur = find(f, key & KEY_MASK);
    f->offset = 0;
}

void fw_cfg_io(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
               bool is_write)
{
    (void)v;
    struct fw_cfg *f = opaque;
    pthread_mutex_lock(&f->lock);
    if (off == 0 && is_write) {
        uint16_t key = data[0];
        if (len >= 2)
            key |= (uint16_t)(data[1] << 8);
        select_key(f, key);
    } else if (off == 1 && !is_write) {
        for (uint32_t i = 0; i < len; i++) {
            const struct item *it = f->cur >= 0 ? &f->items[f->cur] : NULL;
            data[i] = it && f->offset < it->len ? it->data[f->offset++] : 0;
        }
    }
    pthread_mutex_unlock(&f->lock);
}

/* Zeroes [gpa, gpa + len) of guest memory: 0 or -1. */
static int dma_zero(struct fw_cfg *f, uint64_t gpa, uint64_t len)
{
    static const uint8_t zeros[DMA_CHUNK];
    while (len) {
        size_t n = len < DMA_CHUNK ? (size_t)len : DMA_CHUNK;
        if (f->dma.write(f->dma.opaque, gpa, zeros, n) < 0)
            return -1;
        gpa += n;
        len -= n;
    }
    return 0;
}

/* One operation on the selected item: 0, or -1 for the error bit. */
static int dma_op(struct fw_cfg *f, uint32_t control, uint32_t length, uint64_t addr)
{
    struct item *it = f->cur >= 0 ? &f->items[f->cur] : NULL;
    uint32_t avail = it && f->offset < it->len ? it->len - f->offset : 0;
    uint32_t n = length < avail ? length : avail;
    if (control & FW_CFG_DMA_CTL_READ) {
        if (addr + length < addr)
            return -1;
        if (n && f->dma.write(f->dma.opaque, addr, it->data + f->offset, n) < 0)
            return -1;
        f->offset += n;
        return dma_zero(f, addr + n, length - n);     /* past the end: zeros */
    }
    if (control & FW_CFG_DMA_CTL_WRITE) {
        if (!it || !it->writable || length > avail)
            return -1;
        if (n && f->dma.read(f->dma.opaque, addr, it->data + f->offset, n) < 0)
            return -1;
        f->offset += n;
        return 0;
    }
    if (control & FW_CFG_DMA_CTL_SKIP)
        f->offset += n;
    return 0;
}

static void dma_transfer(struct fw_cfg *f, uint64_t desc)
{
    uint8_t d[16];
    if (desc + sizeof(d) < desc || f->dma.read(f->dma.opaque, desc, d, sizeof(d)) < 0)
        return;                        /* nowhere to report to */
    uint32_t control = get_be32(d), length = get_be32(d + 4);
    uint64_t addr = get_be64(d + 8);
    if (control & FW_CFG_DMA_CTL_SELECT)
        select_key(f, (uint16_t)(control >> 16));
    uint8_t result[4];
    put_be32(result, dma_op(f, control, length, addr) < 0 ? FW_CFG_DMA_CTL_ERROR : 0);
    f->dma.write(f->dma.opaque, desc, result, sizeof(result));
}

void fw_cfg_dma_io(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
                   bool is_write)
{
    (void)v;
    struct fw_cfg *f = opaque;
    pthread_mutex_lock(&f->lock);
    if (!is_write) {
        for (uint32_t i = 0; i < len && off + i < 8; i++)
            data[i] = (uint8_t)(FW_CFG_DMA_SIGNATURE >> (8 * (7 - (off + i))));
    } else if (off == 0 && len == 4) {
        f->dma_hi = get_be32(data);
    } else if ((off == 4 && len == 4) || (off == 0 && len == 8)) {
        uint64_t a = len == 8 ? get_be64(data) : (uint64_t)f->dma_hi << 32 | get_be32(data);
        f->dma_hi = 0;
        dma_transfer(f, a);
    }
    pthread_mutex_unlock(&f->lock);
}

struct fw_cfg *fw_cfg_create(struct iobus *bus, const struct fw_cfg_dma_ops *dma)
{
    struct fw_cfg *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    pthread_mutex_init(&f->lock, NULL);
    f->bus = bus;
    f->cur = -1;
    if (dma && dma->read && dma->write) {
        f->dma = *dma;
        f->has_dma = true;
    }
    uint8_t id[4] = { FW_CFG_VERSION | (f->has_dma ? FW_CFG_VERSION_DMA : 0), 0, 0, 0 };
    if (set_item(f, FW_CFG_SIGNATURE, NULL, "QEMU", 4, false) < 0 ||
        set_item(f, FW_CFG_ID, NULL, id, 4, false) < 0 || rebuild_dir(f) < 0)
        goto fail;
    struct iobus_range ports = {
        .space = IOBUS_PIO, .base = FW_CFG_PORT_SEL, .len = 2,
        .fn = fw_cfg_io, .opaque = f, .name = "fw_cfg",
    };
    if (iobus_register(bus, &ports) < 0)
        goto fail;
    if (f->has_dma) {
        struct iobus_range dr = ports;
        dr.base = FW_CFG_PORT_DMA;
        dr.len = 8;
        dr.fn = fw_cfg_dma_io;
        if (iobus_register(bus, &dr) < 0) {
            int e = errno;
            iobus_unregister(bus, IOBUS_PIO, FW_CFG_PORT_SEL);
            errno = e;
            goto fail;
        }
    }
    return f;
fail:;
    int e = errno;
    for (unsigned i = 0; i < f->nitems; i++)
        free(f->items[i].data);
    free(f->items);
    pthread_mutex_destroy(&f->lock);
    free(f);
    errno = e;
    return NULL;
}

void fw_cfg_destroy(struct fw_cfg *f)
{
    if (!f)
        return;
    iobus_unregister(f->bus, IOBUS_PIO, FW_CFG_PORT_SEL);
    if (f->has_dma)
        iobus_unregister(f->bus, IOBUS_PIO, FW_CFG_PORT_DMA);
    for (unsigned i = 0; i < f->nitems; i++)
        free(f->items[i].data);
    free(f->items);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

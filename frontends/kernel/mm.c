/*
 * Memory setup: feeds the RAM ranges of the boot memory map to the page
 * allocator (lib/pagealloc.c) and takes out what is in use: the low 1 MiB
 * (start_info at 0x1000, command line at 0x2000, FDT at 0x10000 and the
 * arch layer's boot page tables), the kernel image, every boot module (the
 * FDT, a ramdisk) and wherever the boot data actually are if the VMM put
 * them elsewhere.  The allocator's bitmap
 * goes in the first free pages, sized for this RAM, so boot zeroes almost
 * nothing (plain cpu-mode runs ~1M instructions/s).
 */
#include "heap.h"
#include "kernel.h"
#include "mm.h"
#include "pagealloc.h"
#include "platform.h"
#include "public/hvm/start_info.h"
#include "public/tandem.h"
#include "spinlock.h"

extern char _end[]; /* end of the kernel image (linker script) */

static struct pagealloc pages;
static struct heap heap;
static struct spinlock mm_lock = SPINLOCK_INIT;
static uint64_t total_pages;

static void reserve_boot_data(const struct hvm_start_info *si)
{
    pagealloc_reserve(&pages, 0, TANDEM_KERNEL_MIN_GPA);
    pagealloc_reserve(&pages, TANDEM_KERNEL_MIN_GPA, virt_to_phys(_end));
    pagealloc_reserve(&pages, virt_to_phys(si), virt_to_phys(si) + sizeof(*si));
    if (si->cmdline_paddr)
        pagealloc_reserve(&pages, si->cmdline_paddr, si->cmdline_paddr + TANDEM_CMDLINE_MAX);
    if (si->nr_modules && si->modlist_paddr)
        pagealloc_reserve(&pages, si->modlist_paddr,
                          si->modlist_paddr + si->nr_modules * sizeof(struct hvm_modlist_entry));
    for (unsigned int i = 0; i < platform.nr_modules; i++)   /* FDT, ramdisk */
        pagealloc_reserve(&pages, platform.modules[i].start, platform.modules[i].end);
    if (si->memmap_paddr)
        pagealloc_reserve(&pages, si->memmap_paddr,
                          si->memmap_paddr + si->memmap_entries *
                                                 sizeof(struct hvm_memmap_table_entry));
}

/* The end of the first boot module that [start, start + bytes) overlaps,
 * or 0 when it overlaps none. */
static uint64_t module_in_the_way(uint64_t start, uint64_t bytes)
{
    for (unsigned int i = 0; i < platform.nr_modules; i++)
        if (start < platform.modules[i].end && platform.modules[i].start < start + bytes)
            return platform.modules[i].end;
    return 0;
}

/* The first page-aligned spot of `bytes` in RAM above the kernel and clear
 * of the boot modules (a ramdisk). */
static uint64_t find_bitmap_spot(uint64_t bytes)
{
    uint64_t lo = ALIGN_UP(virt_to_phys(_end), PAGE_SIZE);
    for (unsigned int i = 0; i < platform.nr_ram; i++) {
        uint64_t start = ALIGN_UP(MAX(platform.ram[i].start, lo), PAGE_SIZE);
        for (uint64_t past; (past = module_in_the_way(start, bytes)) != 0;)
            start = ALIGN_UP(past, PAGE_SIZE);
        if (start + bytes <= platform.ram[i].end)
            return start;
    }
    return 0;
}

static void *heap_grow(void *ctx, size_t bytes, size_t *got)
{
    (void)ctx;
    unsigned long n = (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
    uint64_t pa = pagealloc_alloc(&pages, n, 1);
    if (!pa)
        return NULL;
    *got = n * PAGE_SIZE;
    return phys_to_virt(pa);
}

void mm_init(const struct hvm_start_info *si)
{
    uint64_t top = 0;
    for (unsigned int i = 0; i < platform.nr_ram; i++)
        top = MAX(top, platform.ram[i].end);
    uint64_t nr_frames = top / PAGE_SIZE;
    size_t bytes = pagealloc_bitmap_bytes(nr_frames);
    uint64_t spot = find_bitmap_spot(bytes);
    if (!spot)
        panic("mm: no room for a %zu-byte page bitmap above the kernel", bytes);
    /* All free, then the holes between RAM ranges taken out: cheaper than
     * freeing range by range when (as usual) RAM is one range. */
    pagealloc_init_free(&pages, phys_to_virt(spot), nr_frames);
    uint64_t covered = 0;
    for (unsigned int i = 0; i < platform.nr_ram; i++) {
        if (platform.ram[i].start > covered)
            pagealloc_reserve(&pages, covered, platform.ram[i].start);
        covered = MAX(covered, platform.ram[i].end);
    }
    reserve_boot_data(si);
    pagealloc_reserve(&pages, spot, spot + bytes);
    total_pages = pages.nr_free;
    heap_init(&heap, heap_grow, NULL);
}

void *page_alloc(unsigned long n)
{
    unsigned long flags = spin_lock_irqsave(&mm_lock);
    uint64_t pa = pagealloc_alloc(&pages, n, 1);
    spin_unlock_irqrestore(&mm_lock, flags);
    return pa ? phys_to_virt(pa) : NULL;
}

void *page_alloc_zeroed(unsigned long n)
{
    void *p = page_alloc(n);
    if (p)
        memset(p, 0, n * PAGE_SIZE);
    return p;
}

void page_free(void *p, unsigned long n)
{
    unsigned long flags = spin_lock_irqsave(&mm_lock);
    int r = pagealloc_free(&pages, virt_to_phys(p), n);
    spin_unlock_irqrestore(&mm_lock, flags);
    if (r < 0)
        panic("page_free(%p, %lu): not allocated", p, n);
}

uint64_t mm_free_pages(void)
{
    return pages.nr_free;
}

uint64_t mm_total_pages(void)
{
    return total_pages;
}

void *malloc(size_t size)
{
    unsigned long flags = spin_lock_irqsave(&mm_lock);
    void *p = heap_alloc(&heap, size);
    spin_unlock_irqrestore(&mm_lock, flags);
    return p;
}

void *calloc(size_t n, size_t size)
{
    unsigned long flags = spin_lock_irqsave(&mm_lock);
    void *p = heap_calloc(&heap, n, size);
    spin_unlock_irqrestore(&mm_lock, flags);
    return p;
}

void *realloc(void *p, size_t size)
{
    unsigned long flags = spin_lock_irqsave(&mm_lock);
    void *q = heap_realloc(&heap, p, size);
    spin_unlock_irqrestore(&mm_lock, flags);
    return q;
}

void free(void *p)
{
    unsigned long flags = spin_lock_irqsave(&mm_lock);
    int r = heap_free(&heap, p);
    spin_unlock_irqrestore(&mm_lock, flags);
    if (r < 0)
        panic("free(%p): not a live heap block", p);
}

/*
 * Guest memory: the physical page allocator over the RAM the VMM gave us
 * (minus the kernel image and the boot data) and malloc on top of it.
 * Both are safe to call from any vCPU (not from interrupt handlers).
 */
#ifndef TANDEM_GUEST_MM_H
#define TANDEM_GUEST_MM_H

#include <stddef.h>
#include <stdint.h>

struct hvm_start_info;

/* Sets up the allocator; needs `platform` parsed. */
void mm_init(const struct hvm_start_info *si);

/* n contiguous pages (not zeroed), or NULL. */
void *page_alloc(unsigned long n);
/* n contiguous zeroed pages, or NULL. */
void *page_alloc_zeroed(unsigned long n);
void page_free(void *p, unsigned long n);

uint64_t mm_free_pages(void);
uint64_t mm_total_pages(void);

void *malloc(size_t size);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t size);
void free(void *p);

#endif

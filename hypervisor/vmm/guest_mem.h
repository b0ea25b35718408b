/*
 * The one place guest addresses become host pointers. Hypercall pointer
 * arguments are guest-physical (the guest identity-maps its memory, see
 * docs/abi.md); an access is allowed only if it lies entirely in RAM or in
 * the platform region (the hypercall page is read-only).
 */
#ifndef TANDEM_VMM_GUEST_MEM_H
#define TANDEM_VMM_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;

/* Host pointer for guest-physical [gpa, gpa + len), or NULL. */
void *gpa_to_host(struct vm *vm, uint64_t gpa, uint64_t len, bool write);

/* 0, or -EFAULT when the range is not guest memory. */
int copy_from_guest(struct vm *vm, void *dst, uint64_t gpa, size_t len);
int copy_to_guest(struct vm *vm, uint64_t gpa, const void *src, size_t len);

/* True if gpa is a page inside the physmap window. */
bool gpa_in_physmap(uint64_t gpa);

#endif

/*
 * The one place guest addresses become host pointers. Hypercall pointer
 * arguments of a Tandem guest are guest-physical (it identity-maps its
 * memory, see docs/abi.md); those of a guest on the Xen HVM platform are
 * linear addresses, as Xen takes them from HVM guests, translated page by
 * page through the calling vCPU's page tables (KVM_TRANSLATE) while
 * guest_mem_hypercall() names that vCPU. An access is allowed only if it
 * lies entirely in RAM or in the platform region (the hypercall page is
 * read-only).
 */
#ifndef TANDEM_VMM_GUEST_MEM_H
#define TANDEM_VMM_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;

/* Host pointer for guest-physical [gpa, gpa + len), or NULL. */
void *gpa_to_host(struct vm *vm, uint64_t gpa, uint64_t len, bool write);

struct vcpu;
/* The calling thread serves a hypercall of v (NULL: done); copy_from_guest
 * and copy_to_guest then take linear addresses if v's domain is on the Xen
 * HVM platform. */
void guest_mem_hypercall(struct vcpu *v);

/* 0, or -EFAULT when the range is not guest memory. */
int copy_from_guest(struct vm *vm, void *dst, uint64_t gpa, size_t len);
int copy_to_guest(struct vm *vm, uint64_t gpa, const void *src, size_t len);

/* True if gpa is a page inside the physmap window. */
bool gpa_in_physmap(uint64_t gpa);

#endif

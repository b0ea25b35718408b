/*
 * The guest console.  Until console_init() it writes through the
 * console_io hypercall; afterwards through the PV console ring
 * (struct xencons_interface, event channel 2), as a Xen guest would.
 */
#ifndef TANDEM_GUEST_CONSOLE_H
#define TANDEM_GUEST_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

/* Switches output to the ring at ring_gpa, notifying port. */
void console_init(uint64_t ring_gpa, uint32_t port);

/* Writes bytes as they are.  Safe from any context, any vCPU. */
void console_write(const char *s, size_t len);

/* Waits (bounded) until the backend has consumed everything written, so
 * that nothing is lost at shutdown. */
void console_flush(void);

/* Reads up to len bytes of input that are available now; returns count. */
size_t console_read(char *buf, size_t len);

/* Like console_read, but waits (in a thread) until input arrives or the
 * deadline (system time, 0 = none) passes; 0 bytes means timeout. */
size_t console_read_wait(char *buf, size_t len, uint64_t deadline);

/* The console event: wakes readers. */
void console_event_handler(uint32_t port, void *arg);

#endif

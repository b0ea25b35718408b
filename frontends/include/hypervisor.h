/*
 * Domain-level requests to the hypervisor: shutdown with a reason.
 */
#ifndef TANDEM_GUEST_HYPERVISOR_H
#define TANDEM_GUEST_HYPERVISOR_H

/* Flushes the console and asks for SHUTDOWN_<reason>; never returns. */
void hypervisor_shutdown(unsigned int reason) __attribute__((noreturn));

#endif

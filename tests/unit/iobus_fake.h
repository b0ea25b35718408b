/* The names the UART, RTC, i8042 and fw_cfg suites use for the helpers of
 * vmm_dev_bus.h (tandem-vmm's own I/O bus underneath). */
#ifndef TANDEM_TESTS_IOBUS_FAKE_H
#define TANDEM_TESTS_IOBUS_FAKE_H

#include "vmm_dev_bus.h"

static inline unsigned iobus_fake_count(struct iobus *b, enum iobus_space s) { return tbus_count(b, s); }
static inline uint32_t fake_in(struct iobus *b, uint16_t p, uint32_t len) { return tbus_in(b, p, len); }
static inline void fake_out(struct iobus *b, uint16_t p, uint32_t len, uint32_t v) { tbus_out(b, p, len, v); }
static inline uint8_t fake_inb(struct iobus *b, uint16_t p) { return (uint8_t)tbus_in(b, p, 1); }
static inline void fake_outb(struct iobus *b, uint16_t p, uint8_t v) { tbus_out(b, p, 1, v); }

#endif

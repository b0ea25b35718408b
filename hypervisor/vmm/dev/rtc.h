/*
 * MC146818 CMOS RTC and NVRAM (docs/hvm.md "Emulated devices"): index port
 * 0x70 (bit 7 disables NMI), data port 0x71, 128 bytes of which 0x00-0x0d
 * are the clock's and 0x32 its century. The clock is the host's wall clock
 * at creation (or what rtc_set_time gave) plus the time elapsed since.
 */
#ifndef TANDEM_VMM_DEV_RTC_H
#define TANDEM_VMM_DEV_RTC_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/irq.h"

struct iobus;
struct vcpu;

#define RTC_PORT_BASE 0x70
#define RTC_IRQ       8
#define RTC_NVRAM_SIZE 128

/* Clock and status registers. */
#define RTC_SECONDS       0x00
#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES       0x02
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS         0x04
#define RTC_HOURS_ALARM   0x05
#define RTC_DAY_OF_WEEK   0x06
#define RTC_DAY_OF_MONTH  0x07
#define RTC_MONTH         0x08
#define RTC_YEAR          0x09
#define RTC_REG_A         0x0a
#define RTC_REG_B         0x0b
#define RTC_REG_C         0x0c
#define RTC_REG_D         0x0d
#define RTC_CENTURY       0x32

#define RTC_A_UIP  0x80
#define RTC_B_SET  0x80
#define RTC_B_PIE  0x40
#define RTC_B_AIE  0x20
#define RTC_B_UIE  0x10
#define RTC_B_BIN  0x04
#define RTC_B_24H  0x02
#define RTC_C_IRQF 0x80
#define RTC_C_PF   0x40
#define RTC_C_AF   0x20
#define RTC_C_UF   0x10
#define RTC_D_VRT  0x80

/* CMOS bytes a PC BIOS reads (SeaBIOS: memory size, CPU count, boot order). */
#define CMOS_BASE_MEM_LOW   0x15   /* KiB below 1 MiB */
#define CMOS_BASE_MEM_HIGH  0x16
#define CMOS_EXT_MEM_LOW    0x17   /* KiB above 1 MiB, at most 65535 (also 0x30/0x31) */
#define CMOS_EXT_MEM_HIGH   0x18
#define CMOS_EXTMEM_LOW     0x30
#define CMOS_EXTMEM_HIGH    0x31
#define CMOS_EXTMEM2_LOW    0x34   /* 64 KiB units above 16 MiB, below 4 GiB */
#define CMOS_EXTMEM2_HIGH   0x35
#define CMOS_BOOTFLAG1      0x38   /* bit 0: skip the floppy signature check; 7:4 third boot device */
#define CMOS_BOOTFLAG2      0x3d   /* 3:0 first, 7:4 second boot device (1 floppy, 2 disk, 3 CD) */
#define CMOS_HIGHMEM_LOW    0x5b   /* 64 KiB units above 4 GiB (24 bits) */
#define CMOS_HIGHMEM_MID    0x5c
#define CMOS_HIGHMEM_HIGH   0x5d
#define CMOS_SMP_COUNT      0x5f   /* vCPUs - 1 */

/* The monotonic clock the RTC counts with; NULL in rtc_create means
 * CLOCK_MONOTONIC. Tests give their own. */
struct rtc_clock {
    int64_t (*now_ns)(void *opaque);
    void *opaque;
};

struct rtc;

/* Registers ports 0x70-0x71. irq (IRQ 8) may be NULL. NULL with errno set
 * if the ports are taken or memory runs out. */
struct rtc *rtc_create(struct iobus *bus, const struct irq_line *irq, const struct rtc_clock *clk);
void rtc_destroy(struct rtc *r);

/* The wall clock (UTC seconds since 1970) from now on; the guest can set
 * it too, through the registers. */
void rtc_set_time(struct rtc *r, int64_t unix_seconds);
int64_t rtc_get_time(struct rtc *r);

/* NVRAM bytes for the VMM: 0, or -1 for an index past 127 or one of the
 * clock's (0x00-0x0d, 0x32). */
int rtc_nvram_set(struct rtc *r, unsigned idx, uint8_t val);
int rtc_nvram_get(struct rtc *r, unsigned idx);
/* The memory-size bytes above from RAM below and above 4 GiB (bytes), and
 * the vCPU count byte. */
void rtc_set_memory(struct rtc *r, uint64_t below_4g, uint64_t above_4g);
void rtc_set_cpus(struct rtc *r, unsigned n);

/* Brings register C's flags up to now (periodic, alarm, update-ended) and
 * drives IRQ 8; returns the nanoseconds until the next enabled event, or
 * -1 if no interrupt is enabled. The VMM arms a timer with it and calls
 * again when it fires; port accesses update the flags too. */
int64_t rtc_poll(struct rtc *r);

/* fn is called (with no RTC lock held) after the guest wrote register A,
 * B, the time or the alarm: the timer rtc_poll asked for may have changed. */
void rtc_set_changed(struct rtc *r, void (*fn)(void *opaque), void *opaque);

/* Whether the guest's last index write set the NMI-disable bit. */
bool rtc_nmi_disabled(struct rtc *r);

void rtc_io(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
            bool is_write);

#endif

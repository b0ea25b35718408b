/*
 * Intel 82540EM (e1000) on the network engine (e1000.h; docs/e1000.md).
 * Registers, EEPROM, PHY and interrupts from Intel's 8254x Software
 * Developer's Manual; what a driver reads at probe from Linux's e1000
 * driver (e1000_hw.c) and iPXE's intel driver.
 *
 * State: every register in mac[] (indexed by offset / 4) under e->lock;
 * the EEPROM's Microwire state, the PHY's 32 registers, the TX contexts
 * and ring positions beside them. The device thread walks the rings with
 * the lock held (dev/e1000_ring.c: pure functions over guest memory) and
 * drops it only to sleep in the engine and to flush its submissions.
 *
 * Transmit: TDT moves -> the thread walks from its fetch position
 * (tx_fetch) to TDT, one unit at a time: a context descriptor, or a
 * frame's descriptors up to EOP, which become one engine send (iovecs
 * into guest RAM, offloads as the virtio-net header). Every unit is a
 * record in a FIFO in ring order; a record is retired when its send
 * completed (at once for a context, a drop or an empty frame): DD is
 * written into its descriptors with RS, TDH moves past it, TXDW is
 * raised (TXQE when TDH reaches TDT). So the guest reuses a buffer only
 * once the kernel has read it. Writing TDBAL/TDBAH/TDLEN/TDH or a reset
 * starts a new ring generation: records of the old one retire without
 * touching guest memory.
 *
 * Receive: after each reap, while the engine has a frame: filter it
 * (RCTL, RAL/RAH, MTA, VFTA), complete a partial checksum, strip a VLAN
 * tag (CTRL.VME), pad, append the FCS (RCTL.SECRC off, as Linux's e1000
 * leaves it), copy it into the descriptors from RDH (RCTL.BSIZE/BSEX
 * bytes each) and release it. With too few descriptors posted the frame
 * waits in the engine (and the tap queues, then drops, in the kernel);
 * the next RDT write wakes the thread.
 *
 * Interrupt moderation is simplified: RDTR, RADV, TIDV, TADV and ITR are
 * stored and read back but no timer runs. Causes are raised at the end
 * of each pass of the device thread, which batches naturally: one RXT0
 * for all the frames one pass delivered, one TXDW for all the sends one
 * reap completed. IDE (delayed interrupt) is taken as immediate.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "dev/e1000.h"
#include "dev/e1000_hw.h"
#include "dev/e1000_ring.h"
#include "neteng.h"
#include "tdm_uring.h"

#define TX_DEPTH   64                  /* sends in flight (each a TX slot) */
#define TXQ_SIZE   256                 /* records in ring order, in flight or awaiting retirement */
#define RX_BUFS    32                  /* tap reads in flight */
#define RX_BATCH   64                  /* frames delivered per pass with the lock held */
#define TX_BUDGET  1024                /* descriptors walked per pass with the lock held */
#define NREGS      (E1000_MMIO_SIZE / 4)
#define R(off)     e->mac[(off) >> 2]

enum { TAG_KICK = 5 };                 /* our eventfd read on the engine's ring */

struct txrec {
    unsigned gen;
    uint32_t first, ndesc;
    uint64_t rs_mask;
    bool done, sent;                   /* sent: a frame the engine took */
    int res;
    uint32_t len, segments, wire_bytes;
    bool bcast, mcast, tso;
};

struct txw {                           /* one send slot */
    struct neteng_tx tx;
    struct e1000_tx_frame f;           /* holds the header copy the send points at */
    uint8_t *bounce;                   /* allocated the first time a frame needs it */
    unsigned rec;
};

struct bar {
    bool on;
    enum iobus_space space;
    uint64_t base;
};

/* The Microwire EEPROM's serial state (EECD bit-banging). */
struct ee {
    bool sk;
    unsigned nbits;                    /* bits of the command shifted in (with the start bit) */
    uint32_t in;
    bool reading, ignoring;
    unsigned word, bit;
    bool dout;
};

struct e1000 {
    pthread_mutex_t lock;
    char name[64];
    struct e1000_config cfg;
    const struct dev_dma *dma;
    struct pci_dev *pci;
    struct iobus *iobus;               /* the BARs' (NULL: they are not mapped) */
    struct bar bar[2];                 /* touched only by bar_update (serialized by the bus) */

    uint32_t mac[NREGS];
    uint16_t eeprom[E1000_EE_WORDS];
    struct ee ee;
    uint16_t phy[E1000_PHY_REGS];
    uint32_t ioaddr;
    bool irq_level;

    /* transmit */
    struct e1000_tx_state txst;
    uint32_t tx_fetch;
    unsigned tx_gen;
    struct txrec txq[TXQ_SIZE];
    unsigned txq_head, txq_count;
    struct txw w[TX_DEPTH];
    unsigned wfree[TX_DEPTH], nwfree;

    /* receive */
    bool rx_starved;                   /* frames wait for descriptors: an RDT write kicks */

    /* the thread */
    struct neteng *eng;
    pthread_t thread;
    bool thread_started, stopping;
    int kick_fd;
    uint64_t kick_buf;
    atomic_bool kicked;

    struct e1000_stats st;
    uint8_t logged[NREGS / 8];         /* offsets whose odd access was reported */
    unsigned regs_logged;
    unsigned drops_logged;
};

__attribute__((format(printf, 2, 3)))
static void elog(struct e1000 *e, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "tandem-vmm: %s: %s\n", e->name, msg);
}

/* Once per register offset, and 32 offsets at most (a guest probing
 * every offset must not fill the log). */
#define REG_LOG_MAX 32
static void log_reg_once(struct e1000 *e, uint32_t off, const char *what)
{
    uint32_t i = (off & (E1000_MMIO_SIZE - 1)) >> 2;
    if (e->logged[i / 8] & (1u << (i % 8)) || e->regs_logged > REG_LOG_MAX)
        return;
    e->logged[i / 8] |= (uint8_t)(1u << (i % 8));
    if (++e->regs_logged > REG_LOG_MAX)
        elog(e, "more odd register accesses: no longer reported");
    else
        elog(e, "%s at register %#x (reported once)", what, off);
}

/* A hostile guest must not flood the log: 16 lines, then every 1024th. */
static void log_drop(struct e1000 *e, const char *dir, const char *why)
{
    unsigned n = ++e->drops_logged;
    if (n > 16 && n % 1024)
        return;
    elog(e, "%s frame dropped: %s (drop %u)", dir, why, n);
}

static void kick(struct e1000 *e)
{
    uint64_t one = 1;

    if (atomic_exchange(&e->kicked, true))
        return;
    if (write(e->kick_fd, &one, sizeof(one)) == sizeof(one))
        __atomic_fetch_add(&e->st.kicks, 1, __ATOMIC_RELAXED);
}

/* ---- interrupts ---- */

static void update_irq(struct e1000 *e)
{
    bool level = (R(E1000_ICR) & R(E1000_IMS)) != 0;
    if (level != e->irq_level) {
        e->irq_level = level;
        pci_set_intx(e->pci, level);
    }
}

static void raise_cause(struct e1000 *e, uint32_t causes)
{
    R(E1000_ICR) |= causes & E1000_ICR_VALID;
    update_irq(e);
}

/* ---- statistics ---- */

static void stat_add(struct e1000 *e, uint32_t off, uint32_t n)
{
    R(off) += n;
}

static void stat_add64(struct e1000 *e, uint32_t lo, uint64_t n)
{
    uint64_t v = ((uint64_t)R(lo + 4) << 32 | R(lo)) + n;
    R(lo) = (uint32_t)v;
    R(lo + 4) = (uint32_t)(v >> 32);
}

/* The size bins of PRCxx / PTCxx (with the FCS). */
static void stat_size(struct e1000 *e, uint32_t base64, uint32_t len)
{
    static const uint32_t top[] = { 64, 127, 255, 511, 1023, 1522 };
    for (unsigned i = 0; i < 6; i++) {
        if (len <= top[i]) {
            stat_add(e, base64 + 4 * i, 1);
            return;
        }
    }
}

/* ---- EEPROM ---- */

static void eeprom_init(struct e1000 *e)
{
    uint16_t *w = e->eeprom, sum = 0;
    const uint8_t *m = e->cfg.mac;

    memset(w, 0, sizeof(e->eeprom));
    for (unsigned i = 0; i < 3; i++)
        w[E1000_EE_MAC + i] = (uint16_t)(m[2 * i] | m[2 * i + 1] << 8);
    w[E1000_EE_COMPAT] = 0x0000;
    w[E1000_EE_ID_LED] = 0xffff;       /* reserved value: the driver's default LED setup */
    w[E1000_EE_VERSION] = 0x1000;      /* image version 1.0 */
    w[0x06] = 0xffff;                  /* OEM words, unprogrammed */
    w[0x07] = 0xffff;
    w[E1000_EE_PBA] = 0xffff;          /* PBA number in the newer format: */
    w[E1000_EE_PBA + 1] = 0x0000;      /* "not set" */
    w[E1000_EE_ICW1] = 0x0003;         /* load the IDs below */
    w[E1000_EE_SUBSYS_ID] = E1000_SUBSYS_ID;
    w[E1000_EE_SUBSYS_VEN] = E1000_SUBSYS_VENDOR;
    w[E1000_EE_DEVICE_ID] = E1000_DEVICE_82540EM;
    w[E1000_EE_VENDOR_ID] = E1000_VENDOR;
    w[E1000_EE_ICW2] = 0x0000;         /* no PAUSE: flow control off */
    w[E1000_EE_ICW3_PORT_A] = 0x0000;  /* no APM: wake on LAN off */
    for (unsigned i = 0; i < E1000_EE_CHECKSUM; i++)
        sum = (uint16_t)(sum + w[i]);
    w[E1000_EE_CHECKSUM] = (uint16_t)(E1000_EE_SUM - sum);
}

/* A write of EECD: CS low ends any command; on each rising edge of SK
 * with CS high the EEPROM takes DI (a start bit, a 2-bit opcode, 6
 * address bits) and, once a READ has its address, gives a dummy 0 and
 * then the words' bits on DO, high bit first, continuing into the next
 * word. Other commands (write, erase, enable) are taken and ignored: the
 * EEPROM is read-only. */
static void eecd_write(struct e1000 *e, uint32_t val)
{
    struct ee *s = &e->ee;
    bool cs = val & E1000_EECD_CS, sk = val & E1000_EECD_SK, rising = sk && !s->sk;

    R(E1000_EECD) = (R(E1000_EECD) & ~E1000_EECD_SW) | (val & E1000_EECD_SW);
    s->sk = sk;
    if (!cs) {
        *s = (struct ee){ .sk = sk, .dout = true };
        return;
    }
    if (!rising || s->ignoring)
        return;
    if (s->reading) {
        s->dout = e->eeprom[s->word % E1000_EE_WORDS] >> s->bit & 1;
        if (s->bit-- == 0) {
            s->bit = 15;
            s->word = (s->word + 1) % E1000_EE_WORDS;
        }
        return;
    }
    bool di = val & E1000_EECD_DI;
    if (!s->nbits && !di)
        return;                        /* still waiting for the start bit */
    s->in = s->in << 1 | di;
    if (++s->nbits < 3 + E1000_EE_ADDR_BITS)
        return;
    if ((s->in >> E1000_EE_ADDR_BITS & 3) == E1000_EE_READ_OPCODE) {
        s->reading = true;
        s->word = s->in & ((1u << E1000_EE_ADDR_BITS) - 1);
        s->bit = 15;
        s->dout = false;               /* the dummy zero */
    } else {
        s->ignoring = true;
    }
}

static uint32_t eecd_read(struct e1000 *e)
{
    uint32_t v = R(E1000_EECD) & ~(E1000_EECD_DO | E1000_EECD_GNT);
    if (v & E1000_EECD_REQ)
        v |= E1000_EECD_GNT;           /* the EEPROM is never busy */
    if (e->ee.dout)
        v |= E1000_EECD_DO;
    return v | E1000_EECD_PRES;
}

static void eerd_write(struct e1000 *e, uint32_t val)
{
    if (!(val & E1000_EERD_START))
        return;
    uint32_t addr = (val >> E1000_EERD_ADDR_SHIFT) & 0xff;
    uint32_t data = addr < E1000_EE_WORDS ? e->eeprom[addr] : 0;
    R(E1000_EERD) = data << E1000_EERD_DATA_SHIFT | addr << E1000_EERD_ADDR_SHIFT | E1000_EERD_DONE;
}

/* ---- PHY ---- */

static const uint16_t phy_reset_values[E1000_PHY_REGS] = {
    [E1000_PHY_CTRL] = 0x1140,         /* autoneg on, full duplex, 1000 Mb/s */
    [E1000_PHY_STATUS] = 0x796d,       /* 10/100 abilities, ext status, AN done, link up */
    [E1000_PHY_ID1] = E1000_PHY_ID1_M88E1011,
    [E1000_PHY_ID2] = E1000_PHY_ID2_M88E1011,
    [E1000_PHY_AUTONEG_ADV] = 0x01e1,
    [E1000_PHY_LP_ABILITY] = 0x45e1,   /* ack, pause, 10/100 both duplexes */
    [E1000_PHY_AUTONEG_EXP] = 0x0001,  /* the partner negotiates */
    [E1000_PHY_NEXT_PAGE] = 0x2001,
    [E1000_PHY_1000T_CTRL] = 0x0300,   /* advertise 1000 full and half */
    [E1000_PHY_1000T_STATUS] = 0x3c00, /* receivers OK, partner 1000 full and half */
    [E1000_PHY_EXT_STATUS] = 0x3000,   /* 1000BASE-T full and half */
    [E1000_M88_SPEC_CTRL] = 0x0068,
    [E1000_M88_SPEC_STATUS] = 0xac00,  /* 1000 Mb/s, full duplex, resolved, link */
    [E1000_M88_EXT_SPEC_CTRL] = 0x0c60,
};

/* Registers the guest cannot change (status, IDs, the partner's). */
static bool phy_read_only(unsigned reg)
{
    switch (reg) {
    case E1000_PHY_STATUS: case E1000_PHY_ID1: case E1000_PHY_ID2: case E1000_PHY_LP_ABILITY:
    case E1000_PHY_AUTONEG_EXP: case E1000_PHY_LP_NEXT_PAGE: case E1000_PHY_1000T_STATUS:
    case E1000_PHY_EXT_STATUS: case E1000_M88_SPEC_STATUS: case E1000_M88_INT_STATUS:
    case E1000_M88_RX_ERR_CNTR:
        return true;
    }
    return false;
}

static void phy_reset(struct e1000 *e)
{
    memcpy(e->phy, phy_reset_values, sizeof(e->phy));
}

static void phy_write(struct e1000 *e, unsigned reg, uint16_t v)
{
    if (phy_read_only(reg))
        return;
    if (reg == E1000_PHY_CTRL)         /* reset and restart complete at once */
        v &= (uint16_t)~(E1000_MII_CR_RESET | E1000_MII_CR_RESTART_AN);
    e->phy[reg] = v;
}

static void mdic_write(struct e1000 *e, uint32_t val)
{
    unsigned phy = (val >> E1000_MDIC_PHY_SHIFT) & 0x1f, reg = (val >> E1000_MDIC_REG_SHIFT) & 0x1f;
    uint32_t op = val & (E1000_MDIC_OP_READ | E1000_MDIC_OP_WRITE);
    uint32_t data = val & E1000_MDIC_DATA_MASK, flags = E1000_MDIC_READY;

    if (phy != E1000_PHY_ADDR || (op != E1000_MDIC_OP_READ && op != E1000_MDIC_OP_WRITE))
        flags |= E1000_MDIC_ERROR;     /* nothing answers at that address */
    else if (op == E1000_MDIC_OP_READ)
        data = e->phy[reg];
    else
        phy_write(e, reg, (uint16_t)data);
    R(E1000_MDIC) = (val & ~(E1000_MDIC_DATA_MASK | E1000_MDIC_READY | E1000_MDIC_ERROR)) | data |
                    flags;
    if (val & E1000_MDIC_INT_EN)
        raise_cause(e, E1000_ICR_MDAC);
}

/* ---- reset ---- */

static void load_rar0(struct e1000 *e)
{
    const uint16_t *w = e->eeprom;
    R(E1000_RA) = (uint32_t)w[0] | (uint32_t)w[1] << 16;
    R(E1000_RA + 4) = w[2] | E1000_RAH_AV;
}

/* CTRL.RST (and power-on): every register to its reset value, the rings
 * forgotten (sends still in flight retire without touching the guest),
 * the interrupt line low. The PHY keeps its registers (CTRL.PHY_RST
 * resets it). */
static void reset_locked(struct e1000 *e)
{
    memset(e->mac, 0, sizeof(e->mac));
    R(E1000_CTRL) = E1000_CTRL_FD | E1000_CTRL_SLU | E1000_CTRL_SPD_1000;
    R(E1000_EECD) = E1000_EECD_FWE_DIS | E1000_EECD_PRES;
    R(E1000_LEDCTL) = 0x07068302;
    R(E1000_PBA) = 0x00000030;         /* 48 KiB receive, 16 KiB transmit */
    R(E1000_TCTL) = E1000_TCTL_PSP;
    R(E1000_VET) = 0x8100;
    R(E1000_RXCSUM) = E1000_RXCSUM_IPOFL | E1000_RXCSUM_TUOFL;
    load_rar0(e);
    e->ee = (struct ee){ .dout = true };
    e->ioaddr = 0;
    memset(&e->txst, 0, sizeof(e->txst));
    e->tx_fetch = 0;
    e->tx_gen++;
    e->rx_starved = false;
    update_irq(e);
}

/* ---- registers ---- */

/* Offsets the model serves (the others read 0, ignore writes and are
 * reported once). */
static bool reg_known(uint32_t off)
{
    switch (off) {
    case E1000_CTRL: case E1000_STATUS: case E1000_EECD: case E1000_EERD: case E1000_CTRL_EXT:
    case E1000_FLA: case E1000_MDIC: case E1000_FCAL: case E1000_FCAH: case E1000_FCT:
    case E1000_VET: case E1000_ICR: case E1000_ITR: case E1000_ICS: case E1000_IMS:
    case E1000_IMC: case E1000_RCTL: case E1000_FCTTV: case E1000_TXCW: case E1000_RXCW:
    case E1000_TCTL: case E1000_TIPG: case E1000_AIT: case E1000_LEDCTL: case E1000_PBA: case E1000_FCRTL:
    case E1000_FCRTH: case E1000_RDFH: case E1000_RDFT: case E1000_RDFHS: case E1000_RDFTS:
    case E1000_RDFPC: case E1000_RDBAL: case E1000_RDBAH: case E1000_RDLEN: case E1000_RDH:
    case E1000_RDT: case E1000_RDTR: case E1000_RXDCTL: case E1000_RADV: case E1000_RSRPD:
    case E1000_TXDMAC: case E1000_TDFH: case E1000_TDFT: case E1000_TDFHS: case E1000_TDFTS:
    case E1000_TDFPC: case E1000_TDBAL: case E1000_TDBAH: case E1000_TDLEN: case E1000_TDH:
    case E1000_TDT: case E1000_TIDV: case E1000_TXDCTL: case E1000_TADV: case E1000_TSPMT:
    case E1000_RXCSUM: case E1000_WUC: case E1000_WUFC: case E1000_WUS: case E1000_MANC:
    case E1000_IPAV: case E1000_WUPL:
        return true;
    }
    return (off >= E1000_STATS && off < E1000_STATS_END) ||
           (off >= E1000_MTA && off < E1000_MTA + 4 * E1000_MTA_WORDS) ||
           (off >= E1000_RA && off < E1000_RA + 8 * E1000_RA_ENTRIES) ||
           (off >= E1000_VFTA && off < E1000_VFTA + 4 * E1000_VFTA_WORDS) ||
           (off >= E1000_IP4AT && off < E1000_IP4AT + 0x20) ||
           (off >= E1000_IP6AT && off < E1000_IP6AT + 0x10) ||
           (off >= E1000_WUPM && off < E1000_WUPM + 0x80) ||
           (off >= E1000_FFLT && off < E1000_FFLT + 0x20) ||
           (off >= E1000_FFMT && off < E1000_FFMT + 0x400) ||
           (off >= E1000_FFVT && off < E1000_FFVT + 0x400);
}

static uint32_t reg_read(struct e1000 *e, uint32_t off)
{
    uint32_t v;

    if (!reg_known(off)) {
        log_reg_once(e, off, "read of an unknown register");
        return 0;
    }
    if (off >= E1000_STATS && off < E1000_STATS_END) {
        v = R(off);                    /* read to clear (each half of a 64-bit counter alone) */
        R(off) = 0;
        return v;
    }
    switch (off) {
    case E1000_STATUS:
        return E1000_STATUS_FD | E1000_STATUS_LU | E1000_STATUS_SPEED_1000 | E1000_STATUS_ASDV_1000;
    case E1000_EECD:
        return eecd_read(e);
    case E1000_ICR:
        v = R(E1000_ICR);
        R(E1000_ICR) = 0;
        update_irq(e);
        return v;
    case E1000_ICS: case E1000_IMC:
        return 0;                      /* write-only */
    }
    return R(off);
}

/* Returns whether the device thread has something new to look at. */
static bool reg_write(struct e1000 *e, uint32_t off, uint32_t val)
{
    if (!reg_known(off)) {
        log_reg_once(e, off, "write of an unknown register");
        return false;
    }
    if (off >= E1000_STATS && off < E1000_STATS_END)
        return false;                  /* counters are read-only */
    switch (off) {
    case E1000_CTRL: {
        if (val & E1000_CTRL_RST) {
            reset_locked(e);           /* RST clears itself */
            return true;
        }
        if ((val & E1000_CTRL_PHY_RST) && !(R(E1000_CTRL) & E1000_CTRL_PHY_RST))
            phy_reset(e);
        R(E1000_CTRL) = val;
        return false;
    }
    case E1000_STATUS:
        return false;
    case E1000_EECD:
        eecd_write(e, val);
        return false;
    case E1000_EERD:
        eerd_write(e, val);
        return false;
    case E1000_CTRL_EXT:
        R(off) = val & ~E1000_CTRL_EXT_EE_RST;   /* the EEPROM reload is instant */
        return false;
    case E1000_MDIC:
        mdic_write(e, val);
        return false;
    case E1000_ICR:
        R(E1000_ICR) &= ~val;
        update_irq(e);
        return false;
    case E1000_ICS:
        raise_cause(e, val);
        return false;
    case E1000_IMS:
        R(E1000_IMS) |= val & E1000_ICR_VALID;
        update_irq(e);
        return false;
    case E1000_IMC:
        R(E1000_IMS) &= ~val;
        update_irq(e);
        return false;
    case E1000_RCTL:
    case E1000_TCTL:
        R(off) = val;
        e->rx_starved = false;
        return true;
    case E1000_RDBAL:
    case E1000_TDBAL:
        R(off) = val & E1000_xDBAL_MASK;
        break;
    case E1000_RDBAH:
    case E1000_TDBAH:
        R(off) = val;
        break;
    case E1000_RDLEN:
    case E1000_TDLEN:
        R(off) = val & E1000_xDLEN_MASK;
        break;
    case E1000_RDH:
    case E1000_TDH:
        R(off) = val & E1000_xDH_MASK;
        break;
    case E1000_RDT: {
        R(off) = val & E1000_xDH_MASK;
        bool starved = e->rx_starved;
        e->rx_starved = false;
        return starved;
    }
    case E1000_TDT: {
        uint32_t old = R(off);
        R(off) = val & E1000_xDH_MASK;
        return R(off) != old && R(off) != e->tx_fetch;
    }
    default:
        if (off >= E1000_RA && off < E1000_RA + 8 * E1000_RA_ENTRIES && (off & 4))
            val &= E1000_RAH_AV | E1000_RAH_ASEL | 0xffff;
        R(off) = val;
        return false;
    }
    /* The ring's registers changed: a new generation for TX. */
    if (off == E1000_TDBAL || off == E1000_TDBAH || off == E1000_TDLEN || off == E1000_TDH) {
        e->tx_gen++;
        e->tx_fetch = R(E1000_TDH);
    }
    return true;
}

/* A dword access (the only width the 8254x documents); 8-byte ones are
 * two, narrower reads see their bytes of the dword (with its side
 * effects), narrower or unaligned writes are ignored. */
static bool mmio_access(struct e1000 *e, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
    bool wake = false;

    if ((len == 4 && !(off & 3)) || (len == 8 && !(off & 7))) {
        for (uint32_t k = 0; k < len; k += 4) {
            uint32_t o = (uint32_t)off + k;
            if (is_write) {
                uint32_t v = (uint32_t)data[k] | (uint32_t)data[k + 1] << 8 |
                             (uint32_t)data[k + 2] << 16 | (uint32_t)data[k + 3] << 24;
                wake |= reg_write(e, o, v);
            } else {
                uint32_t v = reg_read(e, o);
                for (unsigned b = 0; b < 4; b++)
                    data[k + b] = (uint8_t)(v >> (8 * b));
            }
        }
        return wake;
    }
    if (!is_write && (off & 3) + len <= 4) {
        uint32_t v = reg_read(e, (uint32_t)off & ~3u);
        for (uint32_t b = 0; b < len; b++)
            data[b] = (uint8_t)(v >> (8 * ((off & 3) + b)));
        return false;
    }
    log_reg_once(e, (uint32_t)off & ~3u, is_write ? "narrow or unaligned write (ignored)"
                                                   : "unaligned read (reads 0)");
    return false;
}

static void mmio_io(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
                    bool is_write)
{
    struct e1000 *e = opaque;
    (void)v;
    pthread_mutex_lock(&e->lock);
    bool wake = mmio_access(e, off, data, len, is_write);
    pthread_mutex_unlock(&e->lock);
    if (wake)
        kick(e);
}

/* BAR 1: IOADDR (0) selects a register, IODATA (4) reaches it; dwords only. */
static void pio_io(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
                   bool is_write)
{
    struct e1000 *e = opaque;
    bool wake = false;
    (void)v;
    if (len != 4 || (off != E1000_IOADDR && off != E1000_IODATA))
        return;                        /* reads 0 */
    pthread_mutex_lock(&e->lock);
    if (off == E1000_IOADDR) {
        if (is_write)
            e->ioaddr = ((uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16) &
                        (E1000_MMIO_SIZE - 4);
        else
            for (unsigned b = 0; b < 4; b++)
                data[b] = (uint8_t)(e->ioaddr >> (8 * b));
    } else {
        wake = mmio_access(e, e->ioaddr, data, 4, is_write);
    }
    pthread_mutex_unlock(&e->lock);
    if (wake)
        kick(e);
}

/* ---- PCI ---- */

static void bar_update(void *opaque, unsigned int bar, enum iobus_space space, uint64_t addr,
                       uint64_t size, bool mapped)
{
    struct e1000 *e = opaque;
    struct bar *b;

    if (bar > 1 || !e->iobus)
        return;
    b = &e->bar[bar];
    if (!mapped) {
        if (b->on && b->base == addr && b->space == space)
            iobus_unregister(e->iobus, space, addr);
        b->on = false;
        return;
    }
    struct iobus_range r = { space, addr, size, bar ? pio_io : mmio_io, e, e->name };
    b->on = iobus_register(e->iobus, &r) == 0;
    b->base = addr;
    b->space = space;
    if (!b->on)
        elog(e, "BAR %u at %#llx overlaps another device: not decoded", bar,
             (unsigned long long)addr);
}

/* Bus mastering may just have been switched on: let the thread look. */
static void cfg_write(void *opaque, unsigned int off, unsigned int len, uint32_t val)
{
    (void)val;
    if (off <= PCI_COMMAND + 1 && off + len > PCI_COMMAND)
        kick(opaque);
}

static bool master_on(struct e1000 *e)
{
    return pci_cfg_get(e->pci, PCI_COMMAND, 2) & PCI_COMMAND_MASTER;
}

/* ---- transmit (the device thread, lock held) ---- */

static struct e1000_tx_ring tx_ring(struct e1000 *e)
{
    return (struct e1000_tx_ring){
        .base = (uint64_t)R(E1000_TDBAH) << 32 | R(E1000_TDBAL),
        .ndesc = R(E1000_TDLEN) / E1000_DESC_SIZE,
        .head = e->tx_fetch,
        .tail = R(E1000_TDT),
        .ctrl = R(E1000_CTRL),
        .tctl = R(E1000_TCTL),
        .vet = (uint16_t)R(E1000_VET),
    };
}

/* Writes DD into the retired records' descriptors, moves TDH. */
static void tx_retire(struct e1000 *e)
{
    bool any = false, rs = false;

    while (e->txq_count && e->txq[e->txq_head].done) {
        struct txrec *r = &e->txq[e->txq_head];
        uint32_t n = R(E1000_TDLEN) / E1000_DESC_SIZE;
        e->txq_head = (e->txq_head + 1) % TXQ_SIZE;
        e->txq_count--;
        if (r->sent) {
            if (r->res < 0) {
                e->st.tx_tap_errors++;
            } else {
                e->st.tx_frames++;
                e->st.tx_bytes += r->len;
                stat_add(e, E1000_GPTC, r->segments);
                stat_add(e, E1000_TPT, r->segments);
                stat_add64(e, E1000_GOTCL, r->wire_bytes);
                stat_add64(e, E1000_TOTL, r->wire_bytes);
                if (r->bcast)
                    stat_add(e, E1000_BPTC, r->segments);
                else if (r->mcast)
                    stat_add(e, E1000_MPTC, r->segments);
                if (r->tso)
                    stat_add(e, E1000_TSCTC, 1);
                stat_size(e, E1000_PTC64, r->tso ? r->wire_bytes / r->segments : r->len + 4);
            }
        }
        if (r->gen != e->tx_gen || !n)
            continue;                  /* an old ring's: leave the guest's memory alone */
        for (uint32_t i = 0; i < r->ndesc && i < 64; i++) {
            if (!(r->rs_mask >> i & 1))
                continue;
            uint64_t gpa = ((uint64_t)R(E1000_TDBAH) << 32 | R(E1000_TDBAL)) +
                           (uint64_t)((r->first + i) % n) * E1000_DESC_SIZE;
            uint8_t *d = dma_map(e->dma, gpa, E1000_DESC_SIZE, true);
            if (d)
                __atomic_store_n(d + 12, (uint8_t)((d[12] & 0xf0) | E1000_TXD_STA_DD),
                                 __ATOMIC_RELEASE);
            rs = true;
        }
        R(E1000_TDH) = (r->first + r->ndesc) % n;
        any = true;
    }
    if (!any)
        return;
    uint32_t causes = rs ? E1000_ICR_TXDW : 0;
    if (R(E1000_TDH) == R(E1000_TDT))
        causes |= E1000_ICR_TXQE;
    raise_cause(e, causes);
}

static void tx_done(void *ctx, struct neteng_tx *t, int res)
{
    struct e1000 *e = ctx;
    struct txw *w = (struct txw *)((char *)t - offsetof(struct txw, tx));

    e->txq[w->rec].done = true;
    e->txq[w->rec].res = res;
    e->wfree[e->nwfree++] = (unsigned)(w - e->w);
}

static bool tx_pump(struct e1000 *e)
{
    unsigned budget = TX_BUDGET;
    bool progress = false;

    if (e->stopping || !(R(E1000_TCTL) & E1000_TCTL_EN) || !master_on(e))
        return false;
    while (budget && e->nwfree) {
        if (e->txq_count == TXQ_SIZE) {
            tx_retire(e);
            if (e->txq_count == TXQ_SIZE)
                break;
        }
        struct e1000_tx_ring ring = tx_ring(e);
        unsigned slot = e->wfree[e->nwfree - 1];
        struct txw *w = &e->w[slot];
        struct e1000_tx_frame *f = &w->f;

        e1000_tx_walk(e->dma, &ring, &e->txst, w->bounce, f);
        if (f->kind == E1000_TX_NEED_BOUNCE) {
            if (!(w->bounce = malloc(E1000_TX_BOUNCE))) {
                f->kind = E1000_TX_DROP;
                f->why = "out of memory for a frame of many pieces";
            } else {
                e1000_tx_walk(e->dma, &ring, &e->txst, w->bounce, f);
            }
        }
        if (f->kind == E1000_TX_NONE || f->kind == E1000_TX_WAIT)
            break;
        unsigned ri = (e->txq_head + e->txq_count) % TXQ_SIZE;
        struct txrec *r = &e->txq[ri];
        *r = (struct txrec){ .gen = e->tx_gen, .first = e->tx_fetch, .ndesc = f->ndesc,
                             .rs_mask = f->rs_mask, .done = true };
        e->txq_count++;
        e->tx_fetch = (e->tx_fetch + f->ndesc) % ring.ndesc;
        budget = budget > f->ndesc ? budget - f->ndesc : 0;
        progress = true;
        if (f->kind == E1000_TX_DROP) {
            e->st.tx_dropped++;
            if (f->tso)
                stat_add(e, E1000_TSCTFC, 1);
            log_drop(e, "TX", f->why);
            continue;
        }
        if (f->kind != E1000_TX_FRAME)
            continue;                  /* a context or an empty frame: retired as it is */
        w->tx.hdr = f->hdr;
        w->tx.nfrag = f->niov;
        memcpy(&w->tx.iov[1], f->iov, f->niov * sizeof(f->iov[0]));
        w->tx.done = tx_done;
        w->rec = ri;
        *r = (struct txrec){ .gen = r->gen, .first = r->first, .ndesc = r->ndesc,
                             .rs_mask = r->rs_mask, .sent = true, .len = f->len,
                             .segments = f->segments, .wire_bytes = f->wire_bytes,
                             .bcast = f->broadcast, .mcast = !f->broadcast && (f->dst0 & 1),
                             .tso = f->hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE };
        int rc = neteng_send(e->eng, &w->tx);
        if (rc == 0) {
            e->nwfree--;
        } else {
            r->done = true;
            r->res = rc;
        }
    }
    tx_retire(e);
    return progress;
}

/* ---- receive (the device thread, lock held) ---- */

static struct e1000_rx_ring rx_ring(struct e1000 *e)
{
    return (struct e1000_rx_ring){
        .base = (uint64_t)R(E1000_RDBAH) << 32 | R(E1000_RDBAL),
        .ndesc = R(E1000_RDLEN) / E1000_DESC_SIZE,
        .head = R(E1000_RDH),
        .tail = R(E1000_RDT),
        .bufsize = e1000_rx_bufsize(R(E1000_RCTL)),
    };
}

static void rx_count(struct e1000 *e, const uint8_t *data, uint32_t len)
{
    uint32_t wire = (len < 60 ? 60 : len) + 4;

    e->st.rx_frames++;
    e->st.rx_bytes += len;
    stat_add(e, E1000_GPRC, 1);
    stat_add(e, E1000_TPR, 1);
    stat_add64(e, E1000_GORCL, wire);
    stat_add64(e, E1000_TORL, wire);
    if (!memcmp(data, "\xff\xff\xff\xff\xff\xff", 6))
        stat_add(e, E1000_BPRC, 1);
    else if (data[0] & 1)
        stat_add(e, E1000_MPRC, 1);
    stat_size(e, E1000_PRC64, wire);
}

static void rx_drop(struct e1000 *e, const char *why)
{
    e->st.rx_dropped++;
    log_drop(e, "RX", why);
}

static bool rx_pump(struct e1000 *e)
{
    struct neteng_frame fr;
    unsigned delivered = 0, handled = 0;
    uint32_t causes = 0;
    bool master = master_on(e);

    while (!e->stopping && handled < RX_BATCH && neteng_rx_peek(e->eng, &fr)) {
        uint32_t rctl = R(E1000_RCTL);
        if (!(rctl & E1000_RCTL_EN) || !master) {
            e->st.rx_dropped++;        /* the receiver is off: lost, as on the wire */
            goto release;
        }
        if (fr.hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
            rx_drop(e, "a GSO frame from the tap (its offloads are off)");
            goto release;
        }
        struct e1000_rx_filter flt = { rctl, R(E1000_CTRL), (uint16_t)R(E1000_VET),
                                       &R(E1000_RA), &R(E1000_MTA), &R(E1000_VFTA) };
        enum e1000_rx_verdict v = e1000_rx_filter(&flt, fr.data, fr.len);
        if (v == E1000_RX_FILTERED) {
            e->st.rx_filtered++;
            goto release;
        }
        if (v != E1000_RX_ACCEPT) {
            stat_add(e, v == E1000_RX_RUNT ? E1000_RUC : E1000_ROC, 1);
            rx_drop(e, v == E1000_RX_RUNT ? "under 14 bytes" : "too long for RCTL.LPE");
            goto release;
        }
        struct e1000_rx_frame f;
        e1000_rx_prepare(&fr.hdr, fr.data, fr.len, rctl, R(E1000_CTRL), R(E1000_RXCSUM),
                         (uint16_t)R(E1000_VET), &f);
        struct e1000_rx_ring ring = rx_ring(e);
        uint32_t used;
        enum e1000_rx_place_result pr = e1000_rx_place(e->dma, &ring, &f, &used);
        if (pr == E1000_RX_NO_ROOM) {
            if (!e->rx_starved) {      /* once per wait: no buffers, overrun */
                stat_add(e, E1000_RNBC, 1);
                causes |= E1000_ICR_RXO;
            }
            e->rx_starved = true;
            break;
        }
        if (pr == E1000_RX_NEVER_FITS) {
            stat_add(e, E1000_MPC, 1);
            rx_drop(e, "larger than the whole receive ring");
            goto release;
        }
        R(E1000_RDH) = (ring.head + used) % ring.ndesc;
        if (pr == E1000_RX_BAD_BUFFER) {
            rx_drop(e, "receive descriptor or buffer outside guest RAM");
            causes |= E1000_ICR_RXT0;
        } else {
            rx_count(e, fr.data, fr.len);
            delivered++;
            ring.head = R(E1000_RDH);
            unsigned rdmts = (R(E1000_RCTL) & E1000_RCTL_RDMTS) >> E1000_RCTL_RDMTS_SHIFT;
            if (e1000_rx_room(&ring) <= ring.ndesc >> (rdmts + 1))
                causes |= E1000_ICR_RXDMT0;
        }
    release:
        neteng_rx_release(e->eng);
        handled++;
    }
    if (delivered)
        causes |= E1000_ICR_RXT0;
    if (causes)
        raise_cause(e, causes);
    return handled != 0;
}

/* ---- the device thread ---- */

static void arm_kick(struct e1000 *e)
{
    struct io_uring_sqe *sqe = tdm_uring_sqe(neteng_uring(e->eng));

    if (!sqe) {
        elog(e, "cannot arm the doorbell read: %s", strerror(errno));
        return;
    }
    io_uring_prep_read(sqe, e->kick_fd, &e->kick_buf, sizeof(e->kick_buf), 0);
    io_uring_sqe_set_data64(sqe, tdm_uring_tag(TAG_KICK, 0, 0));
}

static void other_done(void *ctx, uint64_t ud, int res)
{
    struct e1000 *e = ctx;

    if (tdm_uring_tag_of(ud) != TAG_KICK)
        return;
    if (res >= 0 || res == -EINTR || res == -EAGAIN)
        arm_kick(e);
    else
        elog(e, "doorbell read failed: %s; the device stops", strerror(-res));
}

static void *dev_thread(void *arg)
{
    struct e1000 *e = arg;

    pthread_mutex_lock(&e->lock);
    arm_kick(e);
    neteng_start_rx(e->eng);
    pthread_mutex_unlock(&e->lock);
    for (;;) {
        atomic_store(&e->kicked, false);
        pthread_mutex_lock(&e->lock);
        bool stop = e->stopping;
        bool progress = tx_pump(e);
        progress |= rx_pump(e);
        pthread_mutex_unlock(&e->lock);
        neteng_flush(e->eng);
        pthread_mutex_lock(&e->lock);
        progress |= neteng_reap(e->eng);
        tx_retire(e);
        bool drained = neteng_tx_inflight(e->eng) == 0;
        pthread_mutex_unlock(&e->lock);
        if (stop && drained)
            break;
        if (!progress)
            neteng_wait(e->eng);
    }
    return NULL;
}

/* ---- creation ---- */

static void free_model(struct e1000 *e)
{
    if (e->pci)
        pci_dev_free(e->pci);
    neteng_destroy(e->eng);
    if (e->kick_fd >= 0)
        close(e->kick_fd);
    for (unsigned i = 0; i < TX_DEPTH; i++)
        free(e->w[i].bounce);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

struct e1000 *e1000_create(struct pci_bus *bus, unsigned devfn, const struct e1000_config *cfg,
                           char *err, size_t errlen)
{
    struct e1000 *e;
    char engine_name[96];

    if (!cfg->dma || cfg->tap_fd < 0) {
        snprintf(err, errlen, "e1000: no guest memory or no tap");
        return NULL;
    }
    if (!(e = calloc(1, sizeof(*e)))) {
        snprintf(err, errlen, "e1000: out of memory");
        return NULL;
    }
    pthread_mutex_init(&e->lock, NULL);
    e->cfg = *cfg;
    e->dma = cfg->dma;
    e->iobus = pci_bus_iobus(bus);
    e->kick_fd = -1;
    snprintf(e->name, sizeof(e->name), "%s", cfg->name ? cfg->name : "e1000");
    e->cfg.name = e->name;
    for (unsigned i = 0; i < TX_DEPTH; i++)
        e->wfree[e->nwfree++] = TX_DEPTH - 1 - i;

    /* An e1000 takes whole frames with their checksums complete. */
    if (!cfg->tap_is_socket && neteng_tap_offload(cfg->tap_fd, false, false, false, err, errlen) < 0)
        goto fail;
    e->kick_fd = eventfd(0, EFD_CLOEXEC);
    if (e->kick_fd < 0) {
        snprintf(err, errlen, "%s: eventfd: %s", e->name, strerror(errno));
        goto fail;
    }
    snprintf(engine_name, sizeof(engine_name), "tandem-vmm: %s", e->name);
    struct neteng_config ecfg = { .tap_fd = cfg->tap_fd, .tx_depth = TX_DEPTH, .rx_bufs = RX_BUFS,
                                  .extra_sqes = 2, .ctx = e, .other = other_done,
                                  .name = engine_name };
    if (!(e->eng = neteng_create(&ecfg, err, errlen)))
        goto fail;

    eeprom_init(e);
    phy_reset(e);
    struct pci_dev_info info = { .vendor = E1000_VENDOR, .device = E1000_DEVICE_82540EM,
                                 .subsys_vendor = E1000_SUBSYS_VENDOR,
                                 .subsys_id = E1000_SUBSYS_ID, .revision = E1000_REVISION,
                                 .class_code = E1000_CLASS, .irq_pin = 1, .name = e->name };
    struct pci_dev_ops ops = { .bar_update = bar_update, .cfg_write = cfg_write };
    if (!(e->pci = pci_dev_new(bus, devfn, &info, &ops, e))) {
        snprintf(err, errlen, "%s: PCI function %02x.%x: %s", e->name, devfn >> 3, devfn & 7,
                 strerror(errno));
        goto fail;
    }
    if (pci_bar_define(e->pci, 0, E1000_MMIO_SIZE, PCI_BAR_MEM32) < 0 ||
        pci_bar_define(e->pci, 1, E1000_IO_SIZE, PCI_BAR_IO) < 0) {
        snprintf(err, errlen, "%s: BARs: %s", e->name, strerror(errno));
        goto fail;
    }
    pthread_mutex_lock(&e->lock);
    reset_locked(e);
    pthread_mutex_unlock(&e->lock);
    int rc = pthread_create(&e->thread, NULL, dev_thread, e);
    if (rc) {
        snprintf(err, errlen, "%s: thread: %s", e->name, strerror(rc));
        goto fail;
    }
    e->thread_started = true;
    return e;
fail:
    free_model(e);
    return NULL;
}

void e1000_destroy(struct e1000 *e)
{
    uint64_t one = 1;

    if (!e)
        return;
    if (e->thread_started) {
        pthread_mutex_lock(&e->lock);
        e->stopping = true;
        pthread_mutex_unlock(&e->lock);
        if (write(e->kick_fd, &one, sizeof(one)) != sizeof(one))
            elog(e, "cannot wake the device thread: %s", strerror(errno));
        pthread_join(e->thread, NULL);
    }
    free_model(e);
}

void e1000_get_stats(struct e1000 *e, struct e1000_stats *out)
{
    pthread_mutex_lock(&e->lock);
    *out = e->st;
    out->kicks = __atomic_load_n(&e->st.kicks, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&e->lock);
}

/* Check suite for the e1000 (hypervisor/vmm/dev/e1000.c) on the network
 * engine, driven by a host-side driver the way Linux's e1000 and iPXE's
 * intel driver drive it: a PCI bus on tandem-vmm's I/O bus, BARs placed
 * through configuration space, registers by MMIO (and the IOADDR/IODATA
 * window), descriptor rings and buffers in an 8 MiB "guest RAM", INTx
 * recorded from the bus's router. No KVM.
 *
 * The network is either
 *  - a SOCK_SEQPACKET socket pair speaking the tap's format (virtio-net
 *    header + frame per message): always there, and it shows the exact
 *    header the model hands the engine (offloads), or
 *  - a real tap in a network namespace of each test's own, on a bridge
 *    with a second tap whose offloads are off, which the test reads and
 *    writes: the kernel segments TSO frames and completes checksums on
 *    the way to it, so what arrives is what a wire would carry. Needs root
 *    (CAP_NET_ADMIN, CAP_SYS_ADMIN) and /dev/net/tun; skipped with the
 *    reason otherwise. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "dev/dma.h"
#include "dev/e1000.h"
#include "dev/e1000_hw.h"
#include "dev/pci.h"
#include "neteng_tap.h"
#include "test_netns.h"
#include "vmm_dev_bus.h"

#define RAM_SIZE  (8u << 20)
#define BAR0      0xfebc0000ULL
#define BAR1      0xc000u
#define DEVFN     PCI_DEVFN(3, 0)
#define TXR       0x10000u         /* TX ring */
#define RXR       0x20000u         /* RX ring */
#define TXBUF     0x100000u        /* TX data (1 MiB) */
#define RXBUF     0x400000u        /* RX buffers, RX_STRIDE apart */
#define RX_STRIDE 0x4000u
#define NTX       64
#define NRX       64
#define VHDR      ((size_t)sizeof(struct virtio_net_hdr))
#define TAP_E     "tdme1k0"        /* the model's tap */
#define TAP_P     "tdme1kp0"       /* the test's, offloads off */
#define BRIDGE    "tdme1kbr0"

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
/* A host behind the probe tap (not the tap's own address, which the
 * bridge would take for its own and keep). */
static const uint8_t peer_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t probe_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x99 };

static uint8_t *ram;
static struct dev_dma dma;
static struct iobus *bus;
static struct pci_bus *pci;
static struct e1000 *nic;
static int far_fd = -1;            /* socket: the test's end; tap: the probe tap */
static int dev_fd = -1;            /* what the model was given */
static bool on_tap;
static atomic_bool intx;
static atomic_uint intx_raises;
static unsigned tx_tail, rx_next, rx_tail;
static bool rx_frame_start = true;    /* rx_next begins a frame */

/* ---- guest memory, bus, interrupts ---- */

static void *ram_map(void *o, uint64_t gpa, uint64_t len, bool write)
{
    (void)o;
    (void)write;
    if (gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
        return NULL;
    return ram + gpa;
}

static void intx_set(void *o, unsigned pirq, bool level)
{
    (void)o;
    ck_assert_uint_eq(pirq, pci_slot_pirq(DEVFN >> 3, 1));
    if (level && !atomic_load(&intx))
        atomic_fetch_add(&intx_raises, 1);
    atomic_store(&intx, level);
}

static uint32_t rd(uint32_t off) { return (uint32_t)tbus_read(bus, BAR0 + off, 4); }
static void wr(uint32_t off, uint32_t v) { tbus_write(bus, BAR0 + off, 4, v); }

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#define WAIT_UNTIL(cond, ms)                                           \
    ({                                                                 \
        uint64_t t0_ = now_ms();                                       \
        bool ok_;                                                      \
        while (!(ok_ = (cond)) && now_ms() - t0_ < (uint64_t)(ms))      \
            usleep(500);                                               \
        ok_;                                                           \
    })

static uint8_t ram8(uint32_t gpa) { return __atomic_load_n(&ram[gpa], __ATOMIC_ACQUIRE); }
static uint16_t ram16(uint32_t gpa) { return (uint16_t)(ram[gpa] | ram[gpa + 1] << 8); }

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

/* ---- the network's far end ---- */

static void far_send(const struct virtio_net_hdr *h, const uint8_t *f, size_t len)
{
    struct virtio_net_hdr zero = { 0 };
    if (on_tap) {
        ck_assert_int_eq(write(far_fd, f, len), (ssize_t)len);
        return;
    }
    struct iovec iov[2] = { { (void *)(h ? h : &zero), VHDR }, { (void *)f, len } };
    ck_assert_int_eq(writev(far_fd, iov, 2), (ssize_t)(VHDR + len));
}

/* The next frame at the far end (on the tap: of an EtherType we send),
 * its header in *h (socket only); -1 after ms. */
static ssize_t far_recv(struct virtio_net_hdr *h, uint8_t *f, size_t cap, int ms)
{
    static uint8_t buf[VHDR + 70000];
    uint64_t t0 = now_ms();
    for (;;) {
        int left = ms - (int)(now_ms() - t0);
        struct pollfd p = { .fd = far_fd, .events = POLLIN };
        if (left <= 0 || poll(&p, 1, left) <= 0)
            return -1;
        ssize_t n = read(far_fd, buf, sizeof(buf));
        if (n < 0)
            continue;
        size_t off = on_tap ? 0 : VHDR;
        if ((size_t)n < off + 14)
            continue;
        if (on_tap && memcmp(buf + off + 6, guest_mac, 6))
            continue;                  /* the host's own chatter (IGMP reports of the ports) */
        if (h && !on_tap)
            memcpy(h, buf, VHDR);
        size_t len = (size_t)n - off;
        ck_assert_uint_le(len, cap);
        memcpy(f, buf + off, len);
        return (ssize_t)len;
    }
}

/* ---- the device ---- */

static void make_nic(void)
{
    struct e1000_config cfg = { .tap_fd = dev_fd, .tap_is_socket = !on_tap, .dma = &dma,
                                .name = "e1000-test" };
    memcpy(cfg.mac, guest_mac, 6);
    char err[256];
    nic = e1000_create(pci, DEVFN, &cfg, err, sizeof(err));
    ck_assert_msg(nic != NULL, "%s", err);
    pci_cfg_write(pci, DEVFN, PCI_BAR0, 4, (uint32_t)BAR0);
    pci_cfg_write(pci, DEVFN, PCI_BAR0 + 4, 4, BAR1);
    pci_cfg_write(pci, DEVFN, PCI_COMMAND, 2,
                  PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

static void common_setup(void)
{
    ram = calloc(1, RAM_SIZE);
    ck_assert_ptr_nonnull(ram);
    dma = (struct dev_dma){ .map = ram_map, .ram = ram, .ram_len = RAM_SIZE };
    bus = iobus_new();
    pci = pci_bus_new(bus, NULL);
    ck_assert_ptr_nonnull(pci);
    struct pci_intx_router r = { intx_set, NULL };
    pci_bus_set_router(pci, &r);
    atomic_store(&intx, false);
    atomic_store(&intx_raises, 0);
}

static void sock_setup(void)
{
    int sv[2];
    common_setup();
    on_tap = false;
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    int big = 1 << 20;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    dev_fd = sv[0];                    /* blocking: the engine's io_uring waits on it */
    far_fd = sv[1];
    make_nic();
}

static void if_ioctl(int s, unsigned long req, struct ifreq *ifr, const char *what)
{
    ck_assert_msg(ioctl(s, req, ifr) == 0, "%s %s: %s", what, ifr->ifr_name, strerror(errno));
}

static void tap_setup(void)
{
    char err[256];
    const char *why = test_netns_enter();
    ck_assert_msg(!why, "%s", why ? why : "");
    common_setup();
    on_tap = true;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(s, 0);
    char br[IFNAMSIZ] = BRIDGE;
    ck_assert_msg(ioctl(s, SIOCBRADDBR, br) == 0, "creating bridge: %s", strerror(errno));
    struct ifreq ifr = { 0 };
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", BRIDGE);
    if_ioctl(s, SIOCGIFFLAGS, &ifr, "flags");
    ifr.ifr_flags |= IFF_UP;
    if_ioctl(s, SIOCSIFFLAGS, &ifr, "up");

    dev_fd = neteng_tap_open(TAP_E, err, sizeof(err));
    ck_assert_msg(dev_fd >= 0, "%s", err);
    ck_assert_msg(neteng_tap_up(TAP_E, BRIDGE, err, sizeof(err)) == 0, "%s", err);

    /* The probe: a plain tap (no virtio-net header, no offloads). */
    far_fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
    ck_assert_int_ge(far_fd, 0);
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", TAP_P);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    ck_assert_int_eq(ioctl(far_fd, TUNSETIFF, &ifr), 0);
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", TAP_P);
    ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    memcpy(ifr.ifr_hwaddr.sa_data, probe_mac, 6);
    if_ioctl(s, SIOCSIFHWADDR, &ifr, "MAC");
    if_ioctl(s, SIOCGIFFLAGS, &ifr, "flags");
    ifr.ifr_flags |= IFF_UP;
    if_ioctl(s, SIOCSIFFLAGS, &ifr, "up");
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", BRIDGE);
    ifr.ifr_ifindex = (int)if_nametoindex(TAP_P);
    if_ioctl(s, SIOCBRADDIF, &ifr, "attach");
    close(s);
    make_nic();
}

static void teardown(void)
{
    /* The far end first: sends the model still has in flight to a full
     * socket then fail, and destroy does not wait on them. */
    if (far_fd >= 0)
        close(far_fd);
    e1000_destroy(nic);
    nic = NULL;
    ck_assert_uint_eq(tbus_count(bus, IOBUS_MMIO), 0);
    ck_assert_uint_eq(tbus_count(bus, IOBUS_PIO), 1);       /* 0xcf8 */
    pci_bus_free(pci);
    iobus_free(bus);
    if (dev_fd >= 0)
        close(dev_fd);
    far_fd = dev_fd = -1;
    free(ram);
}

/* ---- the driver ---- */

static void put_legacy(unsigned i, uint64_t addr, uint16_t len, uint8_t cmd, uint8_t cso,
                       uint8_t css)
{
    uint8_t *d = ram + TXR + 16 * i;
    put64(d, addr);
    put32(d + 8, len | (uint32_t)cso << 16 | (uint32_t)cmd << 24);
    put32(d + 12, (uint32_t)css << 8);
}

static void put_context(unsigned i, uint8_t ipcss, uint8_t ipcso, uint16_t ipcse, uint8_t tucss,
                        uint8_t tucso, uint16_t tucse, uint32_t paylen, uint8_t tucmd,
                        uint8_t hdrlen, uint16_t mss)
{
    uint8_t *d = ram + TXR + 16 * i;
    put64(d, ipcss | (uint64_t)ipcso << 8 | (uint64_t)ipcse << 16 | (uint64_t)tucss << 32 |
                 (uint64_t)tucso << 40 | (uint64_t)tucse << 48);
    put32(d + 8, (paylen & 0xfffff) | (uint32_t)E1000_TXD_DTYP_CTX << 20 |
                     (uint32_t)(tucmd | E1000_TXD_CMD_DEXT) << 24);
    put32(d + 12, (uint32_t)hdrlen << 8 | (uint32_t)mss << 16);
}

static void put_data(unsigned i, uint64_t addr, uint32_t len, uint8_t dcmd, uint8_t popts)
{
    uint8_t *d = ram + TXR + 16 * i;
    put64(d, addr);
    put32(d + 8, (len & 0xfffff) | (uint32_t)E1000_TXD_DTYP_DATA << 20 |
                     (uint32_t)(dcmd | E1000_TXD_CMD_DEXT) << 24);
    put32(d + 12, (uint32_t)popts << 8);
}

static uint8_t tx_status(unsigned i) { return ram8(TXR + 16 * i + 12); }

/* Reset through the I/O window (as Linux's e1000 does on an 82540),
 * both rings, receive on (with SECRC unless told), interrupts unmasked. */
static void drv_up(uint32_t rctl_extra, bool secrc)
{
    tbus_out(bus, BAR1 + E1000_IOADDR, 4, E1000_CTRL);
    tbus_out(bus, BAR1 + E1000_IODATA, 4, rd(E1000_CTRL) | E1000_CTRL_RST);
    ck_assert_uint_eq(rd(E1000_CTRL) & E1000_CTRL_RST, 0);
    wr(E1000_IMC, 0xffffffff);
    rd(E1000_ICR);
    memset(ram + TXR, 0, NTX * 16);
    memset(ram + RXR, 0, NRX * 16);
    wr(E1000_TDBAL, TXR);
    wr(E1000_TDBAH, 0);
    wr(E1000_TDLEN, NTX * 16);
    wr(E1000_TDH, 0);
    wr(E1000_TDT, 0);
    tx_tail = 0;
    for (unsigned i = 0; i < NRX; i++)
        put64(ram + RXR + 16 * i, RXBUF + (uint64_t)i * RX_STRIDE);
    wr(E1000_RDBAL, RXR);
    wr(E1000_RDBAH, 0);
    wr(E1000_RDLEN, NRX * 16);
    wr(E1000_RDH, 0);
    rx_next = 0;
    rx_frame_start = true;
    rx_tail = NRX - 1;
    wr(E1000_RDT, rx_tail);
    wr(E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | (secrc ? E1000_RCTL_SECRC : 0) | rctl_extra);
    wr(E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP);
    wr(E1000_IMS, E1000_ICR_TXDW | E1000_ICR_RXT0 | E1000_ICR_RXO | E1000_ICR_LSC);
}

/* Posts descriptors [tx_tail, tx_tail + n) (already written) to the device. */
static void tx_go(unsigned n)
{
    tx_tail = (tx_tail + n) % NTX;
    wr(E1000_TDT, tx_tail);
}

static bool tx_done_at(unsigned i) { return tx_status(i) & E1000_TXD_STA_DD; }

static uint8_t *rx_buf(unsigned idx) { return ram + RXBUF + idx * RX_STRIDE; }

/* Gives descriptor idx back (as a driver refills): status cleared, RDT on. */
static void rx_give_back(unsigned idx)
{
    ram[RXR + 16 * idx + 12] = 0;
    rx_tail = (rx_tail + 1) % NRX;
    wr(E1000_RDT, rx_tail);
}

/* The next receive descriptor once done: its length, status, errors; -1
 * if none within ms. On the tap, whole frames that are not the peer's
 * (the host's IGMP reports) are skipped and given back. */
static int rx_take(unsigned *idx, uint8_t *status, uint8_t *errors, int ms)
{
    for (;;) {
        uint32_t d = RXR + 16 * rx_next;
        if (!WAIT_UNTIL(ram8(d + 12) & E1000_RXD_STA_DD, ms))
            return -1;
        *idx = rx_next;
        *status = ram8(d + 12);
        *errors = ram8(d + 13);
        rx_next = (rx_next + 1) % NRX;
        int len = ram16(d + 8);
        bool first = rx_frame_start;
        rx_frame_start = *status & E1000_RXD_STA_EOP;
        if (on_tap && first && rx_frame_start && !*errors && len >= 12 &&
            memcmp(rx_buf(*idx) + 6, peer_mac, 6)) {
            rx_give_back(*idx);
            continue;
        }
        return len;
    }
}

/* ---- frames and checksums ---- */

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    return s;
}

static uint16_t fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

static void be16_put(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint16_t be16_get(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* An IPv4 frame to peer_mac: 14 + 20 + (TCP 20 | UDP 8) + payload. The
 * checksums: mode 0 complete, 1 the partial seed (pseudo-header with the
 * length, IP checksum 0), 2 what Linux's e1000 gives for TSO (IP length
 * and checksum 0, pseudo-header without the length). */
static size_t ip4_frame(uint8_t *f, bool tcp, size_t payload, unsigned seed, int mode)
{
    size_t l4 = tcp ? 20 : 8, len = 14 + 20 + l4 + payload;
    memset(f, 0, 14 + 20 + l4);
    memcpy(f, peer_mac, 6);
    memcpy(f + 6, guest_mac, 6);
    be16_put(f + 12, 0x0800);
    uint8_t *ip = f + 14, *th = ip + 20;
    ip[0] = 0x45;
    be16_put(ip + 2, (uint16_t)(mode == 2 ? 0 : 20 + l4 + payload));
    be16_put(ip + 4, 0x1234);
    be16_put(ip + 6, 0x4000);
    ip[8] = 64;
    ip[9] = tcp ? 6 : 17;
    memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
    if (mode == 0)
        be16_put(ip + 10, (uint16_t)~fold(sum16(ip, 20, 0)));
    be16_put(th, 1234);
    be16_put(th + 2, 5678);
    if (tcp) {
        be16_put(th + 4, 0);
        be16_put(th + 6, 1000);        /* seq 1000 */
        th[12] = 5 << 4;
        th[13] = 0x18;                 /* PSH, ACK */
        be16_put(th + 14, 65535);
    } else {
        be16_put(th + 4, (uint16_t)(8 + payload));
    }
    for (size_t i = 0; i < payload; i++)
        th[l4 + i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
    uint32_t pseudo = sum16(ip + 12, 8, 0) + (tcp ? 6 : 17) + (mode == 2 ? 0 : (uint32_t)(l4 + payload));
    uint8_t *ck = th + (tcp ? 16 : 6);
    if (mode == 0)
        be16_put(ck, (uint16_t)~fold(sum16(th, l4 + payload, pseudo)));
    else
        be16_put(ck, fold(pseudo));
    return len;
}

/* Whether an IPv4 TCP/UDP frame's two checksums are right. */
static bool ip4_ok(const uint8_t *f, size_t len)
{
    const uint8_t *ip = f + 14;
    if (len < 34 || fold(sum16(ip, 20, 0)) != 0xffff)
        return false;
    size_t tot = be16_get(ip + 2), l4len = tot - 20;
    if (14 + tot > len)
        return false;
    uint32_t pseudo = sum16(ip + 12, 8, 0) + ip[9] + (uint32_t)l4len;
    return fold(sum16(ip + 20, l4len, pseudo)) == 0xffff;
}

static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
    }
    return ~c;
}

/* ---- PCI, EEPROM, PHY, registers ---- */

START_TEST(pci_function)
{
    ck_assert_uint_eq(pci_cfg_read(pci, DEVFN, PCI_VENDOR_ID, 4), 0x100e8086);
    ck_assert_uint_eq(pci_cfg_read(pci, DEVFN, PCI_SUBSYS_VENDOR, 4), 0x001e8086);
    ck_assert_uint_eq(pci_cfg_read(pci, DEVFN, PCI_CLASS_PROG, 1), 0x00);
    ck_assert_uint_eq(pci_cfg_read(pci, DEVFN, 0x0a, 2), 0x0200);
    ck_assert_uint_eq(pci_cfg_read(pci, DEVFN, PCI_INTERRUPT_PIN, 1), 1);
    /* BAR sizing as SeaBIOS does it. */
    pci_cfg_write(pci, DEVFN, PCI_COMMAND, 2, 0);
    pci_cfg_write(pci, DEVFN, PCI_BAR0, 4, 0xffffffff);
    ck_assert_uint_eq(pci_cfg_read(pci, DEVFN, PCI_BAR0, 4), 0xfffe0000);
    pci_cfg_write(pci, DEVFN, PCI_BAR0 + 4, 4, 0xffffffff);
    ck_assert_uint_eq(pci_cfg_read(pci, DEVFN, PCI_BAR0 + 4, 4), 0xffffffc1);
    ck_assert_uint_eq(tbus_count(bus, IOBUS_MMIO), 0);
    pci_cfg_write(pci, DEVFN, PCI_BAR0, 4, (uint32_t)BAR0);
    pci_cfg_write(pci, DEVFN, PCI_BAR0 + 4, 4, BAR1);
    pci_cfg_write(pci, DEVFN, PCI_COMMAND, 2,
                  PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    ck_assert(tbus_claimed(bus, IOBUS_MMIO, BAR0, 4));
    ck_assert(tbus_claimed(bus, IOBUS_MMIO, BAR0 + 0x1fffc, 4));
    ck_assert(!tbus_claimed(bus, IOBUS_MMIO, BAR0 + 0x20000, 4));
    ck_assert(tbus_claimed(bus, IOBUS_PIO, BAR1, 4));
    ck_assert(tbus_claimed(bus, IOBUS_PIO, BAR1 + 0x3c, 4));
    /* Moved: the old place is free. */
    pci_cfg_write(pci, DEVFN, PCI_BAR0, 4, (uint32_t)BAR0 + 0x100000);
    ck_assert(!tbus_claimed(bus, IOBUS_MMIO, BAR0, 4));
    ck_assert(tbus_claimed(bus, IOBUS_MMIO, BAR0 + 0x100000, 4));
    pci_cfg_write(pci, DEVFN, PCI_BAR0, 4, (uint32_t)BAR0);
    ck_assert_uint_eq(rd(E1000_STATUS) & (E1000_STATUS_LU | E1000_STATUS_FD), 3);
    ck_assert_uint_eq(rd(E1000_STATUS) & 0xc0, E1000_STATUS_SPEED_1000);
}
END_TEST

/* Microwire, bit by bit, as Linux's e1000 reads an 82540's EEPROM. */
static void ee_clock(uint32_t *eecd)
{
    *eecd |= E1000_EECD_SK;
    wr(E1000_EECD, *eecd);
    *eecd &= ~E1000_EECD_SK;
    wr(E1000_EECD, *eecd);
}

static void ee_out(uint32_t *eecd, uint32_t data, unsigned count)
{
    for (uint32_t mask = 1u << (count - 1); mask; mask >>= 1) {
        *eecd &= ~E1000_EECD_DI;
        if (data & mask)
            *eecd |= E1000_EECD_DI;
        wr(E1000_EECD, *eecd);
        ee_clock(eecd);
    }
    *eecd &= ~E1000_EECD_DI;
    wr(E1000_EECD, *eecd);
}

static uint16_t ee_in(uint32_t *eecd)
{
    uint16_t v = 0;
    for (int i = 0; i < 16; i++) {
        v = (uint16_t)(v << 1);
        *eecd |= E1000_EECD_SK;
        wr(E1000_EECD, *eecd);
        if (rd(E1000_EECD) & E1000_EECD_DO)
            v |= 1;
        *eecd &= ~E1000_EECD_SK;
        wr(E1000_EECD, *eecd);
    }
    return v;
}

static uint16_t ee_read_word(unsigned addr)
{
    uint32_t eecd = rd(E1000_EECD) | E1000_EECD_REQ;
    wr(E1000_EECD, eecd);
    ck_assert(rd(E1000_EECD) & E1000_EECD_GNT);
    eecd &= ~(E1000_EECD_DI | E1000_EECD_SK);
    wr(E1000_EECD, eecd);
    eecd |= E1000_EECD_CS;
    wr(E1000_EECD, eecd);
    ee_out(&eecd, 0x6, 3);             /* start bit + READ */
    ee_out(&eecd, addr, 6);
    uint16_t v = ee_in(&eecd);
    eecd &= ~(E1000_EECD_CS | E1000_EECD_DI);
    wr(E1000_EECD, eecd);
    ee_clock(&eecd);
    eecd &= ~E1000_EECD_REQ;
    wr(E1000_EECD, eecd);
    return v;
}

static uint16_t eerd_read(unsigned addr)
{
    wr(E1000_EERD, E1000_EERD_START | addr << E1000_EERD_ADDR_SHIFT);
    uint32_t v = rd(E1000_EERD);
    ck_assert(v & E1000_EERD_DONE);
    ck_assert_uint_eq(v & 0x2, 0);     /* not the large format's done bit */
    return (uint16_t)(v >> E1000_EERD_DATA_SHIFT);
}

START_TEST(eeprom)
{
    uint16_t sum = 0, w[64];
    uint32_t eecd = rd(E1000_EECD);
    ck_assert(eecd & E1000_EECD_PRES);
    ck_assert_uint_eq(eecd & E1000_EECD_SIZE, 0);         /* 64 words */
    for (unsigned i = 0; i < 64; i++) {
        w[i] = ee_read_word(i);
        sum = (uint16_t)(sum + w[i]);
        ck_assert_uint_eq(eerd_read(i), w[i]);
    }
    ck_assert_uint_eq(sum, E1000_EE_SUM);
    for (unsigned i = 0; i < 3; i++)
        ck_assert_uint_eq(w[i], guest_mac[2 * i] | guest_mac[2 * i + 1] << 8);
    ck_assert_uint_eq(w[E1000_EE_DEVICE_ID], 0x100e);
    ck_assert_uint_eq(w[E1000_EE_VENDOR_ID], 0x8086);
    ck_assert_uint_eq(w[E1000_EE_SUBSYS_ID], 0x001e);
    ck_assert_uint_eq(w[E1000_EE_SUBSYS_VEN], 0x8086);
    ck_assert_uint_eq(w[E1000_EE_ICW2] & 0x3000, 0);      /* no PAUSE */
    ck_assert_uint_eq(w[E1000_EE_ICW3_PORT_A] & 0x0400, 0);
    /* A sequential read continues into the next word; CS low ends it. */
    eecd = (rd(E1000_EECD) | E1000_EECD_REQ | E1000_EECD_CS) & ~E1000_EECD_SK;
    wr(E1000_EECD, eecd);
    ee_out(&eecd, 0x6, 3);
    ee_out(&eecd, 1, 6);
    ck_assert_uint_eq(ee_in(&eecd), w[1]);
    ck_assert_uint_eq(ee_in(&eecd), w[2]);
    wr(E1000_EECD, eecd & ~(E1000_EECD_CS | E1000_EECD_REQ));
    /* Beyond the EEPROM, EERD gives 0; RAL0/RAH0 hold the address. */
    ck_assert_uint_eq(eerd_read(200), 0);
    ck_assert_uint_eq(rd(E1000_RA), 0x12005452);
    ck_assert_uint_eq(rd(E1000_RA + 4), 0x5634 | E1000_RAH_AV);
}
END_TEST

static uint32_t mdic(unsigned phy, unsigned reg, bool write, uint16_t data)
{
    wr(E1000_MDIC, data | reg << E1000_MDIC_REG_SHIFT | phy << E1000_MDIC_PHY_SHIFT |
                       (write ? E1000_MDIC_OP_WRITE : E1000_MDIC_OP_READ));
    uint32_t v = rd(E1000_MDIC);
    ck_assert(v & E1000_MDIC_READY);
    return v;
}

static uint16_t phy_rd(unsigned reg)
{
    uint32_t v = mdic(E1000_PHY_ADDR, reg, false, 0);
    ck_assert_uint_eq(v & E1000_MDIC_ERROR, 0);
    return (uint16_t)v;
}

START_TEST(phy)
{
    ck_assert_uint_eq(phy_rd(E1000_PHY_ID1), 0x0141);
    ck_assert_uint_eq(phy_rd(E1000_PHY_ID2), 0x0c20);
    uint16_t bmsr = phy_rd(E1000_PHY_STATUS);
    ck_assert(bmsr & E1000_MII_SR_LINK);
    ck_assert(bmsr & E1000_MII_SR_AN_DONE);
    ck_assert_uint_eq(phy_rd(E1000_M88_SPEC_STATUS) & 0xc000, 0x8000);   /* 1000 Mb/s */
    ck_assert(phy_rd(E1000_PHY_1000T_STATUS) & 0x3000);                   /* receivers OK */
    /* What Linux's autoneg setup writes sticks; read-only registers do not change. */
    mdic(E1000_PHY_ADDR, E1000_PHY_AUTONEG_ADV, true, 0x0de1);
    ck_assert_uint_eq(phy_rd(E1000_PHY_AUTONEG_ADV), 0x0de1);
    mdic(E1000_PHY_ADDR, E1000_PHY_ID1, true, 0x1234);
    ck_assert_uint_eq(phy_rd(E1000_PHY_ID1), 0x0141);
    /* Reset and autoneg restart clear themselves. */
    mdic(E1000_PHY_ADDR, E1000_PHY_CTRL, true, 0x1140 | E1000_MII_CR_RESET | E1000_MII_CR_RESTART_AN);
    ck_assert_uint_eq(phy_rd(E1000_PHY_CTRL), 0x1140);
    /* Nothing at another address. */
    ck_assert(mdic(2, E1000_PHY_ID1, false, 0) & E1000_MDIC_ERROR);
    /* MDIC's interrupt. */
    wr(E1000_IMS, E1000_ICR_MDAC);
    wr(E1000_MDIC, E1000_PHY_STATUS << E1000_MDIC_REG_SHIFT | E1000_PHY_ADDR << E1000_MDIC_PHY_SHIFT |
                       E1000_MDIC_OP_READ | E1000_MDIC_INT_EN);
    ck_assert(atomic_load(&intx));
    ck_assert_uint_eq(rd(E1000_ICR), E1000_ICR_MDAC);
    ck_assert(!atomic_load(&intx));
    /* CTRL.PHY_RST gives the PHY its reset values. */
    wr(E1000_CTRL, rd(E1000_CTRL) | E1000_CTRL_PHY_RST);
    wr(E1000_CTRL, rd(E1000_CTRL) & ~E1000_CTRL_PHY_RST);
    ck_assert_uint_eq(phy_rd(E1000_PHY_AUTONEG_ADV), 0x01e1);
}
END_TEST

START_TEST(reset)
{
    wr(E1000_IMS, 0x9d);
    wr(E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_UPE);
    wr(E1000_RDBAL, 0x12345678);
    ck_assert_uint_eq(rd(E1000_RDBAL), 0x12345670);        /* 16-byte aligned */
    wr(E1000_TDLEN, 1000);
    ck_assert_uint_eq(rd(E1000_TDLEN), 896);               /* a multiple of 128 */
    wr(E1000_MTA + 8, 0xdeadbeef);
    wr(E1000_RA + 8, 0x11223344);
    wr(E1000_RA + 12, E1000_RAH_AV | 0x7fff5566);
    ck_assert_uint_eq(rd(E1000_RA + 12), E1000_RAH_AV | E1000_RAH_ASEL | 0x5566);
    wr(E1000_ICS, E1000_ICR_TXDW);
    ck_assert(atomic_load(&intx));
    wr(E1000_CTRL, rd(E1000_CTRL) | E1000_CTRL_RST);
    ck_assert(!atomic_load(&intx));
    ck_assert_uint_eq(rd(E1000_CTRL) & E1000_CTRL_RST, 0);
    ck_assert_uint_eq(rd(E1000_IMS), 0);
    ck_assert_uint_eq(rd(E1000_ICR), 0);
    ck_assert_uint_eq(rd(E1000_RCTL), 0);
    ck_assert_uint_eq(rd(E1000_RDBAL), 0);
    ck_assert_uint_eq(rd(E1000_TDLEN), 0);
    ck_assert_uint_eq(rd(E1000_MTA + 8), 0);
    ck_assert_uint_eq(rd(E1000_RA + 12), 0);
    ck_assert_uint_eq(rd(E1000_RA + 4), 0x5634 | E1000_RAH_AV);
    ck_assert_uint_eq(rd(E1000_VET), 0x8100);
    ck_assert_uint_eq(rd(E1000_RXCSUM), E1000_RXCSUM_IPOFL | E1000_RXCSUM_TUOFL);
    ck_assert(rd(E1000_STATUS) & E1000_STATUS_LU);
    /* Through the I/O window too, with IOADDR read back. */
    wr(E1000_RCTL, E1000_RCTL_EN);
    tbus_out(bus, BAR1 + E1000_IOADDR, 4, E1000_RCTL);
    ck_assert_uint_eq(tbus_in(bus, BAR1 + E1000_IOADDR, 4), E1000_RCTL);
    ck_assert_uint_eq(tbus_in(bus, BAR1 + E1000_IODATA, 4), E1000_RCTL_EN);
    tbus_out(bus, BAR1 + E1000_IOADDR, 4, E1000_CTRL);
    tbus_out(bus, BAR1 + E1000_IODATA, 4, E1000_CTRL_RST);
    ck_assert_uint_eq(rd(E1000_RCTL), 0);
    ck_assert_uint_eq(tbus_in(bus, BAR1 + 0x20, 4), 0);
}
END_TEST

START_TEST(interrupts)
{
    wr(E1000_ICS, E1000_ICR_TXDW | E1000_ICR_LSC);
    ck_assert(!atomic_load(&intx));                        /* masked */
    wr(E1000_IMS, E1000_ICR_LSC);
    ck_assert(atomic_load(&intx));
    ck_assert_uint_eq(rd(E1000_IMS), E1000_ICR_LSC);
    wr(E1000_IMC, E1000_ICR_LSC);
    ck_assert(!atomic_load(&intx));
    wr(E1000_IMS, E1000_ICR_TXDW);
    ck_assert(atomic_load(&intx));
    wr(E1000_ICR, E1000_ICR_TXDW);                         /* write 1 to clear */
    ck_assert(!atomic_load(&intx));
    wr(E1000_IMS, E1000_ICR_LSC);
    ck_assert(atomic_load(&intx));
    ck_assert_uint_eq(rd(E1000_ICR), E1000_ICR_LSC);       /* read clears */
    ck_assert(!atomic_load(&intx));
    ck_assert_uint_eq(rd(E1000_ICR), 0);
    /* INTx disable in the command register hides the line. */
    wr(E1000_ICS, E1000_ICR_LSC);
    ck_assert(atomic_load(&intx));
    pci_cfg_write(pci, DEVFN, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
                  PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
    ck_assert(!atomic_load(&intx));
    pci_cfg_write(pci, DEVFN, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
                  PCI_COMMAND_MASTER);
    ck_assert(atomic_load(&intx));
    rd(E1000_ICR);
    /* Unknown registers read 0 and keep nothing; write-only ones read 0. */
    wr(0x1234, 0xffffffff);
    ck_assert_uint_eq(rd(0x1234), 0);
    wr(0x8000, 1);
    ck_assert_uint_eq(rd(0x8000), 0);
    ck_assert_uint_eq(rd(E1000_ICS), 0);
    ck_assert_uint_eq(rd(E1000_IMC), 0);
    /* Narrow reads see their bytes; narrow writes are ignored. */
    wr(E1000_TIPG, 0x00602008);
    ck_assert_uint_eq(tbus_read(bus, BAR0 + E1000_TIPG + 1, 1), 0x20);
    ck_assert_uint_eq(tbus_read(bus, BAR0 + E1000_TIPG + 2, 2), 0x0060);
    tbus_write(bus, BAR0 + E1000_TIPG, 1, 0xff);
    ck_assert_uint_eq(rd(E1000_TIPG), 0x00602008);
    /* 8-byte accesses are two dwords. */
    tbus_write(bus, BAR0 + E1000_RDBAL, 8, 0x0000000100002000ULL);
    ck_assert_uint_eq(rd(E1000_RDBAH), 1);
    ck_assert_uint_eq(tbus_read(bus, BAR0 + E1000_RDBAL, 8), 0x0000000100002000ULL);
}
END_TEST

/* ---- transmit ---- */

static void frame_pattern(uint8_t *f, size_t len, unsigned seed)
{
    test_frame(f, len, seed);
    memcpy(f + 6, guest_mac, 6);
}

START_TEST(tx_single)
{
    uint8_t f[1000], got[2048];
    struct virtio_net_hdr h;
    drv_up(0, true);
    frame_pattern(f, sizeof(f), 1);
    memcpy(ram + TXBUF, f, sizeof(f));
    put_legacy(tx_tail, TXBUF, sizeof(f), E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS,
               0, 0);
    tx_go(1);
    ck_assert_int_eq(far_recv(&h, got, sizeof(got), 2000), (ssize_t)sizeof(f));
    ck_assert(memcmp(got, f, sizeof(f)) == 0);
    if (!on_tap) {
        ck_assert_uint_eq(h.flags, 0);
        ck_assert_uint_eq(h.gso_type, VIRTIO_NET_HDR_GSO_NONE);
    }
    ck_assert(WAIT_UNTIL(tx_done_at(0), 2000));
    ck_assert(WAIT_UNTIL(rd(E1000_TDH) == 1, 2000));
    ck_assert(WAIT_UNTIL(atomic_load(&intx), 2000));
    ck_assert_uint_eq(rd(E1000_ICR) & (E1000_ICR_TXDW | E1000_ICR_TXQE),
                      E1000_ICR_TXDW | E1000_ICR_TXQE);
    ck_assert(!atomic_load(&intx));
    /* Counters, read to clear. */
    ck_assert_uint_eq(rd(E1000_GPTC), 1);
    ck_assert_uint_eq(rd(E1000_TPT), 1);
    ck_assert_uint_eq(rd(E1000_GOTCL), sizeof(f) + 4);
    ck_assert_uint_eq(rd(E1000_GOTCH), 0);
    ck_assert_uint_eq(rd(E1000_BPTC), 1);
    ck_assert_uint_eq(rd(E1000_PTC1023), 1);
    ck_assert_uint_eq(rd(E1000_GPTC), 0);
    ck_assert_uint_eq(rd(E1000_GOTCL), 0);
    struct e1000_stats st;
    e1000_get_stats(nic, &st);
    ck_assert_uint_eq(st.tx_frames, 1);
    ck_assert_uint_eq(st.tx_bytes, sizeof(f));
}
END_TEST

/* One frame in five descriptors (one of them empty, one without RS),
 * legacy and extended, then a short frame padded by TCTL.PSP. */
START_TEST(tx_multi)
{
    uint8_t f[1514], got[4096];
    drv_up(0, true);
    frame_pattern(f, sizeof(f), 2);
    uint32_t at[4] = { TXBUF + 0x8000, TXBUF + 0x100, TXBUF + 0x4000, TXBUF + 0x20000 };
    uint32_t len[4] = { 14, 500, 500, 500 };
    size_t off = 0;
    for (unsigned i = 0; i < 4; i++) {
        memcpy(ram + at[i], f + off, len[i]);
        off += len[i];
    }
    put_legacy(0, at[0], (uint16_t)len[0], E1000_TXD_CMD_RS, 0, 0);
    put_legacy(1, at[1], (uint16_t)len[1], 0, 0, 0);
    put_legacy(2, 0x12345, 0, E1000_TXD_CMD_RS, 0, 0);     /* no data */
    put_data(3, at[2], len[2], E1000_TXD_CMD_RS, 0);
    put_data(4, at[3], len[3], E1000_TXD_CMD_RS | E1000_TXD_CMD_EOP, 0);
    tx_go(5);
    ck_assert_int_eq(far_recv(NULL, got, sizeof(got), 2000), (ssize_t)sizeof(f));
    ck_assert(memcmp(got, f, sizeof(f)) == 0);
    ck_assert(WAIT_UNTIL(rd(E1000_TDH) == 5, 2000));
    ck_assert(tx_done_at(0) && !tx_done_at(1) && tx_done_at(2) && tx_done_at(3) && tx_done_at(4));

    /* A 20-byte frame goes out as 60 (zero padded). */
    frame_pattern(f, 20, 3);
    memcpy(ram + TXBUF, f, 20);
    put_legacy(5, TXBUF, 20, E1000_TXD_CMD_RS | E1000_TXD_CMD_EOP, 0, 0);
    tx_go(1);
    ck_assert_int_eq(far_recv(NULL, got, sizeof(got), 2000), 60);
    ck_assert(memcmp(got, f, 20) == 0);
    for (int i = 20; i < 60; i++)
        ck_assert_uint_eq(got[i], 0);
    ck_assert(WAIT_UNTIL(tx_done_at(5), 2000));
}
END_TEST

/* TCP checksum offload (context + TXSM) and the IP header's (IXSM). */
START_TEST(tx_csum)
{
    uint8_t f[2048], got[2048];
    struct virtio_net_hdr h;
    drv_up(0, true);
    size_t len = ip4_frame(f, true, 1200, 4, 1);
    memcpy(ram + TXBUF, f, len);
    put_context(0, 14, 24, 33, 34, 50, 0, 0, E1000_TUCMD_TCP | E1000_TUCMD_IP, 0, 0);
    put_data(1, TXBUF, 100, 0, E1000_TXD_POPTS_TXSM | E1000_TXD_POPTS_IXSM);
    put_data(2, TXBUF + 100, (uint32_t)len - 100, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0);
    tx_go(3);
    ssize_t n = far_recv(&h, got, sizeof(got), 2000);
    ck_assert_int_eq(n, (ssize_t)len);
    if (!on_tap) {
        /* The engine gets a partial checksum and a complete IP header. */
        ck_assert_uint_eq(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
        ck_assert_uint_eq(h.csum_start, 34);
        ck_assert_uint_eq(h.csum_offset, 16);
        ck_assert_uint_eq(fold(sum16(got + 14, 20, 0)), 0xffff);
        ck_assert(memcmp(got + 34, f + 34, len - 34) == 0);
    } else {
        ck_assert(ip4_ok(got, (size_t)n));
        ck_assert(memcmp(got + 54, f + 54, len - 54) == 0);
    }
    /* The guest's buffer is not touched. */
    ck_assert(memcmp(ram + TXBUF, f, len) == 0);
    /* A checksum that ends early (TUCSE) is done in software: UDP over
     * the header and 100 bytes. */
    len = ip4_frame(f, false, 300, 5, 0);
    uint8_t *udp = f + 34;
    be16_put(udp + 6, 0);
    memcpy(ram + TXBUF, f, len);
    put_context(3, 0, 0, 0, 34, 40, 34 + 8 + 100 - 1, 0, E1000_TUCMD_IP, 0, 0);
    put_data(4, TXBUF, (uint32_t)len, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, E1000_TXD_POPTS_TXSM);
    tx_go(2);
    n = far_recv(&h, got, sizeof(got), 2000);
    ck_assert_int_eq(n, (ssize_t)len);
    uint16_t want = (uint16_t)~fold(sum16(f + 34, 108, 0));
    ck_assert_uint_eq(be16_get(got + 40), want ? want : 0xffff);
    if (!on_tap)
        ck_assert_uint_eq(h.flags, 0);
    ck_assert(WAIT_UNTIL(tx_done_at(4), 2000));
}
END_TEST

/* The IPv4 TCP frame of a TSO send as Linux's e1000 builds it: a
 * context with TSE (MSS, HDRLEN, IP and TCP offsets), data descriptors
 * with TSE and TXSM|IXSM. Returns its length. */
static size_t post_tso(size_t payload, uint16_t mss, unsigned seed, uint8_t *frame)
{
    size_t len = ip4_frame(frame, true, payload, seed, 2);
    memcpy(ram + TXBUF, frame, len);
    put_context(tx_tail, 14, 24, 33, 34, 50, 0, (uint32_t)payload,
                E1000_TUCMD_TSE | E1000_TUCMD_TCP | E1000_TUCMD_IP | E1000_TXD_CMD_RS, 54, mss);
    unsigned n = 1;
    /* The headers alone, then the payload in 4 KiB pieces (Linux's
     * E1000_MAX_DATA_PER_TXD). */
    put_data((tx_tail + n++) % NTX, TXBUF, 54, E1000_TXD_CMD_TSE,
             E1000_TXD_POPTS_TXSM | E1000_TXD_POPTS_IXSM);
    for (size_t off = 54; off < len; off += 4096) {
        size_t k = len - off < 4096 ? len - off : 4096;
        uint8_t cmd = E1000_TXD_CMD_TSE | (off + k == len ? E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS : 0);
        put_data((tx_tail + n++) % NTX, TXBUF + off, (uint32_t)k, cmd, 0);
    }
    tx_go(n);
    return len;
}

START_TEST(tx_tso_header)
{
    static uint8_t f[70000], got[70000];
    struct virtio_net_hdr h;
    drv_up(0, true);
    size_t payload = 65536 - 54, len = post_tso(payload, 1448, 6, f);
    ck_assert_int_eq(far_recv(&h, got, sizeof(got), 3000), (ssize_t)len);
    ck_assert_uint_eq(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    ck_assert_uint_eq(h.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
    ck_assert_uint_eq(h.gso_size, 1448);
    ck_assert_uint_eq(h.hdr_len, 54);
    ck_assert_uint_eq(h.csum_start, 34);
    ck_assert_uint_eq(h.csum_offset, 16);
    /* The template: IP length and checksum right, TCP's the pseudo-header
     * sum with the TCP length. */
    ck_assert_uint_eq(be16_get(got + 16), len - 14);
    ck_assert_uint_eq(fold(sum16(got + 14, 20, 0)), 0xffff);
    uint32_t pseudo = sum16(got + 26, 8, 0) + 6 + (uint32_t)(len - 34);
    ck_assert_uint_eq(be16_get(got + 50), fold(pseudo));
    ck_assert(memcmp(got + 54, f + 54, payload) == 0);
    ck_assert(WAIT_UNTIL(rd(E1000_TDH) == tx_tail, 2000));
    ck_assert_uint_eq(rd(E1000_TSCTC), 1);
    ck_assert_uint_eq(rd(E1000_GPTC), (payload + 1447) / 1448);
    /* MSS 0 is refused and counted; the ring goes on. */
    post_tso(1000, 0, 7, f);
    ck_assert(WAIT_UNTIL(rd(E1000_TDH) == tx_tail, 2000));
    ck_assert_uint_eq(rd(E1000_TSCTFC), 1);
    ck_assert_int_eq(far_recv(&h, got, sizeof(got), 200), -1);
}
END_TEST

/* Over the tap and the bridge: the kernel cuts the TSO frame into MSS
 * segments with right checksums, the payload in order. */
START_TEST(tap_tso_segments)
{
    static uint8_t f[70000], got[2048], joined[70000];
    drv_up(0, true);
    size_t payload = 65536 - 54, mss = 1448;
    post_tso(payload, (uint16_t)mss, 8, f);
    size_t have = 0;
    unsigned segs = 0;
    uint32_t seq = 1000;
    while (have < payload) {
        ssize_t n = far_recv(NULL, got, sizeof(got), 3000);
        ck_assert_msg(n > 0, "segment %u missing (%zu of %zu bytes)", segs, have, payload);
        ck_assert(ip4_ok(got, (size_t)n));
        size_t seg = be16_get(got + 16) - 40;
        ck_assert_uint_le(seg, mss);
        ck_assert_uint_eq((uint32_t)got[38] << 24 | got[39] << 16 | got[40] << 8 | got[41], seq);
        memcpy(joined + have, got + 54, seg);
        have += seg;
        seq += (uint32_t)seg;
        segs++;
    }
    ck_assert_uint_eq(have, payload);
    ck_assert_uint_eq(segs, (payload + mss - 1) / mss);
    ck_assert(memcmp(joined, f + 54, payload) == 0);
}
END_TEST

/* ---- receive ---- */

static void rx_frame_to_guest(uint8_t *f, size_t len, unsigned seed)
{
    test_frame(f, len, seed);
    memcpy(f, guest_mac, 6);
    memcpy(f + 6, peer_mac, 6);
}

START_TEST(rx_basic)
{
    uint8_t f[1200];
    unsigned idx;
    uint8_t st, er;
    drv_up(0, false);                  /* SECRC off, as Linux's e1000: the FCS is there */
    rx_frame_to_guest(f, sizeof(f), 9);
    far_send(NULL, f, sizeof(f));
    int n = rx_take(&idx, &st, &er, 2000);
    ck_assert_int_eq(n, (int)sizeof(f) + 4);
    ck_assert_uint_eq(idx, 0);
    ck_assert_uint_eq(st & (E1000_RXD_STA_DD | E1000_RXD_STA_EOP), E1000_RXD_STA_DD | E1000_RXD_STA_EOP);
    ck_assert_uint_eq(er, 0);
    ck_assert(memcmp(rx_buf(idx), f, sizeof(f)) == 0);
    uint32_t crc = crc32_ieee(f, sizeof(f));
    uint8_t *fcs = rx_buf(idx) + sizeof(f);
    ck_assert_uint_eq((uint32_t)fcs[0] | fcs[1] << 8 | fcs[2] << 16 | (uint32_t)fcs[3] << 24, crc);
    /* The packet checksum field: the sum from RXCSUM.PCSS (0). */
    ck_assert_uint_eq(ram16(RXR + 10), fold(sum16(f, sizeof(f), 0)));
    ck_assert(WAIT_UNTIL(atomic_load(&intx), 2000));
    ck_assert(rd(E1000_ICR) & E1000_ICR_RXT0);
    ck_assert(WAIT_UNTIL(rd(E1000_RDH) == 1, 2000));
    ck_assert_uint_eq(rd(E1000_GPRC), 1);
    ck_assert_uint_eq(rd(E1000_TPR), 1);
    ck_assert_uint_eq(rd(E1000_GORCL), sizeof(f) + 4);
    /* SECRC on: no FCS; a short frame is padded to 60 bytes. */
    wr(E1000_RCTL, rd(E1000_RCTL) | E1000_RCTL_SECRC);
    rx_frame_to_guest(f, 42, 10);
    far_send(NULL, f, 42);
    n = rx_take(&idx, &st, &er, 2000);
    ck_assert_int_eq(n, 60);
    ck_assert(memcmp(rx_buf(idx), f, 42) == 0);
    for (int i = 42; i < 60; i++)
        ck_assert_uint_eq(rx_buf(idx)[i], 0);
    struct e1000_stats s;
    e1000_get_stats(nic, &s);
    ck_assert_uint_eq(s.rx_frames, 2);
}
END_TEST

/* Small buffers: a frame over several descriptors, EOP on the last;
 * over 1522 bytes only with RCTL.LPE. */
START_TEST(rx_multi_desc)
{
    uint8_t f[1514];
    unsigned idx;
    uint8_t st, er;
    drv_up(E1000_RCTL_BSIZE, true);    /* 256-byte buffers */
    rx_frame_to_guest(f, 1000, 11);
    far_send(NULL, f, 1000);
    for (unsigned k = 0; k < 4; k++) {
        int n = rx_take(&idx, &st, &er, 2000);
        ck_assert_int_eq(n, k < 3 ? 256 : 1000 - 768);
        ck_assert_uint_eq(!!(st & E1000_RXD_STA_EOP), k == 3);
        ck_assert(memcmp(rx_buf(idx), f + 256 * k, (size_t)n) == 0);
    }
    ck_assert(WAIT_UNTIL(rd(E1000_RDH) == 4, 2000));
    /* With BSEX, 4096-byte buffers: one descriptor. */
    drv_up(E1000_RCTL_BSEX | (3u << E1000_RCTL_BSIZE_SHIFT), true);
    rx_frame_to_guest(f, sizeof(f), 12);
    far_send(NULL, f, sizeof(f));
    ck_assert_int_eq(rx_take(&idx, &st, &er, 2000), (int)sizeof(f));
    ck_assert(st & E1000_RXD_STA_EOP);
}
END_TEST

START_TEST(rx_long_frames)
{
    static uint8_t f[9000];
    unsigned idx;
    uint8_t st, er;
    if (on_tap)
        return;                        /* the bridge's MTU would drop them first */
    drv_up(0, true);
    rx_frame_to_guest(f, 1600, 13);
    far_send(NULL, f, 1600);
    rx_frame_to_guest(f, 200, 14);
    far_send(NULL, f, 200);            /* behind it, to show the long one was dropped */
    ck_assert_int_eq(rx_take(&idx, &st, &er, 2000), 200);
    ck_assert_uint_eq(rd(E1000_ROC), 1);
    wr(E1000_RCTL, rd(E1000_RCTL) | E1000_RCTL_LPE);
    rx_frame_to_guest(f, 9000, 15);
    far_send(NULL, f, 9000);
    size_t got = 0;
    for (int k = 0; k < 5; k++) {
        int n = rx_take(&idx, &st, &er, 2000);
        ck_assert_int_gt(n, 0);
        ck_assert(memcmp(rx_buf(idx), f + got, (size_t)n) == 0);
        got += (size_t)n;
        if (st & E1000_RXD_STA_EOP)
            break;
    }
    ck_assert_uint_eq(got, 9000);
}
END_TEST

START_TEST(rx_filter)
{
    uint8_t f[100];
    unsigned idx;
    uint8_t st, er;
    drv_up(0, true);
    wr(E1000_RCTL, rd(E1000_RCTL) & ~E1000_RCTL_BAM);
    /* Not ours: another unicast, a broadcast without BAM, a multicast not
     * in the table; then ours, which must come first. */
    rx_frame_to_guest(f, sizeof(f), 20);
    f[5] ^= 1;
    far_send(NULL, f, sizeof(f));
    memset(f, 0xff, 6);
    far_send(NULL, f, sizeof(f));
    memcpy(f, "\x01\x00\x5e\x00\x00\x01", 6);
    far_send(NULL, f, sizeof(f));
    rx_frame_to_guest(f, sizeof(f), 21);
    far_send(NULL, f, sizeof(f));
    ck_assert_int_eq(rx_take(&idx, &st, &er, 2000), (int)sizeof(f));
    ck_assert_uint_eq(rx_buf(idx)[99], f[99]);
    /* Multicast through the MTA (MO 0: address bits 47:36). */
    unsigned h = ((0x00 >> 4) | (0x01 << 4)) & 0xfff;     /* 01:00:5e:00:00:01 */
    wr(E1000_MTA + 4 * (h >> 5), 1u << (h & 31));
    rx_frame_to_guest(f, sizeof(f), 22);
    memcpy(f, "\x01\x00\x5e\x00\x00\x01", 6);
    far_send(NULL, f, sizeof(f));
    ck_assert_int_eq(rx_take(&idx, &st, &er, 2000), (int)sizeof(f));
    ck_assert_uint_eq(rd(E1000_MPRC), 1);
    /* A second exact address (RAL1/RAH1). */
    rx_frame_to_guest(f, sizeof(f), 23);
    memcpy(f, "\x02\x11\x22\x33\x44\x55", 6);
    wr(E1000_RA + 8, 0x33221102);
    wr(E1000_RA + 12, 0x5544 | E1000_RAH_AV);
    far_send(NULL, f, sizeof(f));
    ck_assert_int_eq(rx_take(&idx, &st, &er, 2000), (int)sizeof(f));
    /* Promiscuous: anything. */
    wr(E1000_RCTL, rd(E1000_RCTL) | E1000_RCTL_UPE | E1000_RCTL_MPE);
    memcpy(f, "\x02\x99\x99\x99\x99\x99", 6);
    far_send(NULL, f, sizeof(f));
    ck_assert_int_eq(rx_take(&idx, &st, &er, 2000), (int)sizeof(f));
    ck_assert_uint_eq(rx_buf(idx)[1], 0x99);
    /* VLAN filter: a tag whose VID is not in the VFTA is dropped; with
     * CTRL.VME the tag goes to the descriptor. */
    wr(E1000_RCTL, rd(E1000_RCTL) | E1000_RCTL_VFE);
    wr(E1000_CTRL, rd(E1000_CTRL) | E1000_CTRL_VME);
    rx_frame_to_guest(f, sizeof(f), 24);
    memmove(f + 16, f + 12, sizeof(f) - 16);
    be16_put(f + 12, 0x8100);
    be16_put(f + 14, 0x2005);          /* priority 1, VID 5 */
    struct e1000_stats s0;
    e1000_get_stats(nic, &s0);
    far_send(NULL, f, sizeof(f));
    struct e1000_stats s1;
    ck_assert(WAIT_UNTIL((e1000_get_stats(nic, &s1), s1.rx_filtered > s0.rx_filtered), 2000));
    wr(E1000_VFTA, 1u << 5);
    far_send(NULL, f, sizeof(f));
    ck_assert_int_eq(rx_take(&idx, &st, &er, 2000), (int)sizeof(f) - 4);
    ck_assert(st & E1000_RXD_STA_VP);
    ck_assert_uint_eq(ram16(RXR + 16 * idx + 14), 0x2005);
    ck_assert(memcmp(rx_buf(idx), f, 12) == 0);
    ck_assert(memcmp(rx_buf(idx) + 12, f + 16, sizeof(f) - 16) == 0);
    ck_assert_int_eq(rx_take(&idx, &st, &er, 200), -1);  /* the first was filtered */
    wr(E1000_CTRL, rd(E1000_CTRL) & ~E1000_CTRL_VME);      /* VME off: the tag stays */
    far_send(NULL, f, sizeof(f));
    ck_assert_int_eq(rx_take(&idx, &st, &er, 2000), (int)sizeof(f));
    ck_assert(!(st & E1000_RXD_STA_VP));
    ck_assert(memcmp(rx_buf(idx), f, sizeof(f)) == 0);
    struct e1000_stats s;
    e1000_get_stats(nic, &s);
    ck_assert_uint_ge(s.rx_filtered, 4);
}
END_TEST

/* With no buffers posted frames wait in the engine, in order, until RDT
 * moves; RXO says so once. */
START_TEST(rx_no_buffers)
{
    uint8_t f[300];
    unsigned idx;
    uint8_t st, er;
    drv_up(0, true);
    wr(E1000_RDT, 0);                  /* RDH == RDT: nothing posted */
    rx_tail = 0;
    for (unsigned k = 0; k < 3; k++) {
        rx_frame_to_guest(f, sizeof(f), 30 + k);
        far_send(NULL, f, sizeof(f));
    }
    ck_assert(WAIT_UNTIL(atomic_load(&intx), 2000));
    ck_assert_uint_eq(rd(E1000_ICR) & (E1000_ICR_RXO | E1000_ICR_RXT0), E1000_ICR_RXO);
    usleep(50000);
    ck_assert_uint_eq(ram8(RXR + 12), 0);
    ck_assert_uint_eq(rd(E1000_RDH), 0);
    ck_assert_uint_eq(rd(E1000_RNBC), 1);
    /* One buffer: the first frame, and the others still wait. */
    wr(E1000_RDT, 1);
    rx_tail = 1;
    ck_assert_int_eq(rx_take(&idx, &st, &er, 2000), (int)sizeof(f));
    rx_frame_to_guest(f, sizeof(f), 30);
    ck_assert(memcmp(rx_buf(idx), f, sizeof(f)) == 0);
    usleep(50000);
    ck_assert_uint_eq(ram8(RXR + 16 + 12), 0);
    wr(E1000_RDT, 10);
    rx_tail = 10;
    for (unsigned k = 1; k < 3; k++) {
        ck_assert_int_eq(rx_take(&idx, &st, &er, 2000), (int)sizeof(f));
        rx_frame_to_guest(f, sizeof(f), 30 + k);
        ck_assert(memcmp(rx_buf(idx), f, sizeof(f)) == 0);
    }
    /* The receiver off: frames are lost, not kept. */
    wr(E1000_RCTL, 0);
    far_send(NULL, f, sizeof(f));
    usleep(50000);
    wr(E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_SECRC);
    rx_frame_to_guest(f, sizeof(f), 40);
    far_send(NULL, f, sizeof(f));
    ck_assert_int_eq(rx_take(&idx, &st, &er, 2000), (int)sizeof(f));
    ck_assert_uint_eq(rx_buf(idx)[299], f[299]);
}
END_TEST

/* A partial checksum from the host (NEEDS_CSUM) is completed before the
 * guest sees the frame, and the descriptor says it is good. */
START_TEST(rx_partial_csum)
{
    uint8_t f[1500];
    unsigned idx;
    uint8_t st, er;
    drv_up(0, true);
    size_t len = ip4_frame(f, true, 1000, 50, 1);
    memcpy(f, guest_mac, 6);
    be16_put(f + 24, (uint16_t)~fold(sum16(f + 14, 20, 0)));
    struct virtio_net_hdr h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34,
                                .csum_offset = 16 };
    far_send(&h, f, len);
    ck_assert_int_eq(rx_take(&idx, &st, &er, 2000), (int)len);
    ck_assert(ip4_ok(rx_buf(idx), len));
    ck_assert(st & E1000_RXD_STA_TCPCS);
    ck_assert(st & E1000_RXD_STA_IPCS);
    ck_assert_uint_eq(er, 0);
    /* Without a verdict from the host, the guest is told to check. */
    len = ip4_frame(f, true, 100, 51, 0);
    memcpy(f, guest_mac, 6);
    far_send(NULL, f, len);
    ck_assert_int_eq(rx_take(&idx, &st, &er, 2000), (int)len);
    ck_assert(st & E1000_RXD_STA_IXSM);
    ck_assert(!(st & E1000_RXD_STA_TCPCS));
    /* A GSO frame never comes from a tap with offloads off; if one did, it is dropped. */
    h = (struct virtio_net_hdr){ .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 100 };
    far_send(&h, f, len);
    far_send(NULL, f, len);
    ck_assert_int_eq(rx_take(&idx, &st, &er, 2000), (int)len);
    ck_assert_int_eq(rx_take(&idx, &st, &er, 200), -1);
}
END_TEST

/* Over the real tap: frames the peer writes land in the guest. */
START_TEST(tap_rx)
{
    uint8_t f[1400];
    unsigned idx;
    uint8_t st, er;
    drv_up(0, true);
    int n = -1;
    /* The bridge may take a moment to forward: retry a few times. */
    for (unsigned k = 0; k < 20 && n < 0; k++) {
        rx_frame_to_guest(f, sizeof(f), 60);
        far_send(NULL, f, sizeof(f));
        n = rx_take(&idx, &st, &er, 250);
    }
    ck_assert_int_eq(n, (int)sizeof(f));
    ck_assert(memcmp(rx_buf(idx), f, sizeof(f)) == 0);
    ck_assert_uint_eq(st & (E1000_RXD_STA_DD | E1000_RXD_STA_EOP), E1000_RXD_STA_DD | E1000_RXD_STA_EOP);
    /* An IPv4 TCP frame with its checksums. */
    size_t len = ip4_frame(f, true, 800, 61, 0);
    memcpy(f, guest_mac, 6);
    memcpy(f + 6, peer_mac, 6);
    far_send(NULL, f, len);
    for (;;) {
        n = rx_take(&idx, &st, &er, 2000);
        ck_assert_int_gt(n, 0);
        if (be16_get(rx_buf(idx) + 12) == 0x0800)
            break;                     /* (a retried test frame before it) */
    }
    ck_assert_int_eq(n, (int)len);
    ck_assert(ip4_ok(rx_buf(idx), len));
}
END_TEST

/* ---- a hostile guest ---- */

START_TEST(hostile_tx_rings)
{
    uint8_t f[200], got[2048];
    drv_up(0, true);
    frame_pattern(f, sizeof(f), 70);
    memcpy(ram + TXBUF, f, sizeof(f));
    /* Buffers outside RAM (past the end, wrapping, huge): dropped, DD
     * still written, nothing reaches the far end. */
    put_legacy(0, RAM_SIZE - 100, 200, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0, 0);
    put_legacy(1, ~0ULL - 50, 100, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0, 0);
    put_data(2, TXBUF, 0xfffff, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0);
    put_legacy(3, TXBUF, 5, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0, 0);   /* a runt */
    /* Garbage: a context descriptor in the middle of a frame, an unknown type. */
    put_data(4, TXBUF, 100, 0, 0);
    put_context(5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    put_data(6, TXBUF, 100, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0);
    uint8_t *d7 = ram + TXR + 16 * 7;
    put_data(7, TXBUF, 100, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0);
    d7[10] = (uint8_t)((d7[10] & 0x0f) | 0x50);
    tx_go(8);
    ck_assert(WAIT_UNTIL(rd(E1000_TDH) == 8, 2000));
    for (unsigned i = 0; i < 4; i++)
        ck_assert(tx_done_at(i));
    /* Only descriptor 6's frame (after the context) is whole: it goes. */
    ck_assert_int_eq(far_recv(NULL, got, sizeof(got), 2000), 100);
    ck_assert(memcmp(got, f, 100) == 0);
    /* A good frame after it all. */
    put_legacy(8, TXBUF, sizeof(f), E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0, 0);
    tx_go(1);
    ck_assert_int_eq(far_recv(NULL, got, sizeof(got), 2000), (ssize_t)sizeof(f));
    ck_assert(memcmp(got, f, sizeof(f)) == 0);
    struct e1000_stats s;
    /* (counted when the send completes, which may be after it arrived) */
    ck_assert(WAIT_UNTIL((e1000_get_stats(nic, &s), s.tx_frames == 2), 2000));
    ck_assert_uint_eq(s.tx_dropped, 6);

    /* The ring itself outside RAM, TDLEN 0, TDT beyond the ring, TDLEN
     * not a multiple of 128: nothing happens, nothing breaks. */
    wr(E1000_TDBAL, 0xfff00000);
    wr(E1000_TDBAH, 0xffffffff);
    wr(E1000_TDT, 5);
    usleep(20000);
    wr(E1000_TDBAH, 0);
    wr(E1000_TDBAL, TXR);
    wr(E1000_TDLEN, 0);
    wr(E1000_TDH, 0);
    wr(E1000_TDT, 3);
    usleep(20000);
    ck_assert_uint_eq(rd(E1000_TDH), 0);
    wr(E1000_TDT, 0);                  /* (else the ring below would hold 3 at once) */
    wr(E1000_TDLEN, 200);              /* 128: eight descriptors */
    ck_assert_uint_eq(rd(E1000_TDLEN), 128);
    wr(E1000_TDT, 100);                /* beyond them */
    usleep(20000);
    ck_assert_uint_eq(rd(E1000_TDH), 0);
    /* A ring with no EOP anywhere: walked and dropped in 64-descriptor
     * pieces, never a hang. */
    wr(E1000_TDT, 0);
    for (unsigned i = 0; i < 256; i++) {
        uint8_t *d = ram + TXR + 16 * i;
        put64(d, TXBUF);
        put32(d + 8, 10);
        put32(d + 12, 0);
    }
    wr(E1000_TDLEN, 4096);             /* 256 descriptors from TXR */
    wr(E1000_TDT, 255);
    ck_assert(WAIT_UNTIL(rd(E1000_TDH) == 192, 2000));
    /* And the device still works after a reset. */
    drv_up(0, true);
    put_legacy(0, TXBUF, sizeof(f), E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0, 0);
    tx_go(1);
    ck_assert_int_eq(far_recv(NULL, got, sizeof(got), 2000), (ssize_t)sizeof(f));
}
END_TEST

START_TEST(hostile_rx_rings)
{
    uint8_t f[400];
    unsigned idx;
    uint8_t st, er;
    drv_up(0, true);
    /* A buffer outside RAM: that descriptor says RXE, the next frame
     * lands in the next one. */
    put64(ram + RXR, RAM_SIZE + 0x1000);
    rx_frame_to_guest(f, sizeof(f), 80);
    far_send(NULL, f, sizeof(f));
    far_send(NULL, f, sizeof(f));
    ck_assert_int_eq(rx_take(&idx, &st, &er, 2000), 0);
    ck_assert(er & E1000_RXD_ERR_RXE);
    ck_assert_int_eq(rx_take(&idx, &st, &er, 2000), (int)sizeof(f));
    ck_assert_uint_eq(er, 0);
    /* A frame larger than the whole ring: dropped, not waiting forever. */
    for (unsigned i = 0; i < 8; i++) {
        put64(ram + RXR + 16 * i, RXBUF + (uint64_t)i * RX_STRIDE);
        ram[RXR + 16 * i + 12] = 0;
    }
    wr(E1000_RCTL, rd(E1000_RCTL) | E1000_RCTL_BSIZE);     /* 256 bytes */
    wr(E1000_RDLEN, 128);              /* 8 descriptors: 7 usable = 1792 bytes */
    wr(E1000_RDH, 0);
    wr(E1000_RDT, 7);
    rx_next = 0;
    rx_frame_to_guest(f, sizeof(f), 81);
    wr(E1000_RCTL, rd(E1000_RCTL) | E1000_RCTL_LPE);
    if (!on_tap) {
        static uint8_t big[4000];
        rx_frame_to_guest(big, sizeof(big), 82);
        far_send(NULL, big, sizeof(big));
    }
    far_send(NULL, f, sizeof(f));
    unsigned got = 0;
    for (;;) {
        int n = rx_take(&idx, &st, &er, 2000);
        ck_assert_int_gt(n, 0);
        got += (unsigned)n;
        if (st & E1000_RXD_STA_EOP)
            break;
    }
    ck_assert_uint_eq(got, sizeof(f));
    /* The ring outside RAM or beyond its end: frames wait, nothing breaks. */
    wr(E1000_RDBAL, 0xfffff000);
    wr(E1000_RDBAH, 0x7fffffff);
    wr(E1000_RDT, 6);
    far_send(NULL, f, sizeof(f));
    usleep(20000);
    wr(E1000_RDBAH, 0);
    wr(E1000_RDBAL, RXR);
    wr(E1000_RDH, 500);
    far_send(NULL, f, sizeof(f));
    usleep(20000);
    ck_assert_uint_eq(rd(E1000_RDH), 500);
    /* A reset, and frames land again. */
    drv_up(0, true);
    usleep(20000);
    while (rx_take(&idx, &st, &er, 50) >= 0)
        ;                              /* (the one that waited, if the reset did not drop it) */
    rx_frame_to_guest(f, sizeof(f), 83);
    far_send(NULL, f, sizeof(f));
    ck_assert_int_eq(rx_take(&idx, &st, &er, 2000), (int)sizeof(f));
    ck_assert(memcmp(rx_buf(idx), f, sizeof(f)) == 0);
}
END_TEST

/* The same TDT written in a tight loop wakes the device thread not at
 * all; new TDTs wake it at most once each. */
START_TEST(tdt_tight_loop)
{
    struct e1000_stats s0, s1;
    drv_up(0, true);
    usleep(20000);
    e1000_get_stats(nic, &s0);
    for (unsigned i = 0; i < 200000; i++)
        wr(E1000_TDT, 0);
    e1000_get_stats(nic, &s1);
    ck_assert_uint_eq(s1.kicks, s0.kicks);
    /* Alternating with empty descriptors: bounded by the writes. */
    memset(ram + TXR, 0, NTX * 16);
    for (unsigned i = 0; i < 2000; i++)
        wr(E1000_TDT, (i + 1) % NTX);
    e1000_get_stats(nic, &s1);
    ck_assert_uint_le(s1.kicks - s0.kicks, 2000);
}
END_TEST

struct hammer_arg {
    unsigned seed;
};

static void *hammer_thread(void *p)
{
    struct hammer_arg *a = p;
    tbus_hammer(bus, IOBUS_MMIO, BAR0, E1000_MMIO_SIZE, 30000, a->seed);
    tbus_hammer(bus, IOBUS_PIO, BAR1, E1000_IO_SIZE, 20000, a->seed + 1);
    return NULL;
}

/* Random accesses everywhere, from three vCPU threads at once, while
 * frames arrive; then a reset and everything works. */
START_TEST(hammer)
{
    uint8_t f[500], got[2048];
    unsigned idx;
    uint8_t st, er;
    drv_up(0, true);
    pthread_t t[3];
    struct hammer_arg a[3] = { { 1 }, { 77 }, { 4242 } };
    for (unsigned i = 0; i < 3; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, hammer_thread, &a[i]), 0);
    for (unsigned k = 0; k < 20; k++) {
        rx_frame_to_guest(f, sizeof(f), 90 + k);
        far_send(NULL, f, sizeof(f));
    }
    for (unsigned i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    tbus_hammer(bus, IOBUS_MMIO, BAR0, 0x6000, 50000, 99);    /* the busy part */
    usleep(20000);
    /* Drain what the hammering sent, then a clean start. */
    while (far_recv(NULL, got, sizeof(got), 50) > 0)
        ;
    drv_up(0, true);
    while (rx_take(&idx, &st, &er, 100) >= 0)
        rx_give_back(idx);
    frame_pattern(f, sizeof(f), 99);
    memcpy(ram + TXBUF, f, sizeof(f));
    put_legacy(tx_tail, TXBUF, sizeof(f), E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0, 0);
    tx_go(1);
    ssize_t n;
    do
        n = far_recv(NULL, got, sizeof(got), 2000);
    while (n > 0 && memcmp(got, f, sizeof(f)));
    ck_assert_int_eq(n, (ssize_t)sizeof(f));
    rx_frame_to_guest(f, sizeof(f), 100);
    far_send(NULL, f, sizeof(f));
    ck_assert_int_eq(rx_take(&idx, &st, &er, 2000), (int)sizeof(f));
    ck_assert(memcmp(rx_buf(idx), f, sizeof(f)) == 0);
    ck_assert_uint_eq(phy_rd(E1000_PHY_ID1), 0x0141);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vmm_dev_e1000");
    TCase *sock = tcase_create("socket"), *tap = tcase_create("tap");
    const char *why = test_netns_probe();
    SRunner *sr;
    int failed;

    signal(SIGPIPE, SIG_IGN);
    tcase_add_checked_fixture(sock, sock_setup, teardown);
    tcase_set_timeout(sock, 60);
    tcase_add_test(sock, pci_function);
    tcase_add_test(sock, eeprom);
    tcase_add_test(sock, phy);
    tcase_add_test(sock, reset);
    tcase_add_test(sock, interrupts);
    tcase_add_test(sock, tx_single);
    tcase_add_test(sock, tx_multi);
    tcase_add_test(sock, tx_csum);
    tcase_add_test(sock, tx_tso_header);
    tcase_add_test(sock, rx_basic);
    tcase_add_test(sock, rx_multi_desc);
    tcase_add_test(sock, rx_long_frames);
    tcase_add_test(sock, rx_filter);
    tcase_add_test(sock, rx_no_buffers);
    tcase_add_test(sock, rx_partial_csum);
    tcase_add_test(sock, hostile_tx_rings);
    tcase_add_test(sock, hostile_rx_rings);
    tcase_add_test(sock, tdt_tight_loop);
    tcase_add_test(sock, hammer);
    suite_add_tcase(s, sock);
    if (!why) {
        tcase_add_checked_fixture(tap, tap_setup, teardown);
        tcase_set_timeout(tap, 60);
        tcase_add_test(tap, tx_single);
        tcase_add_test(tap, tx_multi);
        tcase_add_test(tap, tx_csum);
        tcase_add_test(tap, tap_tso_segments);
        tcase_add_test(tap, tap_rx);
        tcase_add_test(tap, rx_filter);
        tcase_add_test(tap, rx_no_buffers);
        tcase_add_test(tap, hostile_tx_rings);
        suite_add_tcase(s, tap);
    }
    sr = srunner_create(s);
    /* Without a tap the result is given as PASS/FAIL/SKIP lines (counted
     * by tests/run.sh, which then shows the skip and its reason). */
    srunner_run_all(sr, why ? CK_SILENT : CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    if (why) {
        TestResult **r = srunner_results(sr);
        int n = srunner_ntests_run(sr);
        for (int i = 0; i < n; i++) {
            if (tr_rtype(r[i]) == CK_PASS)
                printf("PASS: vmm_dev_e1000 %s %d\n", tr_tcname(r[i]), i + 1);
            else
                printf("FAIL: vmm_dev_e1000 %s %d: %s:%d: %s\n", tr_tcname(r[i]), i + 1,
                       tr_lfile(r[i]), tr_lno(r[i]), tr_msg(r[i]));
        }
        free(r);
        printf("SKIP: vmm_dev_e1000 tap tests: %s\n", why);
    }
    srunner_free(sr);
    if (why)
        return failed ? 1 : 77;
    return failed ? 1 : 0;
}

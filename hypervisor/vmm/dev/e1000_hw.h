/*
 * Intel 82540EM numbers (the e1000 model, dev/e1000.c; docs/e1000.md):
 * register offsets, bits, descriptor layouts, EEPROM words and PHY
 * registers, from Intel's PCI/PCI-X Family of Gigabit Ethernet
 * Controllers Software Developer's Manual (8254x, rev. 4.0) and the
 * Marvell 88E1011 register map it refers to. Shared by the model, its
 * descriptor code (dev/e1000_ring.c), its tests and its fuzz target.
 */
#ifndef TANDEM_VMM_DEV_E1000_HW_H
#define TANDEM_VMM_DEV_E1000_HW_H

/* PCI function. */
#define E1000_VENDOR          0x8086
#define E1000_DEVICE_82540EM  0x100e
#define E1000_SUBSYS_VENDOR   0x8086
#define E1000_SUBSYS_ID       0x001e
#define E1000_REVISION        0x03
#define E1000_CLASS           0x020000     /* network, Ethernet */
#define E1000_MMIO_SIZE       0x20000      /* BAR 0: 128 KiB of registers */
#define E1000_IO_SIZE         0x40         /* BAR 1: IOADDR at 0, IODATA at 4 */
#define E1000_IOADDR          0x00
#define E1000_IODATA          0x04

/* ---- registers (offsets in BAR 0) ---- */
#define E1000_CTRL      0x00000
#define E1000_STATUS    0x00008
#define E1000_EECD      0x00010
#define E1000_EERD      0x00014
#define E1000_CTRL_EXT  0x00018
#define E1000_FLA       0x0001c
#define E1000_MDIC      0x00020
#define E1000_FCAL      0x00028
#define E1000_FCAH      0x0002c
#define E1000_FCT       0x00030
#define E1000_VET       0x00038
#define E1000_ICR       0x000c0
#define E1000_ITR       0x000c4
#define E1000_ICS       0x000c8
#define E1000_IMS       0x000d0
#define E1000_IMC       0x000d8
#define E1000_RCTL      0x00100
#define E1000_FCTTV     0x00170
#define E1000_TXCW      0x00178
#define E1000_RXCW      0x00180
#define E1000_TCTL      0x00400
#define E1000_TIPG      0x00410
#define E1000_AIT       0x00458     /* adaptive IFS throttle */
#define E1000_LEDCTL    0x00e00
#define E1000_PBA       0x01000
#define E1000_FCRTL     0x02160
#define E1000_FCRTH     0x02168
#define E1000_RDFH      0x02410
#define E1000_RDFT      0x02418
#define E1000_RDFHS     0x02420
#define E1000_RDFTS     0x02428
#define E1000_RDFPC     0x02430
#define E1000_RDBAL     0x02800
#define E1000_RDBAH     0x02804
#define E1000_RDLEN     0x02808
#define E1000_RDH       0x02810
#define E1000_RDT       0x02818
#define E1000_RDTR      0x02820
#define E1000_RXDCTL    0x02828
#define E1000_RADV      0x0282c
#define E1000_RSRPD     0x02c00
#define E1000_TXDMAC    0x03000
#define E1000_TDFH      0x03410
#define E1000_TDFT      0x03418
#define E1000_TDFHS     0x03420
#define E1000_TDFTS     0x03428
#define E1000_TDFPC     0x03430
#define E1000_TDBAL     0x03800
#define E1000_TDBAH     0x03804
#define E1000_TDLEN     0x03808
#define E1000_TDH       0x03810
#define E1000_TDT       0x03818
#define E1000_TIDV      0x03820
#define E1000_TXDCTL    0x03828
#define E1000_TADV      0x0382c
#define E1000_TSPMT     0x03830
#define E1000_STATS     0x04000     /* 0x4000-0x40ff: statistics, read to clear */
#define E1000_STATS_END 0x04100
#define E1000_RXCSUM    0x05000
#define E1000_MTA       0x05200     /* 128 dwords */
#define E1000_RA        0x05400     /* 16 x (RAL, RAH) */
#define E1000_VFTA      0x05600     /* 128 dwords */
#define E1000_WUC       0x05800
#define E1000_WUFC      0x05808
#define E1000_WUS       0x05810
#define E1000_MANC      0x05820
#define E1000_IPAV      0x05838
#define E1000_IP4AT     0x05840     /* 4 x (address, reserved) */
#define E1000_IP6AT     0x05880     /* 4 dwords */
#define E1000_WUPL      0x05900
#define E1000_WUPM      0x05a00     /* 128 bytes */
#define E1000_FFLT      0x05f00     /* 4 x (length, reserved) */
#define E1000_FFMT      0x09000     /* 128 x (mask, reserved) */
#define E1000_FFVT      0x09800     /* 128 x (value, reserved) */

#define E1000_MTA_WORDS  128
#define E1000_RA_ENTRIES 16
#define E1000_VFTA_WORDS 128

/* Statistics (offsets from E1000_STATS are the registers' own). */
#define E1000_CRCERRS   0x04000
#define E1000_MPC       0x04010
#define E1000_PRC64     0x0405c
#define E1000_PRC127    0x04060
#define E1000_PRC255    0x04064
#define E1000_PRC511    0x04068
#define E1000_PRC1023   0x0406c
#define E1000_PRC1522   0x04070
#define E1000_GPRC      0x04074
#define E1000_BPRC      0x04078
#define E1000_MPRC      0x0407c
#define E1000_GPTC      0x04080
#define E1000_GORCL     0x04088
#define E1000_GORCH     0x0408c
#define E1000_GOTCL     0x04090
#define E1000_GOTCH     0x04094
#define E1000_RNBC      0x040a0
#define E1000_RUC       0x040a4
#define E1000_ROC       0x040ac
#define E1000_TORL      0x040c0
#define E1000_TORH      0x040c4
#define E1000_TOTL      0x040c8
#define E1000_TOTH      0x040cc
#define E1000_TPR       0x040d0
#define E1000_TPT       0x040d4
#define E1000_PTC64     0x040d8
#define E1000_PTC127    0x040dc
#define E1000_PTC255    0x040e0
#define E1000_PTC511    0x040e4
#define E1000_PTC1023   0x040e8
#define E1000_PTC1522   0x040ec
#define E1000_MPTC      0x040f0
#define E1000_BPTC      0x040f4
#define E1000_TSCTC     0x040f8
#define E1000_TSCTFC    0x040fc

/* CTRL */
#define E1000_CTRL_FD       0x00000001u
#define E1000_CTRL_LRST     0x00000008u
#define E1000_CTRL_ASDE     0x00000020u
#define E1000_CTRL_SLU      0x00000040u
#define E1000_CTRL_SPD_1000 0x00000200u
#define E1000_CTRL_RST      0x04000000u
#define E1000_CTRL_VME      0x40000000u
#define E1000_CTRL_PHY_RST  0x80000000u

/* STATUS */
#define E1000_STATUS_FD        0x00000001u
#define E1000_STATUS_LU        0x00000002u
#define E1000_STATUS_TXOFF     0x00000010u
#define E1000_STATUS_SPEED_1000 0x00000080u
#define E1000_STATUS_ASDV_1000 0x00000200u

/* EECD: a Microwire EEPROM driven bit by bit, with the request/grant
 * handshake of the 82540 and later. */
#define E1000_EECD_SK    0x00000001u
#define E1000_EECD_CS    0x00000002u
#define E1000_EECD_DI    0x00000004u
#define E1000_EECD_DO    0x00000008u
#define E1000_EECD_FWE   0x00000030u
#define E1000_EECD_FWE_DIS 0x00000010u
#define E1000_EECD_REQ   0x00000040u
#define E1000_EECD_GNT   0x00000080u
#define E1000_EECD_PRES  0x00000100u
#define E1000_EECD_SIZE  0x00000200u   /* 0: 64 words (93C46) */
#define E1000_EECD_SW    (E1000_EECD_SK | E1000_EECD_CS | E1000_EECD_DI | E1000_EECD_FWE | \
                          E1000_EECD_REQ)

/* EERD (82540's small format: done is bit 4, the address bits 15:8). */
#define E1000_EERD_START      0x00000001u
#define E1000_EERD_DONE       0x00000010u
#define E1000_EERD_ADDR_SHIFT 8
#define E1000_EERD_DATA_SHIFT 16

#define E1000_CTRL_EXT_EE_RST 0x00002000u

/* MDIC */
#define E1000_MDIC_DATA_MASK 0x0000ffffu
#define E1000_MDIC_REG_SHIFT 16
#define E1000_MDIC_PHY_SHIFT 21
#define E1000_MDIC_OP_WRITE  0x04000000u
#define E1000_MDIC_OP_READ   0x08000000u
#define E1000_MDIC_READY     0x10000000u
#define E1000_MDIC_INT_EN    0x20000000u
#define E1000_MDIC_ERROR     0x40000000u
#define E1000_PHY_ADDR       1

/* Interrupt causes (ICR, ICS, IMS, IMC). */
#define E1000_ICR_TXDW    0x00000001u
#define E1000_ICR_TXQE    0x00000002u
#define E1000_ICR_LSC     0x00000004u
#define E1000_ICR_RXSEQ   0x00000008u
#define E1000_ICR_RXDMT0  0x00000010u
#define E1000_ICR_RXO     0x00000040u
#define E1000_ICR_RXT0    0x00000080u
#define E1000_ICR_MDAC    0x00000200u
#define E1000_ICR_RXCFG   0x00000400u
#define E1000_ICR_VALID   0x0001f6dfu

/* RCTL */
#define E1000_RCTL_EN     0x00000002u
#define E1000_RCTL_SBP    0x00000004u
#define E1000_RCTL_UPE    0x00000008u
#define E1000_RCTL_MPE    0x00000010u
#define E1000_RCTL_LPE    0x00000020u
#define E1000_RCTL_LBM    0x000000c0u
#define E1000_RCTL_RDMTS_SHIFT 8
#define E1000_RCTL_RDMTS  0x00000300u
#define E1000_RCTL_MO_SHIFT 12
#define E1000_RCTL_MO     0x00003000u
#define E1000_RCTL_BAM    0x00008000u
#define E1000_RCTL_BSIZE_SHIFT 16
#define E1000_RCTL_BSIZE  0x00030000u
#define E1000_RCTL_VFE    0x00040000u
#define E1000_RCTL_BSEX   0x02000000u
#define E1000_RCTL_SECRC  0x04000000u

/* TCTL */
#define E1000_TCTL_EN     0x00000002u
#define E1000_TCTL_PSP    0x00000008u

/* RXCSUM */
#define E1000_RXCSUM_PCSS 0x000000ffu
#define E1000_RXCSUM_IPOFL 0x00000100u
#define E1000_RXCSUM_TUOFL 0x00000200u

/* RAH */
#define E1000_RAH_AV      0x80000000u
#define E1000_RAH_ASEL    0x00030000u

/* Ring registers: lengths are multiples of 128 bytes, bases 16-byte aligned. */
#define E1000_xDLEN_MASK  0x000fff80u
#define E1000_xDBAL_MASK  0xfffffff0u
#define E1000_xDH_MASK    0x0000ffffu

/* ---- descriptors (16 bytes, little-endian) ---- */
#define E1000_DESC_SIZE 16

/* Transmit: legacy {addr 0-7, length 8-9, CSO 10, CMD 11, STA 12, CSS 13,
 * special 14-15}; context {IPCSS 0, IPCSO 1, IPCSE 2-3, TUCSS 4, TUCSO 5,
 * TUCSE 6-7, PAYLEN 8-10 (20 bits), DTYP 10.7:4, TUCMD 11, STA 12,
 * HDRLEN 13, MSS 14-15}; data {addr 0-7, DTALEN 8-10 (20 bits), DTYP
 * 10.7:4, DCMD 11, STA 12, POPTS 13, special 14-15}. */
#define E1000_TXD_CMD_EOP   0x01u
#define E1000_TXD_CMD_IFCS  0x02u
#define E1000_TXD_CMD_IC    0x04u     /* legacy: insert checksum */
#define E1000_TXD_CMD_TSE   0x04u     /* data: TCP segmentation */
#define E1000_TXD_CMD_RS    0x08u
#define E1000_TXD_CMD_DEXT  0x20u
#define E1000_TXD_CMD_VLE   0x40u
#define E1000_TXD_CMD_IDE   0x80u
#define E1000_TXD_DTYP_CTX  0x0u
#define E1000_TXD_DTYP_DATA 0x1u
#define E1000_TXD_STA_DD    0x01u
#define E1000_TXD_POPTS_IXSM 0x01u
#define E1000_TXD_POPTS_TXSM 0x02u
/* TUCMD of a context descriptor. */
#define E1000_TUCMD_TCP     0x01u     /* TCP (else UDP) */
#define E1000_TUCMD_IP      0x02u     /* IPv4 (else IPv6) */
#define E1000_TUCMD_TSE     0x04u

/* Receive: {addr 0-7, length 8-9, checksum 10-11, status 12, errors 13,
 * special 14-15}. */
#define E1000_RXD_STA_DD    0x01u
#define E1000_RXD_STA_EOP   0x02u
#define E1000_RXD_STA_IXSM  0x04u
#define E1000_RXD_STA_VP    0x08u
#define E1000_RXD_STA_TCPCS 0x20u
#define E1000_RXD_STA_IPCS  0x40u
#define E1000_RXD_ERR_TCPE  0x20u
#define E1000_RXD_ERR_IPE   0x40u
#define E1000_RXD_ERR_RXE   0x80u

/* ---- the EEPROM (64 words) ---- */
#define E1000_EE_WORDS        64
#define E1000_EE_MAC          0x00    /* 0-2: the MAC, low byte first */
#define E1000_EE_COMPAT       0x03
#define E1000_EE_ID_LED       0x04
#define E1000_EE_VERSION      0x05
#define E1000_EE_PBA          0x08    /* 8-9: printed board assembly number */
#define E1000_EE_ICW1         0x0a
#define E1000_EE_SUBSYS_ID    0x0b
#define E1000_EE_SUBSYS_VEN   0x0c
#define E1000_EE_DEVICE_ID    0x0d
#define E1000_EE_VENDOR_ID    0x0e
#define E1000_EE_ICW2         0x0f    /* pause bits 13:12 (flow control) */
#define E1000_EE_ICW3_PORT_A  0x24    /* bit 10: APM enable (wake on LAN) */
#define E1000_EE_CHECKSUM     0x3f
#define E1000_EE_SUM          0xbabau /* words 0..0x3f add up to this */
#define E1000_EE_READ_OPCODE  0x2u    /* Microwire READ: start bit, then 10 */
#define E1000_EE_ADDR_BITS    6

/* ---- the PHY (Marvell 88E1011 at MDIO address 1) ---- */
#define E1000_PHY_REGS       32
#define E1000_PHY_CTRL       0x00     /* BMCR */
#define E1000_PHY_STATUS     0x01     /* BMSR */
#define E1000_PHY_ID1        0x02
#define E1000_PHY_ID2        0x03
#define E1000_PHY_AUTONEG_ADV 0x04
#define E1000_PHY_LP_ABILITY 0x05
#define E1000_PHY_AUTONEG_EXP 0x06
#define E1000_PHY_NEXT_PAGE  0x07
#define E1000_PHY_LP_NEXT_PAGE 0x08
#define E1000_PHY_1000T_CTRL 0x09
#define E1000_PHY_1000T_STATUS 0x0a
#define E1000_PHY_EXT_STATUS 0x0f
#define E1000_M88_SPEC_CTRL  0x10
#define E1000_M88_SPEC_STATUS 0x11
#define E1000_M88_INT_ENABLE 0x12
#define E1000_M88_INT_STATUS 0x13
#define E1000_M88_EXT_SPEC_CTRL 0x14
#define E1000_M88_RX_ERR_CNTR 0x15
#define E1000_PHY_ID1_M88E1011 0x0141
#define E1000_PHY_ID2_M88E1011 0x0c20
#define E1000_MII_CR_RESET     0x8000u
#define E1000_MII_CR_RESTART_AN 0x0200u
#define E1000_MII_SR_LINK      0x0004u
#define E1000_MII_SR_AN_DONE   0x0020u

#endif

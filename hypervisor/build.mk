# tandem-vmm: the KVM core (hypervisor/vmm), its Check unit tests and the
# tiny assembly guests its integration tests boot.
VMM_SRCS      := $(sort $(wildcard hypervisor/vmm/*.c hypervisor/vmm/dev/*.c))
VMM_OBJS      := $(VMM_SRCS:%.c=$(BUILD)/obj/%.o)
VMM_LIB_OBJS  := $(filter-out $(BUILD)/obj/hypervisor/vmm/main.o,$(VMM_OBJS))
VMM_BIN       := $(BUILD)/bin/tandem-vmm
# xenstore registration uses libxenstore (xenstore/lib), linked statically,
# and dom0/xenbus's transaction loop (tdm_xenbus_transact).
VMM_XSLIB     := $(BUILD)/lib/libxenstore.a
# kernel_image.c: the bzImage payload decompressors (Debian zlib, libbz2,
# liblzma, liblz4, libzstd).
VMM_ZLIBS     := -lz -lbz2 -llzma -llz4 -lzstd
# The PC's NVMe model is a front door of the block engine (libtdmengine.a).
VMM_LIBS      := $(BUILD)/lib/libtdmxenbus.a $(VMM_XSLIB) $(ENGINE_LIB) -lfdt $(VMM_ZLIBS) $(URING_LIBS)
# Event delivery is dom0/evtchn's 2-level code, shared with the services.
VMM_EVTCHN_2L := $(BUILD)/obj/dom0/evtchn/evtchn_2l.o

$(VMM_OBJS): CFLAGS += -Ihypervisor/vmm -Idom0/evtchn -Ibackends/engine
$(BUILD)/obj/hypervisor/vmm/xs_domain.o: CFLAGS += -I$(BUILD)/include -Idom0/xenbus
$(BUILD)/obj/hypervisor/vmm/xs_domain.o: | $(BUILD)/include/xenstore.h

$(VMM_BIN): $(VMM_OBJS) $(VMM_EVTCHN_2L) $(VMM_XSLIB) $(BUILD)/lib/libtdmxenbus.a $(ENGINE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(filter %.o,$^) -o $@ $(LDFLAGS) $(VMM_LIBS)

ALL_BINS += $(VMM_BIN)

# Unit tests (Check): loader, FDT builder, hypercall argument checks, the I/O bus.
VMM_UNIT_TESTS := vmm_elf vmm_kernel_image vmm_fdt vmm_hypercall vmm_config vmm_evtchn_dom0 vmm_savefile \
                  vmm_iobus vmm_devices vmm_pc_boot
$(BUILD)/obj/tests/unit/vmm_%.o: CFLAGS += -Ihypervisor/vmm -Ibackends/engine
$(BUILD)/tests/unit/vmm_%: $(BUILD)/obj/tests/unit/vmm_%.o $(VMM_LIB_OBJS) $(VMM_EVTCHN_2L) $(VMM_XSLIB) \
		$(BUILD)/lib/libtdmxenbus.a $(ENGINE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(filter %.o,$^) -o $@ $(LDFLAGS) $(VMM_LIBS) $(CHECK_LIBS)
UNIT_TESTS += $(addprefix $(BUILD)/tests/unit/,$(VMM_UNIT_TESTS))

# Emulated PC devices (hypervisor/vmm/dev, docs/hvm.md): each model's Check
# suite links the model alone with tandem-vmm's I/O bus (iobus.c) and the
# test helpers of tests/unit/vmm_dev_bus.c: no KVM and no struct vm.
VMM_DEV_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(sort $(wildcard hypervisor/vmm/dev/*.c)))
VMM_DEV_TEST_BUS := $(BUILD)/obj/tests/unit/vmm_dev_bus.o $(BUILD)/obj/hypervisor/vmm/iobus.o
$(VMM_DEV_OBJS) $(VMM_DEV_TEST_BUS): CFLAGS += -Ihypervisor/vmm -Ibackends/engine
VMM_DEV_A := vmm_dev_uart vmm_dev_rtc vmm_dev_i8042 vmm_dev_fw_cfg
VMM_DEV_B := vmm_dev_pic vmm_dev_ioapic vmm_dev_pit vmm_dev_pci
VMM_DEV_UNIT_TESTS := $(VMM_DEV_A) $(VMM_DEV_B)
$(addprefix $(BUILD)/tests/unit/,$(VMM_DEV_A)): $(BUILD)/tests/unit/vmm_dev_%: $(BUILD)/obj/tests/unit/vmm_dev_%.o \
		$(BUILD)/obj/hypervisor/vmm/dev/%.o $(VMM_DEV_TEST_BUS)
	@mkdir -p $(dir $@)
	$(CC) $(filter %.o,$^) -o $@ $(LDFLAGS) $(CHECK_LIBS)
$(BUILD)/tests/unit/vmm_dev_pci: $(BUILD)/obj/hypervisor/vmm/dev/pci_host.o $(BUILD)/obj/hypervisor/vmm/dev/pic.o
$(addprefix $(BUILD)/tests/unit/,$(VMM_DEV_B)): $(BUILD)/tests/unit/vmm_dev_%: $(BUILD)/obj/tests/unit/vmm_dev_%.o \
		$(BUILD)/obj/hypervisor/vmm/dev/%.o $(VMM_DEV_TEST_BUS)
	@mkdir -p $(dir $@)
	$(CC) $(filter %.o,$^) -o $@ $(LDFLAGS) $(CHECK_LIBS)
UNIT_TESTS += $(addprefix $(BUILD)/tests/unit/,$(VMM_DEV_UNIT_TESTS))
# The NVMe controller with the PCI bus under it, on the block engine, driven
# by a host-side driver (no KVM, no guest).
$(BUILD)/obj/tests/unit/vmm_dev_nvme.o: CFLAGS += -Ihypervisor/vmm -Ibackends/engine
$(BUILD)/tests/unit/vmm_dev_nvme: $(BUILD)/obj/tests/unit/vmm_dev_nvme.o $(BUILD)/obj/hypervisor/vmm/dev/nvme.o \
		$(BUILD)/obj/hypervisor/vmm/dev/pci.o $(VMM_DEV_TEST_BUS) $(ENGINE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(filter %.o %.a,$^) -o $@ $(LDFLAGS) $(CHECK_LIBS) $(URING_LIBS) -lpthread
UNIT_TESTS += $(BUILD)/tests/unit/vmm_dev_nvme
# The e1000 with the PCI bus under it, on the network engine, driven by a
# host-side driver over a socket pair or a tap in a namespace of its own.
$(BUILD)/obj/tests/unit/vmm_dev_e1000.o: CFLAGS += -Ihypervisor/vmm -Ibackends/engine
$(BUILD)/tests/unit/vmm_dev_e1000: $(BUILD)/obj/tests/unit/vmm_dev_e1000.o \
		$(addprefix $(BUILD)/obj/hypervisor/vmm/dev/,e1000.o e1000_ring.o pci.o) $(VMM_DEV_TEST_BUS) \
		$(ENGINE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(filter %.o %.a,$^) -o $@ $(LDFLAGS) $(CHECK_LIBS) $(URING_LIBS) -lpthread
UNIT_TESTS += $(BUILD)/tests/unit/vmm_dev_e1000

# Test guests: flat assembly PVH kernels (triple fault, ...).
VMM_TEST_GUESTS := $(patsubst hypervisor/testguest/%.S,$(BUILD)/guest/vmm-test-%.elf,$(wildcard hypervisor/testguest/*.S))
$(BUILD)/guest/vmm-test-%.elf: hypervisor/testguest/%.S
	@mkdir -p $(dir $@)
	$(CC) -nostdlib -static -no-pie -Ihypervisor/include -Wl,--build-id=none \
		-Wl,-Ttext-segment=0x100000 -Wl,-z,noseparate-code -Wl,-e,pvh_start32 -Wl,--no-warn-rwx-segments -o $@ $<
ALL_BINS += $(VMM_TEST_GUESTS)

# Host twin of the guest's spin loop (native-speed comparison).
VMM_HOSTSPIN := $(BUILD)/tests/vmm/hostspin
$(VMM_HOSTSPIN): $(BUILD)/obj/hypervisor/tests/hostspin.o
	@mkdir -p $(dir $@)
	$(CC) $^ -o $@ $(LDFLAGS)
ALL_BINS += $(VMM_HOSTSPIN)

# need_kvm_xen's probe (hypervisor/tests/kvm.sh): KVM_CHECK_EXTENSION of one cap.
VMM_KVMCAP := $(BUILD)/tests/vmm/kvm-cap
$(VMM_KVMCAP): $(BUILD)/obj/hypervisor/tests/kvm_cap.o
	@mkdir -p $(dir $@)
	$(CC) $^ -o $@ $(LDFLAGS)
ALL_BINS += $(VMM_KVMCAP)

# A C test guest: the arch layer (frontends/build.mk's objects) with its own
# kernel_main exercising block/poll/timers/channels from inside the guest.
VMM_SCHED_GUEST := $(BUILD)/guest/vmm-ctest-sched.elf
$(VMM_SCHED_GUEST): $(BUILD)/obj-guest/hypervisor/testguest/sched_main.o $(GUEST_ARCH_OBJS) $(GUEST_LDS)
	@mkdir -p $(dir $@)
	$(CC) -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-T,$(GUEST_LDS) \
		-Wl,-z,noexecstack -Wl,--no-warn-rwx-segments -o $@ \
		$(filter %.o,$^) $(GUEST_LIBFDT) -lgcc
ALL_BINS += $(VMM_SCHED_GUEST)

# The bare event bounce guest (tests/bench/evtchn_bench.sh's raw figure):
# the arch layer + hypervisor/testguest/bounce_main.c.
VMM_BOUNCE_GUEST := $(BUILD)/guest/vmm-ctest-bounce.elf
$(VMM_BOUNCE_GUEST): $(BUILD)/obj-guest/hypervisor/testguest/bounce_main.o $(GUEST_ARCH_OBJS) $(GUEST_LDS)
	@mkdir -p $(dir $@)
	$(CC) -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-T,$(GUEST_LDS) \
		-Wl,-z,noexecstack -Wl,--no-warn-rwx-segments -o $@ \
		$(filter %.o,$^) $(GUEST_LIBFDT) -lgcc
ALL_BINS += $(VMM_BOUNCE_GUEST)

# libFuzzer target: the save file header parser (tests/fuzz/savefile_fuzz.c).
SAVEFILE_FUZZ_SRCS := tests/fuzz/savefile_fuzz.c hypervisor/vmm/savefile.c hypervisor/vmm/errmsg.c
$(BUILD)/fuzz/savefile_fuzz: $(SAVEFILE_FUZZ_SRCS) hypervisor/vmm/savefile.h hypervisor/vmm/fdt_build.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-D_GNU_SOURCE $(PUBINC) -Ihypervisor/vmm -o $@ $(SAVEFILE_FUZZ_SRCS) -lfdt
FUZZ_TARGETS += $(BUILD)/fuzz/savefile_fuzz

# libFuzzer target: the kernel file (ELF or bzImage) through unwrap, the ELF
# checks and the ramdisk placement (tests/fuzz/kernel_image_fuzz.c).
KIMAGE_FUZZ_SRCS := tests/fuzz/kernel_image_fuzz.c hypervisor/vmm/kernel_image.c \
	hypervisor/vmm/elf_load.c hypervisor/vmm/ramdisk.c hypervisor/vmm/errmsg.c
$(BUILD)/fuzz/kernel_image_fuzz: $(KIMAGE_FUZZ_SRCS) hypervisor/vmm/kernel_image.h \
		hypervisor/vmm/elf_load.h hypervisor/vmm/ramdisk.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-D_GNU_SOURCE $(PUBINC) -Ihypervisor/vmm -o $@ $(KIMAGE_FUZZ_SRCS) $(VMM_ZLIBS)
FUZZ_TARGETS += $(BUILD)/fuzz/kernel_image_fuzz

# libFuzzer target: fw_cfg's ports and DMA driven by a hostile guest, over
# the fake bus and a 64 KiB guest RAM (tests/fuzz/fw_cfg_dma_fuzz.c).
FW_CFG_FUZZ_SRCS := tests/fuzz/fw_cfg_dma_fuzz.c hypervisor/vmm/dev/fw_cfg.c tests/unit/vmm_dev_bus.c \
		hypervisor/vmm/iobus.c
$(BUILD)/fuzz/fw_cfg_dma_fuzz: $(FW_CFG_FUZZ_SRCS) hypervisor/vmm/dev/fw_cfg.h hypervisor/vmm/iobus.h \
		hypervisor/vmm/dev/irq.h tests/unit/iobus_fake.h tests/unit/vmm_dev_bus.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-D_GNU_SOURCE -pthread -Ihypervisor/vmm -Itests/unit -o $@ $(FW_CFG_FUZZ_SRCS)
FUZZ_TARGETS += $(BUILD)/fuzz/fw_cfg_dma_fuzz

# libFuzzer target: the NVMe controller's commands and PRPs from a hostile
# guest, in manual mode on a 1 MiB guest RAM (tests/fuzz/nvme_fuzz.c), with
# the block engine compiled in.
NVME_FUZZ_SRCS := tests/fuzz/nvme_fuzz.c hypervisor/vmm/dev/nvme.c hypervisor/vmm/dev/pci.c \
		hypervisor/vmm/iobus.c backends/engine/tdm_uring.c backends/engine/blkeng_backing.c \
		backends/engine/blkeng_fixed.c backends/engine/blkeng.c
$(BUILD)/fuzz/nvme_fuzz: $(NVME_FUZZ_SRCS) hypervisor/vmm/dev/nvme.h hypervisor/vmm/dev/pci.h \
		hypervisor/vmm/dev/dma.h backends/engine/blkeng.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-D_GNU_SOURCE -pthread -Ihypervisor/vmm -Ibackends/engine -o $@ $(NVME_FUZZ_SRCS) $(URING_LIBS)
FUZZ_TARGETS += $(BUILD)/fuzz/nvme_fuzz

# libFuzzer target: the e1000's TX descriptor walker, RX filter and RX
# placement on hostile rings in a 64 KiB guest RAM (tests/fuzz/e1000_fuzz.c).
E1000_FUZZ_SRCS := tests/fuzz/e1000_fuzz.c hypervisor/vmm/dev/e1000_ring.c
$(BUILD)/fuzz/e1000_fuzz: $(E1000_FUZZ_SRCS) hypervisor/vmm/dev/e1000_ring.h hypervisor/vmm/dev/e1000_hw.h \
		hypervisor/vmm/dev/dma.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-D_GNU_SOURCE -pthread -Ihypervisor/vmm -o $@ $(E1000_FUZZ_SRCS)
FUZZ_TARGETS += $(BUILD)/fuzz/e1000_fuzz

# The PC's firmware (tandem-vmm --firmware, docs/hvm.md): Debian's SeaBIOS
# (the seabios package), copied into the build so that the test machine,
# which shares the tree, has it too.
SEABIOS_ROM := /usr/share/seabios/bios-256k.bin
PC_FIRMWARE := $(BUILD)/firmware/bios-256k.bin
$(SEABIOS_ROM):
	@echo "$@ is missing: 'make deps' installs Debian's seabios" >&2; exit 1
$(PC_FIRMWARE): $(SEABIOS_ROM)
	@mkdir -p $(@D)
	cp $< $@
ALL_BINS += $(PC_FIRMWARE)
# QEMU's option ROM that loads a kernel given with the firmware (--firmware
# --kernel, pc_boot.c), from Debian's qemu-system-data: copied beside it.
LINUXBOOT_SRC := /usr/share/qemu/linuxboot_dma.bin
LINUXBOOT_ROM := $(BUILD)/firmware/linuxboot_dma.bin
$(LINUXBOOT_SRC):
	@echo "$@ is missing: 'make deps' installs Debian's qemu-system-data" >&2; exit 1
$(LINUXBOOT_ROM): $(LINUXBOOT_SRC)
	@mkdir -p $(@D)
	cp $< $@
ALL_BINS += $(LINUXBOOT_ROM)
# iPXE's ipxe.lkrn for tests/integration/pc_net.sh, from Debian's ipxe
# package (apt-get download + dpkg -x: nothing installed; the package would
# hook itself into the host's GRUB). Offline, a warning and the test skips.
IPXE_LKRN := $(BUILD)/firmware/ipxe.lkrn
$(IPXE_LKRN):
	@mkdir -p $(@D)
	@t=$$(mktemp -d) && if (cd $$t && apt-get download -qq -o APT::Sandbox::User=root ipxe > /dev/null 2>&1 && \
		dpkg -x ipxe_*.deb x && cp -L x/boot/ipxe.lkrn $(abspath $@)); then echo "fetched $@ (Debian's ipxe)"; \
		else echo "warning: could not fetch Debian's ipxe (apt-get download ipxe): pc_net.sh's iPXE part will skip" >&2; fi; \
		rm -rf $$t
ALL_BINS += $(IPXE_LKRN)

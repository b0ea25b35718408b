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

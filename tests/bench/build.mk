# tests/bench: benchmark drivers (tests/bench/*.sh run them; `make bench`).
# Read after backends/ and dom0/ but before xenstore/, so libxenstore is
# named by path here.

# The real tandem-blkback driven by the fake blkfront of the blkback tests
# on the fake VMM (tests/bench/blkback_fake_bench.sh).
BLKFAKE_BENCH := $(BUILD)/tests/bench/blkback_fake_bench
BLKFAKE_BENCH_OBJS := $(BUILD)/obj/tests/bench/blkback_fake_bench.o \
                      $(BUILD)/obj/tests/unit/blkback_fakefront.o $(BUILD)/obj/tests/unit/evtchn_fake_vmm.o
$(BUILD)/obj/tests/bench/blkback_fake_bench.o: CFLAGS += -Itests/unit -I$(BUILD)/include
$(BUILD)/obj/tests/bench/blkback_fake_bench.o: | $(BUILD)/include/xenstore.h
$(BLKFAKE_BENCH): $(BLKFAKE_BENCH_OBJS) $(BUILD)/lib/libxenstore.a | $(BLKBACK_BIN)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^)
BENCHES  += $(BLKFAKE_BENCH)
ALL_BINS += $(BLKFAKE_BENCH)

# The NVMe model's own cost per command, driven from the host with no guest
# and no KVM (tests/bench/nvme_bench.sh): the controller with the PCI bus
# under it on tandem-vmm's I/O bus, as its Check suite builds it
# (hypervisor/build.mk, vmm_dev_nvme), plus the block engine and plain
# io_uring as the floors.
NVME_COST_BENCH := $(BUILD)/tests/bench/nvme_cost
$(BUILD)/obj/tests/bench/nvme_cost.o: CFLAGS += -Itests/unit -Ihypervisor/vmm -Ibackends/engine
$(NVME_COST_BENCH): $(BUILD)/obj/tests/bench/nvme_cost.o $(BUILD)/obj/hypervisor/vmm/dev/nvme.o \
		$(BUILD)/obj/hypervisor/vmm/dev/pci.o $(VMM_DEV_TEST_BUS) $(ENGINE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(filter %.o %.a,$^) -o $@ $(LDFLAGS) $(URING_LIBS)
BENCHES  += $(NVME_COST_BENCH)
ALL_BINS += $(NVME_COST_BENCH)

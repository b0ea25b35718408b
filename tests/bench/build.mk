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

# backends/netback: tandem-netback, the io_uring PV network backend.
# (Include paths: backends/blkback/build.mk sets them for every
# $(BUILD)/obj/backends/%.o; netback adds its own directory.)
NETBACK_LIBS := $(BUILD)/lib/libtdmbackend.a $(BUILD)/lib/libtdmengine.a $(BUILD)/lib/libtdmxenbus.a $(BUILD)/lib/libxenstore.a \
                $(BUILD)/lib/libtdmgnttab.a $(BUILD)/lib/libtdmevtchn.a
NETBACK_CORE_SRCS := backends/netback/net_tx.c backends/netback/net_queue.c \
                     backends/netback/net_frontend.c backends/netback/net_device.c
NETBACK_CORE_OBJS := $(NETBACK_CORE_SRCS:%.c=$(BUILD)/obj/%.o)
NETBACK_BIN := $(BUILD)/bin/tandem-netback

$(BUILD)/obj/backends/netback/%.o: CFLAGS += -Ibackends/netback
$(NETBACK_CORE_OBJS) $(BUILD)/obj/backends/netback/main.o: | $(BUILD)/include/xenstore.h

$(NETBACK_BIN): $(NETBACK_CORE_OBJS) $(BUILD)/obj/backends/netback/main.o $(NETBACK_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(URING_LIBS)

ALL_BINS += $(NETBACK_BIN)

# libFuzzer target: the TX request walker and the offload header.
NETIF_FUZZ_SRCS := tests/fuzz/netif_fuzz.c backends/netback/net_tx.c
$(BUILD)/fuzz/netif_fuzz: $(NETIF_FUZZ_SRCS) backends/netback/net_tx.h hypervisor/include/public/io/netif.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-D_GNU_SOURCE $(PUBINC) -Ibackends/netback -o $@ $(NETIF_FUZZ_SRCS)

FUZZ_TARGETS += $(BUILD)/fuzz/netif_fuzz

# End to end: the daemon against a fake netfront (netback_fakefront.c, on
# the fake blkfront's memory/grant helpers), the fake VMM control socket
# and a real xenstored, in a network namespace of the test's own.
NETBACK_E2E_OBJS := $(addprefix $(BUILD)/obj/tests/unit/,netback_e2e.o netback_fakefront.o \
                      blkback_fakefront.o daemon_harness.o evtchn_fake_vmm.o)
$(BUILD)/obj/tests/unit/netback_%.o $(BUILD)/obj/tests/unit/daemon_harness.o: \
        CFLAGS += $(BLKBACK_INC) -Ibackends/netback
$(BUILD)/obj/tests/unit/netback_e2e.o $(BUILD)/obj/tests/unit/netback_fakefront.o \
        $(BUILD)/obj/tests/unit/daemon_harness.o: | $(BUILD)/include/xenstore.h
$(BUILD)/tests/unit/netback_e2e: $(NETBACK_E2E_OBJS) $(BUILD)/lib/libxenstore.a \
        $(BUILD)/lib/libtdmevtchn.a | $(NETBACK_BIN)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(CHECK_LIBS)

UNIT_TESTS += $(BUILD)/tests/unit/netback_e2e

# A fake guest with one vif as a process (tests/integration/net_*.sh,
# tests/bench/net_bench.sh): the fake VMM and fake netfront above.
NET_FAKEGUEST := $(BUILD)/tests/drivers/net_fakeguest
$(BUILD)/obj/tests/integration/drivers/net_fakeguest.o: CFLAGS += $(BLKBACK_INC) -Itests/unit
$(BUILD)/obj/tests/integration/drivers/net_fakeguest.o: | $(BUILD)/include/xenstore.h
$(NET_FAKEGUEST): $(BUILD)/obj/tests/integration/drivers/net_fakeguest.o \
        $(addprefix $(BUILD)/obj/tests/unit/,netback_fakefront.o blkback_fakefront.o evtchn_fake_vmm.o) \
        $(BUILD)/lib/libxenstore.a $(BUILD)/lib/libtdmevtchn.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -pthread

ALL_BINS += $(NET_FAKEGUEST)

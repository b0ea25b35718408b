# backends/blkback: tandem-blkback, the io_uring PV block backend.
# backends/*/build.mk are read before dom0/* and xenstore/*, so the
# libraries of those are named by path here, not by their variables.
BLKBACK_INC  := -Ibackends/blkback -Ibackends/engine -Ibackends/common -Idom0/evtchn -Idom0/gnttab -Idom0/xenbus \
                -I$(BUILD)/include
BLKBACK_LIBS := $(BUILD)/lib/libtdmbackend.a $(BUILD)/lib/libtdmengine.a $(BUILD)/lib/libtdmxenbus.a $(BUILD)/lib/libxenstore.a \
                $(BUILD)/lib/libtdmgnttab.a $(BUILD)/lib/libtdmevtchn.a
# The blkif front door (everything but main), also linked by the tests;
# the I/O itself is the block engine's (backends/engine, libtdmengine.a).
BLKBACK_CORE_SRCS := backends/blkback/blk_request.c backends/blkback/blk_ring.c \
                     backends/blkback/blk_ringmap.c \
                     backends/blkback/blk_frontend.c backends/blkback/blk_pcache.c \
                     backends/blkback/blk_queue.c \
                     backends/blkback/blk_device.c
BLKBACK_CORE_OBJS := $(BLKBACK_CORE_SRCS:%.c=$(BUILD)/obj/%.o)
BLKBACK_BIN := $(BUILD)/bin/tandem-blkback

$(BUILD)/obj/backends/%.o: CFLAGS += $(BLKBACK_INC)
$(BLKBACK_CORE_OBJS) $(BUILD)/obj/backends/blkback/main.o: | $(BUILD)/include/xenstore.h

$(BLKBACK_BIN): $(BLKBACK_CORE_OBJS) $(BUILD)/obj/backends/blkback/main.o $(BLKBACK_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(URING_LIBS)

ALL_BINS += $(BLKBACK_BIN)

# Unit tests (Check).
BLKBACK_TEST_OBJS := $(addprefix $(BUILD)/obj/tests/unit/,blkback_request.o blkback_ring.o \
                       blkback_e2e.o blkback_fakefront.o)
$(BUILD)/obj/tests/unit/blkback_%.o: CFLAGS += $(BLKBACK_INC)
# (a pattern rule without a recipe would not add prerequisites: name them)
$(BLKBACK_TEST_OBJS): | $(BUILD)/include/xenstore.h

$(BUILD)/tests/unit/blkback_request: $(BUILD)/obj/tests/unit/blkback_request.o \
        $(BUILD)/obj/backends/blkback/blk_request.o $(BUILD)/obj/backends/blkback/blk_frontend.o \
        $(BUILD)/lib/libtdmbackend.a $(BUILD)/lib/libxenstore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS)

$(BUILD)/tests/unit/blkback_ring: $(BUILD)/obj/tests/unit/blkback_ring.o \
        $(BUILD)/obj/backends/blkback/blk_ring.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS)

# End to end: the daemon against a fake frontend, a fake VMM control
# socket (tests/unit/evtchn_fake_vmm.c) and a real xenstored.
BLKBACK_E2E_OBJS := $(BUILD)/obj/tests/unit/blkback_e2e.o $(BUILD)/obj/tests/unit/blkback_fakefront.o \
                    $(BUILD)/obj/tests/unit/evtchn_fake_vmm.o $(BUILD)/obj/tests/unit/daemon_harness.o
$(BUILD)/tests/unit/blkback_e2e: $(BLKBACK_E2E_OBJS) $(BUILD)/lib/libxenstore.a $(BUILD)/lib/libtdmevtchn.a \
        | $(BLKBACK_BIN)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(CHECK_LIBS)

UNIT_TESTS += $(BUILD)/tests/unit/blkback_request $(BUILD)/tests/unit/blkback_ring \
              $(BUILD)/tests/unit/blkback_e2e

# libFuzzer target: request validation on arbitrary ring entries.
BLKIF_FUZZ_SRCS := tests/fuzz/blkif_fuzz.c backends/blkback/blk_request.c
$(BUILD)/fuzz/blkif_fuzz: $(BLKIF_FUZZ_SRCS) backends/blkback/blk_request.h hypervisor/include/public/io/blkif.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-D_GNU_SOURCE $(PUBINC) -Ibackends/blkback -o $@ $(BLKIF_FUZZ_SRCS)

FUZZ_TARGETS += $(BUILD)/fuzz/blkif_fuzz

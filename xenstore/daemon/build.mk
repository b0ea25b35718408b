# xenstore/daemon: xenstored and its core library (also linked by the unit
# tests and the fuzz target).
XSD_DIR       := xenstore/daemon
# vmm_transport.c asks tandem-vmm through the dom0 control-socket client
# (tdm_ctl, dom0/evtchn/ctl_client.c in libtdmevtchn.a).
XSD_CTL_INC   := -Idom0/evtchn
XSD_CTL_LIB   := $(BUILD)/lib/libtdmevtchn.a
XSD_CTL_SRCS  := dom0/evtchn/ctl_client.c dom0/evtchn/tdm_error.c
XSD_INC       := -I$(XSD_DIR) $(XS_COMMON_INC) $(XSD_CTL_INC) -Ibackends/common
# The loop's idle poll is the backends' adaptive poll (backends/common/tdm_poll.c).
XSD_CORE_SRCS := $(filter-out $(XSD_DIR)/main.c,$(wildcard $(XSD_DIR)/*.c)) backends/common/tdm_poll.c
XSD_CORE_OBJS := $(XSD_CORE_SRCS:%.c=$(BUILD)/obj/%.o)
XSD_CORE      := $(BUILD)/lib/libxenstored-core.a
XSD_BIN       := $(BUILD)/bin/xenstored

$(XSD_CORE_OBJS) $(BUILD)/obj/$(XSD_DIR)/main.o: CFLAGS += $(XSD_INC)

$(XSD_CORE): $(XSD_CORE_OBJS)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(XSD_BIN): $(BUILD)/obj/$(XSD_DIR)/main.o $(XSD_CORE) $(XS_COMMON_LIB) $(XSD_CTL_LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDFLAGS)

ALL_BINS += $(XSD_BIN)

# Unit tests: tests/unit/xenstored_*.c, each its own Check binary.
XSD_TEST_SRCS := $(wildcard tests/unit/xenstored_*.c)
XSD_TESTS     := $(XSD_TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
$(XSD_TESTS): $(BUILD)/tests/unit/%: tests/unit/%.c tests/unit/xenstored_test.h $(XSD_CORE) $(XS_COMMON_LIB) $(XSD_CTL_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -MMD -MP,$(CFLAGS)) $(XSD_INC) -Itests/unit $< -o $@ $(XSD_CORE) $(XS_COMMON_LIB) $(XSD_CTL_LIB) $(CHECK_LIBS) $(LDFLAGS)
UNIT_TESTS += $(XSD_TESTS)

# libFuzzer target over the framing and every handler.
XSD_FUZZ := $(BUILD)/fuzz/xs_msg_fuzz
$(XSD_FUZZ): tests/fuzz/xs_msg_fuzz.c $(XSD_CORE_SRCS) $(XS_COMMON_SRCS) $(XSD_CTL_SRCS) $(wildcard $(XSD_DIR)/*.h) xenstore/common/xs_common.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined $(PUBINC) $(XSD_INC) \
		tests/fuzz/xs_msg_fuzz.c $(XSD_CORE_SRCS) $(XS_COMMON_SRCS) $(XSD_CTL_SRCS) -o $@ -pthread
FUZZ_TARGETS += $(XSD_FUZZ)

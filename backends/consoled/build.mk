# backends/consoled: tandem-consoled, the console daemon (xenconsoled's
# role). Libraries named by path (backends/*/build.mk are read first).
CONSOLED_SRCS := backends/consoled/cons_ring.c backends/consoled/cons_dom.c \
                 backends/consoled/main.c
CONSOLED_OBJS := $(CONSOLED_SRCS:%.c=$(BUILD)/obj/%.o)
CONSOLED_BIN  := $(BUILD)/bin/tandem-consoled
CONSOLED_INC  := -Ibackends/consoled -Ibackends/common -Idom0/evtchn -I$(BUILD)/include

$(CONSOLED_OBJS): CFLAGS += $(CONSOLED_INC)
$(CONSOLED_OBJS): | $(BUILD)/include/xenstore.h

$(CONSOLED_BIN): $(CONSOLED_OBJS) $(BUILD)/lib/libtdmbackend.a $(BUILD)/lib/libxenstore.a $(BUILD)/lib/libtdmevtchn.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -pthread

ALL_BINS += $(CONSOLED_BIN)

# Unit test (Check): the ring copies against hostile indices.
$(BUILD)/obj/tests/unit/consoled_ring.o: CFLAGS += $(CONSOLED_INC)
$(BUILD)/tests/unit/consoled_ring: $(BUILD)/obj/tests/unit/consoled_ring.o \
        $(BUILD)/obj/backends/consoled/cons_ring.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS)

UNIT_TESTS += $(BUILD)/tests/unit/consoled_ring

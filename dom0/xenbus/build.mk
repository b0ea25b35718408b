# dom0/xenbus: backend-side XenbusState helpers over libxenstore
# (libtdmxenbus.a). Link with build/lib/libxenstore.a and $(EVTCHN_LIB)
# (for tdm_last_error). xenstore/lib/build.mk is read after this file, so
# its outputs are named by path here, not by its variables.
XENBUS_SRCS := dom0/xenbus/xenbus_state.c dom0/xenbus/xenbus_path.c dom0/xenbus/xenbus_watch.c \
               dom0/xenbus/xenbus_tx.c
XENBUS_OBJS := $(XENBUS_SRCS:%.c=$(BUILD)/obj/%.o)
XENBUS_LIB  := $(BUILD)/lib/libtdmxenbus.a
XENBUS_INC  := -Idom0/xenbus -Idom0/evtchn -I$(BUILD)/include
XENBUS_XSLIB := $(BUILD)/lib/libxenstore.a
XENBUS_XSHDR := $(BUILD)/include/xenstore.h

$(XENBUS_OBJS): CFLAGS += -fPIC $(XENBUS_INC)
$(XENBUS_OBJS): | $(XENBUS_XSHDR)

$(XENBUS_LIB): $(XENBUS_OBJS)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BUILD)/include/tandem/tdm_xenbus.h: dom0/xenbus/tdm_xenbus.h
	@mkdir -p $(dir $@)
	cp $< $@

ALL_BINS += $(XENBUS_LIB) $(BUILD)/include/tandem/tdm_xenbus.h

# Unit tests (Check): pure helpers, and the helpers against a real
# xenstored ($(BUILD)/bin/xenstored) in a temporary directory.
$(BUILD)/obj/tests/unit/xenbus_%.o: CFLAGS += $(XENBUS_INC)
$(BUILD)/obj/tests/unit/xenbus_%.o: | $(XENBUS_XSHDR)

$(BUILD)/tests/unit/xenbus_helpers: $(BUILD)/obj/tests/unit/xenbus_helpers.o $(XENBUS_LIB) \
        $(XENBUS_XSLIB) $(EVTCHN_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS)

UNIT_TESTS += $(BUILD)/tests/unit/xenbus_helpers

# dom0/evtchn: the 2-level event-channel protocol (evtchn_2l, shared with
# tandem-vmm) and libtdmevtchn, the dom0 event-channel library. The
# control-socket client and the error helper live here too and are reused
# by dom0/gnttab.
EVTCHN_SRCS := dom0/evtchn/tdm_error.c dom0/evtchn/ctl_client.c \
               dom0/evtchn/evtchn_2l.c dom0/evtchn/evtchn.c
EVTCHN_OBJS := $(EVTCHN_SRCS:%.c=$(BUILD)/obj/%.o)
EVTCHN_LIB  := $(BUILD)/lib/libtdmevtchn.a
EVTCHN_INC  := -Idom0/evtchn
# tandem-vmm links this one object to raise events exactly as dom0 does.
EVTCHN_2L_OBJ := $(BUILD)/obj/dom0/evtchn/evtchn_2l.o
EVTCHN_PUB_HDRS := $(addprefix $(BUILD)/include/tandem/,tdm_evtchn.h tdm_error.h evtchn_2l.h ctl_client.h)

$(EVTCHN_OBJS): CFLAGS += -fPIC

$(EVTCHN_LIB): $(EVTCHN_OBJS)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BUILD)/include/tandem/%.h: dom0/evtchn/%.h
	@mkdir -p $(dir $@)
	cp $< $@

ALL_BINS += $(EVTCHN_LIB) $(EVTCHN_PUB_HDRS)

# Unit tests (Check). The fake VMM speaks the control-socket requests of
# docs/evtchn-gnttab.md so the client side is tested without tandem-vmm.
EVTCHN_FAKE_VMM_OBJ := $(BUILD)/obj/tests/unit/evtchn_fake_vmm.o
$(BUILD)/obj/tests/unit/evtchn_%.o: CFLAGS += $(EVTCHN_INC)

$(BUILD)/tests/unit/evtchn_2l: $(BUILD)/obj/tests/unit/evtchn_2l.o $(EVTCHN_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS)

$(BUILD)/tests/unit/evtchn_ctl: $(BUILD)/obj/tests/unit/evtchn_ctl.o $(EVTCHN_FAKE_VMM_OBJ) $(EVTCHN_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS)

$(BUILD)/tests/unit/evtchn_lib: $(BUILD)/obj/tests/unit/evtchn_lib.o $(EVTCHN_FAKE_VMM_OBJ) $(EVTCHN_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS)

$(BUILD)/tests/unit/evtchn_2l_mask: $(BUILD)/obj/tests/unit/evtchn_2l_mask.o $(EVTCHN_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS)

$(BUILD)/tests/unit/evtchn_alloc: $(BUILD)/obj/tests/unit/evtchn_alloc.o $(EVTCHN_FAKE_VMM_OBJ) $(EVTCHN_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS)

UNIT_TESTS += $(BUILD)/tests/unit/evtchn_2l $(BUILD)/tests/unit/evtchn_ctl $(BUILD)/tests/unit/evtchn_lib \
	$(BUILD)/tests/unit/evtchn_alloc $(BUILD)/tests/unit/evtchn_2l_mask

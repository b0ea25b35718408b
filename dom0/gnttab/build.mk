# dom0/gnttab: libtdmgnttab, the dom0 grant-table library (v1): the one
# place in dom0 that turns a guest frame into a pointer. Uses the
# control-socket client and error helper of dom0/evtchn.
GNTTAB_SRCS := dom0/gnttab/gnttab_domain.c dom0/gnttab/gnttab.c dom0/gnttab/gnttab_copy.c \
              dom0/gnttab/gnttab_memory.c
GNTTAB_OBJS := $(GNTTAB_SRCS:%.c=$(BUILD)/obj/%.o)
GNTTAB_LIB  := $(BUILD)/lib/libtdmgnttab.a
GNTTAB_INC  := -Idom0/gnttab -Idom0/evtchn
# Link services with: $(GNTTAB_LIB) $(EVTCHN_LIB)

$(GNTTAB_OBJS): CFLAGS += -fPIC $(GNTTAB_INC)

$(GNTTAB_LIB): $(GNTTAB_OBJS)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BUILD)/include/tandem/tdm_gnttab.h: dom0/gnttab/tdm_gnttab.h
	@mkdir -p $(dir $@)
	cp $< $@

ALL_BINS += $(GNTTAB_LIB) $(BUILD)/include/tandem/tdm_gnttab.h

# Unit tests (Check).
$(BUILD)/obj/tests/unit/gnttab_%.o: CFLAGS += $(GNTTAB_INC)

$(BUILD)/tests/unit/gnttab_map: $(BUILD)/obj/tests/unit/gnttab_map.o $(GNTTAB_LIB) $(EVTCHN_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS)

$(BUILD)/tests/unit/gnttab_vmm: $(BUILD)/obj/tests/unit/gnttab_vmm.o $(EVTCHN_FAKE_VMM_OBJ) $(GNTTAB_LIB) $(EVTCHN_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS)

$(BUILD)/tests/unit/gnttab_pins_race: $(BUILD)/obj/tests/unit/gnttab_pins_race.o $(GNTTAB_LIB) $(EVTCHN_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS)

UNIT_TESTS += $(BUILD)/tests/unit/gnttab_map $(BUILD)/tests/unit/gnttab_vmm $(BUILD)/tests/unit/gnttab_pins_race

# libFuzzer target: random grant tables + map/unmap requests.
GNTTAB_FUZZ_SRCS := tests/fuzz/gnttab_fuzz.c $(GNTTAB_SRCS) dom0/evtchn/tdm_error.c dom0/evtchn/ctl_client.c
$(BUILD)/fuzz/gnttab_fuzz: $(GNTTAB_FUZZ_SRCS) dom0/gnttab/tdm_gnttab.h dom0/gnttab/gnttab_domain.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-D_GNU_SOURCE -pthread $(PUBINC) $(GNTTAB_INC) -o $@ $(GNTTAB_FUZZ_SRCS)

FUZZ_TARGETS += $(BUILD)/fuzz/gnttab_fuzz

# libFuzzer target: the control-socket reply parser both libraries trust.
GNTTAB_REPLY_FUZZ_SRCS := tests/fuzz/gnttab_reply_fuzz.c dom0/evtchn/tdm_error.c dom0/evtchn/ctl_client.c
$(BUILD)/fuzz/gnttab_reply_fuzz: $(GNTTAB_REPLY_FUZZ_SRCS) dom0/evtchn/ctl_client.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-D_GNU_SOURCE -pthread $(PUBINC) $(GNTTAB_INC) -o $@ $(GNTTAB_REPLY_FUZZ_SRCS)

FUZZ_TARGETS += $(BUILD)/fuzz/gnttab_reply_fuzz

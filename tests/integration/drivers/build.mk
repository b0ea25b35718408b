# Dom0 test programs for the event-channel / grant integration tests and
# benchmarks (tests/integration/evtchn_*.sh, grant_*.sh, flood_*.sh,
# tests/bench/evtchn_*.sh): $(BUILD)/tests/drivers/<name>.
DRIVERS_DIR  := $(BUILD)/tests/drivers
DRIVERS_COMMON := $(addprefix $(BUILD)/obj/tests/integration/drivers/,xs_step.o stats_util.o bounce_link.o)
DRIVERS_LIBS := $(BUILD)/lib/libtdmgnttab.a $(BUILD)/lib/libtdmevtchn.a $(BUILD)/lib/libxenstore.a
DRIVERS      := evtchn_pingpong grant_check evtchn_bench flood_probe
DRIVERS_BINS := $(addprefix $(DRIVERS_DIR)/,$(DRIVERS))

DRIVERS_OBJS := $(DRIVERS:%=$(BUILD)/obj/tests/integration/drivers/%.o) $(DRIVERS_COMMON)

$(BUILD)/obj/tests/integration/drivers/%.o: CFLAGS += -I$(BUILD)/include -Itests/integration/drivers
# Named targets (a recipe-less pattern rule adds no prerequisites); the
# copied public headers are real prerequisites, so a changed header rebuilds.
$(DRIVERS_OBJS): $(EVTCHN_PUB_HDRS) $(BUILD)/include/tandem/tdm_gnttab.h | $(BUILD)/include/xenstore.h

$(DRIVERS_DIR)/%: $(BUILD)/obj/tests/integration/drivers/%.o $(DRIVERS_COMMON) $(DRIVERS_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -pthread

ALL_BINS += $(DRIVERS_BINS)

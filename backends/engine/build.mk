# backends/engine: Tandem's one storage engine and one network engine
# (libtdmengine.a; docs/blkback.md "The block engine", docs/netback.md
# "The network engine"). Each has two front doors: the block engine
# blkback and (later) tandem-vmm's NVMe model, the network engine netback
# and (later) the e1000 model. Nothing here knows rings, grants or
# xenstore: only a backing store or a tap, io_uring, and host iovecs, so
# a VMM links it as well as a dom0 daemon (with -Ibackends/engine and
# $(URING_LIBS)). Objects get the backends' include paths
# (backends/blkback/build.mk, for every $(BUILD)/obj/backends/%.o).
ENGINE_SRCS := backends/engine/tdm_uring.c backends/engine/blkeng_backing.c \
               backends/engine/blkeng_fixed.c backends/engine/blkeng.c \
               backends/engine/neteng_tap.c backends/engine/neteng.c
ENGINE_OBJS := $(ENGINE_SRCS:%.c=$(BUILD)/obj/%.o)
ENGINE_LIB  := $(BUILD)/lib/libtdmengine.a

$(ENGINE_LIB): $(ENGINE_OBJS)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

ALL_BINS += $(ENGINE_LIB)

# Host-side drivers of each engine, with no ring and no guest (Check).
$(BUILD)/obj/tests/unit/blkeng.o $(BUILD)/obj/tests/unit/neteng.o: CFLAGS += -Ibackends/engine
$(BUILD)/tests/unit/blkeng: $(BUILD)/obj/tests/unit/blkeng.o $(ENGINE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(URING_LIBS)

$(BUILD)/tests/unit/neteng: $(BUILD)/obj/tests/unit/neteng.o $(ENGINE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(URING_LIBS)

UNIT_TESTS += $(BUILD)/tests/unit/blkeng $(BUILD)/tests/unit/neteng

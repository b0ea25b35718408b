# xenstore/lib: libxenstore (shared libxenstore.so.4 with Xen's soname and
# symbol version, static libxenstore.a), its public headers and xenstore.pc.
# Xen's xenstore_lib.h includes <xen/io/xs_wire.h>; we install our one copy
# of that header (hypervisor/include/public/io/xs_wire.h) under that name.
XSLIB_SRCS := $(wildcard xenstore/lib/*.c)
XSLIB_OBJS := $(XSLIB_SRCS:%.c=$(BUILD)/obj/%.o)
XSLIB_HDRS := $(BUILD)/include/xenstore.h $(BUILD)/include/xenstore_lib.h \
              $(BUILD)/include/xen/io/xs_wire.h
XSLIB_SO   := $(BUILD)/lib/libxenstore.so.4.0
XSLIB_A    := $(BUILD)/lib/libxenstore.a
XSLIB_PC   := $(BUILD)/lib/pkgconfig/xenstore.pc
# What a program using the library compiles with, inside this tree.
XSLIB_CFLAGS := -I$(BUILD)/include

$(XSLIB_OBJS): CFLAGS += -fPIC -Ixenstore/lib/include $(XSLIB_CFLAGS) -Ixenstore/common
$(XSLIB_OBJS): | $(XSLIB_HDRS)

$(BUILD)/include/%.h: xenstore/lib/include/%.h
	@mkdir -p $(dir $@)
	cp $< $@

$(BUILD)/include/xen/io/xs_wire.h: hypervisor/include/public/io/xs_wire.h
	@mkdir -p $(dir $@)
	cp $< $@

$(XSLIB_SO): $(XSLIB_OBJS) $(XS_COMMON_OBJS) xenstore/lib/libxenstore.map
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,libxenstore.so.4 \
	    -Wl,--version-script=xenstore/lib/libxenstore.map \
	    -o $@ $(XSLIB_OBJS) $(XS_COMMON_OBJS) $(LDFLAGS)

$(BUILD)/lib/libxenstore.so.4: $(XSLIB_SO)
	ln -sf libxenstore.so.4.0 $@

$(BUILD)/lib/libxenstore.so: $(BUILD)/lib/libxenstore.so.4
	ln -sf libxenstore.so.4 $@

$(XSLIB_A): $(XSLIB_OBJS) $(XS_COMMON_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(XSLIB_PC): xenstore/lib/xenstore.pc.in
	@mkdir -p $(dir $@)
	sed 's|@PREFIX@|$(abspath $(BUILD))|' $< > $@

.PHONY: libxenstore
libxenstore: $(XSLIB_SO) $(BUILD)/lib/libxenstore.so.4 $(BUILD)/lib/libxenstore.so \
             $(XSLIB_A) $(XSLIB_PC) $(XSLIB_HDRS)

ALL_BINS += $(XSLIB_SO) $(BUILD)/lib/libxenstore.so.4 $(BUILD)/lib/libxenstore.so \
            $(XSLIB_A) $(XSLIB_PC) $(XSLIB_HDRS)

# Whoever includes <xenstore.h> also gets what it includes.
$(BUILD)/include/xenstore.h: | $(BUILD)/include/xenstore_lib.h $(BUILD)/include/xen/io/xs_wire.h

# Tests: the pure helpers, and the library against a real xenstored.
XSLIB_TESTS := $(BUILD)/tests/unit/libxenstore_strings $(BUILD)/tests/unit/libxenstore_daemon
$(XSLIB_TESTS:$(BUILD)/tests/unit/%=$(BUILD)/obj/tests/unit/%.o): CFLAGS += $(XSLIB_CFLAGS) -Ixenstore/cli -Ixenstore/common
$(XSLIB_TESTS:$(BUILD)/tests/unit/%=$(BUILD)/obj/tests/unit/%.o): | $(XSLIB_HDRS)

$(BUILD)/tests/unit/libxenstore_strings: $(BUILD)/obj/tests/unit/libxenstore_strings.o \
        $(BUILD)/obj/xenstore/cli/escape.o $(XSLIB_A)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(CHECK_LIBS) $(LDFLAGS)

$(BUILD)/tests/unit/libxenstore_daemon: $(BUILD)/obj/tests/unit/libxenstore_daemon.o $(XSLIB_A)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(CHECK_LIBS) $(LDFLAGS)

UNIT_TESTS += $(XSLIB_TESTS)

# Benchmark (tests/bench/xenstore_bench.sh runs it; `make bench`).
XSLIB_BENCH := $(BUILD)/tests/bench/xenstore_bench
$(BUILD)/obj/tests/bench/xenstore_bench.o: CFLAGS += $(XSLIB_CFLAGS)
$(BUILD)/obj/tests/bench/xenstore_bench.o: | $(XSLIB_HDRS)
$(XSLIB_BENCH): $(BUILD)/obj/tests/bench/xenstore_bench.o $(XSLIB_A)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDFLAGS) -ldl
BENCHES  += $(XSLIB_BENCH)
ALL_BINS += $(XSLIB_BENCH)

# libFuzzer target: the library against a hostile daemon's byte stream.
XSLIB_FUZZ := $(BUILD)/fuzz/xs_client_fuzz
$(XSLIB_FUZZ): xenstore/lib/fuzz/xs_client_fuzz.c $(XSLIB_SRCS) $(XS_COMMON_SRCS) \
               $(wildcard xenstore/lib/*.h) | $(XSLIB_HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -g -O1 -D_GNU_SOURCE -pthread -fsanitize=fuzzer,address,undefined \
	    $(PUBINC) -Ixenstore/lib -Ixenstore/lib/include -I$(BUILD)/include -Ixenstore/common \
	    $(filter %.c,$^) -o $@
FUZZ_TARGETS += $(XSLIB_FUZZ)

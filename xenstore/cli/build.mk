# xenstore/cli: the multi-call `xenstore` command and its xenstore-MODE
# links.  Linked against the static libxenstore so that it runs from the
# build tree without library paths.
XSCLI_SRCS  := $(wildcard xenstore/cli/*.c)
XSCLI_OBJS  := $(XSCLI_SRCS:%.c=$(BUILD)/obj/%.o)
XSCLI_MODES := read write ls list rm exists chmod watch
XSCLI_LINKS := $(XSCLI_MODES:%=$(BUILD)/bin/xenstore-%)

$(XSCLI_OBJS): CFLAGS += -I$(BUILD)/include -Ixenstore/common
$(XSCLI_OBJS): | $(BUILD)/include/xenstore.h $(BUILD)/include/xenstore_lib.h \
                 $(BUILD)/include/xen/io/xs_wire.h

$(BUILD)/bin/xenstore: $(XSCLI_OBJS) $(BUILD)/lib/libxenstore.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $(XSCLI_OBJS) $(BUILD)/lib/libxenstore.a $(LDFLAGS)

$(XSCLI_LINKS): $(BUILD)/bin/xenstore
	ln -sf xenstore $@

ALL_BINS += $(BUILD)/bin/xenstore $(XSCLI_LINKS)

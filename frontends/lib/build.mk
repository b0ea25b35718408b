# Host-side unit tests of the guest kernel's pure library code
# (frontends/lib/*.c, built with the host compiler).  The guest build of
# the same files is in frontends/build.mk.  The library keeps libc's names
# (memcpy, snprintf, ...) because libfdt and gcc need them in the guest; on
# the host every such name is renamed with -D so that tests link against
# ours, not libc's.
GUESTLIB_RENAMES := memcpy memmove memset memcmp memchr strlen strnlen strcmp \
	strncmp strchr strrchr strlcpy strtoul strtol vsnprintf snprintf
GUESTLIB_HOSTFLAGS := -fno-builtin $(foreach f,$(GUESTLIB_RENAMES),-D$(f)=guest_$(f)) \
	-Ifrontends/include
GUESTLIB_SRCS := string.c strtoul.c format.c cmdline.c pagealloc.c heap.c clock.c xsframe.c \
	net/eth.c net/arp.c net/ipv4.c net/udp.c
GUESTLIB_HOSTOBJS := $(patsubst %.c,$(BUILD)/obj-guesthost/frontends/lib/%.o,$(GUESTLIB_SRCS))
GUESTLIB_TESTS := guest_format guest_cmdline guest_mm guest_clock guest_xsframe guest_net

$(BUILD)/obj-guesthost/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(GUESTLIB_HOSTFLAGS) -c $< -o $@

$(BUILD)/tests/unit/guest_%: $(BUILD)/obj-guesthost/tests/unit/guest_%.o $(GUESTLIB_HOSTOBJS)
	@mkdir -p $(dir $@)
	$(CC) $^ -o $@ $(LDFLAGS) $(CHECK_LIBS)

UNIT_TESTS += $(addprefix $(BUILD)/tests/unit/,$(GUESTLIB_TESTS))

# The boot-information parser is kernel code but pure (libfdt + printk):
# tested on the host against trees built with the host's libfdt.
$(BUILD)/tests/unit/guest_platform: $(BUILD)/obj-guesthost/tests/unit/guest_platform.o \
		$(BUILD)/obj-guesthost/frontends/kernel/platform.o $(GUESTLIB_HOSTOBJS)
	@mkdir -p $(dir $@)
	$(CC) $^ -o $@ $(LDFLAGS) -lfdt $(CHECK_LIBS)

UNIT_TESTS += $(BUILD)/tests/unit/guest_platform

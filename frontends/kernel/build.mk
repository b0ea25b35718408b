# Host-side unit tests of guest kernel code that talks to the VMM or to
# xenstore only through a narrow interface: gnttab.c runs over a table in
# test memory (gnttab_attach_table), xenbus.c + xenbus_state.c over a fake
# xenstore (the xs_* calls) that the test provides.  Compiled by
# frontends/lib/build.mk's host rule (GUESTLIB_HOSTFLAGS renames libc's
# names).  This file is read before frontends/lib/build.mk, so the guest
# library objects are named here rather than taken from GUESTLIB_HOSTOBJS.
GUESTKERN_LIBOBJS := $(addprefix $(BUILD)/obj-guesthost/frontends/lib/,string.o strtoul.o format.o)

$(BUILD)/tests/unit/guest_gnttab: $(BUILD)/obj-guesthost/tests/unit/guest_gnttab.o \
		$(BUILD)/obj-guesthost/frontends/kernel/gnttab.o $(GUESTKERN_LIBOBJS)
	@mkdir -p $(dir $@)
	$(CC) $^ -o $@ $(LDFLAGS) $(CHECK_LIBS)

$(BUILD)/tests/unit/guest_xenbus: $(BUILD)/obj-guesthost/tests/unit/guest_xenbus.o \
		$(BUILD)/obj-guesthost/frontends/kernel/xenbus.o \
		$(BUILD)/obj-guesthost/frontends/kernel/xenbus_state.o $(GUESTKERN_LIBOBJS)
	@mkdir -p $(dir $@)
	$(CC) $^ -o $@ $(LDFLAGS) $(CHECK_LIBS)

UNIT_TESTS += $(BUILD)/tests/unit/guest_gnttab $(BUILD)/tests/unit/guest_xenbus

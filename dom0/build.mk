# dom0: the `tandem` CLI/toolstack.
# - libtandem-config.a: the config parser (no xenstore), shared with the unit tests.
# - tandem: the verbs; every xenstore access goes through libxenstore (xenstore/lib),
#   every control-socket request through the tdm_ctl client (dom0/evtchn/ctl_client.c,
#   in libtdmevtchn.a; named by path here because dom0/evtchn/build.mk is read later),
#   every transaction through tdm_xenbus_transact (dom0/xenbus, libtdmxenbus.a).


DOM0_CONFIG_SRCS := dom0/cfgparse.c dom0/config.c dom0/cfgprint.c dom0/disk.c dom0/vif.c
DOM0_CONFIG_OBJS := $(DOM0_CONFIG_SRCS:%.c=$(BUILD)/obj/%.o)
DOM0_CONFIG_LIB  := $(BUILD)/lib/libtandem-config.a

DOM0_TOOL_SRCS := dom0/main.c dom0/util.c dom0/rundir.c dom0/domid.c \
                  dom0/xsd.c dom0/store.c dom0/vmm.c dom0/domain.c \
                  dom0/cmd_run.c dom0/vbd.c dom0/devtype.c dom0/vifdev.c dom0/daemon.c \
                  dom0/cmd_list.c dom0/cmd_ctl.c dom0/cmd_lookup.c \
                  dom0/console.c dom0/services.c dom0/cmd_console.c \
                  dom0/cmd_domain.c dom0/cmd_host.c dom0/help.c dom0/cmd_device.c dom0/cmd_save.c \
                  dom0/record.c
DOM0_TOOL_OBJS := $(DOM0_TOOL_SRCS:%.c=$(BUILD)/obj/%.o)
# save/restore read save files with tandem-vmm's one parser (libfdt).
DOM0_SAVEFILE_OBJ := $(BUILD)/obj/hypervisor/vmm/savefile.o $(BUILD)/obj/hypervisor/vmm/errmsg.o
$(BUILD)/obj/dom0/cmd_save.o: CFLAGS += -Ihypervisor/vmm

XENSTORE_LIB_A := $(BUILD)/lib/libxenstore.a
XENSTORE_HDR   := $(BUILD)/include/xenstore.h
TDM_CTL_LIB    := $(BUILD)/lib/libtdmevtchn.a
TDM_CTL_INC    := -Idom0/evtchn -Idom0/xenbus
TDM_XENBUS_LIB := $(BUILD)/lib/libtdmxenbus.a

$(DOM0_CONFIG_LIB): $(DOM0_CONFIG_OBJS)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

# The tool's objects include <xenstore.h> from the library's install dir.
$(DOM0_TOOL_OBJS): CFLAGS += -I$(BUILD)/include -Idom0 $(TDM_CTL_INC)
$(DOM0_TOOL_OBJS): | $(XENSTORE_HDR)

$(BUILD)/bin/tandem: $(DOM0_TOOL_OBJS) $(DOM0_SAVEFILE_OBJ) $(DOM0_CONFIG_LIB) $(TDM_XENBUS_LIB) $(XENSTORE_LIB_A) $(TDM_CTL_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(DOM0_TOOL_OBJS) $(DOM0_SAVEFILE_OBJ) $(DOM0_CONFIG_LIB) $(TDM_XENBUS_LIB) $(XENSTORE_LIB_A) $(TDM_CTL_LIB) -pthread -lfdt

$(BUILD)/tests/unit/dom0_config: $(BUILD)/obj/tests/unit/dom0_config.o $(DOM0_CONFIG_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS)

$(BUILD)/obj/tests/unit/dom0_config.o: CFLAGS += -Idom0

$(BUILD)/tests/unit/dom0_disk: $(BUILD)/obj/tests/unit/dom0_disk.o $(DOM0_CONFIG_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS)

$(BUILD)/obj/tests/unit/dom0_disk.o: CFLAGS += -Idom0

DOM0_DOMID_OBJS := $(BUILD)/obj/dom0/domid.o $(BUILD)/obj/dom0/rundir.o $(BUILD)/obj/dom0/util.o
$(BUILD)/tests/unit/dom0_domid: $(BUILD)/obj/tests/unit/dom0_domid.o $(DOM0_DOMID_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS)

$(BUILD)/obj/tests/unit/dom0_domid.o: CFLAGS += -Idom0

# The client as the CLI uses it (run dir from $TANDEM_RUNDIR, fds tolerated).
$(BUILD)/tests/unit/dom0_ctl: $(BUILD)/obj/tests/unit/dom0_ctl.o $(TDM_CTL_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS)

$(BUILD)/obj/tests/unit/dom0_ctl.o: CFLAGS += $(TDM_CTL_INC)

UNIT_TESTS += $(BUILD)/tests/unit/dom0_config $(BUILD)/tests/unit/dom0_domid \
              $(BUILD)/tests/unit/dom0_disk \
              $(BUILD)/tests/unit/dom0_ctl
# The CLI needs libxenstore; until its fragment exists, `make` skips it.
ifneq ($(wildcard xenstore/lib/build.mk),)
ALL_BINS   += $(BUILD)/bin/tandem
endif

# Workaround (dom0/disk.c is the block-device engineer's): at -O1 (SAN=1) gcc
# cannot see disk.c's length check before its snprintf into vdev[16] and
# reports -Wformat-truncation, which broke `make asan`. Remove once disk.c
# copies with the checked length.
$(BUILD)/obj/dom0/disk.o: CFLAGS += -Wno-format-truncation

# vif[] items (dom0/vif.c, in the config library).
$(BUILD)/tests/unit/dom0_vif: $(BUILD)/obj/tests/unit/dom0_vif.o $(DOM0_CONFIG_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS)

$(BUILD)/obj/tests/unit/dom0_vif.o: CFLAGS += -Idom0
UNIT_TESTS += $(BUILD)/tests/unit/dom0_vif

# libFuzzer target: the config parser and the -n printer's round trip.
CFG_FUZZ_SRCS := tests/fuzz/cfg_fuzz.c $(DOM0_CONFIG_SRCS)
$(BUILD)/fuzz/cfg_fuzz: $(CFG_FUZZ_SRCS) dom0/config.h dom0/cfgparse.h dom0/disk.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-D_GNU_SOURCE $(PUBINC) -Idom0 -o $@ $(CFG_FUZZ_SRCS)

FUZZ_TARGETS += $(BUILD)/fuzz/cfg_fuzz

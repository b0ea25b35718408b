# backends/common: what every backend daemon shares (libtdmbackend.a): the
# xenbus backend framework (tdm_xbback), xenstore number parsing
# (tdm_xskeys), daemon command lines (tdm_opts), the adaptive poll
# (tdm_poll). (io_uring helpers are the engines': backends/engine.)
# Objects here are built with the backends' include paths
# (backends/blkback/build.mk sets them for every $(BUILD)/obj/backends/%.o).
BACKEND_COMMON_SRCS := backends/common/tdm_xskeys.c \
                       backends/common/tdm_xbback.c backends/common/tdm_poll.c \
                       backends/common/tdm_opts.c
BACKEND_COMMON_OBJS := $(BACKEND_COMMON_SRCS:%.c=$(BUILD)/obj/%.o)
BACKEND_COMMON_LIB  := $(BUILD)/lib/libtdmbackend.a

$(BACKEND_COMMON_OBJS): | $(BUILD)/include/xenstore.h
$(BACKEND_COMMON_LIB): $(BACKEND_COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

ALL_BINS += $(BACKEND_COMMON_LIB)

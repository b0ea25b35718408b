# xenstore/common: wire helpers shared by xenstored and libxenstore.
# Built position-independent so libxenstore.so can link the objects too.
XS_COMMON_SRCS := xenstore/common/xs_common.c
XS_COMMON_OBJS := $(XS_COMMON_SRCS:%.c=$(BUILD)/obj/%.o)
XS_COMMON_LIB  := $(BUILD)/lib/libxs-common.a
XS_COMMON_INC  := -Ixenstore/common

$(XS_COMMON_OBJS): CFLAGS += -fPIC

$(XS_COMMON_LIB): $(XS_COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

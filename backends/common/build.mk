# backends/common: io_uring helpers shared by the backends (libtdmbackend.a).
BACKEND_COMMON_SRCS := backends/common/tdm_uring.c
BACKEND_COMMON_OBJS := $(BACKEND_COMMON_SRCS:%.c=$(BUILD)/obj/%.o)
BACKEND_COMMON_LIB  := $(BUILD)/lib/libtdmbackend.a

$(BACKEND_COMMON_LIB): $(BACKEND_COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

ALL_BINS += $(BACKEND_COMMON_LIB)

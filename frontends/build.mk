# The Tandem PV guest kernel (freestanding, x86_64), linked at 1 MiB into
# $(BUILD)/guest/tandem-guest.elf. Every frontends/**/*.c and the arch
# layer's *.S are picked up by glob. Objects go to $(BUILD)/obj-guest so they
# never mix with host objects (frontends/lib/build.mk builds the same library
# sources for host unit tests into $(BUILD)/obj-guesthost). Never built with
# the SAN flags: the guest has its own CFLAGS.
GUEST_ELF     := $(BUILD)/guest/tandem-guest.elf
GUEST_LDS     := frontends/arch/x86/tandem.ld
GUEST_LIBFDT  ?= /usr/lib/x86_64-linux-gnu/libfdt.a
GUEST_CFLAGS  := -std=gnu11 -Wall -Wextra -Werror -O2 -g -ffreestanding -fno-pic -fno-pie \
	-mno-red-zone -mgeneral-regs-only -mcmodel=small -fno-stack-protector \
	-fno-omit-frame-pointer -fcf-protection=none -fno-asynchronous-unwind-tables \
	-fno-tree-loop-distribute-patterns -MMD -MP \
	-Ifrontends/include -Ifrontends/arch/x86 -Ihypervisor/include
GUEST_ASFLAGS := -D__ASSEMBLY__ -Ifrontends/arch/x86 -Ihypervisor/include -MMD -MP
GUEST_C_SRCS  := $(sort $(shell find frontends -name '*.c' 2>/dev/null))
GUEST_S_SRCS  := $(sort $(wildcard frontends/arch/x86/*.S))
GUEST_OBJS    := $(patsubst %.c,$(BUILD)/obj-guest/%.o,$(GUEST_C_SRCS)) \
	$(patsubst %.S,$(BUILD)/obj-guest/%.o,$(GUEST_S_SRCS))

$(BUILD)/obj-guest/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/obj-guest/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_ASFLAGS) -c $< -o $@

$(GUEST_ELF): $(GUEST_OBJS) $(GUEST_LDS)
	@mkdir -p $(dir $@)
	$(CC) -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-T,$(GUEST_LDS) \
		-Wl,-z,noexecstack -Wl,--no-warn-rwx-segments -o $@ $(GUEST_OBJS) $(GUEST_LIBFDT) -lgcc

ALL_BINS += $(GUEST_ELF)
-include $(shell find $(BUILD)/obj-guest -name '*.d' 2>/dev/null)

# The arch layer alone (its weak kernel_main prints a line and powers off):
# boots without the kernel, for tandem-vmm's own tests.
GUEST_ARCH_ELF  := $(BUILD)/guest/tandem-arch.elf
GUEST_ARCH_OBJS := $(filter $(BUILD)/obj-guest/frontends/arch/% $(BUILD)/obj-guest/frontends/lib/%,$(GUEST_OBJS))
$(GUEST_ARCH_ELF): $(GUEST_ARCH_OBJS) $(GUEST_LDS)
	@mkdir -p $(dir $@)
	$(CC) -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-T,$(GUEST_LDS) \
		-Wl,-z,noexecstack -Wl,--no-warn-rwx-segments -o $@ $(GUEST_ARCH_OBJS) $(GUEST_LIBFDT) -lgcc
ALL_BINS += $(GUEST_ARCH_ELF)

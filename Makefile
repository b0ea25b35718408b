# Tandem — top-level build. Each component owns a fragment (<dir>/build.mk)
# that adds its targets to ALL_BINS / UNIT_TESTS / FUZZ_TARGETS / BENCHES.
# `make` builds everything into $(BUILD); `make test` installs what is
# missing, builds and runs every test; `make asan` does the same in
# build-asan/ under AddressSanitizer + UBSan.

BUILD    ?= build
SAN      ?= 0
CC       ?= gcc
FUZZ_CC  ?= clang
PKG_CONFIG ?= pkg-config
# Parallel sub-builds of `make test`, `asan`, `bench` and `demo` (one job a CPU).
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)

WARN     := -Wall -Wextra -Werror
CSTD     := -std=gnu11
ifeq ($(SAN),1)
OPT      := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
SANLD    := -fsanitize=address,undefined
else
OPT      := -O2 -g
SANLD    :=
endif
PUBINC   := -Ihypervisor/include
CFLAGS   := $(CSTD) $(WARN) $(OPT) -D_GNU_SOURCE -MMD -MP -pthread $(PUBINC) $(EXTRA_CFLAGS)
LDFLAGS  := -pthread $(SANLD) $(EXTRA_LDFLAGS)
CHECK_LIBS := $(shell $(PKG_CONFIG) --libs check 2>/dev/null || echo -lcheck)
URING_LIBS := $(shell $(PKG_CONFIG) --libs liburing 2>/dev/null || echo -luring)

ALL_BINS     :=
UNIT_TESTS   :=
FUZZ_TARGETS :=
BENCHES      :=

.PHONY: all deps test test-run asan demo bench clean fuzz
# Keep intermediate objects so rebuilds are incremental.
.SECONDARY:
all:

# Generic rules: objects mirror the source tree under $(BUILD)/obj.
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

include $(wildcard mk/*.mk)
include $(sort $(wildcard */build.mk */*/build.mk */*/*/build.mk))

all: $(ALL_BINS) $(UNIT_TESTS)

deps:
	@scripts/deps.sh

test: deps
	$(MAKE) -j$(JOBS) all fuzz
	@BUILD=$(BUILD) tests/run.sh

# Runs the tests without the package check (used by `make test` and `make asan`).
test-run: all fuzz
	@BUILD=$(BUILD) tests/run.sh

asan: deps
	$(MAKE) -j$(JOBS) BUILD=build-asan SAN=1 all
	@BUILD=build-asan SAN=1 NO_FUZZ=1 tests/run.sh

fuzz: $(FUZZ_TARGETS)

bench: deps
	$(MAKE) -j$(JOBS) all
	@BUILD=$(BUILD) tests/bench/run.sh

demo: deps
	$(MAKE) -j$(JOBS) all
	@BUILD=$(BUILD) scripts/demo.sh

clean:
	rm -rf build build-asan

# Inside the test machine (tests/vm) the build made outside is used as it
# is: its header dependencies name host headers the machine does not have.
ifneq ($(TANDEM_TEST_VM),1)
-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
endif

# Sourced by the guest test libraries (hypervisor/tests/testlib.sh,
# tests/integration/cli_lib.bash). True inside the test machine (tests/vm),
# where guests run on KVM nested in QEMU's emulator: durations there are
# the emulator's, not the product's (docs/testing.md).
emulated() { [ "${TANDEM_TEST_VM:-0}" = 1 ]; }
skip_timing() { echo "SKIP: $1: timing not meaningful under emulation${2:+ ($2)}"; }
# The timer app's arguments: under emulation a sleep must still fire and
# never end early, but how late it is is reported, not checked.
timer_app_args() { emulated && echo "app=timer late=unchecked" || echo "app=timer"; }
# True when tests/run.sh runs this beside test machines that take the host's
# cores (TANDEM_TEST_HOST_SHARED): a latency ratio measured now is theirs.
host_shared() { [ "${TANDEM_TEST_HOST_SHARED:-0}" = 1 ]; }
# How much longer to wait for a start or a state: under emulation, and
# beside the test machines (CI's pv_restart waited 30 s for a restart that
# takes 2 s on an idle host, while two machines' four emulated cores held
# both of the host's).
emulation_factor() {
    if emulated; then echo 6; elif host_shared; then echo 3; else echo 1; fi
}

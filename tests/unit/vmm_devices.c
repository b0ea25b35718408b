/* Check suite for the devices each platform puts on tandem-vmm's I/O bus
 * (devices.c, dev/): which ports each platform has, and that the moved
 * special cases answer as vcpu.c's switch did (ACPI sleep and reset, the
 * PIT counters reading 0, port 0x80, the debug port's bytes, reads of
 * write-only ports seeing 0xff). Runs on a VM without KVM. */
#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "iobus.h"
#include "vmm.h"

static struct vmm_config cfg;
static struct vm vm;
static int con_pipe[2];

static void make_vm(bool xen_hvm)
{
    memset(&vm, 0, sizeof(vm));
    memset(&cfg, 0, sizeof(cfg));
    cfg.domid = 7;
    vm.cfg = &cfg;
    vm.xen_hvm = xen_hvm;
    vm.kvm_fd = vm.vm_fd = vm.memfd = -1;
    vm.wake_fd = eventfd(0, EFD_NONBLOCK);
    pthread_mutex_init(&vm.lock, NULL);
    pthread_mutex_init(&vm.poll_lock, NULL);
    pthread_cond_init(&vm.poll_cond, NULL);
    pthread_cond_init(&vm.unpause, NULL);
    pthread_mutex_init(&vm.con.out_lock, NULL);
    ck_assert_int_eq(pipe2(con_pipe, O_NONBLOCK), 0);
    vm.con.out_fd = con_pipe[1];
    ck_assert_int_eq(devices_init(&vm), 0);
}

static void teardown(void)
{
    devices_close(&vm);
    close(con_pipe[0]);
    close(con_pipe[1]);
    close(vm.wake_fd);
}

static bool pio(uint16_t port, void *data, uint32_t len, bool is_write)
{
    return iobus_access(vm.bus, IOBUS_PIO, port, data, len, is_write, NULL);
}

static uint32_t read_port(uint16_t port, uint32_t len)
{
    uint32_t v = 0x12345678;
    ck_assert_msg(pio(port, &v, len, false), "port %#x has a device", port);
    return len == 4 ? v : v & ((1u << (8 * len)) - 1);
}

START_TEST(tandem_platform_ports)
{
    make_vm(false);
    uint32_t v = 0;
    uint16_t have[] = { TANDEM_HYPERCALL_PORT, TANDEM_DOORBELL_PORT, TANDEM_DEBUG_PORT, 0x80 };
    for (unsigned i = 0; i < sizeof(have) / sizeof(have[0]); i++)
        ck_assert_msg(pio(have[i], &v, 1, false), "port %#x", have[i]);
    /* no ACPI block, no PIT stand-in: those are the Xen HVM platform's */
    uint16_t none[] = { 0x40, 0x42, 0x600, 0x601, 0x604, 0x81, 0xe8, 0xea, 0x3f8 };
    for (unsigned i = 0; i < sizeof(none) / sizeof(none[0]); i++)
        ck_assert_msg(!pio(none[i], &v, 1, false), "port %#x", none[i]);
}
END_TEST

START_TEST(write_only_ports_read_ones)
{
    make_vm(false);
    ck_assert_uint_eq(read_port(0x80, 1), 0xff);
    ck_assert_uint_eq(read_port(TANDEM_DEBUG_PORT, 1), 0xff);
    ck_assert_uint_eq(read_port(TANDEM_HYPERCALL_PORT, 4), 0xffffffff);
    ck_assert_uint_eq(read_port(TANDEM_DOORBELL_PORT, 4), 0xffffffff);
    uint8_t b = 0x55;
    ck_assert(pio(0x80, &b, 1, true));           /* an I/O delay: taken, dropped */
    uint16_t w = 1;
    ck_assert(!pio(0x80, &w, 2, true));          /* a byte port */
    ck_assert(!pio(TANDEM_HYPERCALL_PORT + 2, &w, 4, true)); /* straddles its end */
}
END_TEST

START_TEST(debug_port_bytes_reach_the_console)
{
    make_vm(false);
    const char *msg = "hi!";
    for (const char *p = msg; *p; p++) {
        uint8_t c = (uint8_t)*p;
        ck_assert(pio(TANDEM_DEBUG_PORT, &c, 1, true));
    }
    char buf[8] = { 0 };
    ck_assert_int_eq(read(con_pipe[0], buf, sizeof(buf)), 3);
    ck_assert_str_eq(buf, "hi!");
}
END_TEST

START_TEST(xen_hvm_pit_counters_read_zero)
{
    make_vm(true);
    for (uint16_t p = 0x40; p <= 0x42; p++)
        ck_assert_uint_eq(read_port(p, 1), 0);
    ck_assert_uint_eq(read_port(0x40, 2), 0);
    uint8_t b = 0x34;
    ck_assert(pio(0x40, &b, 1, true));           /* dropped */
    ck_assert(!pio(0x43, &b, 1, true));          /* the command port is not there */
    ck_assert(!pio(0x42, &b, 2, false));         /* straddles */
}
END_TEST

START_TEST(xen_hvm_acpi_sleep_status_and_probes)
{
    make_vm(true);
    ck_assert_uint_eq(read_port(0x601, 1), 0);   /* not woken */
    ck_assert_uint_eq(read_port(0x601, 2), 0);
    ck_assert_uint_eq(read_port(0x601, 4), 0);
    uint8_t b = 0x80;
    ck_assert(pio(0x601, &b, 1, true));          /* clearing WAK_STS keeps nothing */
    ck_assert_uint_eq(read_port(0x600, 1), 0xff); /* write-only registers */
    ck_assert_uint_eq(read_port(0x604, 1), 0xff);
    ck_assert_uint_eq(read_port(0x602, 1), 0xff);
    uint16_t w = 0x3434;
    ck_assert(pio(0x600, &w, 2, true));          /* another size: nothing happens */
    b = 0x14;                                    /* S5 without SLP_EN */
    ck_assert(pio(0x600, &b, 1, true));
    b = 0x20 | (1 << 2);                         /* SLP_EN, S1 */
    ck_assert(pio(0x600, &b, 1, true));
    b = 0x02;
    ck_assert(pio(0x604, &b, 1, true));          /* not the reset value */
    ck_assert_int_eq(atomic_load(&vm.state), VM_RUNNING);
    ck_assert(!pio(0x608, &b, 1, true));         /* past the block */
}
END_TEST

START_TEST(xen_hvm_acpi_s5_powers_off)
{
    make_vm(true);
    uint8_t b = 0x20 | (5 << 2);
    ck_assert(pio(0x600, &b, 1, true));
    ck_assert_int_eq(atomic_load(&vm.state), VM_STOPPING);
    ck_assert_int_eq(vm.exit_status, TANDEM_EXIT_POWEROFF);
}
END_TEST

START_TEST(xen_hvm_acpi_reset_reboots)
{
    make_vm(true);
    uint8_t b = 0x01;
    ck_assert(pio(0x604, &b, 1, true));
    ck_assert_int_eq(atomic_load(&vm.state), VM_STOPPING);
    ck_assert_int_eq(vm.exit_status, TANDEM_EXIT_REBOOT);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("vmm_devices");
    TCase *tc = tcase_create("devices");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, tandem_platform_ports);
    tcase_add_test(tc, write_only_ports_read_ones);
    tcase_add_test(tc, debug_port_bytes_reach_the_console);
    tcase_add_test(tc, xen_hvm_pit_counters_read_zero);
    tcase_add_test(tc, xen_hvm_acpi_sleep_status_and_probes);
    tcase_add_test(tc, xen_hvm_acpi_s5_powers_off);
    tcase_add_test(tc, xen_hvm_acpi_reset_reboots);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

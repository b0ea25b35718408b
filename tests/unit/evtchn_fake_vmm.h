/* A stand-in for tandem-vmm's control socket, for the dom0 library tests:
 * a thread serving <tmpdir>/dom<N>.ctl with the requests documented in
 * docs/evtchn-gnttab.md (evtchn-bind, evtchn-unbind, memory, gnttab), over
 * a memfd that plays the guest's memory. Tests act as the guest through
 * fake_vmm_mem() and the per-port eventfds. */
#ifndef TANDEM_TESTS_FAKE_VMM_H
#define TANDEM_TESTS_FAKE_VMM_H

#include <stdint.h>

#define FAKE_REGION_GPA   0xFC000000ULL
#define FAKE_REGION_SIZE  0x200000ULL
#define FAKE_SHINFO_GPA   0xFC100000ULL            /* physmap window */
#define FAKE_GNT_GPA(i)   (0xFC101000ULL + 0x1000ULL * (i))
#define FAKE_MAX_PORTS    4096

struct fake_vmm;

struct fake_vmm_config {
    unsigned domid;
    uint64_t ram_size;          /* default 16 MiB */
    unsigned nr_grant_frames;   /* placed at FAKE_GNT_GPA(i) */
    const char *mem_dir;        /* NULL: memory is a memfd; else a file made (and
                                   unlinked) there and allocated, e.g. on a tmpfs
                                   mounted huge=always for 2 MiB pages */
};

struct fake_vmm *fake_vmm_start(const struct fake_vmm_config *cfg);
void fake_vmm_stop(struct fake_vmm *f);

const char *fake_vmm_run_dir(const struct fake_vmm *f);
int fake_vmm_memfd(const struct fake_vmm *f);
uint8_t *fake_vmm_mem(const struct fake_vmm *f);          /* memfd offset 0 */
uint8_t *fake_vmm_gpa(const struct fake_vmm *f, uint64_t gpa); /* RAM or region */
uint64_t fake_vmm_ram_size(const struct fake_vmm *f);

/* Guest side of a port bound by evtchn-bind (-1 if not bound). */
int fake_vmm_kick_fd(struct fake_vmm *f, unsigned port);  /* "doorbell": write 1 */
int fake_vmm_irq_fd(struct fake_vmm *f, unsigned port);   /* read the upcalls */
int fake_vmm_bound(struct fake_vmm *f, unsigned port);

/* Ports the guest allocated unbound for dom0 (bind refuses others). */
void fake_vmm_allow_port(struct fake_vmm *f, unsigned port);

/* The next request starting with `op` gets `line` verbatim (plus a
 * newline) with `nfds` copies of the memfd attached. */
void fake_vmm_script(struct fake_vmm *f, const char *op, const char *line, unsigned nfds);

/* Later binds name vCPU `vcpu` and append `extra` (e.g. a
 * vcpu_info_offset=) to the OK line. */
void fake_vmm_set_bind_vcpu(struct fake_vmm *f, unsigned vcpu, const char *extra);

/* Grows the grant table the VMM reports (the guest added frames). */
void fake_vmm_set_grant_frames(struct fake_vmm *f, unsigned n);

/* Requests seen whose op is `op`. */
unsigned fake_vmm_count(struct fake_vmm *f, const char *op);

#endif

/*
 * The save file format (savefile.h, docs/save-restore.md): the header is
 * built here with libfdt's sequential-write API and parsed and checked here,
 * every property and range, before anyone trusts a number from it.
 */
#include <errno.h>
#include <fcntl.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "public/tandem.h"
#include "public/xen.h"
#include "errmsg.h"
#include "fdt_build.h"
#include "savefile.h"

#define PAGE 4096u
#define CHECKSUM_PROP "header-checksum"


uint64_t save_checksum(uint64_t h, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len > 0) {
        uint64_t w = 0;
        size_t n = len < 8 ? len : 8;
        memcpy(&w, p, n);
        h ^= w;
        h *= 0x100000001b3ULL;
        h ^= h >> 29;
        p += n;
        len -= n;
    }
    return h;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) / a * a;
}

/* ---- building ---- */


static int begin_section(void *fdt, const char *name, uint32_t version)
{
    FDT_TRY(fdt_begin_node(fdt, name));
    return fdt_property_u32(fdt, "version", version);
}

static int put_blob(void *fdt, const char *name, const struct save_blob *b)
{
    return fdt_property(fdt, name, b->data, (int)b->len);
}

static int build_config(void *fdt, const struct save_header *h)
{
    FDT_TRY(begin_section(fdt, "config", SAVE_V_CONFIG));
    FDT_TRY(fdt_property_u64(fdt, "memory-mib", h->memory_mib));
    FDT_TRY(fdt_property_u32(fdt, "vcpus", h->vcpus));
    FDT_TRY(fdt_property_u32(fdt, "grant-frames", h->grant_frames));
    FDT_TRY(fdt_property_u32(fdt, "domid", h->domid));
    FDT_TRY(fdt_property_string(fdt, "name", h->name));
    FDT_TRY(fdt_property_string(fdt, "uuid", h->uuid));
    FDT_TRY(fdt_property_string(fdt, "cmdline", h->cmdline));
    FDT_TRY(fdt_property_string(fdt, "cpu-mode", h->cpu_mode));
    FDT_TRY(fdt_property_string(fdt, "kernel", h->kernel));
    FDT_TRY(fdt_property_string(fdt, "toolstack", h->toolstack ? h->toolstack : ""));
    return fdt_end_node(fdt);
}

static int build_vcpu(void *fdt, unsigned int id, const struct save_vcpu *c)
{
    char name[16];
    snprintf(name, sizeof(name), "cpu@%u", id);
    FDT_TRY(fdt_begin_node(fdt, name));
    FDT_TRY(fdt_property_u32(fdt, "reg", id));
    FDT_TRY(fdt_property_u32(fdt, "initialised", c->initialised));
    FDT_TRY(fdt_property_u32(fdt, "up", c->up));
    FDT_TRY(fdt_property_u64(fdt, "vcpu-info-gpa", c->vcpu_info_gpa));
    FDT_TRY(fdt_property_u32(fdt, "upcall-vector", c->upcall_vector));
    FDT_TRY(fdt_property_u64(fdt, "timer-deadline", c->timer_deadline_ns));
    FDT_TRY(fdt_property_u64(fdt, "periodic-ns", c->periodic_ns));
    FDT_TRY(put_blob(fdt, "kvm-regs", &c->regs));
    FDT_TRY(put_blob(fdt, "kvm-sregs", &c->sregs));
    FDT_TRY(put_blob(fdt, "kvm-xsave", &c->xsave));
    FDT_TRY(put_blob(fdt, "kvm-xcrs", &c->xcrs));
    FDT_TRY(put_blob(fdt, "kvm-lapic", &c->lapic));
    FDT_TRY(put_blob(fdt, "kvm-mp-state", &c->mp_state));
    FDT_TRY(put_blob(fdt, "kvm-events", &c->events));
    fdt64_t msrs[2 * SAVE_MAX_MSRS];
    for (unsigned int i = 0; i < c->nr_msrs; i++) {
        msrs[2 * i] = cpu_to_fdt64(c->msrs[i].index);
        msrs[2 * i + 1] = cpu_to_fdt64(c->msrs[i].value);
    }
    FDT_TRY(fdt_property(fdt, "msrs", msrs, (int)(c->nr_msrs * 16)));
    return fdt_end_node(fdt);
}

static int build_cpus(void *fdt, const struct save_header *h)
{
    FDT_TRY(begin_section(fdt, "cpus", SAVE_V_CPUS));
    for (unsigned int i = 0; i < h->vcpus; i++)
        FDT_TRY(build_vcpu(fdt, i, &h->cpu[i]));
    return fdt_end_node(fdt);
}

static int build_clock(void *fdt, const struct save_header *h)
{
    FDT_TRY(begin_section(fdt, "clock", SAVE_V_CLOCK));
    FDT_TRY(fdt_property_u32(fdt, "tsc-khz", h->tsc_khz));
    FDT_TRY(fdt_property_u32(fdt, "tsc-mul", h->tsc_mul));
    FDT_TRY(fdt_property_u32(fdt, "tsc-shift", (uint32_t)h->tsc_shift));
    FDT_TRY(fdt_property_u64(fdt, "ref-tsc", h->ref_tsc));
    FDT_TRY(fdt_property_u64(fdt, "ref-ns", h->ref_ns));
    FDT_TRY(fdt_property_u64(fdt, "boot-realtime-ns", h->boot_realtime_ns));
    FDT_TRY(fdt_property_u64(fdt, "saved-tsc", h->saved_tsc));
    FDT_TRY(fdt_property_u64(fdt, "saved-ns", h->saved_ns));
    return fdt_end_node(fdt);
}

static int build_devices(void *fdt, const struct save_header *h)
{
    FDT_TRY(begin_section(fdt, "physmap", SAVE_V_PHYSMAP));
    FDT_TRY(fdt_property_u64(fdt, "shared-info-gpa", h->shared_info_gpa));
    FDT_TRY(fdt_property_u64(fdt, "callback-irq", h->callback_irq));
    FDT_TRY(fdt_end_node(fdt));

    FDT_TRY(begin_section(fdt, "gnttab", SAVE_V_GNTTAB));
    FDT_TRY(fdt_property_u32(fdt, "table-version", h->gnttab_version));
    FDT_TRY(fdt_property_u32(fdt, "max-frames", h->gnttab_max_frames));
    FDT_TRY(fdt_property_u32(fdt, "nr-frames", h->gnttab_nr_frames));
    fdt64_t frames[SAVE_MAX_FRAMES];
    for (unsigned int i = 0; i < h->gnttab_nr_frames; i++)
        frames[i] = cpu_to_fdt64(h->gnttab_frames[i]);
    FDT_TRY(fdt_property(fdt, "frames", frames, (int)(h->gnttab_nr_frames * 8)));
    FDT_TRY(fdt_end_node(fdt));

    FDT_TRY(begin_section(fdt, "evtchn", SAVE_V_EVTCHN));
    FDT_TRY(fdt_property_u32(fdt, "nr-ports", h->nr_ports));
    FDT_TRY(fdt_property_placeholder(fdt, "ports", (int)(h->nr_ports * 24), &(void *){ NULL }));
    FDT_TRY(fdt_end_node(fdt));

    FDT_TRY(begin_section(fdt, "xenstore", SAVE_V_XENSTORE));
    FDT_TRY(fdt_property_u64(fdt, "ring", h->xenstore_ring));
    FDT_TRY(fdt_property_u32(fdt, "evtchn", h->xenstore_port));
    FDT_TRY(fdt_end_node(fdt));

    FDT_TRY(begin_section(fdt, "console", SAVE_V_CONSOLE));
    FDT_TRY(fdt_property_u64(fdt, "ring", h->console_ring));
    FDT_TRY(fdt_property_u32(fdt, "evtchn", h->console_port));
    return fdt_end_node(fdt);
}

static int build_memory(void *fdt, const struct save_header *h)
{
    FDT_TRY(begin_section(fdt, "memory", SAVE_V_MEMORY));
    FDT_TRY(fdt_property_u64(fdt, "ram-size", h->ram_size));
    FDT_TRY(fdt_property_u64(fdt, "mem-size", h->mem_size));
    FDT_TRY(fdt_property_u64(fdt, "data-offset", h->data_offset));
    FDT_TRY(fdt_property_u64(fdt, "data-size", h->data_len));
    FDT_TRY(fdt_property_u64(fdt, "checksum", h->mem_checksum));
    FDT_TRY(fdt_property_u32(fdt, "nr-extents", h->nr_extents));
    void *p;
    FDT_TRY(fdt_property_placeholder(fdt, "extents", (int)(h->nr_extents * 16), &p));
    uint8_t *e = p;   /* FDT properties are 4-byte aligned only */
    for (unsigned int i = 0; i < h->nr_extents; i++) {
        fdt64_t cells[2] = { cpu_to_fdt64(h->extents[i].offset), cpu_to_fdt64(h->extents[i].len) };
        memcpy(e + 16 * i, cells, sizeof(cells));
    }
    return fdt_end_node(fdt);
}

static void fill_ports(void *fdt, const struct save_header *h)
{
    int len, node = fdt_path_offset(fdt, "/evtchn");
    fdt32_t *p = node < 0 ? NULL : fdt_getprop_w(fdt, node, "ports", &len);
    if (!p)
        return;
    for (unsigned int i = 0; i < h->nr_ports; i++) {
        const struct save_port *s = &h->ports[i];
        uint32_t v[6] = { s->port, s->state, s->virq, s->vcpu, s->remote_dom, s->remote_port };
        for (int k = 0; k < 6; k++)
            p[6 * i + (unsigned int)k] = cpu_to_fdt32(v[k]);
    }
}

static int build(void *fdt, size_t size, const struct save_header *h)
{
    FDT_TRY(fdt_create(fdt, (int)size));
    FDT_TRY(fdt_finish_reservemap(fdt));
    FDT_TRY(fdt_begin_node(fdt, ""));
    FDT_TRY(fdt_property_string(fdt, "compatible", SAVE_COMPATIBLE));
    FDT_TRY(fdt_property_u32(fdt, "format-version", SAVE_FORMAT_VERSION));
    FDT_TRY(fdt_property_u64(fdt, CHECKSUM_PROP, 0));
    FDT_TRY(build_config(fdt, h));
    FDT_TRY(build_clock(fdt, h));
    FDT_TRY(build_cpus(fdt, h));
    FDT_TRY(build_devices(fdt, h));
    FDT_TRY(build_memory(fdt, h));
    FDT_TRY(fdt_end_node(fdt));
    FDT_TRY(fdt_finish(fdt));
    fill_ports(fdt, h);
    return 0;
}

int save_header_build(struct save_header *h, void **blob, size_t *len, char *err, size_t errlen)
{
    if (h->vcpus == 0 || h->vcpus > SAVE_MAX_VCPUS || h->nr_ports > SAVE_MAX_PORTS ||
        h->gnttab_nr_frames > SAVE_MAX_FRAMES || h->nr_extents > SAVE_MAX_EXTENTS)
        return vmm_fail(err, errlen, "save header: a count is out of range");
    h->data_len = 0;
    for (unsigned int i = 0; i < h->nr_extents; i++)
        h->data_len += h->extents[i].len;
    size_t size = 65536 + (size_t)h->nr_ports * 24 + (size_t)h->nr_extents * 16 +
                  strlen(h->cmdline) + strlen(h->kernel) + (h->toolstack ? strlen(h->toolstack) : 0);
    for (unsigned int i = 0; i < h->vcpus; i++)
        size += h->cpu[i].xsave.len + h->cpu[i].lapic.len + 4096;
    for (;;) {
        void *fdt = calloc(1, size);
        if (!fdt)
            return vmm_fail(err, errlen, "save header: out of memory");
        h->data_offset = 0;
        int r = build(fdt, size, h);
        if (r == -FDT_ERR_NOSPACE && size < SAVE_HEADER_MAX) {
            free(fdt);
            size *= 2;
            continue;
        }
        if (r < 0) {
            free(fdt);
            return vmm_fail(err, errlen, "save header: %s", fdt_strerror(r));
        }
        fdt_pack(fdt);
        size_t total = fdt_totalsize(fdt);
        if (total > SAVE_HEADER_MAX) {
            free(fdt);
            return vmm_fail(err, errlen, "save header: %zu bytes, more than %u", total, SAVE_HEADER_MAX);
        }
        /* data-offset depends only on the header's size, which does not
         * depend on the values written in place here. */
        int node = fdt_path_offset(fdt, "/memory");
        h->data_offset = align_up(total, SAVE_DATA_ALIGN);
        fdt_setprop_inplace_u64(fdt, node, "data-offset", h->data_offset);
        fdt_setprop_inplace_u64(fdt, 0, CHECKSUM_PROP, 0);
        uint64_t sum = save_checksum(SAVE_CHECKSUM_INIT, fdt, total);
        fdt_setprop_inplace_u64(fdt, 0, CHECKSUM_PROP, sum);
        *blob = fdt;
        *len = total;
        return 0;
    }
}

/* ---- parsing ---- */

struct reader {
    const void *fdt;
    int node;
    const char *section;
    char *err;
    size_t errlen;
};

static const void *prop(struct reader *r, const char *name, int *len)
{
    const void *p = fdt_getprop(r->fdt, r->node, name, len);
    if (!p)
        vmm_fail(r->err, r->errlen, "section %s: property %s is missing", r->section, name);
    return p;
}

static int get_u32(struct reader *r, const char *name, uint32_t min, uint32_t max, uint32_t *out)
{
    int len;
    const fdt32_t *p = prop(r, name, &len);
    if (!p)
        return -1;
    if (len != 4)
        return vmm_fail(r->err, r->errlen, "section %s: %s is %d bytes, not 4", r->section, name, len);
    uint32_t v = fdt32_to_cpu(*p);
    if (v < min || v > max)
        return vmm_fail(r->err, r->errlen, "section %s: %s = %u is not in %u..%u", r->section, name,
                    v, min, max);
    *out = v;
    return 0;
}

static int get_u64(struct reader *r, const char *name, uint64_t min, uint64_t max, uint64_t *out)
{
    int len;
    const void *p = prop(r, name, &len);
    if (!p)
        return -1;
    if (len != 8)
        return vmm_fail(r->err, r->errlen, "section %s: %s is %d bytes, not 8", r->section, name, len);
    fdt64_t raw;
    memcpy(&raw, p, 8);
    uint64_t v = fdt64_to_cpu(raw);
    if (v < min || v > max)
        return vmm_fail(r->err, r->errlen, "section %s: %s = %llu is not in %llu..%llu", r->section,
                    name, (unsigned long long)v, (unsigned long long)min, (unsigned long long)max);
    *out = v;
    return 0;
}

/* A NUL-terminated string without inner NULs or control characters. */
static int get_str(struct reader *r, const char *name, size_t max, bool allow_empty,
                   const char **out)
{
    int len;
    const char *p = prop(r, name, &len);
    if (!p)
        return -1;
    if (len < 1 || p[len - 1] != '\0' || strlen(p) != (size_t)len - 1)
        return vmm_fail(r->err, r->errlen, "section %s: %s is not one string", r->section, name);
    if ((size_t)len - 1 > max || (!allow_empty && len == 1))
        return vmm_fail(r->err, r->errlen, "section %s: %s is %d bytes long (1..%zu allowed)",
                    r->section, name, len - 1, max);
    for (const char *c = p; *c; c++)
        if ((unsigned char)*c < 0x20 && *c != '\n' && *c != '\t')
            return vmm_fail(r->err, r->errlen, "section %s: %s holds control character 0x%02x",
                        r->section, name, (unsigned char)*c);
    *out = p;
    return 0;
}

static int get_blob(struct reader *r, const char *name, size_t want, struct save_blob *b)
{
    int len;
    const void *p = prop(r, name, &len);
    if (!p)
        return -1;
    if (want && (size_t)len != want)
        return vmm_fail(r->err, r->errlen, "section %s: %s is %d bytes, this tandem-vmm expects %zu",
                    r->section, name, len, want);
    b->data = p;
    b->len = (size_t)len;
    return 0;
}

static int enter(struct reader *r, int parent, const char *name, const char *section,
                 uint32_t known_version)
{
    r->node = fdt_subnode_offset(r->fdt, parent, name);
    r->section = section;
    if (r->node < 0)
        return vmm_fail(r->err, r->errlen, "section %s is missing", section);
    if (!known_version)
        return 0;
    int len;
    const fdt32_t *p = prop(r, "version", &len);
    if (!p)
        return -1;
    if (len != 4)
        return vmm_fail(r->err, r->errlen, "section %s: version is %d bytes, not 4", section, len);
    uint32_t v = fdt32_to_cpu(*p);
    if (v == 0 || v > known_version)
        return vmm_fail(r->err, r->errlen, "section %s: version %u; this tandem reads version %u",
                    section, v, known_version);
    return 0;
}

static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e || s[i] == '/')
            return false;
    return true;
}

static bool valid_uuid(const char *s)
{
    if (strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = (i == 8 || i == 13 || i == 18 || i == 23);
        if (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]))
            return false;
    }
    return true;
}

static bool in_window(uint64_t gpa)
{
    return gpa >= TANDEM_PHYSMAP_GPA && gpa < TANDEM_PHYSMAP_GPA + TANDEM_PHYSMAP_SIZE &&
           gpa % PAGE == 0;
}

static int parse_config(struct reader *r, struct save_header *h)
{
    if (enter(r, 0, "config", "config", SAVE_V_CONFIG))
        return -1;
    uint32_t v;
    if (get_u64(r, "memory-mib", 1, TANDEM_MAX_MEMORY >> 20, &h->memory_mib) ||
        get_u32(r, "vcpus", 1, SAVE_MAX_VCPUS, &h->vcpus) ||
        get_u32(r, "grant-frames", 1, TANDEM_MAX_GRANT_FRAMES, &h->grant_frames) ||
        get_u32(r, "domid", 1, DOMID_FIRST_RESERVED - 1, &v) ||
        get_str(r, "name", 64, false, &h->name) || get_str(r, "uuid", 36, false, &h->uuid) ||
        get_str(r, "cmdline", TANDEM_CMDLINE_MAX - 1, true, &h->cmdline) ||
        get_str(r, "cpu-mode", 8, false, &h->cpu_mode) ||
        get_str(r, "kernel", 4096, true, &h->kernel) ||
        get_str(r, "toolstack", SAVE_TEXT_MAX, true, &h->toolstack))
        return -1;
    h->domid = v;
    if (!valid_name(h->name))
        return vmm_fail(r->err, r->errlen, "section config: name is not a domain name");
    if (!valid_uuid(h->uuid))
        return vmm_fail(r->err, r->errlen, "section config: uuid '%s' is not a uuid", h->uuid);
    if (strcmp(h->cpu_mode, "plain") && strcmp(h->cpu_mode, "pvm"))
        return vmm_fail(r->err, r->errlen, "section config: cpu-mode '%s' (plain or pvm)", h->cpu_mode);
    return 0;
}

static int parse_clock(struct reader *r, struct save_header *h)
{
    uint32_t shift;
    if (enter(r, 0, "clock", "clock", SAVE_V_CLOCK) ||
        get_u32(r, "tsc-khz", 1, UINT32_MAX, &h->tsc_khz) ||
        get_u32(r, "tsc-mul", 1, UINT32_MAX, &h->tsc_mul) ||
        get_u32(r, "tsc-shift", 0, UINT32_MAX, &shift) ||
        get_u64(r, "ref-tsc", 0, UINT64_MAX, &h->ref_tsc) ||
        get_u64(r, "ref-ns", 0, UINT64_MAX, &h->ref_ns) ||
        get_u64(r, "boot-realtime-ns", 0, UINT64_MAX, &h->boot_realtime_ns) ||
        get_u64(r, "saved-tsc", 0, UINT64_MAX, &h->saved_tsc) ||
        get_u64(r, "saved-ns", 0, UINT64_MAX, &h->saved_ns))
        return -1;
    h->tsc_shift = (int32_t)shift;
    if (h->tsc_shift < -31 || h->tsc_shift > 32)
        return vmm_fail(r->err, r->errlen, "section clock: tsc-shift %d is not in -31..32", h->tsc_shift);
    return 0;
}

static int parse_msrs(struct reader *r, struct save_vcpu *c)
{
    int len;
    const uint8_t *p = prop(r, "msrs", &len);
    if (!p)
        return -1;
    if (len % 16 || len / 16 > SAVE_MAX_MSRS)
        return vmm_fail(r->err, r->errlen, "section %s: msrs is %d bytes (16 a register, at most %d)",
                    r->section, len, SAVE_MAX_MSRS);
    c->nr_msrs = (unsigned int)len / 16;
    for (unsigned int i = 0; i < c->nr_msrs; i++) {
        fdt64_t idx, val;
        memcpy(&idx, p + 16 * i, 8);
        memcpy(&val, p + 16 * i + 8, 8);
        if (fdt64_to_cpu(idx) > UINT32_MAX)
            return vmm_fail(r->err, r->errlen, "section %s: MSR index %#llx", r->section,
                        (unsigned long long)fdt64_to_cpu(idx));
        c->msrs[i].index = (uint32_t)fdt64_to_cpu(idx);
        c->msrs[i].value = fdt64_to_cpu(val);
    }
    return 0;
}

static bool vcpu_info_ok(uint64_t gpa, uint64_t ram)
{
    if (gpa == 0)
        return true;
    if (gpa % PAGE + 64 > PAGE)
        return false;
    return gpa + 64 <= ram || in_window(gpa & ~(uint64_t)(PAGE - 1));
}

static int parse_vcpu(struct reader *r, int cpus, unsigned int id, const struct save_expect *x,
                      struct save_header *h)
{
    char name[16], section[24];
    snprintf(name, sizeof(name), "cpu@%u", id);
    snprintf(section, sizeof(section), "cpus/%s", name);
    static char sections[SAVE_MAX_VCPUS][24];   /* messages point at it */
    snprintf(sections[id], sizeof(sections[id]), "%s", section);
    if (enter(r, cpus, name, sections[id], 0))
        return -1;
    struct save_vcpu *c = &h->cpu[id];
    uint32_t reg, init, up, vec;
    if (get_u32(r, "reg", id, id, &reg) || get_u32(r, "initialised", 0, 1, &init) ||
        get_u32(r, "up", 0, 1, &up) ||
        get_u64(r, "vcpu-info-gpa", 0, UINT64_MAX, &c->vcpu_info_gpa) ||
        get_u32(r, "upcall-vector", 0, 255, &vec) ||
        get_u64(r, "timer-deadline", 0, UINT64_MAX, &c->timer_deadline_ns) ||
        get_u64(r, "periodic-ns", 0, UINT64_MAX, &c->periodic_ns) ||
        get_blob(r, "kvm-regs", x->regs, &c->regs) || get_blob(r, "kvm-sregs", x->sregs, &c->sregs) ||
        get_blob(r, "kvm-xsave", 0, &c->xsave) || get_blob(r, "kvm-xcrs", x->xcrs, &c->xcrs) ||
        get_blob(r, "kvm-lapic", x->lapic, &c->lapic) ||
        get_blob(r, "kvm-mp-state", x->mp_state, &c->mp_state) ||
        get_blob(r, "kvm-events", x->events, &c->events) || parse_msrs(r, c))
        return -1;
    c->initialised = init;
    c->up = up;
    c->upcall_vector = vec;
    if (c->xsave.len < x->xsave_min || c->xsave.len > 65536)
        return vmm_fail(r->err, r->errlen, "section %s: kvm-xsave is %zu bytes (%zu..65536)", section,
                    c->xsave.len, x->xsave_min);
    if (!vcpu_info_ok(c->vcpu_info_gpa, h->memory_mib << 20))
        return vmm_fail(r->err, r->errlen, "section %s: vcpu-info-gpa %#llx is outside the guest",
                    section, (unsigned long long)c->vcpu_info_gpa);
    if (id == 0 && !up)
        return vmm_fail(r->err, r->errlen, "section %s: vCPU 0 is not up", section);
    return 0;
}

static int parse_cpus(struct reader *r, const struct save_expect *x, struct save_header *h)
{
    if (enter(r, 0, "cpus", "cpus", SAVE_V_CPUS))
        return -1;
    int cpus = r->node, n = 0, child;
    fdt_for_each_subnode(child, r->fdt, cpus)
        n++;
    if ((uint32_t)n != h->vcpus)
        return vmm_fail(r->err, r->errlen, "section cpus: %d vCPUs, config says %u", n, h->vcpus);
    for (unsigned int i = 0; i < h->vcpus; i++)
        if (parse_vcpu(r, cpus, i, x, h))
            return -1;
    return 0;
}

static int parse_physmap_gnttab(struct reader *r, struct save_header *h)
{
    if (enter(r, 0, "physmap", "physmap", SAVE_V_PHYSMAP) ||
        get_u64(r, "shared-info-gpa", 0, UINT64_MAX, &h->shared_info_gpa) ||
        get_u64(r, "callback-irq", 0, UINT64_MAX, &h->callback_irq))
        return -1;
    if (h->shared_info_gpa && !in_window(h->shared_info_gpa))
        return vmm_fail(r->err, r->errlen, "section physmap: shared-info-gpa %#llx is not a page of "
                    "the physmap window", (unsigned long long)h->shared_info_gpa);
    if (enter(r, 0, "gnttab", "gnttab", SAVE_V_GNTTAB) ||
        get_u32(r, "table-version", 1, 1, &h->gnttab_version) ||
        get_u32(r, "max-frames", h->grant_frames, h->grant_frames, &h->gnttab_max_frames) ||
        get_u32(r, "nr-frames", 0, h->grant_frames, &h->gnttab_nr_frames))
        return -1;
    int len;
    const uint8_t *p = prop(r, "frames", &len);
    if (!p)
        return -1;
    if ((size_t)len != h->gnttab_nr_frames * 8u)
        return vmm_fail(r->err, r->errlen, "section gnttab: frames is %d bytes for %u frames", len,
                    h->gnttab_nr_frames);
    for (unsigned int i = 0; i < h->gnttab_nr_frames; i++) {
        fdt64_t raw;
        memcpy(&raw, p + 8 * i, 8);
        h->gnttab_frames[i] = fdt64_to_cpu(raw);
        if (!in_window(h->gnttab_frames[i]))
            return vmm_fail(r->err, r->errlen, "section gnttab: frame %u at %#llx is not a page of "
                        "the physmap window", i, (unsigned long long)h->gnttab_frames[i]);
    }
    return 0;
}

static int parse_evtchn(struct reader *r, struct save_header *h)
{
    uint32_t n;
    if (enter(r, 0, "evtchn", "evtchn", SAVE_V_EVTCHN) ||
        get_u32(r, "nr-ports", 0, SAVE_MAX_PORTS - 1, &n))
        return -1;
    int len;
    const uint8_t *p = prop(r, "ports", &len);
    if (!p)
        return -1;
    if ((size_t)len != n * 24u)
        return vmm_fail(r->err, r->errlen, "section evtchn: ports is %d bytes for %u ports", len, n);
    h->ports = calloc(n ? n : 1, sizeof(*h->ports));
    if (!h->ports)
        return vmm_fail(r->err, r->errlen, "out of memory");
    h->nr_ports = n;
    uint32_t prev = 0;
    for (unsigned int i = 0; i < n; i++) {
        uint32_t v[6];
        for (int k = 0; k < 6; k++) {
            fdt32_t raw;
            memcpy(&raw, p + 24 * i + 4 * (unsigned int)k, 4);
            v[k] = fdt32_to_cpu(raw);
        }
        struct save_port *s = &h->ports[i];
        *s = (struct save_port){ v[0], v[1], v[2], v[3], v[4], v[5] };
        if (s->port <= prev || s->port >= SAVE_MAX_PORTS)
            return vmm_fail(r->err, r->errlen, "section evtchn: port %u out of order or range", s->port);
        if (s->state < 1 || s->state > 4 || s->virq >= NR_VIRQS || s->vcpu >= h->vcpus ||
            s->remote_dom > 0xffff || s->remote_port >= SAVE_MAX_PORTS)
            return vmm_fail(r->err, r->errlen, "section evtchn: port %u: bad state", s->port);
        prev = s->port;
    }
    return 0;
}

static int parse_rings(struct reader *r, struct save_header *h)
{
    if (enter(r, 0, "xenstore", "xenstore", SAVE_V_XENSTORE) ||
        get_u64(r, "ring", TANDEM_XENSTORE_RING_GPA, TANDEM_XENSTORE_RING_GPA, &h->xenstore_ring) ||
        get_u32(r, "evtchn", TANDEM_XENSTORE_PORT, TANDEM_XENSTORE_PORT, &h->xenstore_port))
        return -1;
    if (enter(r, 0, "console", "console", SAVE_V_CONSOLE) ||
        get_u64(r, "ring", TANDEM_CONSOLE_RING_GPA, TANDEM_CONSOLE_RING_GPA, &h->console_ring) ||
        get_u32(r, "evtchn", TANDEM_CONSOLE_PORT, TANDEM_CONSOLE_PORT, &h->console_port))
        return -1;
    return 0;
}

static int parse_memory(struct reader *r, size_t total, uint64_t file_size, struct save_header *h)
{
    uint32_t n;
    uint64_t ram = h->memory_mib << 20, mem = ram + TANDEM_REGION_SIZE, off;
    if (enter(r, 0, "memory", "memory", SAVE_V_MEMORY) ||
        get_u64(r, "ram-size", ram, ram, &h->ram_size) ||
        get_u64(r, "mem-size", mem, mem, &h->mem_size) ||
        get_u64(r, "data-offset", align_up(total, SAVE_DATA_ALIGN), align_up(total, SAVE_DATA_ALIGN),
                &off) ||
        get_u64(r, "data-size", 0, mem, &h->data_len) ||
        get_u64(r, "checksum", 0, UINT64_MAX, &h->mem_checksum) ||
        get_u32(r, "nr-extents", 0, SAVE_MAX_EXTENTS, &n))
        return -1;
    h->data_offset = off;
    int len;
    const uint8_t *p = prop(r, "extents", &len);
    if (!p)
        return -1;
    if ((size_t)len != n * 16u)
        return vmm_fail(r->err, r->errlen, "section memory: extents is %d bytes for %u extents", len, n);
    h->extents = calloc(n ? n : 1, sizeof(*h->extents));
    if (!h->extents)
        return vmm_fail(r->err, r->errlen, "out of memory");
    h->nr_extents = n;
    uint64_t end = 0, sum = 0;
    for (unsigned int i = 0; i < n; i++) {
        fdt64_t a, b;
        memcpy(&a, p + 16 * i, 8);
        memcpy(&b, p + 16 * i + 8, 8);
        struct save_extent *e = &h->extents[i];
        e->offset = fdt64_to_cpu(a);
        e->len = fdt64_to_cpu(b);
        if (e->offset % PAGE || e->len % PAGE || e->len == 0 || e->offset < end ||
            e->offset > mem || e->len > mem - e->offset)
            return vmm_fail(r->err, r->errlen, "section memory: extent %u (%#llx+%#llx) is not a page "
                        "range after the previous one inside %#llx bytes", i,
                        (unsigned long long)e->offset, (unsigned long long)e->len,
                        (unsigned long long)mem);
        end = e->offset + e->len;
        sum += e->len;
    }
    if (sum != h->data_len)
        return vmm_fail(r->err, r->errlen, "section memory: the extents hold %llu bytes, data-size "
                    "says %llu", (unsigned long long)sum, (unsigned long long)h->data_len);
    uint64_t want = h->data_offset + h->data_len;
    if (file_size < want)
        return vmm_fail(r->err, r->errlen, "truncated: %llu bytes, the header describes %llu",
                    (unsigned long long)file_size, (unsigned long long)want);
    if (file_size > want)
        return vmm_fail(r->err, r->errlen, "%llu bytes after the end the header describes",
                    (unsigned long long)(file_size - want));
    return 0;
}

int save_header_size(const void *first, size_t len, uint64_t file_size, size_t *size, char *err,
                     size_t errlen)
{
    if (len < sizeof(struct fdt_header) || file_size < sizeof(struct fdt_header))
        return vmm_fail(err, errlen, "truncated: %llu bytes, not even a header",
                    (unsigned long long)file_size);
    if (fdt_magic(first) != FDT_MAGIC)
        return vmm_fail(err, errlen, "not a tandem save file (bad magic %#x)", fdt_magic(first));
    size_t total = fdt_totalsize(first);
    if (total < sizeof(struct fdt_header) || total > SAVE_HEADER_MAX)
        return vmm_fail(err, errlen, "header size %zu is not in %zu..%u", total,
                    sizeof(struct fdt_header), SAVE_HEADER_MAX);
    if (total > file_size)
        return vmm_fail(err, errlen, "truncated: %llu bytes, the header alone is %zu",
                    (unsigned long long)file_size, total);
    *size = total;
    return 0;
}

static int check_checksum(const void *buf, size_t total, char *err, size_t errlen)
{
    int len;
    const void *p = fdt_getprop(buf, 0, CHECKSUM_PROP, &len);
    if (!p || len != 8)
        return vmm_fail(err, errlen, "the header has no %s", CHECKSUM_PROP);
    fdt64_t raw;
    memcpy(&raw, p, 8);
    uint8_t *copy = malloc(total);
    if (!copy)
        return vmm_fail(err, errlen, "out of memory");
    memcpy(copy, buf, total);
    memset(copy + ((const uint8_t *)p - (const uint8_t *)buf), 0, 8);
    uint64_t sum = save_checksum(SAVE_CHECKSUM_INIT, copy, total);
    free(copy);
    if (sum != fdt64_to_cpu(raw))
        return vmm_fail(err, errlen, "header checksum mismatch (the file is corrupted)");
    return 0;
}

int save_header_parse(const void *buf, size_t buflen, uint64_t file_size,
                      const struct save_expect *expect, struct save_header *h, char *err,
                      size_t errlen)
{
    static const struct save_expect any;
    size_t total;
    memset(h, 0, sizeof(*h));
    if (save_header_size(buf, buflen, file_size, &total, err, errlen))
        return -1;
    if (total > buflen)
        return vmm_fail(err, errlen, "truncated: the header is %zu bytes, only %zu read", total, buflen);
    /* Only version 17 trees are written (libfdt's own); Debian's libfdt 1.6.1
     * dereferences NULL in fdt_check_full on some older-version headers
     * (savefile_fuzz found one with version 9), so those are refused first. */
    if (fdt_version(buf) != 17 || fdt_last_comp_version(buf) > 17)
        return vmm_fail(err, errlen, "the header is a device tree of version %u; only version 17 "
                        "is read", (unsigned)fdt_version(buf));
    int r = fdt_check_full(buf, total);
    if (r < 0)
        return vmm_fail(err, errlen, "the header is not a valid device tree: %s", fdt_strerror(r));
    if (check_checksum(buf, total, err, errlen))
        return -1;
    struct reader rd = { buf, 0, "/", err, errlen };
    const char *compat;
    uint32_t version;
    int len;
    const fdt32_t *vp;
    if (get_str(&rd, "compatible", 64, false, &compat))
        return -1;
    if (strcmp(compat, SAVE_COMPATIBLE))
        return vmm_fail(err, errlen, "not a tandem save file (compatible '%s')", compat);
    vp = prop(&rd, "format-version", &len);
    if (!vp || len != 4)
        return vp ? vmm_fail(err, errlen, "format-version is %d bytes, not 4", len) : -1;
    version = fdt32_to_cpu(*vp);
    if (version != SAVE_FORMAT_VERSION)
        return vmm_fail(err, errlen, "format version %u; this tandem reads version %u", version,
                    SAVE_FORMAT_VERSION);
    h->format_version = version;
    if (!expect)
        expect = &any;
    if (parse_config(&rd, h) || parse_clock(&rd, h) || parse_cpus(&rd, expect, h) ||
        parse_physmap_gnttab(&rd, h) || parse_evtchn(&rd, h) || parse_rings(&rd, h) ||
        parse_memory(&rd, total, file_size, h)) {
        save_header_free(h);
        return -1;
    }
    return 0;
}

void save_header_free(struct save_header *h)
{
    free(h->ports);
    free(h->extents);
    h->ports = NULL;
    h->extents = NULL;
}

int save_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            errno = 0;   /* end of file: a short read */
        if (n <= 0)
            return -1;
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

int save_pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            errno = ENOSPC;
        if (n <= 0)
            return -1;
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

static int verify_memory(int fd, const struct save_header *h, char *err, size_t errlen)
{
    size_t chunk = 1u << 20;
    uint8_t *buf = malloc(chunk);
    if (!buf)
        return vmm_fail(err, errlen, "out of memory");
    uint64_t sum = SAVE_CHECKSUM_INIT, off = h->data_offset, left = h->data_len;
    while (left) {
        size_t n = left < chunk ? (size_t)left : chunk;
        if (save_pread_full(fd, buf, n, off)) {
            free(buf);
            return vmm_fail(err, errlen, "reading guest memory: %s", errno ? strerror(errno) : "short read");
        }
        sum = save_checksum(sum, buf, n);
        off += n;
        left -= n;
    }
    free(buf);
    if (sum != h->mem_checksum)
        return vmm_fail(err, errlen, "guest memory checksum mismatch (the file is corrupted)");
    return 0;
}

int save_file_open(const char *path, const struct save_expect *expect, bool verify,
                   struct save_header *h, void **hdr, char *err, size_t errlen)
{
    char why[384];
    *hdr = NULL;
    memset(h, 0, sizeof(*h));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        vmm_fail(err, errlen, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return vmm_fail(err, errlen, "%s: not a regular file", path);
    }
    uint8_t first[sizeof(struct fdt_header)];
    size_t got = (uint64_t)st.st_size < sizeof(first) ? (size_t)st.st_size : sizeof(first);
    size_t total = 0;
    int r = save_pread_full(fd, first, got, 0) ? vmm_fail(why, sizeof(why), "%s", strerror(errno))
                                          : save_header_size(first, got, (uint64_t)st.st_size,
                                                             &total, why, sizeof(why));
    if (r == 0) {
        *hdr = malloc(total);
        if (!*hdr)
            r = vmm_fail(why, sizeof(why), "out of memory");
        else if (save_pread_full(fd, *hdr, total, 0))
            r = vmm_fail(why, sizeof(why), "reading the header: %s", strerror(errno));
        else
            r = save_header_parse(*hdr, total, (uint64_t)st.st_size, expect, h, why, sizeof(why));
        if (r == 0 && verify && (r = verify_memory(fd, h, why, sizeof(why))) != 0)
            save_header_free(h);
    }
    if (r) {
        vmm_fail(err, errlen, "%s: %s", path, why);
        free(*hdr);
        *hdr = NULL;
        close(fd);
        return -1;
    }
    return fd;
}

void save_file_close(int fd, struct save_header *h, void *hdr)
{
    if (fd >= 0)
        close(fd);
    save_header_free(h);
    free(hdr);
}

/*
 * Boot information: hvm_start_info's memory map and the device tree the
 * VMM builds (docs/abi.md, "The device tree").  Everything the VMM hands
 * over is checked here: the FDT header, each property's size, and that
 * every address lies where the ABI says it may.
 */
#include <libfdt.h>

#include "kernel.h"
#include "platform.h"
#include "public/hvm/start_info.h"
#include "public/tandem.h"

struct platform platform;

/* Reads a property of 1 or 2 cells (big-endian) as a number. */
static int prop_u64(const void *fdt, int node, const char *name, uint64_t *out)
{
    int len;
    const fdt32_t *p = fdt_getprop(fdt, node, name, &len);
    if (!p)
        return -1;
    if (len == 4)
        *out = fdt32_to_cpu(p[0]);
    else if (len == 8)
        *out = ((uint64_t)fdt32_to_cpu(p[0]) << 32) | fdt32_to_cpu(p[1]);
    else
        return -2;
    return 0;
}

static int require_u64(const void *fdt, int node, const char *node_name, const char *name,
                       uint64_t max, uint64_t *out)
{
    int r = prop_u64(fdt, node, name, out);
    if (r == -1)
        printk("platform: FDT %s has no '%s'\n", node_name, name);
    else if (r == -2)
        printk("platform: FDT %s/%s: expected 1 or 2 cells\n", node_name, name);
    else if (*out > max) {
        printk("platform: FDT %s/%s = %#llx is out of range\n", node_name, name,
               (unsigned long long)*out);
        r = -3;
    }
    return r;
}

/* A string property that must be NUL-terminated within its length. */
static const char *prop_string(const void *fdt, int node, const char *name)
{
    int len;
    const char *s = fdt_getprop(fdt, node, name, &len);
    if (!s || len < 1 || s[len - 1] != '\0')
        return NULL;
    return s;
}

static bool in_region(uint64_t gpa, uint64_t size)
{
    return gpa >= TANDEM_REGION_GPA && size <= TANDEM_REGION_SIZE &&
           gpa - TANDEM_REGION_GPA <= TANDEM_REGION_SIZE - size;
}

static int parse_ring(const void *fdt, const char *path, uint64_t *ring, uint32_t *port)
{
    int node = fdt_path_offset(fdt, path);
    uint64_t p;
    if (node < 0)
        return 1; /* absent: the device is not offered */
    if (require_u64(fdt, node, path, TANDEM_FDT_PROP_RING, UINT64_MAX, ring) < 0 ||
        require_u64(fdt, node, path, TANDEM_FDT_PROP_EVTCHN, 4095, &p) < 0)
        return -1;
    if (!in_region(*ring, PAGE_SIZE) || (*ring & (PAGE_SIZE - 1))) {
        printk("platform: %s ring %#llx is not a page of the platform region\n", path,
               (unsigned long long)*ring);
        return -1;
    }
    *port = (uint32_t)p;
    return 0;
}

static int parse_cpus(const void *fdt)
{
    int cpus = fdt_path_offset(fdt, "/cpus");
    int node;
    platform.nr_cpus = 0;
    if (cpus >= 0)
        fdt_for_each_subnode(node, fdt, cpus) {
            const char *type = prop_string(fdt, node, "device_type");
            if (type && strcmp(type, "cpu") == 0)
                platform.nr_cpus++;
        }
    if (platform.nr_cpus == 0 || platform.nr_cpus > TANDEM_MAX_VCPUS) {
        printk("platform: FDT lists %u cpus (need 1..%d)\n", platform.nr_cpus,
               TANDEM_MAX_VCPUS);
        return -1;
    }
    return 0;
}

static int parse_memory_node(const void *fdt)
{
    int node = fdt_path_offset(fdt, "/memory@0");
    if (node < 0)
        node = fdt_path_offset(fdt, "/memory");
    int len;
    const fdt32_t *reg = node >= 0 ? fdt_getprop(fdt, node, "reg", &len) : NULL;
    if (!reg || len != 16) {
        printk("platform: FDT memory node missing or its reg is not <addr size> in 2 cells\n");
        return -1;
    }
    uint64_t base = ((uint64_t)fdt32_to_cpu(reg[0]) << 32) | fdt32_to_cpu(reg[1]);
    uint64_t size = ((uint64_t)fdt32_to_cpu(reg[2]) << 32) | fdt32_to_cpu(reg[3]);
    if (base != 0 || size < (2ULL << 20) || size > TANDEM_MAX_MEMORY) {
        printk("platform: FDT memory %#llx+%#llx: want base 0 and 2 MiB..3 GiB\n",
               (unsigned long long)base, (unsigned long long)size);
        return -1;
    }
    platform.memory = size;
    return 0;
}

/* An optional numeric property, or dflt when absent or above max. */
static uint64_t optional_u64(const void *fdt, int node, const char *name, uint64_t max,
                             uint64_t dflt)
{
    uint64_t v;
    return prop_u64(fdt, node, name, &v) == 0 && v <= max ? v : dflt;
}

static void parse_identity(const void *fdt, int node)
{
    platform.version = (uint32_t)optional_u64(fdt, node, TANDEM_FDT_PROP_VERSION, UINT32_MAX, 0);
    const char *s = prop_string(fdt, node, TANDEM_FDT_PROP_UUID);
    strlcpy(platform.uuid, s ? s : "", sizeof(platform.uuid));
    s = prop_string(fdt, node, TANDEM_FDT_PROP_CPU_MODE);
    strlcpy(platform.cpu_mode, s ? s : "plain", sizeof(platform.cpu_mode));
    platform.tsc_khz = (uint32_t)optional_u64(fdt, node, TANDEM_FDT_PROP_TSC_KHZ, UINT32_MAX, 0);
    platform.doorbell_port =
        (uint16_t)optional_u64(fdt, node, TANDEM_FDT_PROP_DOORBELL, 0xffff, TANDEM_DOORBELL_PORT);
    platform.hypercall_port = (uint16_t)optional_u64(fdt, node, TANDEM_FDT_PROP_HCALL_PORT, 0xffff,
                                                     TANDEM_HYPERCALL_PORT);
    platform.grant_frames = (uint32_t)optional_u64(fdt, node, TANDEM_FDT_PROP_GNT_FRAMES,
                                                   TANDEM_MAX_GRANT_FRAMES, 0);
    platform.lapic = optional_u64(fdt, node, TANDEM_FDT_PROP_LAPIC, UINT64_MAX, TANDEM_LAPIC_GPA);
}

static int parse_physmap(const void *fdt, int node)
{
    int len;
    const fdt32_t *w = fdt_getprop(fdt, node, TANDEM_FDT_PROP_PHYSMAP, &len);
    if (!w || len != 16) {
        printk("platform: FDT %s/%s missing or not <addr size> in 2 cells\n", TANDEM_FDT_HV_NODE,
               TANDEM_FDT_PROP_PHYSMAP);
        return -1;
    }
    uint64_t base = ((uint64_t)fdt32_to_cpu(w[0]) << 32) | fdt32_to_cpu(w[1]);
    uint64_t size = ((uint64_t)fdt32_to_cpu(w[2]) << 32) | fdt32_to_cpu(w[3]);
    if (!in_region(base, size) || size < PAGE_SIZE || (base & (PAGE_SIZE - 1))) {
        printk("platform: physmap window %#llx+%#llx is outside the platform region\n",
               (unsigned long long)base, (unsigned long long)size);
        return -1;
    }
    platform.physmap_base = base;
    platform.physmap_size = size;
    return 0;
}

static int parse_rings(const void *fdt)
{
    int r = parse_ring(fdt, TANDEM_FDT_XENSTORE_NODE, &platform.xenstore_ring,
                       &platform.xenstore_port);
    if (r < 0)
        return -1;
    platform.has_xenstore = r == 0;
    r = parse_ring(fdt, TANDEM_FDT_CONSOLE_NODE, &platform.console_ring, &platform.console_port);
    if (r < 0)
        return -1;
    platform.has_console = r == 0;
    return 0;
}

static int parse_hypervisor(const void *fdt)
{
    const char *hv = TANDEM_FDT_HV_NODE;
    int node = fdt_path_offset(fdt, hv);
    uint64_t v;
    if (node < 0 || fdt_node_check_compatible(fdt, node, TANDEM_FDT_HV_COMPATIBLE) != 0) {
        printk("platform: FDT has no %s node compatible with %s\n", hv,
               TANDEM_FDT_HV_COMPATIBLE);
        return -1;
    }
    if (require_u64(fdt, node, hv, TANDEM_FDT_PROP_DOMID, 0x7fef, &v) < 0)
        return -1;
    platform.domid = (uint32_t)v;
    if (require_u64(fdt, node, hv, TANDEM_FDT_PROP_HCALL_PAGE, UINT64_MAX,
                    &platform.hypercall_page) < 0)
        return -1;
    parse_identity(fdt, node);
    if (parse_physmap(fdt, node) < 0)
        return -1;
    return parse_rings(fdt);
}

/* RAM ranges from start_info's memory map (type 1), clipped to 4 GiB. */
static void parse_memmap(const struct hvm_start_info *si)
{
    platform.nr_ram = 0;
    if (si->version >= 1 && si->memmap_paddr && si->memmap_entries <= 128) {
        const struct hvm_memmap_table_entry *e = phys_to_virt(si->memmap_paddr);
        for (uint32_t i = 0; i < si->memmap_entries; i++) {
            uint64_t end = e[i].addr + e[i].size;
            if (e[i].type != XEN_HVM_MEMMAP_TYPE_RAM || end < e[i].addr ||
                platform.nr_ram == PLATFORM_MAX_MEM_RANGES)
                continue;
            if (end > platform.memory)
                end = platform.memory; /* never trust it beyond the memory node */
            if (e[i].addr < end)
                platform.ram[platform.nr_ram++] = (struct mem_range){ e[i].addr, end };
        }
    }
    if (platform.nr_ram == 0) /* no usable map: the memory node alone */
        platform.ram[platform.nr_ram++] = (struct mem_range){ 0, platform.memory };
    /* by start address: mm_init walks them in order to find the holes */
    for (unsigned int i = 1; i < platform.nr_ram; i++)
        for (unsigned int j = i; j > 0 && platform.ram[j].start < platform.ram[j - 1].start; j--) {
            struct mem_range t = platform.ram[j];
            platform.ram[j] = platform.ram[j - 1];
            platform.ram[j - 1] = t;
        }
}

/* start_info's module list; one that wraps or leaves RAM ends the list. */
static void parse_modules(const struct hvm_start_info *si)
{
    platform.nr_modules = 0;
    if (!si->modlist_paddr)
        return;
    const struct hvm_modlist_entry *m = phys_to_virt(si->modlist_paddr);
    for (uint32_t i = 0; i < si->nr_modules && i < PLATFORM_MAX_MODULES; i++) {
        uint64_t end = m[i].paddr + m[i].size;
        if (end < m[i].paddr || end > platform.memory) {
            printk("platform: module %u at %#llx+%#llx lies outside RAM; ignored with the rest\n",
                   i, (unsigned long long)m[i].paddr, (unsigned long long)m[i].size);
            return;
        }
        platform.modules[platform.nr_modules++] = (struct mem_range){ m[i].paddr, end };
    }
}

int platform_parse(const struct hvm_start_info *si, const void *fdt)
{
    if (!si || si->magic != XEN_HVM_START_MAGIC_VALUE) {
        printk("platform: bad hvm_start_info magic\n");
        return -1;
    }
    if (!fdt || fdt_check_header(fdt) != 0 || fdt_totalsize(fdt) > TANDEM_FDT_MAX) {
        printk("platform: no valid device tree in the first module\n");
        return -1;
    }
    if (fdt_node_check_compatible(fdt, 0, TANDEM_FDT_COMPATIBLE) != 0)
        printk("platform: warning: FDT root is not compatible with %s\n", TANDEM_FDT_COMPATIBLE);
    if (parse_memory_node(fdt) < 0 || parse_cpus(fdt) < 0 || parse_hypervisor(fdt) < 0)
        return -1;
    parse_memmap(si);
    parse_modules(si);
    int chosen = fdt_path_offset(fdt, "/chosen");
    platform.bootargs = chosen >= 0 ? prop_string(fdt, chosen, "bootargs") : NULL;
    return 0;
}

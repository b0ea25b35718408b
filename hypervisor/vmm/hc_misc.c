/* console_io and xen_version. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "guest_mem.h"
#include "hypercall.h"
#include "public/version.h"
#include "vmm.h"

#define CONSOLE_IO_MAX (64 * 1024)   /* bytes per call, as a sanity bound */

long hc_console_io(struct vcpu *v, const uint64_t a[5])
{
    uint64_t cmd = a[0], count = a[1], buf = a[2];
    if (cmd == CONSOLEIO_read)
        return 0; /* input goes through the console ring */
    if (cmd != CONSOLEIO_write)
        return -ENOSYS;
    if (count > CONSOLE_IO_MAX)
        return -EINVAL;
    /* Copied out first (the buffer may be a linear address that spans
     * pages, guest_mem.h), so a bad buffer writes nothing. */
    char *copy = malloc(count ? count : 1);
    if (!copy)
        return -ENOMEM;
    if (copy_from_guest(v->vm, copy, buf, count)) {
        free(copy);
        return -EFAULT;
    }
    console_write(v->vm, copy, count);
    free(copy);
    return (long)count;
}

static long put(struct vcpu *v, uint64_t gpa, const void *src, size_t len)
{
    return copy_to_guest(v->vm, gpa, src, len) ? -EFAULT : 0;
}

static uint32_t features(void)
{
    return 1u << XENFEAT_writable_page_tables | 1u << XENFEAT_auto_translated_physmap |
           1u << XENFEAT_supervisor_mode_kernel | 1u << XENFEAT_hvm_callback_vector |
           1u << XENFEAT_hvm_safe_pvclock;
}

long hc_xen_version(struct vcpu *v, const uint64_t a[5])
{
    uint64_t cmd = a[0], arg = a[1];
    switch (cmd) {
    case XENVER_version:
        return TANDEM_XEN_VERSION;
    case XENVER_extraversion: {
        xen_extraversion_t x = ".0-tandem";
        return put(v, arg, x, sizeof(x));
    }
    case XENVER_capabilities: {
        static xen_capabilities_info_t caps = "hvm-3.0-x86_64";
        return put(v, arg, caps, sizeof(caps));
    }
    case XENVER_changeset: {
        xen_changeset_info_t c = "tandem";
        return put(v, arg, c, sizeof(c));
    }
    case XENVER_compile_info: {
        struct xen_compile_info ci;
        memset(&ci, 0, sizeof(ci));
        strcpy(ci.compiler, "gcc");
        strcpy(ci.compile_by, "tandem");
        return put(v, arg, &ci, sizeof(ci));
    }
    case XENVER_platform_parameters: {
        struct xen_platform_parameters pp = { 0 };
        return put(v, arg, &pp, sizeof(pp));
    }
    case XENVER_get_features: {
        struct xen_feature_info fi;
        if (copy_from_guest(v->vm, &fi, arg, sizeof(fi)))
            return -EFAULT;
        fi.submap = fi.submap_idx == 0 ? features() : 0;
        return put(v, arg, &fi, sizeof(fi));
    }
    case XENVER_pagesize:
        return XEN_PAGE_SIZE;
    case XENVER_guest_handle: {
        xen_domain_handle_t h;
        const char *u = v->vm->cfg->uuid;
        for (int i = 0, j = 0; i < 16; i++) {
            while (u[j] == '-')
                j++;
            unsigned int hi = (unsigned int)(u[j] <= '9' ? u[j] - '0' : u[j] - 'a' + 10);
            unsigned int lo = (unsigned int)(u[j + 1] <= '9' ? u[j + 1] - '0' : u[j + 1] - 'a' + 10);
            h[i] = (uint8_t)(hi << 4 | lo);
            j += 2;
        }
        return put(v, arg, h, sizeof(h));
    }
    case XENVER_commandline: {
        static xen_commandline_t none;
        return put(v, arg, none, sizeof(none));
    }
    }
    return -ENOSYS;
}

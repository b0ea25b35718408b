/* libFuzzer target for the save file header parser (hypervisor/vmm/
 * savefile.c): the input is a whole save file. Checks: no crash or
 * sanitizer report; a refusal always carries a message; an accepted header
 * describes exactly this file (data after the header, inside it, extents
 * in order within guest memory) and its strings are terminated. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "public/tandem.h"
#include "savefile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct save_header h;
    char err[512];
    err[0] = '\0';
    /* the parser reads only from buf; a private copy catches writes */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    if (save_header_parse(buf, size, size, NULL, &h, err, sizeof(err)) != 0) {
        if (!err[0])
            abort();
        free(buf);
        return 0;
    }
    if (h.data_offset + h.data_len != size || h.data_offset % SAVE_DATA_ALIGN)
        abort();
    if (h.mem_size != (h.memory_mib << 20) + TANDEM_REGION_SIZE)
        abort();
    uint64_t end = 0, sum = 0;
    for (unsigned int i = 0; i < h.nr_extents; i++) {
        if (h.extents[i].offset < end || h.extents[i].offset + h.extents[i].len > h.mem_size)
            abort();
        end = h.extents[i].offset + h.extents[i].len;
        sum += h.extents[i].len;
    }
    if (sum != h.data_len || h.vcpus < 1 || h.vcpus > SAVE_MAX_VCPUS || !h.cpu[0].up)
        abort();
    size_t n = strlen(h.name) + strlen(h.uuid) + strlen(h.cmdline) + strlen(h.toolstack) +
               strlen(h.kernel) + strlen(h.cpu_mode);
    (void)n;
    for (unsigned int i = 0; i < h.nr_ports; i++)
        if (h.ports[i].port == 0 || h.ports[i].port >= SAVE_MAX_PORTS)
            abort();
    save_header_free(&h);
    free(buf);
    return 0;
}

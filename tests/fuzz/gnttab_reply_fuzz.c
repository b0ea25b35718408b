/* libFuzzer target for the control-socket reply parser that the grant and
 * event-channel libraries trust (dom0/evtchn/ctl_client.c): any line must
 * parse into sane key/value pairs or be refused with a message, and every
 * value must survive the strict number parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_client.h"
#include "tdm_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tdm_ctl_reply r;
    size_t n = size < sizeof(r.line) - 1 ? size : sizeof(r.line) - 1;
    int rc;

    memcpy(r.line, data, n);
    r.line[n] = '\0';
    r.nfds = 0;
    rc = tdm_ctl_parse_reply(&r);
    if (rc != 0) {
        if (!*tdm_last_error())
            abort();
        return 0;
    }
    if (r.nkv > TDM_CTL_MAX_KV)
        abort();
    for (unsigned i = 0; i < r.nkv; i++) {
        uint64_t v;

        if (r.key[i] < r.line || r.key[i] >= r.line + n || !*r.key[i] ||
            strchr(r.key[i], '=') || strchr(r.val[i], ' '))
            abort();
        if (tdm_ctl_get(&r, r.key[i]) == NULL)
            abort();
        if (tdm_parse_u64(r.val[i], UINT64_MAX, &v) == 0 && strspn(r.val[i], "0123456789abcdefABCDEFxX") != strlen(r.val[i]))
            abort();                    /* a number is made of digits only */
    }
    return 0;
}

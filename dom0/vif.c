/* vif[] items (see vif.h). */
#include "vif.h"
#include "config.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static bool name_ok(const char *s, size_t n)
{
    if (n == 0 || n >= VIF_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* xx:xx:xx:xx:xx:xx, unicast; written back in lower case. */
static bool mac_ok(const char *s, size_t n, char out[18])
{
    if (n != 17)
        return false;
    for (size_t i = 0; i < 17; i++)
        if (i % 3 == 2 ? s[i] != ':' : hexval(s[i]) < 0)
            return false;
    if (hexval(s[1]) & 1)
        return false;                           /* multicast */
    for (size_t i = 0; i < 17; i++)
        out[i] = s[i] >= 'A' && s[i] <= 'F' ? (char)(s[i] - 'A' + 'a') : s[i];
    out[17] = '\0';
    return true;
}

/* A.B.C.D with an optional /NN (0..32). */
static bool ip_ok(const char *s, size_t n)
{
    char buf[20];
    struct in_addr a;
    const char *slash = memchr(s, '/', n);
    size_t alen = slash ? (size_t)(slash - s) : n;
    if (n >= sizeof(buf) || alen == 0 || alen >= sizeof(buf))
        return false;
    memcpy(buf, s, alen);
    buf[alen] = '\0';
    if (inet_pton(AF_INET, buf, &a) != 1)
        return false;
    if (!slash)
        return true;
    size_t plen = n - alen - 1;
    if (plen == 0 || plen > 2 || (plen == 2 && slash[1] == '0'))
        return false;
    int v = 0;
    for (size_t i = 1; i <= plen; i++) {
        if (slash[i] < '0' || slash[i] > '9')
            return false;
        v = v * 10 + (slash[i] - '0');
    }
    return v <= 32;
}

static int gen_mac(char out[18], char *err, size_t errlen)
{
    unsigned char r[3];
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
        snprintf(err, errlen, "cannot generate a MAC address: no randomness");
        return -1;
    }
    snprintf(out, 18, "00:16:3e:%02x:%02x:%02x", r[0] & 0x7f, r[1], r[2]);
    return 0;
}

/* Copies [s, s+n) trimmed of spaces. */
static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t'))
        (*s)++, (*n)--;
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

static int one_pair(const char *p, size_t n, struct vif_spec *v, char *err, size_t errlen)
{
    const char *eq = memchr(p, '=', n);
    if (!eq) {
        snprintf(err, errlen, "'%.*s' is not key=value", (int)(n > 40 ? 40 : n), p);
        return -1;
    }
    const char *key = p, *val = eq + 1;
    size_t klen = (size_t)(eq - p), vlen = n - klen - 1;
    trim(&key, &klen);
    trim(&val, &vlen);
#define IS(k) (klen == strlen(k) && memcmp(key, k, klen) == 0)
    if (IS("mac")) {
        if (!mac_ok(val, vlen, v->mac)) {
            snprintf(err, errlen, "mac '%.*s' is not a unicast xx:xx:xx:xx:xx:xx address",
                     (int)(vlen > 40 ? 40 : vlen), val);
            return -1;
        }
    } else if (IS("bridge") || IS("vifname")) {
        char *dst = IS("bridge") ? v->bridge : v->vifname;
        if (!name_ok(val, vlen)) {
            snprintf(err, errlen, "%.*s '%.*s' is not an interface name (1-15 of A-Z a-z 0-9 . _ -)",
                     (int)klen, key, (int)(vlen > 40 ? 40 : vlen), val);
            return -1;
        }
        memcpy(dst, val, vlen);
        dst[vlen] = '\0';
    } else if (IS("ip")) {
        if (!ip_ok(val, vlen)) {
            snprintf(err, errlen, "ip '%.*s' is not A.B.C.D or A.B.C.D/NN",
                     (int)(vlen > 40 ? 40 : vlen), val);
            return -1;
        }
        memcpy(v->ip, val, vlen);
        v->ip[vlen] = '\0';
    } else if (IS("devid")) {
        /* xl's devid=: the device's number (default: its index in vif[]).
         * The toolstack writes it in a domain's record, so that a vif
         * attached later keeps its number across a restart. */
        unsigned long id = 0;
        size_t k = 0;
        while (k < vlen && val[k] >= '0' && val[k] <= '9' && id <= VIF_DEVID_MAX)
            id = id * 10 + (unsigned long)(val[k++] - '0');
        if (vlen == 0 || k != vlen || id > VIF_DEVID_MAX) {
            snprintf(err, errlen, "devid '%.*s' is not a number in 0..%d",
                     (int)(vlen > 40 ? 40 : vlen), val, VIF_DEVID_MAX);
            return -1;
        }
        v->devid = (unsigned)id;
    } else if (IS("type")) {
        /* xl: vif (PV) or ioemu (an emulated NIC beside it, HVM only) */
        if (!(vlen == 3 && memcmp(val, "vif", 3) == 0)) {
            snprintf(err, errlen, "type '%.*s': only 'vif' (a PV device) is supported",
                     (int)(vlen > 40 ? 40 : vlen), val);
            return -1;
        }
    } else if (IS("backend")) {
        if (!((vlen == 1 && val[0] == '0') || (vlen == 8 && memcmp(val, "Domain-0", 8) == 0))) {
            snprintf(err, errlen, "backend '%.*s': the backend domain is always 0 (Domain-0)",
                     (int)(vlen > 40 ? 40 : vlen), val);
            return -1;
        }
    } else if (IS("script") || IS("model")) {
        /* Accepted so that xl files carry over: tandem-netback attaches the
         * tap to the bridge itself (no hotplug script), and a PV vif has no
         * emulated model. */
    } else {
        snprintf(err, errlen, "unknown vif key '%.*s' (mac, bridge, ip, vifname, devid, type, "
                 "backend, script, model)", (int)(klen > 40 ? 40 : klen), key);
        return -1;
    }
#undef IS
    return 0;
}

int vif_parse(const char *spec, unsigned devid, struct vif_spec *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    out->devid = devid;
    for (const char *p = spec; *p;) {
        size_t n = strcspn(p, ",");
        const char *q = p;
        size_t m = n;
        trim(&q, &m);
        if (m && one_pair(q, m, out, err, errlen) < 0)
            return -1;
        p += n;
        if (*p == ',')
            p++;
    }
    if (!out->bridge[0])
        memcpy(out->bridge, VIF_DEFAULT_BRIDGE, sizeof(VIF_DEFAULT_BRIDGE));
    if (!out->mac[0]) {
        out->mac_generated = true;
        return gen_mac(out->mac, err, errlen);
    }
    return 0;
}

static bool devid_taken(const struct vif_spec *v, size_t n, unsigned devid, size_t *which)
{
    for (size_t k = 0; k < n; k++)
        if (v[k].devid == devid) {
            *which = k;
            return true;
        }
    return false;
}

static bool mac_taken(const struct vif_spec *v, size_t n, const char *mac, size_t *which)
{
    for (size_t k = 0; k < n; k++)
        if (strcmp(v[k].mac, mac) == 0) {
            *which = k;
            return true;
        }
    return false;
}

int vif_finish(struct tandem_config *c, char *err, size_t errlen)
{
    char why[256], where[256];
    if (!c->vif.n)
        return 0;
    c->vifs = calloc(c->vif.n, sizeof(*c->vifs));
    config_where(c, KEY_VIF, where, sizeof(where));
    if (!c->vifs) {
        snprintf(err, errlen, "%sout of memory", where);
        return -1;
    }
    for (size_t i = 0; i < c->vif.n; i++) {
        if (vif_parse(c->vif.items[i], (unsigned)i, &c->vifs[i], why, sizeof(why)) < 0) {
            char shown[4 * sizeof(why)];   /* the item's text, control characters escaped */
            snprintf(err, errlen, "%svif %zu: %s", where, i, cfg_escape(why, false, shown, sizeof(shown)));
            return -1;
        }
        size_t k;
        /* A generated MAC that another vif has is drawn again (2^23 of them:
         * rare, but a config of many vifs must not fail at random). */
        for (int tries = 0; c->vifs[i].mac_generated && tries < 64 &&
                            mac_taken(c->vifs, i, c->vifs[i].mac, &k); tries++)
            if (gen_mac(c->vifs[i].mac, why, sizeof(why)) < 0) {
                snprintf(err, errlen, "%svif %zu: %s", where, i, why);
                return -1;
            }
        if (mac_taken(c->vifs, i, c->vifs[i].mac, &k)) {
            snprintf(err, errlen, "%svif %zu: mac %s is already vif %zu's", where, i,
                     c->vifs[i].mac, k);
            return -1;
        }
        if (devid_taken(c->vifs, i, c->vifs[i].devid, &k)) {
            snprintf(err, errlen, "%svif %zu: devid %u is already vif %zu's", where, i,
                     c->vifs[i].devid, k);
            return -1;
        }
        c->nvifs = i + 1;
    }
    return 0;
}

void vif_free_all(struct tandem_config *c)
{
    free(c->vifs);
    c->vifs = NULL;
    c->nvifs = 0;
}

/* xl's disk specification, parsed and checked in one place (disk.h). */
#include "disk.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DISK_FIELDS_MAX 16

/* What the fields said before the checks between them. */
struct disk_fields {
    const char *target, *format, *vdev, *access, *devtype, *backendtype;
    const char *pos[DISK_FIELDS_MAX];
    int npos;
};

static int bad(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -1;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* a..z = 0..25, aa = 26 ...: Xen's bijective base-26 disk letters.
 * Returns the number of letters read, 0 if none or too many. */
static size_t disk_letters(const char *s, unsigned long *disk)
{
    unsigned long v = 0;
    size_t i = 0;
    while (s[i] >= 'a' && s[i] <= 'z') {
        if (i == 4)
            return 0;
        v = v * 26 + (unsigned long)(s[i] - 'a' + 1);
        i++;
    }
    *disk = v - 1;
    return i;
}

/* Optional decimal partition number (no leading zero, < 2^8 here). */
static bool part_number(const char *s, unsigned long *part)
{
    *part = 0;
    if (!*s)
        return true;
    if (*s == '0' && s[1])
        return false;
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*end || !isdigit((unsigned char)*s) || v > 255)
        return false;
    *part = v;
    return true;
}

static long xvd_devid(unsigned long disk, unsigned long part)
{
    if (disk < 16 && part < 16)
        return (long)(202UL << 8 | disk << 4 | part);
    if (disk >= (1UL << 20))
        return -1;
    return (long)(1UL << 28 | disk << 8 | part);
}

long disk_vdev_devid(const char *vdev)
{
    unsigned long disk, part;
    size_t n;
    if (!strncmp(vdev, "xvd", 3) && (n = disk_letters(vdev + 3, &disk)) &&
        part_number(vdev + 3 + n, &part))
        return xvd_devid(disk, part);
    if (!strncmp(vdev, "sd", 2) && (n = disk_letters(vdev + 2, &disk)) && disk < 16 &&
        part_number(vdev + 2 + n, &part) && part < 16)
        return (long)(8UL << 8 | disk << 4 | part);
    if (!strncmp(vdev, "hd", 2) && (n = disk_letters(vdev + 2, &disk)) && disk < 4 &&
        part_number(vdev + 2 + n, &part) && part < 64)
        return (long)((disk < 2 ? 3UL : 22UL) << 8 | (disk % 2) << 6 | part);
    if (vdev[0] == 'd' && isdigit((unsigned char)vdev[1])) {
        char *end;
        unsigned long d = strtoul(vdev + 1, &end, 10);
        if (d >= (1UL << 20) || (vdev[1] == '0' && end != vdev + 2))
            return -1;
        part = 0;
        if (*end == 'p' && !part_number(end + 1, &part))
            return -1;
        if (*end && *end != 'p')
            return -1;
        return (long)(1UL << 28 | d << 8 | part);
    }
    if (isdigit((unsigned char)vdev[0]) && (vdev[0] != '0' || !vdev[1])) {
        char *end;
        unsigned long v = strtoul(vdev, &end, 10);
        return (*end || v > 0x7fffffffUL) ? -1 : (long)v;
    }
    return -1;
}

/* Legacy "phy:", "file:", "tap:aio:" ... prefixes name the backend kind,
 * which is always ours; "raw:" names the format. */
static const char *strip_prefix(const char *t)
{
    static const char *const prefixes[] = { "tap2:aio:", "tap:aio:", "tap2:", "tap:", "phy:",
                                            "file:", "aio:", "raw:" };
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        size_t n = strlen(prefixes[i]);
        if (!strncmp(t, prefixes[i], n))
            return t + n;
    }
    return t;
}

static bool is_format_word(const char *s)
{
    static const char *const formats[] = { "raw", "qcow", "qcow2", "vhd", "qed", "empty" };
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
        if (!strcmp(s, formats[i]))
            return true;
    return false;
}

/* One key=value field; -1 with a message for an unknown key. */
static int set_key(struct disk_fields *f, char *key, char *val, char *err, size_t len)
{
    static const struct { const char *name; size_t off; } known[] = {
        { "format", offsetof(struct disk_fields, format) },
        { "vdev", offsetof(struct disk_fields, vdev) },
        { "access", offsetof(struct disk_fields, access) },
        { "devtype", offsetof(struct disk_fields, devtype) },
        { "backendtype", offsetof(struct disk_fields, backendtype) },
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcmp(key, known[i].name))
            continue;
        const char **slot = (const char **)((char *)f + known[i].off);
        if (*slot)
            return bad(err, len, "'%s' given twice", key);
        *slot = val;
        return 0;
    }
    return bad(err, len, "unknown key '%s' (known: target, vdev, access, format, devtype, "
                         "backendtype)", key);
}

/* xl lets target= take the rest of the string, commas included, so it
 * must come last. We also accept it first (the form the Tandem docs show):
 * it ends at a comma that is followed by another known "key=". */
static char *target_end(char *v)
{
    static const char *const keys[] = { "format=", "vdev=", "access=", "devtype=",
                                        "backendtype=" };
    for (char *c = strchr(v, ','); c; c = strchr(c + 1, ',')) {
        const char *n = c + 1;
        while (isspace((unsigned char)*n))
            n++;
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
            if (!strncmp(n, keys[i], strlen(keys[i])))
                return c;
    }
    return NULL;
}

/* Splits buf (modified) into fields. */
static int split_fields(char *buf, struct disk_fields *f, char *err, size_t len)
{
    char *p = buf;
    for (;;) {
        char *field = p;
        char *t = trim(field);
        char *comma;
        if (!strncmp(t, "target=", 7)) {
            comma = target_end(t + 7);
            if (comma)
                *comma = '\0';
            if (f->target)
                return bad(err, len, "'target' given twice");
            f->target = trim(t + 7);
            if (!comma)
                return 0;
            p = comma + 1;
            continue;
        }
        comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        t = trim(field);
        char *eq = strchr(t, '=');
        if (eq) {
            *eq = '\0';
            if (set_key(f, trim(t), trim(eq + 1), err, len) < 0)
                return -1;
        } else {
            if (f->npos == DISK_FIELDS_MAX)
                return bad(err, len, "too many fields");
            f->pos[f->npos++] = t;
        }
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

/* Positional fields: TARGET,FORMAT,VDEV,ACCESS, or the legacy
 * TARGET,VDEV,ACCESS when the second is not a format name. */
static int assign_positional(struct disk_fields *f, char *err, size_t len)
{
    const char **order[4] = { &f->target, &f->format, &f->vdev, &f->access };
    if (f->npos == 3 && f->pos[1][0] && !is_format_word(f->pos[1])) {
        order[1] = &f->vdev;
        order[2] = &f->access;
    }
    if (f->npos > 4)
        return bad(err, len, "more than 4 positional fields (TARGET,FORMAT,VDEV,ACCESS)");
    for (int i = 0; i < f->npos; i++) {
        const char **slot = order[i];
        if (!f->pos[i][0])
            continue;   /* an empty positional field means "default" */
        if (*slot)
            return bad(err, len, "positional field %d ('%s') repeats a key given by name", i + 1,
                       f->pos[i]);
        *slot = f->pos[i];
    }
    return 0;
}

static int check_fields(const struct disk_fields *f, struct disk_spec *out, char *err, size_t len)
{
    if (!f->target || !f->target[0])
        return bad(err, len, "no target (the backing file or device)");
    if (f->format && strcmp(f->format, "raw"))
        return bad(err, len, "format '%s' is not supported (only raw)", f->format);
    if (f->devtype && strcmp(f->devtype, "disk"))
        return bad(err, len, "devtype '%s' is not supported (only disk)", f->devtype);
    if (f->backendtype && strcmp(f->backendtype, "phy"))
        return bad(err, len, "backendtype '%s' is not supported (only phy)", f->backendtype);
    if (!f->vdev || !f->vdev[0])
        return bad(err, len, "no vdev (e.g. vdev=xvda)");
    char vdev[DISK_VDEV_MAX + 8];
    snprintf(vdev, sizeof(vdev), "%s", f->vdev);
    char *colon = strchr(vdev, ':');   /* legacy "xvda:disk" */
    if (colon) {
        if (strcmp(colon + 1, "disk"))
            return bad(err, len, "vdev '%s': only ':disk' may follow the name", f->vdev);
        *colon = '\0';
    }
    long devid = disk_vdev_devid(vdev);
    if (strlen(vdev) >= DISK_VDEV_MAX || devid < 0)
        return bad(err, len, "vdev '%s' is not a virtual device name (xvda, sdb, hdc, d5p1 ...)",
                   f->vdev);
    const char *a = f->access ? f->access : "rw";
    if (strcmp(a, "r") && strcmp(a, "ro") && strcmp(a, "w") && strcmp(a, "rw"))
        return bad(err, len, "access '%s' must be r, ro, w or rw", a);
    out->target = strdup(strip_prefix(f->target));
    if (!out->target)
        return bad(err, len, "out of memory");
    snprintf(out->vdev, sizeof(out->vdev), "%s", vdev);
    out->devid = (unsigned)devid;
    out->readonly = a[0] == 'r' && (!a[1] || a[1] == 'o');
    return 0;
}

int disk_parse(const char *spec, struct disk_spec *out, char *err, size_t errlen)
{
    struct disk_fields f = { 0 };
    memset(out, 0, sizeof(*out));
    char *buf = strdup(spec);
    if (!buf)
        return bad(err, errlen, "out of memory");
    int rc = split_fields(buf, &f, err, errlen);
    if (rc == 0)
        rc = assign_positional(&f, err, errlen);
    if (rc == 0)
        rc = check_fields(&f, out, err, errlen);
    free(buf);
    return rc;
}

void disk_spec_free(struct disk_spec *d)
{
    free(d->target);
    d->target = NULL;
}

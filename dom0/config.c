/* The keys of a domain configuration: types, ranges, defaults and the checks
 * between keys. The syntax lives in cfgparse.c. Unknown keys are errors (xl
 * ignores some; we are strict so that a typo never silently changes a VM). */
#include "config.h"
#include "cfgparse.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

enum key_kind { K_STRING, K_INT, K_LIST };

struct key_desc {
    const char *name;
    enum cfg_key key;
    enum key_kind kind;
};

static const struct key_desc keys[] = {
    { "name",        KEY_NAME,        K_STRING },
    { "type",        KEY_TYPE,        K_STRING },
    { "kernel",      KEY_KERNEL,      K_STRING },
    { "memory",      KEY_MEMORY,      K_INT },
    { "vcpus",       KEY_VCPUS,       K_INT },
    { "cmdline",     KEY_CMDLINE,     K_STRING },
    { "extra",       KEY_EXTRA,       K_STRING },
    { "uuid",        KEY_UUID,        K_STRING },
    { "cpu_mode",    KEY_CPU_MODE,    K_STRING },
    { "on_poweroff", KEY_ON_POWEROFF, K_STRING },
    { "on_reboot",   KEY_ON_REBOOT,   K_STRING },
    { "on_crash",    KEY_ON_CRASH,    K_STRING },
    { "disk",        KEY_DISK,        K_LIST },
    { "vif",         KEY_VIF,         K_LIST },
    { "max_grant_frames", KEY_MAX_GRANT_FRAMES, K_INT },
    { "mem_path",    KEY_MEM_PATH,    K_STRING },
    { "ramdisk",     KEY_RAMDISK,     K_STRING },
    { "root",        KEY_ROOT,        K_STRING },
    { "maxmem",      KEY_MAXMEM,      K_INT },
    { "maxvcpus",    KEY_MAXVCPUS,    K_INT },
    { "firmware",    KEY_FIRMWARE,    K_STRING },
    { "serial",      KEY_SERIAL,      K_STRING },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* Keys of xl.cfg that Tandem knows but does not implement: refused with
 * that said, rather than as a typo. */
static const char *const xl_only_keys[] = {
    "builder", "bootloader", "bootloader_args", "cpus", "cpus_soft", "cpu_weight", "cap",
    "on_watchdog", "on_soft_reset", "device_model_version", "device_model_override",
    "vfb", "vkb", "vtpm", "p9", "pci", "usb", "usbctrl", "usbdev", "channel",
    "vga", "videoram", "sdl", "vnc", "spice", "boot", "firmware", "bios", "acpi",
    "apic", "pae", "hap", "nestedhvm", "viridian", "shadow_memory", "localtime",
    "rtc_timeoffset", "vif2", "nomigrate", "driver_domain", "seclabel", "init_seclabel",
    "max_event_channels", "max_maptrack_frames", "e820_host", "tsc_mode", "cpuid",
    "dtdev", "iomem", "ioports", "irqs", "rdm", "gfx_passthru", "vscsi", "vdispl",
    "vsnd", "vuart", "pvh", "device_tree", "passthrough", "altp2m", "vpmu", "soundhw",
};

static const char *key_name(enum cfg_key k)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (keys[i].key == k)
            return keys[i].name;
    return "?";
}

static int fail(char *msg, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *msg, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, len, fmt, ap);
    va_end(ap);
    return -1;
}

/* Errors are shown on a terminal: a control character from the input (a
 * newline in a value, an escape sequence) is shown escaped, never raw. */
static int shown_escaped(char *err, size_t errlen)
{
    char tmp[CFG_ERR_MAX + 512];
    snprintf(tmp, sizeof(tmp), "%s", err);
    cfg_escape(tmp, false, err, errlen);
    return -1;
}

void config_init(struct tandem_config *c)
{
    memset(c, 0, sizeof(*c));
    c->memory_mib = 64;
    c->vcpus = 1;
    c->max_grant_frames = CFG_GRANT_FRAMES_DEFAULT;
    c->cpu_mode = CPU_MODE_AUTO;
    c->on_poweroff = ACTION_DESTROY;
    c->on_reboot = ACTION_RESTART;    /* xl's defaults */
    c->on_crash = ACTION_DESTROY;
}

void config_strlist_free(struct cfg_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

void config_free(struct tandem_config *c)
{
    free(c->name);
    free(c->type);
    free(c->kernel);
    free(c->firmware);
    free(c->serial);
    free(c->ramdisk);
    free(c->mem_path);
    free(c->cmdline);
    free(c->extra);
    free(c->root);
    free(c->cmdline_final);
    free(c->uuid);
    free(c->file);
    config_strlist_free(&c->disk);
    for (size_t i = 0; i < c->ndisks; i++)
        disk_spec_free(&c->disks[i]);
    free(c->disks);
    c->disks = NULL;
    c->ndisks = 0;
    config_strlist_free(&c->vif);
    vif_free_all(c);
    memset(c, 0, sizeof(*c));
}

/* ---- value checks, one per kind of key ---- */

static int check_name(const char *s, char *msg, size_t len)
{
    size_t n = strlen(s);
    if (n == 0 || n > CFG_NAME_MAX)
        return fail(msg, len, "name must be 1 to %d characters", CFG_NAME_MAX);
    if (!isalnum((unsigned char)s[0]))
        return fail(msg, len, "name '%s' must start with a letter or digit", s);
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
            return fail(msg, len, "name '%s' may only contain letters, digits, '-', '_' and '.'", s);
    /* A name that is all digits would be ambiguous with a domid (DOM args). */
    if (strspn(s, "0123456789") == n)
        return fail(msg, len, "name '%s' must not be all digits (it would read as a domid)", s);
    return 0;
}

static int check_uuid(const char *s, char *msg, size_t len)
{
    static const char pattern[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    if (strlen(s) != sizeof(pattern) - 1)
        goto bad;
    for (size_t i = 0; pattern[i]; i++) {
        if (pattern[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            goto bad;
    }
    return 0;
bad:
    return fail(msg, len, "uuid '%s' is not of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", s);
}

static const char *const action_names[] = {
    [ACTION_DESTROY] = "destroy", [ACTION_RESTART] = "restart",
    [ACTION_PRESERVE] = "preserve", [ACTION_RENAME_RESTART] = "rename-restart",
};

static int parse_action(const char *key, const char *s, enum cfg_action *out,
                        char *msg, size_t len)
{
    for (size_t i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++) {
        if (!strcmp(s, action_names[i])) {
            *out = (enum cfg_action)i;
            return 0;
        }
    }
    if (!strcmp(s, "coredump-destroy") || !strcmp(s, "coredump-restart") ||
        !strcmp(s, "soft-reset"))
        return fail(msg, len, "%s = '%s' is not supported (use destroy, restart, preserve "
                    "or rename-restart)", key, s);
    return fail(msg, len, "%s must be destroy, restart, preserve or rename-restart, not '%s'",
                key, s);
}

static int parse_cpu_mode(const char *s, enum cfg_cpu_mode *out, char *msg, size_t len)
{
    if (!strcmp(s, "auto"))
        *out = CPU_MODE_AUTO;
    else if (!strcmp(s, "pvm"))
        *out = CPU_MODE_PVM;
    else if (!strcmp(s, "plain"))
        *out = CPU_MODE_PLAIN;
    else
        return fail(msg, len, "cpu_mode must be 'auto', 'pvm' or 'plain', not '%s'", s);
    return 0;
}

static int check_type(const char *s, char *msg, size_t len)
{
    if (!strcmp(s, "pvh"))
        return 0;
    if (!strcmp(s, "hvm"))
        return 0;
    if (!strcmp(s, "pv"))
        return fail(msg, len, "type 'pv' is not supported (Tandem boots PV kernels as 'pvh')");
    return fail(msg, len, "unknown type '%s' ('pvh' or 'hvm')", s);
}

/* ---- conversion of parsed values to the key's kind ---- */

/* Integers may also be written as quoted decimal strings, as xl accepts. */
static int value_int(const char *key, const struct cfg_value *v, long long *out,
                     char *msg, size_t len)
{
    if (v->type == CFG_V_INT) {
        *out = v->num;
        return 0;
    }
    if (v->type == CFG_V_STRING && v->str[0]) {
        char *end;
        errno = 0;
        long long n = strtoll(v->str, &end, 10);
        if (!*end && errno == 0 && (isdigit((unsigned char)v->str[0]) || v->str[0] == '-')) {
            *out = n;
            return 0;
        }
    }
    return fail(msg, len, "'%s' must be an integer", key);
}

static int value_strlist(const char *key, const struct cfg_value *v,
                         struct cfg_strlist *out, int *line, char *msg, size_t len)
{
    if (v->type != CFG_V_LIST)
        return fail(msg, len, "'%s' must be a list, e.g. %s = [ '...' ]", key, key);
    for (size_t i = 0; i < v->n; i++) {
        if (v->items[i].type != CFG_V_STRING) {
            *line = v->items[i].line;
            return fail(msg, len, "items of '%s' must be quoted strings", key);
        }
    }
    config_strlist_free(out);
    out->items = calloc(v->n ? v->n : 1, sizeof(char *));
    if (!out->items)
        return fail(msg, len, "out of memory");
    for (size_t i = 0; i < v->n; i++) {
        out->items[i] = strdup(v->items[i].str);
        if (!out->items[i])
            return fail(msg, len, "out of memory");
        out->n++;
    }
    return 0;
}

static int set_string(char **slot, const char *s, char *msg, size_t len)
{
    char *d = strdup(s);
    if (!d)
        return fail(msg, len, "out of memory");
    free(*slot);
    *slot = d;
    return 0;
}

static int apply_string(struct tandem_config *c, enum cfg_key k, const char *s,
                        char *msg, size_t len)
{
    switch (k) {
    case KEY_NAME:
        if (check_name(s, msg, len))
            return -1;
        return set_string(&c->name, s, msg, len);
    case KEY_TYPE:
        if (check_type(s, msg, len))
            return -1;
        return set_string(&c->type, s, msg, len);
    case KEY_KERNEL:
        if (!s[0])
            return fail(msg, len, "kernel must not be empty");
        return set_string(&c->kernel, s, msg, len);
    case KEY_FIRMWARE:
        if (!s[0])
            return fail(msg, len, "firmware must not be empty ('seabios' or a ROM file)");
        return set_string(&c->firmware, s, msg, len);
    case KEY_SERIAL:
        /* xl's serial = "pty" | "stdio" | "file:PATH" (QEMU's -serial values
         * that make sense without a display): where COM1 goes. */
        if (strcmp(s, "pty") && strcmp(s, "stdio") && strncmp(s, "file:", 5))
            return fail(msg, len, "serial '%s': expected \"pty\", \"stdio\" or \"file:PATH\"", s);
        if (!strncmp(s, "file:", 5) && s[5] != '/')
            return fail(msg, len, "serial '%s': file: takes an absolute path", s);
        return set_string(&c->serial, s, msg, len);
    case KEY_RAMDISK:
        if (!s[0])
            return fail(msg, len, "ramdisk must not be empty (leave the key out for none)");
        return set_string(&c->ramdisk, s, msg, len);
    case KEY_ROOT:
        return set_string(&c->root, s, msg, len);
    case KEY_MEM_PATH:
        if (s[0] != '/')
            return fail(msg, len, "mem_path must be an absolute path (a tmpfs directory), not '%s'", s);
        return set_string(&c->mem_path, s, msg, len);
    case KEY_CMDLINE:
        return set_string(&c->cmdline, s, msg, len);
    case KEY_EXTRA:
        return set_string(&c->extra, s, msg, len);
    case KEY_UUID:
        if (check_uuid(s, msg, len))
            return -1;
        return set_string(&c->uuid, s, msg, len);
    case KEY_CPU_MODE:
        return parse_cpu_mode(s, &c->cpu_mode, msg, len);
    case KEY_ON_POWEROFF:
        return parse_action("on_poweroff", s, &c->on_poweroff, msg, len);
    case KEY_ON_REBOOT:
        return parse_action("on_reboot", s, &c->on_reboot, msg, len);
    case KEY_ON_CRASH:
        return parse_action("on_crash", s, &c->on_crash, msg, len);
    default:
        return fail(msg, len, "internal error: key %d is not a string", (int)k);
    }
}

static int apply_int(struct tandem_config *c, enum cfg_key k, long long n,
                     char *msg, size_t len)
{
    switch (k) {
    case KEY_MEMORY:
    case KEY_MAXMEM:
        if (n < 1)
            return fail(msg, len, "%s must be at least 1 (MiB), not %lld", key_name(k), n);
        if (n > CFG_PC_MEMORY_MAX_MIB)   /* a PVH domain's lower bound: config_finish */
            return fail(msg, len, "%s %lld MiB is above the limit of %d MiB",
                        key_name(k), n, CFG_PC_MEMORY_MAX_MIB);
        *(k == KEY_MEMORY ? &c->memory_mib : &c->maxmem_mib) = (long)n;
        return 0;
    case KEY_MAX_GRANT_FRAMES:
        if (n < 1 || n > CFG_GRANT_FRAMES_MAX)
            return fail(msg, len, "max_grant_frames must be between 1 and %d, not %lld",
                        CFG_GRANT_FRAMES_MAX, n);
        c->max_grant_frames = (long)n;
        return 0;
    case KEY_VCPUS:
    case KEY_MAXVCPUS:
        if (n < 1 || n > CFG_VCPUS_MAX)
            return fail(msg, len, "%s must be between 1 and %d, not %lld", key_name(k),
                        CFG_VCPUS_MAX, n);
        *(k == KEY_VCPUS ? &c->vcpus : &c->maxvcpus) = (long)n;
        return 0;
    default:
        return fail(msg, len, "internal error: key %d is not an integer", (int)k);
    }
}

/* Edit distance between two short keys (CFG_IDENT_MAX), for suggestions. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[CFG_NAME_MAX + 2];
    if (la > CFG_NAME_MAX || lb > CFG_NAME_MAX)
        return (size_t)-1;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static int unknown_key(const char *key, char *msg, size_t len)
{
    for (size_t i = 0; i < sizeof(xl_only_keys) / sizeof(xl_only_keys[0]); i++)
        if (!strcmp(key, xl_only_keys[i]))
            return fail(msg, len, "key '%s' is xl's but Tandem does not support it", key);
    const char *best = NULL;
    size_t best_d = 3;   /* suggest only within two edits */
    for (size_t i = 0; i < NKEYS; i++) {
        size_t d = edit_distance(key, keys[i].name);
        if (d < best_d) {
            best_d = d;
            best = keys[i].name;
        }
    }
    if (best)
        return fail(msg, len, "unknown key '%s' (did you mean '%s'?)", key, best);
    return fail(msg, len, "unknown key '%s'", key);
}

static const struct key_desc *find_key(const char *name)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (!strcmp(keys[i].name, name))
            return &keys[i];
    return NULL;
}

struct apply_ctx {
    struct tandem_config *c;
    const char *source;  /* stable string for origins */
    bool override;       /* command line: replace silently, no line numbers */
};

static int apply_entry(void *vctx, const char *key, const struct cfg_value *v,
                       int *line, char *msg, size_t len)
{
    struct apply_ctx *ctx = vctx;
    struct tandem_config *c = ctx->c;
    const struct key_desc *d = find_key(key);
    if (!d)
        return unknown_key(key, msg, len);
    struct cfg_origin *o = &c->origin[d->key];
    if (!ctx->override && o->source && o->source == ctx->source)
        return fail(msg, len, "duplicate key '%s' (first set at line %d)", key, o->line);

    int rc;
    if (d->kind == K_INT) {
        long long n = 0;
        rc = value_int(key, v, &n, msg, len);
        if (rc == 0)
            rc = apply_int(c, d->key, n, msg, len);
    } else if (d->kind == K_STRING) {
        if (v->type != CFG_V_STRING)
            return fail(msg, len, "'%s' must be a quoted string", key);
        rc = apply_string(c, d->key, v->str, msg, len);
    } else {
        rc = value_strlist(key, v, d->key == KEY_DISK ? &c->disk : &c->vif,
                           line, msg, len);
    }
    if (rc)
        return rc;
    o->source = ctx->source;
    o->line = ctx->override ? 0 : *line;
    return 0;
}

int config_parse_text(struct tandem_config *c, const char *text, size_t len,
                      const char *source, char *err, size_t errlen)
{
    struct apply_ctx ctx = { .c = c, .source = source, .override = false };
    char msg[CFG_ERR_MAX];
    int line = 0;
    if (memchr(text, '\0', len)) {
        snprintf(err, errlen, "%s: contains a NUL byte (not a text file?)", source);
        return shown_escaped(err, errlen);
    }
    if (cfg_parse(text, len, apply_entry, &ctx, &line, msg, sizeof(msg)) == 0)
        return 0;
    snprintf(err, errlen, "%s:%d: %s", source, line, msg);
    return shown_escaped(err, errlen);
}

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    if (st.st_size > CFG_FILE_MAX) {
        snprintf(err, errlen, "%s: larger than %d bytes", path, CFG_FILE_MAX);
        close(fd);
        return NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t n = 0;
    while (buf && n < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
        if (r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            break;   /* the file shrank: parse what we have */
        }
        n += (size_t)r;
    }
    close(fd);
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

int config_parse_file(struct tandem_config *c, const char *path,
                      char *err, size_t errlen)
{
    size_t len;
    if (set_string(&c->file, path, err, errlen))
        return -1;
    char *text = read_file(path, &len, err, errlen);
    if (!text)
        return shown_escaped(err, errlen);
    int rc = config_parse_text(c, text, len, c->file, err, errlen);
    free(text);
    return rc;
}

int config_apply_override(struct tandem_config *c, const char *arg,
                          char *err, size_t errlen)
{
    static const char source[] = "command line";
    struct apply_ctx ctx = { .c = c, .source = source, .override = true };
    char msg[CFG_ERR_MAX];
    int line = 0;
    size_t len = strlen(arg);
    if (!strchr(arg, '=')) {
        snprintf(err, errlen, "command line: '%s' is not key=value", arg);
        return shown_escaped(err, errlen);
    }
    /* One override is one statement: a newline inside would sneak in more. */
    if (strchr(arg, '\n')) {
        snprintf(err, errlen, "command line: '%s' contains a newline", arg);
        return shown_escaped(err, errlen);
    }
    if (cfg_parse(arg, len, apply_entry, &ctx, &line, msg, sizeof(msg)) == 0)
        return 0;
    snprintf(err, errlen, "command line: '%s': %s", arg, msg);
    return shown_escaped(err, errlen);
}

void config_where(const struct tandem_config *c, enum cfg_key k, char *buf, size_t len)
{
    const struct cfg_origin *o = &c->origin[k];
    if (o->source && o->line > 0)
        snprintf(buf, len, "%s:%d: ", o->source, o->line);
    else if (o->source)
        snprintf(buf, len, "%s: ", o->source);
    else if (c->file)
        snprintf(buf, len, "%s: ", c->file);
    else
        buf[0] = '\0';
}

static int fail_at(const struct tandem_config *c, enum cfg_key k, char *err,
                   size_t errlen, const char *what)
{
    char where[256];
    config_where(c, k, where, sizeof(where));
    snprintf(err, errlen, "%s%s", where, what);
    return shown_escaped(err, errlen);
}

/* Parses every disk[] item (disk.c) and refuses two disks on one vdev. */
static int finish_disks(struct tandem_config *c, char *err, size_t errlen)
{
    char what[CFG_ERR_MAX], why[256];
    if (c->disks || !c->disk.n)
        return 0;
    c->disks = calloc(c->disk.n, sizeof(*c->disks));
    if (!c->disks)
        return fail_at(c, KEY_DISK, err, errlen, "out of memory");
    for (size_t i = 0; i < c->disk.n; i++) {
        const char *spec = c->disk.items[i];
        if (disk_parse(spec, &c->disks[c->ndisks], why, sizeof(why)) < 0) {
            snprintf(what, sizeof(what), "disk '%.200s': %s", spec, why);
            return fail_at(c, KEY_DISK, err, errlen, what);
        }
        c->ndisks++;
        for (size_t k = 0; k + 1 < c->ndisks; k++) {
            if (c->disks[k].devid == c->disks[i].devid) {
                snprintf(what, sizeof(what), "disk '%.200s': vdev '%s' is already used by '%.200s'",
                         spec, c->disks[i].vdev, c->disk.items[k]);
                return fail_at(c, KEY_DISK, err, errlen, what);
            }
        }
    }
    return 0;
}

/* Guest memory goes in an unlinked file there (tandem-vmm --mem-path):
 * it must be a tmpfs, where huge=always|within_size gives 2 MiB pages. */
static int check_mem_path(const char *dir, char *msg, size_t len)
{
    struct statfs sf;
    struct stat st;

    if (stat(dir, &st) < 0)
        return fail(msg, len, "mem_path '%s': %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return fail(msg, len, "mem_path '%s' is not a directory", dir);
    if (statfs(dir, &sf) < 0 || (unsigned long)sf.f_type != TMPFS_MAGIC)
        return fail(msg, len, "mem_path '%s' is not on a tmpfs (mount one with "
                    "-o huge=within_size for 2 MiB pages)", dir);
    return 0;
}

/* xl: cmdline replaces the whole line; root and extra build it instead. */
static int finish_cmdline(struct tandem_config *c, char *err, size_t errlen)
{
    char what[CFG_ERR_MAX];
    if (c->cmdline && (c->extra || c->root)) {
        snprintf(what, sizeof(what), "both 'cmdline' and '%s' are set; use cmdline alone, "
                 "or root and extra", c->extra ? "extra" : "root");
        return fail_at(c, c->extra ? KEY_EXTRA : KEY_ROOT, err, errlen, what);
    }
    char *line = NULL;
    int rc;
    if (c->cmdline)
        rc = asprintf(&line, "%s", c->cmdline);
    else if (c->root)
        rc = asprintf(&line, "root=%s%s%s", c->root, c->extra ? " " : "",
                      c->extra ? c->extra : "");
    else
        rc = asprintf(&line, "%s", c->extra ? c->extra : "");
    if (rc < 0)
        return fail_at(c, KEY_CMDLINE, err, errlen, "out of memory");
    free(c->cmdline_final);
    c->cmdline_final = line;
    if (strlen(c->cmdline_final) > CFG_STRING_MAX) {
        snprintf(what, sizeof(what), "root and extra together are longer than %d bytes",
                 CFG_STRING_MAX);
        return fail_at(c, KEY_EXTRA, err, errlen, what);
    }
    return 0;
}

/* maxmem / maxvcpus default to memory / vcpus and may not be below them. */
static int finish_limits(struct tandem_config *c, char *err, size_t errlen)
{
    char what[CFG_ERR_MAX];
    if (!c->origin[KEY_MAXMEM].source)
        c->maxmem_mib = c->memory_mib;
    if (!c->origin[KEY_MAXVCPUS].source)
        c->maxvcpus = c->vcpus;
    if (c->maxmem_mib < c->memory_mib) {
        snprintf(what, sizeof(what), "maxmem %ld MiB is less than memory %ld MiB",
                 c->maxmem_mib, c->memory_mib);
        return fail_at(c, KEY_MAXMEM, err, errlen, what);
    }
    if (c->maxvcpus < c->vcpus) {
        snprintf(what, sizeof(what), "maxvcpus %ld is less than vcpus %ld",
                 c->maxvcpus, c->vcpus);
        return fail_at(c, KEY_MAXVCPUS, err, errlen, what);
    }
    return 0;
}

bool config_is_hvm(const struct tandem_config *c)
{
    return c->type && !strcmp(c->type, "hvm");
}

bool config_serial_is_pty(const struct tandem_config *c)
{
    return !c->serial || !strcmp(c->serial, "pty");
}

/* type = "hvm": the PC runs its firmware, or boots kernel = ... directly
 * (with ramdisk, cmdline/extra/root); with both, the firmware loads the
 * kernel (QEMU's -kernel). What it does not have yet is refused by name. */
static int finish_hvm(struct tandem_config *c, char *err, size_t errlen)
{
    char what[CFG_ERR_MAX];
    if (c->origin[KEY_MEM_PATH].source) {
        snprintf(what, sizeof(what), "%s: type = \"hvm\" has no mem_path yet", key_name(KEY_MEM_PATH));
        return fail_at(c, KEY_MEM_PATH, err, errlen, what);
    }
    if (!c->kernel && (c->ramdisk || c->origin[KEY_CMDLINE].source || c->origin[KEY_EXTRA].source ||
                       c->origin[KEY_ROOT].source)) {
        enum cfg_key k = c->ramdisk ? KEY_RAMDISK : c->origin[KEY_CMDLINE].source ? KEY_CMDLINE
                         : c->origin[KEY_EXTRA].source ? KEY_EXTRA : KEY_ROOT;
        snprintf(what, sizeof(what), "%s: is for a kernel booted directly (kernel = ...); "
                 "the firmware boots from the disk", key_name(k));
        return fail_at(c, k, err, errlen, what);
    }
    if (c->vif.n > 4)
        return fail_at(c, KEY_VIF, err, errlen,
                       "type = \"hvm\" takes at most 4 vifs (its e1000s)");
    if (c->disk.n > 16)
        return fail_at(c, KEY_DISK, err, errlen,
                       "type = \"hvm\" takes at most 16 disks (the NVMe controller's namespaces)");
    if (finish_disks(c, err, errlen) < 0)
        return -1;
    if (c->cpu_mode == CPU_MODE_PVM)
        return fail_at(c, KEY_CPU_MODE, err, errlen,
                       "cpu_mode = \"pvm\" is for PV kernels; type = \"hvm\" runs in plain mode");
    if (c->memory_mib < 2 || c->memory_mib > CFG_PC_MEMORY_MAX_MIB)
        return fail_at(c, KEY_MEMORY, err, errlen,
                       "type = \"hvm\" takes 2..1048576 MiB (above 3 GiB, the rest is at 4 GiB)");
    if (!c->kernel && !c->firmware && set_string(&c->firmware, "seabios", err, errlen))
        return -1;
    if (!c->serial && set_string(&c->serial, "pty", err, errlen))
        return -1;
    if (c->kernel && finish_cmdline(c, err, errlen) < 0)
        return -1;
    if (finish_limits(c, err, errlen) < 0)
        return -1;
    return vif_finish(c, err, errlen);
}

int config_finish(struct tandem_config *c, char *err, size_t errlen)
{
    char what[CFG_ERR_MAX];
    if (!c->name)
        return fail_at(c, KEY_NAME, err, errlen, "missing 'name' (e.g. name = \"guest\")");
    if (config_is_hvm(c))
        return finish_hvm(c, err, errlen);
    if (c->firmware)
        return fail_at(c, KEY_FIRMWARE, err, errlen, "firmware is for type = \"hvm\"");
    if (c->serial)
        return fail_at(c, KEY_SERIAL, err, errlen,
                       "serial is for type = \"hvm\" (COM1 of the PC; a PVH domain's console is its "
                       "PV console)");
    if (!c->kernel)
        return fail_at(c, KEY_KERNEL, err, errlen, "missing 'kernel' (the guest ELF)");
    if (!c->type && set_string(&c->type, "pvh", err, errlen))
        return -1;
    for (enum cfg_key k = KEY_MEMORY; ; k = KEY_MAXMEM) {
        long v = k == KEY_MEMORY ? c->memory_mib : c->maxmem_mib;
        if (v > CFG_MEMORY_MAX_MIB) {
            snprintf(what, sizeof(what), "%s %ld MiB is above the limit of %d MiB", key_name(k), v,
                     CFG_MEMORY_MAX_MIB);
            return fail_at(c, k, err, errlen, what);
        }
        if (k == KEY_MAXMEM)
            break;
    }
    if (finish_cmdline(c, err, errlen) < 0 || finish_limits(c, err, errlen) < 0)
        return -1;
    if (finish_disks(c, err, errlen) < 0)
        return -1;
    if (c->mem_path && check_mem_path(c->mem_path, what, sizeof(what)) < 0)
        return fail_at(c, KEY_MEM_PATH, err, errlen, what);
    return vif_finish(c, err, errlen);
}

char *config_file_path(const struct tandem_config *c, enum cfg_key k)
{
    const char *v = k == KEY_KERNEL ? c->kernel : k == KEY_RAMDISK ? c->ramdisk :
                    k == KEY_FIRMWARE ? c->firmware : NULL;
    const struct cfg_origin *o = &c->origin[k];
    char *out = NULL;
    if (!v)
        return NULL;
    if (v[0] == '/' || !c->file || o->source != c->file)
        return strdup(v);
    const char *slash = strrchr(c->file, '/');
    if (!slash)
        return strdup(v);
    if (asprintf(&out, "%.*s/%s", (int)(slash - c->file), c->file, v) < 0)
        return NULL;
    return out;
}

/* One file key: resolved, checked, and replaced by its absolute path. */
static int check_file_key(struct tandem_config *c, enum cfg_key k, char *err, size_t errlen)
{
    char what[CFG_ERR_MAX], cwd[4096];
    struct stat st;
    char **slot = k == KEY_KERNEL ? &c->kernel : k == KEY_FIRMWARE ? &c->firmware : &c->ramdisk;
    if (!*slot)
        return 0;
    char *path = config_file_path(c, k);
    if (!path)
        return fail_at(c, k, err, errlen, "out of memory");
    if (stat(path, &st) < 0 || access(path, R_OK) < 0)
        snprintf(what, sizeof(what), "%s '%.300s': %s", key_name(k), path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        snprintf(what, sizeof(what), "%s '%.300s': not a regular file", key_name(k), path);
    else
        what[0] = '\0';
    if (what[0]) {
        free(path);
        return fail_at(c, k, err, errlen, what);
    }
    if (path[0] != '/' && getcwd(cwd, sizeof(cwd))) {
        char *abs = NULL;
        if (asprintf(&abs, "%s/%s", cwd, path) < 0)
            abs = NULL;
        free(path);
        path = abs;
        if (!path)
            return fail_at(c, k, err, errlen, "out of memory");
    }
    free(*slot);
    *slot = path;
    return 0;
}

/* "seabios": the build's copy beside the binaries (build/bin/../firmware),
 * else Debian's. */
static int resolve_seabios(struct tandem_config *c, char *err, size_t errlen)
{
    static const char rom[] = "bios-256k.bin";
    char self[4096], *path = NULL;
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            if (asprintf(&path, "%s/../firmware/%s", self, rom) < 0)
                path = NULL;
            if (path && access(path, R_OK) < 0) {
                free(path);
                path = NULL;
            }
        }
    }
    if (!path && asprintf(&path, "/usr/share/seabios/%s", rom) < 0)
        path = NULL;
    if (!path)
        return fail_at(c, KEY_FIRMWARE, err, errlen, "out of memory");
    free(c->firmware);
    c->firmware = path;
    return 0;
}

int config_check_files(struct tandem_config *c, char *err, size_t errlen)
{
    if (config_is_hvm(c)) {
        if (c->firmware && !strcmp(c->firmware, "seabios") && resolve_seabios(c, err, errlen) < 0)
            return -1;
        return check_file_key(c, KEY_FIRMWARE, err, errlen);
    }
    if (check_file_key(c, KEY_KERNEL, err, errlen) < 0)
        return -1;
    return check_file_key(c, KEY_RAMDISK, err, errlen);
}

const char *config_cmdline(const struct tandem_config *c)
{
    if (c->cmdline_final)
        return c->cmdline_final;
    if (c->cmdline)
        return c->cmdline;
    return c->extra ? c->extra : "";
}

int config_check_name(const char *name, char *msg, size_t len)
{
    return check_name(name, msg, len) < 0 ? shown_escaped(msg, len) : 0;
}

const char *config_action_name(enum cfg_action a)
{
    if ((size_t)a < sizeof(action_names) / sizeof(action_names[0]))
        return action_names[a];
    return "destroy";
}

const char *config_cpu_mode_name(enum cfg_cpu_mode m)
{
    switch (m) {
    case CPU_MODE_PVM: return "pvm";
    case CPU_MODE_PLAIN: return "plain";
    default: return "auto";
    }
}

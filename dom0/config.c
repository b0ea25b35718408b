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
};

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

static void strlist_free(struct cfg_strlist *l)
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
    free(c->mem_path);
    free(c->cmdline);
    free(c->extra);
    free(c->uuid);
    free(c->file);
    strlist_free(&c->disk);
    for (size_t i = 0; i < c->ndisks; i++)
        disk_spec_free(&c->disks[i]);
    free(c->disks);
    c->disks = NULL;
    c->ndisks = 0;
    strlist_free(&c->vif);
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

static int parse_action(const char *key, const char *s, enum cfg_action *out,
                        char *msg, size_t len)
{
    if (!strcmp(s, "destroy")) {
        *out = ACTION_DESTROY;
        return 0;
    }
    if (!strcmp(s, "restart")) {
        *out = ACTION_RESTART;
        return 0;
    }
    if (!strcmp(s, "preserve") || !strcmp(s, "rename-restart") ||
        !strcmp(s, "coredump-destroy") || !strcmp(s, "coredump-restart") ||
        !strcmp(s, "soft-reset"))
        return fail(msg, len, "%s = '%s' is not supported (use 'destroy' or 'restart')", key, s);
    return fail(msg, len, "%s must be 'destroy' or 'restart', not '%s'", key, s);
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
    if (!strcmp(s, "hvm") || !strcmp(s, "pv"))
        return fail(msg, len, "type '%s' is not supported yet (only 'pvh')", s);
    return fail(msg, len, "unknown type '%s' (only 'pvh')", s);
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
    strlist_free(out);
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
    if (k == KEY_MEMORY) {
        if (n < 1)
            return fail(msg, len, "memory must be at least 1 (MiB), not %lld", n);
        if (n > CFG_MEMORY_MAX_MIB)
            return fail(msg, len, "memory %lld MiB is above the limit of %d MiB",
                        n, CFG_MEMORY_MAX_MIB);
        c->memory_mib = (long)n;
        return 0;
    }
    if (k == KEY_MAX_GRANT_FRAMES) {
        if (n < 1 || n > CFG_GRANT_FRAMES_MAX)
            return fail(msg, len, "max_grant_frames must be between 1 and %d, not %lld",
                        CFG_GRANT_FRAMES_MAX, n);
        c->max_grant_frames = (long)n;
        return 0;
    }
    if (n < 1 || n > CFG_VCPUS_MAX)
        return fail(msg, len, "vcpus must be between 1 and %d, not %lld", CFG_VCPUS_MAX, n);
    c->vcpus = (long)n;
    return 0;
}

static const struct key_desc *find_key(const char *name)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
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
        return fail(msg, len, "unknown key '%s'", key);
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
        return -1;
    }
    if (cfg_parse(text, len, apply_entry, &ctx, &line, msg, sizeof(msg)) == 0)
        return 0;
    snprintf(err, errlen, "%s:%d: %s", source, line, msg);
    return -1;
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
        return -1;
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
        return -1;
    }
    /* One override is one statement: a newline inside would sneak in more. */
    if (strchr(arg, '\n')) {
        snprintf(err, errlen, "command line: '%s' contains a newline", arg);
        return -1;
    }
    if (cfg_parse(arg, len, apply_entry, &ctx, &line, msg, sizeof(msg)) == 0)
        return 0;
    snprintf(err, errlen, "command line: '%s': %s", arg, msg);
    return -1;
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
    return -1;
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

int config_finish(struct tandem_config *c, char *err, size_t errlen)
{
    char what[CFG_ERR_MAX];
    if (!c->name)
        return fail_at(c, KEY_NAME, err, errlen, "missing 'name' (e.g. name = \"guest\")");
    if (!c->kernel)
        return fail_at(c, KEY_KERNEL, err, errlen, "missing 'kernel' (the guest ELF)");
    if (!c->type && set_string(&c->type, "pvh", err, errlen))
        return -1;
    if (c->cmdline && c->extra) {
        snprintf(what, sizeof(what), "both 'cmdline' and 'extra' are set; use one");
        return fail_at(c, KEY_EXTRA, err, errlen, what);
    }
    if (finish_disks(c, err, errlen) < 0)
        return -1;
    if (c->mem_path && check_mem_path(c->mem_path, what, sizeof(what)) < 0)
        return fail_at(c, KEY_MEM_PATH, err, errlen, what);
    return vif_finish(c, err, errlen);
}

char *config_kernel_path(const struct tandem_config *c)
{
    const struct cfg_origin *o = &c->origin[KEY_KERNEL];
    char *out = NULL;
    if (c->kernel[0] == '/' || !c->file || o->source != c->file)
        return strdup(c->kernel);
    const char *slash = strrchr(c->file, '/');
    if (!slash)
        return strdup(c->kernel);
    if (asprintf(&out, "%.*s/%s", (int)(slash - c->file), c->file, c->kernel) < 0)
        return NULL;
    return out;
}

const char *config_cmdline(const struct tandem_config *c)
{
    if (c->cmdline)
        return c->cmdline;
    return c->extra ? c->extra : "";
}

const char *config_action_name(enum cfg_action a)
{
    return a == ACTION_RESTART ? "restart" : "destroy";
}

const char *config_cpu_mode_name(enum cfg_cpu_mode m)
{
    switch (m) {
    case CPU_MODE_PVM: return "pvm";
    case CPU_MODE_PLAIN: return "plain";
    default: return "auto";
    }
}

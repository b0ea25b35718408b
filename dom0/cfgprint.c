/* A configuration printed back in xl.cfg syntax (`tandem run -n`): every
 * key once, lists as one key, strings escaped, so the output parses back
 * to the same configuration (tests/unit/dom0_config.c checks the round
 * trip). */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "..." with the escapes the lexer reads. */
static void print_quoted(FILE *f, const char *s)
{
    size_t len = strlen(s) * 4 + 1;   /* \xHH is the longest escape */
    char *buf = malloc(len);
    if (!buf) {
        fputs("\"\"", f);
        return;
    }
    fprintf(f, "\"%s\"", cfg_escape(s, true, buf, len));
    free(buf);
}

static void print_string(FILE *f, const char *key, const char *s)
{
    fprintf(f, "%s = ", key);
    print_quoted(f, s);
    fputc('\n', f);
}

static void print_list(FILE *f, const char *key, char *const *items, size_t n)
{
    fprintf(f, "%s = [", key);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ",\n    " : " ", f);
        print_quoted(f, items[i]);
    }
    fputs(n ? " ]\n" : "]\n", f);
}

/* A parsed disk in xl's key=value form; target last, since xl makes
 * `target=` take the rest of the item. A target that itself begins with a
 * legacy prefix ("phy:", "tap:" ...) would lose it when parsed again: it
 * gets a "phy:" of its own, which the parser takes off instead. */
static char *disk_item(const struct disk_spec *d)
{
    for (int pass = 0; pass < 2; pass++) {
        char *s = NULL, err[256];
        struct disk_spec again;
        if (asprintf(&s, "format=raw, vdev=%s, access=%s, target=%s%s", d->vdev,
                     d->readonly ? "r" : "rw", pass ? "phy:" : "", d->target) < 0)
            return NULL;
        if (disk_parse(s, &again, err, sizeof(err)) == 0) {
            bool same = !strcmp(again.target, d->target);
            disk_spec_free(&again);
            if (same || pass)
                return s;
        }
        if (pass)
            return s;
        free(s);
    }
    return NULL;
}

/* item(c, i) for each of n parsed devices (heap strings), or the list as
 * written when there are none parsed. */
typedef char *(*item_fn)(const struct tandem_config *c, size_t i);

static void print_devices(FILE *f, const char *key, const struct tandem_config *c, size_t n,
                          const struct cfg_strlist *written, item_fn item)
{
    if (!n) {
        print_list(f, key, written->items, written->n);
        return;
    }
    char **items = calloc(n, sizeof(char *));
    size_t k = 0;
    while (items && k < n && (items[k] = item(c, k)))
        k++;
    print_list(f, key, items, k);
    for (size_t i = 0; i < k; i++)
        free(items[i]);
    free(items);
}

static char *disk_at(const struct tandem_config *c, size_t i)
{
    return disk_item(&c->disks[i]);
}

/* A parsed vif with everything that makes it the same device again: the
 * MAC (also a generated one) and the devid, so that a domain's record
 * (dom0/record.c) brings back the same NIC after a restart or a restore. */
static char *vif_at(const struct tandem_config *c, size_t i)
{
    const struct vif_spec *v = &c->vifs[i];
    char *s = NULL;
    if (asprintf(&s, "mac=%s, bridge=%s%s%s%s%s, devid=%u", v->mac, v->bridge,
                 v->ip[0] ? ", ip=" : "", v->ip, v->vifname[0] ? ", vifname=" : "", v->vifname,
                 v->devid) < 0)
        return NULL;
    return s;
}

void config_print(FILE *f, const struct tandem_config *c)
{
    print_string(f, "name", c->name ? c->name : "");
    print_string(f, "type", c->type ? c->type : "pvh");
    bool hvm = config_is_hvm(c);
    /* hvm: the firmware (seabios unless a kernel is booted directly), the
     * kernel if there is one (directly, or loaded by the firmware) */
    if (hvm && (c->firmware || !c->kernel))
        print_string(f, "firmware", c->firmware ? c->firmware : "seabios");
    if (!hvm || c->kernel)
        print_string(f, "kernel", c->kernel ? c->kernel : "");
    if (hvm)
        print_string(f, "serial", c->serial ? c->serial : "pty");
    if (c->ramdisk)
        print_string(f, "ramdisk", c->ramdisk);
    fprintf(f, "memory = %ld\nmaxmem = %ld\nvcpus = %ld\nmaxvcpus = %ld\n",
            c->memory_mib, c->maxmem_mib ? c->maxmem_mib : c->memory_mib,
            c->vcpus, c->maxvcpus ? c->maxvcpus : c->vcpus);
    if (c->cmdline || (!hvm && !c->root && !c->extra))
        print_string(f, "cmdline", c->cmdline ? c->cmdline : "");
    if (c->root)
        print_string(f, "root", c->root);
    if (c->extra)
        print_string(f, "extra", c->extra);
    fprintf(f, "max_grant_frames = %ld\n", c->max_grant_frames);
    if (c->mem_path)
        print_string(f, "mem_path", c->mem_path);
    if (c->uuid)
        print_string(f, "uuid", c->uuid);
    print_string(f, "cpu_mode", config_cpu_mode_name(c->cpu_mode));
    print_string(f, "on_poweroff", config_action_name(c->on_poweroff));
    print_string(f, "on_reboot", config_action_name(c->on_reboot));
    print_string(f, "on_crash", config_action_name(c->on_crash));
    print_devices(f, "disk", c, c->ndisks, &c->disk, disk_at);
    print_devices(f, "vif", c, c->nvifs, &c->vif, vif_at);
}

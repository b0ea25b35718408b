#include "domain.h"
#include "ctl_client.h"
#include "rundir.h"
#include "store.h"
#include "util.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DOMAINS_MAX 1024

bool domain_ctl_alive(unsigned domid)
{
    struct tdm_ctl *c = tdm_ctl_connect(NULL, domid);
    if (!c)
        return false;
    tdm_ctl_close(c);
    return true;
}

/* The fields of /proc/PID/stat after the parenthesised command name (which
 * may hold spaces): field 3 (state) onwards. false if unreadable. */
static bool proc_stat_fields(pid_t pid, char *buf, size_t len, const char **fields)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    size_t n = fread(buf, 1, len - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p || !p[1])
        return false;
    *fields = p + 2;
    return true;
}

/* user+system time of a process (fields 14 and 15). */
static double process_cpu_seconds(pid_t pid)
{
    char buf[1024];
    const char *p;
    unsigned long ut = 0, st = 0;
    if (!proc_stat_fields(pid, buf, sizeof(buf), &p) ||
        sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Seconds since the process started (field 22, in clock ticks after boot,
 * against /proc/uptime). */
static double process_age(pid_t pid)
{
    char buf[1024];
    const char *p;
    double up = 0;
    unsigned long long start = 0;
    if (!proc_stat_fields(pid, buf, sizeof(buf), &p) ||
        sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
                  "%*d %*d %*d %llu", &start) != 1)
        return 0;
    FILE *f = fopen("/proc/uptime", "re");
    if (!f)
        return 0;
    if (fscanf(f, "%lf", &up) != 1)
        up = 0;
    fclose(f);
    double age = up - (double)start / (double)sysconf(_SC_CLK_TCK);
    return age > 0 ? age : 0;
}

/* Copies the reply's `key` into out (truncated to fit), if present. */
static void copy_value(const struct tdm_ctl_reply *r, const char *key, char *out, size_t len)
{
    const char *v = tdm_ctl_get(r, key);
    if (v)
        snprintf(out, len, "%s", v);
}

static void query_ctl(unsigned domid, struct domain_info *d, bool *found)
{
    struct tdm_ctl_reply r;
    uint64_t v;
    struct tdm_ctl *c = tdm_ctl_connect(NULL, domid);
    if (!c)
        return;
    d->pid = tdm_ctl_peer_pid(c);
    if (tdm_ctl_request(c, "info", TDM_CTL_ANY_FDS, &r) == 0) {
        *found = true;
        copy_value(&r, "name", d->name, sizeof(d->name));
        copy_value(&r, "state", d->state, sizeof(d->state));
        copy_value(&r, "uuid", d->uuid, sizeof(d->uuid));
        if (tdm_ctl_get_u64(&r, "vcpus", LONG_MAX, &v) == 0)
            d->vcpus = (long)v;
        if (tdm_ctl_get_u64(&r, "memory_kib", LONG_MAX, &v) == 0)
            d->mem_mib = (long)(v / 1024);
    }
    tdm_ctl_close(c);
    if (d->pid > 0) {
        d->cpu_seconds = process_cpu_seconds(d->pid);
        d->uptime = process_age(d->pid);
    }
}

static long count_vcpus(struct xs_handle *h, unsigned domid)
{
    long n = 0;
    for (unsigned i = 0; i < CFG_VCPUS_MAX; i++) {
        if (!store_exists(h, "/local/domain/%u/cpu/%u/availability", domid, i))
            break;
        n++;
    }
    return n;
}

/* xenstore fills what the control socket did not say (or could not). */
static void query_store(struct xs_handle *h, unsigned domid, struct domain_info *d, bool *found)
{
    char *name = store_read(h, "/local/domain/%u/name", domid);
    if (!name && !store_exists(h, "/local/domain/%u", domid))
        return;
    *found = true;
    /* xenstore is the registry (`tandem rename` writes it), as libxl's. */
    if (name)
        snprintf(d->name, sizeof(d->name), "%s", name);
    free(name);
    char *pres = store_read(h, "/local/domain/%u/tandem/preserved", domid);
    if (pres) {
        snprintf(d->preserved, sizeof(d->preserved), "%s", pres);
        if (!strcmp(d->state, "?"))   /* no VMM: the dead, preserved domain */
            snprintf(d->state, sizeof(d->state), "%s",
                     !strcmp(pres, "crash") || !strcmp(pres, "watchdog") ? "crashed" : "shutdown");
    }
    free(pres);
    if (!d->uuid[0]) {
        char *vm = store_read(h, "/local/domain/%u/vm", domid);
        if (vm && !strncmp(vm, "/vm/", 4))
            snprintf(d->uuid, sizeof(d->uuid), "%s", vm + 4);
        free(vm);
    }
    if (d->mem_mib == 0) {
        char *t = store_read(h, "/local/domain/%u/memory/target", domid);
        if (t)
            d->mem_mib = strtol(t, NULL, 10) / 1024;
        free(t);
    }
    if (d->vcpus == 0)
        d->vcpus = count_vcpus(h, domid);
}

bool domain_query(struct xs_handle *h, unsigned domid, struct domain_info *out)
{
    bool found = false;
    memset(out, 0, sizeof(*out));
    out->domid = domid;
    snprintf(out->state, sizeof(out->state), "?");
    query_ctl(domid, out, &found);
    if (h)
        query_store(h, domid, out, &found);
    return found;
}

static unsigned ctl_name_domid(const char *name)
{
    unsigned id;
    char tail[8];
    if (sscanf(name, "dom%u%7s", &id, tail) != 2 || strcmp(tail, ".ctl"))
        return 0;
    return id <= DOMID_MAX_GUEST ? id : 0;
}

static size_t add_unique(unsigned *ids, size_t n, size_t max, unsigned id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return n;
    if (n < max)
        ids[n++] = id;
    return n;
}

static int cmp_domid(const void *a, const void *b)
{
    const struct domain_info *x = a, *y = b;
    return x->domid < y->domid ? -1 : x->domid > y->domid;
}

size_t domain_list(struct xs_handle *h, struct domain_info *out, size_t max)
{
    unsigned ids[DOMAINS_MAX];
    size_t n = 0;
    if (h)
        n = store_domids(h, ids, DOMAINS_MAX);
    DIR *d = opendir(rundir());
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        unsigned id = ctl_name_domid(e->d_name);
        if (id)
            n = add_unique(ids, n, DOMAINS_MAX, id);
    }
    if (d)
        closedir(d);
    size_t k = 0;
    for (size_t i = 0; i < n && k < max; i++) {
        if (ids[i] == 0)
            continue;
        if (domain_query(h, ids[i], &out[k]))
            k++;
    }
    qsort(out, k, sizeof(*out), cmp_domid);
    return k;
}

int domain_resolve(struct xs_handle *h, const char *dom, unsigned *domid)
{
    struct domain_info info;
    if (parse_domid(dom, domid, false)) {
        if (domain_query(h, *domid, &info))
            return 0;
        msg("no domain with domid %u", *domid);
        return -1;
    }
    if (h && store_find_name(h, dom, domid) == 0)
        return 0;
    if (h) {   /* xenstore is the registry (a renamed VMM still says its old name) */
        msg("no domain named '%s'", dom);
        return -1;
    }
    /* xenstored is down: ask every VMM. */
    static struct domain_info all[DOMAINS_MAX];
    size_t n = domain_list(NULL, all, DOMAINS_MAX);
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(all[i].name, dom)) {
            *domid = all[i].domid;
            return 0;
        }
    }
    msg("no domain named '%s'", dom);
    return -1;
}

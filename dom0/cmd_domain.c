/* Verbs about one domain's identity and time: rename, uptime, vcpu-list. */
#include "cmds.h"
#include "tdm_xenbus.h"
#include "config.h"
#include "domain.h"
#include "domid.h"
#include "record.h"
#include "store.h"
#include "util.h"
#include "xsd.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xenstore.h>

#define DOMAINS_MAX 1024

static struct xs_handle *open_store(void)
{
    return xsd_available() ? store_open(false) : NULL;
}

/* ---- rename ---- */

struct rename_ctx {
    unsigned domid;
    const char *vm, *name;
};

static int rename_body(struct xs_handle *xs, xs_transaction_t t, void *arg)
{
    struct rename_ctx *c = arg;
    char path[160];
    snprintf(path, sizeof(path), "/local/domain/%u/name", c->domid);
    if (!xs_write(xs, t, path, c->name, (unsigned)strlen(c->name)))
        return -1;
    if (c->vm && !strncmp(c->vm, "/vm/", 4)) {
        snprintf(path, sizeof(path), "%.100s/name", c->vm);
        if (!xs_write(xs, t, path, c->name, (unsigned)strlen(c->name)))
            return -1;
    }
    return 0;
}

int cmd_rename(int argc, char **argv)
{
    char why[CFG_ERR_MAX], err[512];
    if (argc != 3) {
        fprintf(stderr, "usage: tandem rename DOM NEWNAME\n");
        return EXIT_BADINPUT;
    }
    if (config_check_name(argv[2], why, sizeof(why)) < 0) {
        msg("%s", why);
        return EXIT_BADINPUT;
    }
    struct xs_handle *xs = open_store();
    unsigned domid, other;
    int rc = EXIT_RUNTIME;
    if (!xs) {
        msg("xenstored is not running: the registry cannot be changed");
        return EXIT_RUNTIME;
    }
    if (domain_resolve(xs, argv[1], &domid) < 0)
        goto out;
    if (store_find_name(xs, argv[2], &other) == 0) {
        msg("a domain named '%s' already exists (domid %u)", argv[2], other);
        goto out;
    }
    if (domid_rename(domid, argv[2], err, sizeof(err)) < 0) {
        msg("%s", err);
        goto out;
    }
    /* As libxl: the domain's name and its /vm entry's, in one transaction. */
    char *vm = store_read(xs, "/local/domain/%u/vm", domid);
    struct rename_ctx rc_ctx = { domid, vm, argv[2] };
    if (tdm_xenbus_transact(xs, rename_body, &rc_ctx) == 0) {
        rc = 0;
        record_rename(domid, argv[2]);   /* a warning if not: it is renamed */
    }
    free(vm);
    if (rc)
        msg("cannot rename domain %u in xenstore", domid);
out:
    store_close(xs);
    return rc;
}

/* ---- uptime ---- */

static void print_uptime(const struct domain_info *d)
{
    long s = (long)d->uptime, days = s / 86400;
    char t[64];
    if (days)
        snprintf(t, sizeof(t), "%ld day%s, %ld:%02ld:%02ld", days, days == 1 ? "" : "s",
                 s % 86400 / 3600, s % 3600 / 60, s % 60);
    else
        snprintf(t, sizeof(t), "%ld:%02ld:%02ld", s / 3600, s % 3600 / 60, s % 60);
    printf("%-40s %5u %s\n", d->name, d->domid, t);
}

static void host_uptime(struct domain_info *d)
{
    FILE *f = fopen("/proc/uptime", "re");
    memset(d, 0, sizeof(*d));
    snprintf(d->name, sizeof(d->name), "Domain-0");
    if (f) {
        if (fscanf(f, "%lf", &d->uptime) != 1)
            d->uptime = 0;
        fclose(f);
    }
}

int cmd_uptime(int argc, char **argv)
{
    int first = 1;
    struct xs_handle *xs = open_store();
    struct domain_info d;
    int rc = 0;
    printf("%-40s %5s %s\n", "Name", "ID", "Uptime");
    if (argc > first) {
        for (int i = first; i < argc; i++) {
            unsigned id;
            if (!strcmp(argv[i], "Domain-0") || !strcmp(argv[i], "0"))
                host_uptime(&d);
            else if (domain_resolve(xs, argv[i], &id) < 0 || !domain_query(xs, id, &d)) {
                rc = 1;
                continue;
            }
            print_uptime(&d);
        }
    } else {
        static struct domain_info all[DOMAINS_MAX];
        size_t n = domain_list(xs, all, DOMAINS_MAX);
        host_uptime(&d);
        print_uptime(&d);
        for (size_t i = 0; i < n; i++)
            print_uptime(&all[i]);
    }
    store_close(xs);
    return rc;
}

/* ---- vcpu-list ---- */

/* One vCPU thread of a VMM (named "vcpuN" by tandem-vmm): the host CPU it
 * last ran on, its state and CPU time, from /proc/PID/task/TID/stat. */
struct vcpu_row {
    int cpu;
    char state;
    double seconds;
};

static bool vcpu_thread(pid_t pid, unsigned n, struct vcpu_row *row)
{
    char path[96], comm[32], want[32], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    snprintf(want, sizeof(want), "vcpu%u\n", n);
    DIR *dir = opendir(path);
    struct dirent *e;
    bool found = false;
    while (dir && !found && (e = readdir(dir)) != NULL) {
        snprintf(path, sizeof(path), "/proc/%d/task/%.20s/comm", (int)pid, e->d_name);
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        bool match = fgets(comm, sizeof(comm), f) && !strcmp(comm, want);
        fclose(f);
        if (!match)
            continue;
        snprintf(path, sizeof(path), "/proc/%d/task/%.20s/stat", (int)pid, e->d_name);
        f = fopen(path, "re");
        if (!f)
            continue;
        size_t len = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[len] = '\0';
        char *p = strrchr(buf, ')');
        unsigned long ut, st;
        /* state (3), utime (14), stime (15), processor (39) */
        if (p && sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d "
                               "%*d %*d %*d %*u %*u %*d %*u %*u %*u %*u %*u %*u %*u %*u %*u "
                               "%*u %*u %*u %*u %*d %d", &row->state, &ut, &st, &row->cpu) == 4) {
            row->seconds = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
            found = true;
        }
    }
    if (dir)
        closedir(dir);
    return found;
}

/* xl's letters: r running, b blocked, p paused. */
static const char *vcpu_state(const struct domain_info *d, const struct vcpu_row *r, bool found)
{
    if (!strcmp(d->state, "paused"))
        return "-p-";
    if (!found)
        return "---";
    return r->state == 'R' ? "r--" : "-b-";
}

static void list_vcpus(const struct domain_info *d)
{
    for (long v = 0; v < d->vcpus; v++) {
        struct vcpu_row r = { .cpu = -1 };
        bool found = d->pid > 0 && vcpu_thread(d->pid, (unsigned)v, &r);
        char cpu[16];
        if (found)
            snprintf(cpu, sizeof(cpu), "%d", r.cpu);
        else
            snprintf(cpu, sizeof(cpu), "-");
        printf("%-32s %5u %5ld %5s %5s %9.1f  %s\n", d->name, d->domid, v, cpu,
               vcpu_state(d, &r, found), found ? r.seconds : 0.0, "all / all");
    }
}

int cmd_vcpu_list(int argc, char **argv)
{
    struct xs_handle *xs = open_store();
    static struct domain_info all[DOMAINS_MAX];
    int rc = 0;
    printf("%-32s %5s %5s %5s %5s %9s  %s\n", "Name", "ID", "VCPU", "CPU", "State", "Time(s)",
           "Affinity (Hard / Soft)");
    if (argc > 1) {
        for (int i = 1; i < argc; i++) {
            unsigned id;
            if (domain_resolve(xs, argv[i], &id) < 0 || !domain_query(xs, id, &all[0])) {
                rc = 1;
                continue;
            }
            list_vcpus(&all[0]);
        }
    } else {
        size_t n = domain_list(xs, all, DOMAINS_MAX);
        for (size_t i = 0; i < n; i++)
            list_vcpus(&all[i]);
    }
    store_close(xs);
    return rc;
}

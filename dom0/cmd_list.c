/* `tandem list [DOM ...]`: the `xl list` table. Domain 0 is the host. */
#include "cmds.h"
#include "domain.h"
#include "store.h"
#include "util.h"
#include "xsd.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LIST_MAX 1024

/* xl's six state letters: running, blocked, paused, shutdown, crashed, dying. */
static const char *state_letters(const char *state)
{
    if (!strcmp(state, "running"))
        return "r-----";
    if (!strcmp(state, "paused"))
        return "--p---";
    if (!strcmp(state, "shutdown") || !strcmp(state, "suspended"))   /* as xl: shut down, suspend */
        return "---s--";
    if (!strcmp(state, "crashed"))
        return "----c-";
    return "------";
}

/* The host's CPU time (user+nice+system, all CPUs) stands in for dom0's. */
static double host_cpu_seconds(void)
{
    FILE *f = fopen("/proc/stat", "re");
    unsigned long long u = 0, n = 0, s = 0;
    if (!f)
        return 0;
    if (fscanf(f, "cpu %llu %llu %llu", &u, &n, &s) != 3)
        u = n = s = 0;
    fclose(f);
    return (double)(u + n + s) / (double)sysconf(_SC_CLK_TCK);
}

static void print_header(void)
{
    printf("%-40s %5s %5s %5s %10s %9s\n", "Name", "ID", "Mem", "VCPUs", "State", "Time(s)");
}

static void print_row(const char *name, unsigned id, long mem, long vcpus,
                      const char *letters, double secs)
{
    printf("%-40s %5u %5ld %5ld     %s %9.1f\n", name, id, mem, vcpus, letters, secs);
}

static void print_dom0(void)
{
    print_row("Domain-0", 0, host_memory_mib(), sysconf(_SC_NPROCESSORS_ONLN), "r-----",
              host_cpu_seconds());
}

static void print_domain(const struct domain_info *d)
{
    print_row(d->name[0] ? d->name : "(unnamed)", d->domid, d->mem_mib, d->vcpus,
              state_letters(d->state), d->cpu_seconds);
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

/* One object of `--json` (the table's columns) or `-l` (and more). */
static void json_domain(const struct domain_info *d, bool first, bool lng)
{
    printf("%s\n  { \"name\": ", first ? "" : ",");
    json_string(d->name[0] ? d->name : "(unnamed)");
    printf(", \"domid\": %u, \"mem\": %ld, \"vcpus\": %ld, \"state\": \"%s\", "
           "\"time\": %.1f", d->domid, d->mem_mib, d->vcpus, state_letters(d->state),
           d->cpu_seconds);
    if (lng) {
        printf(", \"uuid\": ");
        json_string(d->uuid);
        printf(", \"status\": ");
        json_string(d->state);
        printf(", \"uptime\": %.1f, \"vmm_pid\": %d", d->uptime, (int)d->pid);
        if (d->preserved[0]) {
            printf(", \"ended\": ");
            json_string(d->preserved);
        }
    }
    printf(" }");
}

static void dom0_info(struct domain_info *d)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->name, sizeof(d->name), "Domain-0");
    snprintf(d->state, sizeof(d->state), "running");
    snprintf(d->uuid, sizeof(d->uuid), "00000000-0000-0000-0000-000000000000");
    d->mem_mib = host_memory_mib();
    d->vcpus = sysconf(_SC_NPROCESSORS_ONLN);
    d->cpu_seconds = host_cpu_seconds();
}

struct list_opts {
    bool json, lng;
};

static void emit(const struct list_opts *o, const struct domain_info *d, size_t i)
{
    if (o->json || o->lng)
        json_domain(d, i == 0, o->lng);
    else if (d->domid == 0)
        print_dom0();
    else
        print_domain(d);
}

static void begin(const struct list_opts *o)
{
    if (o->json || o->lng)
        printf("[");
    else
        print_header();
}

static void end(const struct list_opts *o)
{
    if (o->json || o->lng)
        printf("\n]\n");
}

static int list_some(struct xs_handle *xs, const struct list_opts *o, int n, char **doms)
{
    int rc = 0;
    size_t shown = 0;
    begin(o);
    for (int i = 0; i < n; i++) {
        unsigned id;
        struct domain_info d;
        if (!strcmp(doms[i], "0") || !strcmp(doms[i], "Domain-0")) {
            dom0_info(&d);
        } else if (domain_resolve(xs, doms[i], &id) < 0 || !domain_query(xs, id, &d)) {
            rc = 1;
            continue;
        }
        emit(o, &d, shown++);
    }
    end(o);
    return rc;
}

static void list_usage(FILE *f)
{
    fprintf(f, "usage: tandem list [-l] [--json] [DOM ...]   (see 'tandem help list')\n");
}

int cmd_list(int argc, char **argv)
{
    static const struct option opts[] = {
        { "long", no_argument, 0, 'l' }, { "json", no_argument, 0, 'j' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    struct list_opts o = { false, false };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+lh", opts, NULL)) != -1) {
        switch (c) {
        case 'l': o.lng = true; break;
        case 'j': o.json = true; break;
        case 'h': list_usage(stdout); return 0;
        default: list_usage(stderr); return EXIT_BADINPUT;
        }
    }
    /* A listing never starts xenstored; without it, the VMMs still answer. */
    struct xs_handle *xs = xsd_available() ? store_open(false) : NULL;
    int rc = 0;
    if (optind < argc) {
        rc = list_some(xs, &o, argc - optind, argv + optind);
    } else {
        static struct domain_info all[LIST_MAX];
        struct domain_info d0;
        size_t n = domain_list(xs, all, LIST_MAX);
        dom0_info(&d0);
        begin(&o);
        emit(&o, &d0, 0);
        for (size_t i = 0; i < n; i++)
            emit(&o, &all[i], i + 1);
        end(&o);
    }
    store_close(xs);
    return rc;
}

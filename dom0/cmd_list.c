/* `tandem list [DOM ...]`: the `xl list` table. Domain 0 is the host. */
#include "cmds.h"
#include "domain.h"
#include "store.h"
#include "util.h"
#include "xsd.h"

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
    if (!strcmp(state, "shutdown"))
        return "---s--";
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

static int list_some(struct xs_handle *xs, int n, char **doms)
{
    int rc = 0;
    print_header();
    for (int i = 0; i < n; i++) {
        unsigned id;
        struct domain_info d;
        if (!strcmp(doms[i], "0") || !strcmp(doms[i], "Domain-0")) {
            print_dom0();
            continue;
        }
        if (domain_resolve(xs, doms[i], &id) < 0 || !domain_query(xs, id, &d)) {
            rc = 1;
            continue;
        }
        print_domain(&d);
    }
    return rc;
}

int cmd_list(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("usage: tandem list [DOM ...]\n");
        return 0;
    }
    /* A listing never starts xenstored; without it, the VMMs still answer. */
    struct xs_handle *xs = xsd_available() ? store_open(false) : NULL;
    int rc = 0;
    if (argc > 1) {
        rc = list_some(xs, argc - 1, argv + 1);
    } else {
        static struct domain_info all[LIST_MAX];
        size_t n = domain_list(xs, all, LIST_MAX);
        print_header();
        print_dom0();
        for (size_t i = 0; i < n; i++)
            print_domain(&all[i]);
    }
    store_close(xs);
    return rc;
}

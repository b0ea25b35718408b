/* Verbs about the host: info, services status|stop, and dmesg (a domain's
 * VMM log). */
#include "cmds.h"
#include "domain.h"
#include "rundir.h"
#include "services.h"
#include "store.h"
#include "util.h"
#include "xsd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#define DOMAINS_MAX 1024
#define TANDEM_VERSION "0.1"

static long meminfo_mib(const char *key)
{
    FILE *f = fopen("/proc/meminfo", "re");
    char line[256], want[64];
    long kib = -1;
    if (!f)
        return -1;
    snprintf(want, sizeof(want), "%s: %%ld kB", key);
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, want, &kib) == 1)
            break;
    fclose(f);
    return kib < 0 ? -1 : kib / 1024;
}

int cmd_info(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "usage: tandem info\n");
        return EXIT_BADINPUT;
    }
    struct utsname u;
    struct xs_handle *xs = xsd_available() ? store_open(false) : NULL;
    static struct domain_info all[DOMAINS_MAX];
    size_t n = domain_list(xs, all, DOMAINS_MAX);
    long guest_mib = 0;
    for (size_t i = 0; i < n; i++)
        guest_mib += all[i].mem_mib;
    uname(&u);
    printf("%-22s: %s\n", "host", u.nodename);
    printf("%-22s: %s\n", "release", u.release);
    printf("%-22s: %s\n", "version", u.version);
    printf("%-22s: %s\n", "machine", u.machine);
    printf("%-22s: %ld\n", "nr_cpus", sysconf(_SC_NPROCESSORS_ONLN));
    printf("%-22s: %ld\n", "total_memory", meminfo_mib("MemTotal"));
    printf("%-22s: %ld\n", "free_memory", meminfo_mib("MemAvailable"));
    printf("%-22s: %s\n", "kvm", access("/dev/kvm", R_OK | W_OK) == 0 ? "yes" : "no (/dev/kvm missing or not writable)");
    printf("%-22s: %zu\n", "nr_domains", n);
    printf("%-22s: %ld\n", "guest_memory", guest_mib);
    printf("%-22s: %s\n", "tandem_version", TANDEM_VERSION);
    printf("%-22s: %s\n", "run_dir", rundir());
    printf("%-22s: %s\n", "xenstored", xs ? "running" : "not running");
    store_close(xs);
    return 0;
}

/* ---- services ---- */

static const char *state_name(enum service_state s)
{
    return s == SVC_RUNNING ? "running" : s == SVC_CRASHED ? "crashed" : "stopped";
}

static int services_print(void)
{
    struct service_status st[8];
    int n = services_status(st, 8), crashed = 0;
    printf("%-12s %-8s %8s  %s\n", "Service", "State", "PID", "Log");
    for (int i = 0; i < n; i++) {
        char pid[16] = "-";
        if (st[i].state != SVC_STOPPED)
            snprintf(pid, sizeof(pid), "%d", (int)st[i].pid);
        printf("%-12s %-8s %8s  %s\n", st[i].name, state_name(st[i].state), pid, st[i].log);
        if (st[i].state == SVC_CRASHED) {
            msg("%s crashed: pid %d in its pid file is gone; see %s", st[i].name,
                (int)st[i].pid, st[i].log);
            crashed++;
        }
    }
    return crashed ? 1 : 0;
}

int cmd_services(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "status"))
        return services_print();
    if (argc == 2 && !strcmp(argv[1], "stop")) {
        struct xs_handle *xs = xsd_available() ? store_open(false) : NULL;
        static struct domain_info all[DOMAINS_MAX];
        size_t n = domain_list(xs, all, DOMAINS_MAX);
        store_close(xs);
        if (n) {
            msg("%zu domain%s still run%s (first: '%s', domid %u); destroy %s first", n,
                n == 1 ? "" : "s", n == 1 ? "s" : "", all[0].name, all[0].domid,
                n == 1 ? "it" : "them");
            return EXIT_RUNTIME;
        }
        return services_stop() < 0 ? EXIT_RUNTIME : 0;
    }
    fprintf(stderr, "usage: tandem services status|stop\n");
    return EXIT_BADINPUT;
}

/* ---- dmesg ---- */

int cmd_dmesg(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: tandem dmesg DOM\n");
        return EXIT_BADINPUT;
    }
    struct xs_handle *xs = xsd_available() ? store_open(false) : NULL;
    unsigned domid;
    int rc = EXIT_RUNTIME;
    if (domain_resolve(xs, argv[1], &domid) == 0) {
        char name[32];
        snprintf(name, sizeof(name), "log/dom%u.log", domid);
        char *path = rundir_file(name);
        int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
        if (fd < 0) {
            msg("domain %u has no VMM log (%s: %s); a domain started by 'tandem run' "
                "writes its VMM's messages to that terminal", domid, path ? path : name,
                strerror(errno));
        } else {
            char buf[65536];
            ssize_t r;
            while ((r = read(fd, buf, sizeof(buf))) > 0)
                fwrite(buf, 1, (size_t)r, stdout);
            close(fd);
            rc = 0;
        }
        free(path);
    }
    store_close(xs);
    return rc;
}

/* xenstored: options, daemonizing, and the event loop. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "xenstored.h"

static void usage(FILE *out)
{
    fprintf(out,
"usage: xenstored [options]\n"
"  -s, --socket PATH        listen on PATH (default $XENSTORED_PATH, else\n"
"                           $XENSTORED_RUNDIR/socket, else /var/run/xenstored/socket)\n"
"  -N, --foreground         do not daemonize (also --no-fork)\n"
"  -F, --pid-file FILE      write the daemon's pid to FILE\n"
"  -l, --log-file FILE      log to FILE instead of stderr (reopened on SIGHUP)\n"
"  -V, --verbose            log every request\n"
"      --vmm-dir DIR        where tandem-vmm control sockets are (default: the\n"
"                           directory of the xenstored socket)\n"
"  -E, --entry-nb N         nodes per domain (1000)\n"
"  -S, --entry-size N       max. bytes of one node (2048)\n"
"  -A, --perm-nb N          permissions per node (5)\n"
"  -W, --watch-nb N         watches per domain (128)\n"
"  -t, --transaction N      transactions per domain (10)\n"
"  -M, --path-max N         path bytes below /local/domain/<id> (2048)\n"
"  -Q, --quota NAME=N       set any quota by its CONTROL quota name\n"
"  -K, --keep-orphans       give a released domain's nodes to dom0\n"
"      --poll-us N          poll up to N us for the next request before\n"
"                           sleeping (adaptive; default 200, 0: never)\n"
"  -h, --help\n");
}

static volatile sig_atomic_t reopen_log;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        reopen_log = 1;
    else
        xsd_stop = 1;
}

static int set_quota(int q, const char *val)
{
    char *end;
    long v = strtol(val, &end, 10);

    if (*end || v < 1 || v > 1 << 30) {
        fprintf(stderr, "xenstored: bad value '%s' for quota %s\n", val, xsd_quota_defs[q].name);
        return -1;
    }
    xsd_quota[q] = (int)v;
    return 0;
}

static char *default_socket(void)
{
    const char *p = getenv("XENSTORED_PATH"), *rundir;
    char *s;

    if (p && *p)
        return strdup(p);
    rundir = getenv("XENSTORED_RUNDIR");
    if (!rundir || !*rundir)
        rundir = "/var/run/xenstored";
    if (asprintf(&s, "%s/socket", rundir) < 0)
        return NULL;
    return s;
}

int main(int argc, char **argv)
{
    enum { OPT_VMM_DIR = 256, OPT_POLL_US };
    static const struct option opts[] = {
        { "socket", 1, NULL, 's' },      { "foreground", 0, NULL, 'N' },
        { "no-fork", 0, NULL, 'N' },     { "pid-file", 1, NULL, 'F' },
        { "log-file", 1, NULL, 'l' },    { "verbose", 0, NULL, 'V' },
        { "vmm-dir", 1, NULL, OPT_VMM_DIR }, { "poll-us", 1, NULL, OPT_POLL_US },
        { "entry-nb", 1, NULL, 'E' },    { "entry-size", 1, NULL, 'S' },
        { "perm-nb", 1, NULL, 'A' },     { "watch-nb", 1, NULL, 'W' },
        { "transaction", 1, NULL, 't' }, { "path-max", 1, NULL, 'M' },
        { "quota", 1, NULL, 'Q' },       { "keep-orphans", 0, NULL, 'K' },
        { "help", 0, NULL, 'h' },        { NULL, 0, NULL, 0 },
    };
    char *sock = NULL, *pidfile = NULL, *vmmdir = NULL, *sock_alloc = NULL, *vmm_alloc = NULL;
    bool foreground = false;
    int opt, ready[2] = { -1, -1 }, fd;
    struct sigaction sa = { .sa_handler = on_signal };

    quota_reset();
    while ((opt = getopt_long(argc, argv, "s:NF:l:VE:S:A:W:t:M:Q:Kh", opts, NULL)) != -1) {
        int q = -1;
        switch (opt) {
        case 's': sock = optarg; break;
        case 'N': foreground = true; break;
        case 'F': pidfile = optarg; break;
        case 'l':
            if (xsd_log_open(optarg)) {
                fprintf(stderr, "xenstored: %s: %s\n", optarg, strerror(errno));
                return 1;
            }
            break;
        case 'V': xsd_verbose = 1; break;
        case OPT_VMM_DIR: vmmdir = optarg; break;
        case OPT_POLL_US: {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (!*optarg || *end || v < 0 || v > 10000) {
                fprintf(stderr, "xenstored: --poll-us '%s': want 0 to 10000 microseconds\n", optarg);
                return 1;
            }
            ev_set_poll_us((unsigned)v);
            break;
        }
        case 'E': q = Q_NODES; break;
        case 'S': q = Q_NODE_SIZE; break;
        case 'A': q = Q_PERMS; break;
        case 'W': q = Q_WATCHES; break;
        case 't': q = Q_TRANSACTIONS; break;
        case 'M': q = Q_PATH_MAX; break;
        case 'Q': {
            char *eq = strchr(optarg, '=');
            if (eq)
                *eq = '\0';
            if (!eq || (q = quota_by_name(optarg)) < 0) {
                fprintf(stderr, "xenstored: --quota %s: want NAME=N with a known NAME\n", optarg);
                return 1;
            }
            if (set_quota(q, eq + 1))
                return 1;
            q = -1;
            break;
        }
        case 'K': xsd_keep_orphans = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 1;
        }
        if (q >= 0 && set_quota(q, optarg))
            return 1;
    }
    if (optind != argc) {
        fprintf(stderr, "xenstored: unexpected argument '%s'\n", argv[optind]);
        return 1;
    }
    if (!sock && !(sock = sock_alloc = default_socket()))
        return 1;
    if (!vmmdir) {
        char *copy = strdup(sock);
        vmmdir = vmm_alloc = copy ? strdup(dirname(copy)) : NULL;
        free(copy);
    }
    xsd_vmm_dir = vmmdir ? vmmdir : ".";

    if (!foreground) {
        pid_t pid;
        char c;
        if (pipe(ready) < 0 || (pid = fork()) < 0) {
            perror("xenstored: fork");
            return 1;
        }
        if (pid > 0) {
            close(ready[1]);
            /* The daemon's state belongs to the child: leave without
             * running exit handlers (nor a leak check) on it. */
            _exit(read(ready[0], &c, 1) == 1 ? 0 : 1);
        }
        close(ready[0]);
        setsid();
    }
    signal(SIGPIPE, SIG_IGN);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    {
        /* Delivered only while the loop sleeps (epoll_pwait): a signal
         * that came while it polled or served would otherwise set
         * xsd_stop just before a sleep that never ends. */
        sigset_t stop_sigs, old;

        sigemptyset(&stop_sigs);
        sigaddset(&stop_sigs, SIGTERM);
        sigaddset(&stop_sigs, SIGINT);
        sigaddset(&stop_sigs, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &stop_sigs, &old) == 0)
            ev_set_wait_sigmask(&old);
    }

    if (xsd_core_init() != 0) {
        fprintf(stderr, "xenstored: epoll: %s\n", strerror(errno));
        return 1;
    }
    fd = socket_listen(sock);
    if (fd < 0) {
        fprintf(stderr, "xenstored: %s: %s\n", sock, strerror(-fd));
        return 1;
    }
    if (pidfile) {
        FILE *f = fopen(pidfile, "w");
        if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0) {
            fprintf(stderr, "xenstored: %s: %s\n", pidfile, strerror(errno));
            return 1;
        }
    }
    xsd_log(XSD_LOG_INFO, "listening on %s, tandem-vmm sockets in %s", sock, xsd_vmm_dir);
    if (!foreground) {
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
            dup2(null, 2);
            if (null > 2)
                close(null);
        }
        if (write(ready[1], "1", 1) < 0)
            return 1;
        close(ready[1]);
    }
    while (!xsd_stop) {
        ev_run_once(-1);
        if (reopen_log) {
            reopen_log = 0;
            xsd_log_reopen();
        }
    }
    xsd_core_fini();
    unlink(sock);
    if (pidfile)
        unlink(pidfile);
    xsd_log_close();
    free(sock_alloc);
    free(vmm_alloc);
    return 0;
}

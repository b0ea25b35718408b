/* `tandem save DOM FILE` and `tandem restore FILE` (docs/save-restore.md).
 * save asks the guest to suspend with Xen's protocol (control/shutdown =
 * "suspend"; the guest clears it and calls SCHEDOP_shutdown(SHUTDOWN_suspend)),
 * then has the VMM write the file (control socket `save`); the VMM exits 4
 * and the supervisor cleans up as for any ended domain. restore checks the
 * whole file first (hypervisor/vmm/savefile.c, the one parser) and then
 * creates the domain as `create` does, under a new domid, with its first
 * start coming from the file. */
#include "cmds.h"
#include "ctl_client.h"
#include "domain.h"
#include "domid.h"
#include "record.h"
#include "rundir.h"
#include "savefile.h"
#include "store.h"
#include "tdm_error.h"
#include "util.h"
#include "xsd.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SAVE_ACK_TIMEOUT_S 30      /* default -t: the guest must suspend by then */
#define SAVE_WRITE_TIMEOUT_MS 600000

static void save_usage(FILE *f)
{
    fprintf(f, "usage: tandem save [-t SECONDS] DOM FILE\n"
               "  -t  how long the guest may take to suspend (default %d)\n"
               "See 'tandem help save'.\n", SAVE_ACK_TIMEOUT_S);
}

static void restore_usage(FILE *f)
{
    fprintf(f, "usage: tandem restore [-c] [-p] FILE\n"
               "  -c  attach to the console once the domain runs\n"
               "  -p  leave the restored domain paused\n"
               "See 'tandem help restore'.\n");
}

/* FILE as an absolute path the control socket can carry (no blanks or
 * control characters), in a directory that exists. Caller frees. */
static char *absolute_target(const char *file)
{
    for (const char *p = file; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f) {
            msg("%s: a save file name cannot hold blanks or control characters", file);
            return NULL;
        }
    const char *slash = strrchr(file, '/');
    char *dir = slash ? strndup(file, slash == file ? 1 : (size_t)(slash - file)) : strdup(".");
    const char *base = slash ? slash + 1 : file;
    char real[PATH_MAX];
    char *out = NULL;
    if (!*base)
        msg("%s: names a directory, not a file", file);
    else if (!dir || !realpath(dir, real))
        msg("%s: %s", file, strerror(errno));
    else
        out = xasprintf("%s/%s", strcmp(real, "/") ? real : "", base);
    free(dir);
    return out;
}

static bool read_info(struct tdm_ctl *c, char *state, size_t len)
{
    struct tdm_ctl_reply r;
    if (tdm_ctl_request(c, "info", TDM_CTL_ANY_FDS, &r) < 0)
        return false;
    const char *s = tdm_ctl_get(&r, "state");
    snprintf(state, len, "%s", s ? s : "?");
    return true;
}

static void sleep_backoff(long *delay_us)
{
    struct timespec ts = { 0, *delay_us * 1000 };
    nanosleep(&ts, NULL);
    if (*delay_us < 50000)
        *delay_us *= 2;
}

/* Waits for the guest to take the request (it clears control/shutdown)
 * and for its VMM to report it suspended. */
static int wait_suspended(struct xs_handle *xs, struct tdm_ctl *c, unsigned domid, int64_t deadline)
{
    long delay_us = 500;
    char state[32] = "";
    while (now_ms() < deadline) {
        if (!read_info(c, state, sizeof(state))) {
            msg("domain %u: its VMM stopped answering: %s", domid, tdm_last_error());
            return -1;
        }
        if (!strcmp(state, "suspended"))
            return 0;
        if (!strcmp(state, "shutdown")) {
            msg("domain %u shut down instead of suspending", domid);
            return -1;
        }
        sleep_backoff(&delay_us);
    }
    char *v = store_read(xs, "/local/domain/%u/control/shutdown", domid);
    bool acked = v && !*v;
    free(v);
    return acked ? 1 : 2;   /* 1: acknowledged but not suspended; 2: never acknowledged */
}

/* The guest did not suspend in time: take the request back; a guest that
 * suspended in the meantime is resumed (its SCHEDOP_shutdown returns 1). */
static void withdraw(struct xs_handle *xs, struct tdm_ctl *c, unsigned domid)
{
    char *path = xasprintf("/local/domain/%u/control/shutdown", domid);
    store_write(xs, path, "");
    free(path);
    char state[32];
    struct tdm_ctl_reply r;
    if (read_info(c, state, sizeof(state)) && !strcmp(state, "suspended"))
        tdm_ctl_request(c, "resume", TDM_CTL_ANY_FDS, &r);
}

static int do_save(struct xs_handle *xs, unsigned domid, const char *target, int timeout_s)
{
    struct tdm_ctl *c = tdm_ctl_connect(NULL, domid);
    char state[32];
    if (!c || !read_info(c, state, sizeof(state))) {
        msg("domain %u: its VMM does not answer: %s", domid, tdm_last_error());
        tdm_ctl_close(c);
        return EXIT_RUNTIME;
    }
    int rc = EXIT_RUNTIME;
    char *feature = store_read(xs, "/local/domain/%u/control/feature-suspend", domid);
    char *path = xasprintf("/local/domain/%u/control/shutdown", domid);
    if (strcmp(state, "running"))
        msg("domain %u is %s; only a running domain can be asked to suspend", domid, state);
    else if (!feature || strcmp(feature, "1"))
        msg("domain %u does not advertise control/feature-suspend: its guest cannot suspend", domid);
    else if (!store_write(xs, path, "suspend"))
        msg("cannot write %s", path);
    else {
        int64_t t0 = now_ms();
        int w = wait_suspended(xs, c, domid, t0 + (int64_t)timeout_s * 1000);
        if (w > 0) {
            withdraw(xs, c, domid);
            msg("domain %u %s within %d s; it keeps running", domid,
                w == 2 ? "did not acknowledge the suspend request" : "acknowledged but did not suspend",
                timeout_s);
        } else if (w == 0) {
            /* The domain's record, hot-attached devices included. */
            char *cfg_path = record_path(domid);
            char *req = access(cfg_path ? cfg_path : "", R_OK) == 0
                            ? xasprintf("save file=%s toolstack=%s", target, cfg_path)
                            : xasprintf("save file=%s", target);
            struct tdm_ctl_reply r;
            tdm_ctl_set_timeout(c, SAVE_WRITE_TIMEOUT_MS);
            int64_t t1 = now_ms();
            if (tdm_ctl_request(c, req, TDM_CTL_ANY_FDS, &r) < 0) {
                msg("domain %u: save failed: %s; the domain carries on", domid, tdm_last_error());
            } else {
                int64_t t2 = now_ms();
                wait_domid_released(domid);
                printf("saved domain %u to %s (suspend %.2f s, write %.2f s)\n", domid, target,
                       (double)(t1 - t0) / 1000, (double)(t2 - t1) / 1000);
                rc = 0;
            }
            free(req);
            free(cfg_path);
        }
    }
    free(path);
    free(feature);
    tdm_ctl_close(c);
    return rc;
}

int cmd_save(int argc, char **argv)
{
    int opt, timeout_s = SAVE_ACK_TIMEOUT_S;
    optind = 1;
    while ((opt = getopt(argc, argv, "+t:h")) != -1) {
        char *end;
        switch (opt) {
        case 't':
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || *end || v < 1 || v > 3600) {
                msg("-t '%s': expected seconds in 1..3600", optarg);
                return EXIT_BADINPUT;
            }
            timeout_s = (int)v;
            break;
        case 'h': save_usage(stdout); return 0;
        default: save_usage(stderr); return EXIT_BADINPUT;
        }
    }
    if (argc - optind != 2) {
        save_usage(stderr);
        return EXIT_BADINPUT;
    }
    char *target = absolute_target(argv[optind + 1]);
    if (!target)
        return EXIT_BADINPUT;
    struct xs_handle *xs = xsd_available() ? store_open(true) : NULL;
    unsigned domid;
    int rc;
    if (!xs) {
        msg("xenstored is not running: no domain to save");
        rc = EXIT_RUNTIME;
    } else if (domain_resolve(xs, argv[optind], &domid) < 0)
        rc = EXIT_RUNTIME;   /* as every verb: no such domain is 1 */
    else
        rc = do_save(xs, domid, target, timeout_s);
    store_close(xs);
    free(target);
    return rc;
}

/* A configuration for a file saved without the toolstack's: the machine
 * the header describes, no devices. */
static char *minimal_config(const struct save_header *h)
{
    return xasprintf("name = \"%s\"\nkernel = \"%s\"\nmemory = %llu\nvcpus = %u\n"
                     "max_grant_frames = %u\ncpu_mode = \"plain\"\n",
                     h->name, h->kernel, (unsigned long long)h->memory_mib, h->vcpus,
                     h->grant_frames);
}

static char *write_temp_config(const char *text)
{
    char *name = rundir_file("restore-XXXXXX.cfg");
    if (!name)
        return NULL;
    int fd = mkstemps(name, 4);
    size_t len = strlen(text);
    if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
        msg("%s: %s", name, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(name);
        }
        free(name);
        return NULL;
    }
    close(fd);
    return name;
}

int cmd_restore(int argc, char **argv)
{
    bool paused = false, attach = false;
    int opt;
    optind = 1;
    while ((opt = getopt(argc, argv, "+cph")) != -1) {
        switch (opt) {
        case 'c': attach = true; break;
        case 'p': paused = true; break;
        case 'h': restore_usage(stdout); return 0;
        default: restore_usage(stderr); return EXIT_BADINPUT;
        }
    }
    if (argc - optind != 1) {
        restore_usage(stderr);
        return EXIT_BADINPUT;
    }
    char real[PATH_MAX], err[768];
    const char *file = argv[optind];
    if (!realpath(file, real)) {
        msg("%s: %s", file, strerror(errno));
        return EXIT_BADINPUT;
    }
    struct save_header h;
    void *hdr;
    int fd = save_file_open(real, NULL, true, &h, &hdr, err, sizeof(err));
    if (fd < 0) {
        msg("%s; nothing was started", err);
        return EXIT_BADINPUT;
    }
    char *text = *h.toolstack ? strdup(h.toolstack) : minimal_config(&h);
    unsigned saved_domid = h.domid;
    save_file_close(fd, &h, hdr);
    if (!text || rundir_ensure() < 0) {
        free(text);
        return EXIT_RUNTIME;
    }
    char *cfg = write_temp_config(text);
    free(text);
    if (!cfg)
        return EXIT_RUNTIME;
    int rc = cmd_run_restore(cfg, real, saved_domid, paused, attach);
    unlink(cfg);
    free(cfg);
    return rc;
}

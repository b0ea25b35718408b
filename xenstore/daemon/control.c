/* XS_CONTROL: check, log, logfile, print, quota, memreport, help. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenstored.h"

#define CTL_MAX_ARGS 8

static void reply_text(struct conn *c, const struct xsd_msg *m, const char *text)
{
    send_reply(c, m, XS_CONTROL, text, strlen(text) + 1);
}

static int ctl_check(struct conn *c, const struct xsd_msg *m, const char **v, unsigned int n)
{
    char msg[256];

    (void)v;
    if (n)
        return EINVAL;
    if (tree_check(msg, sizeof(msg))) {
        xsd_log(XSD_LOG_ERR, "store check: %s", msg);
        return EIO;
    }
    send_ack(c, m);
    return 0;
}

static int ctl_log(struct conn *c, const struct xsd_msg *m, const char **v, unsigned int n)
{
    if (n != 1)
        return EINVAL;
    if (strcmp(v[0], "on") == 0)
        xsd_trace_on = true;
    else if (strcmp(v[0], "off") == 0)
        xsd_trace_on = false;
    else
        return EINVAL;
    send_ack(c, m);
    return 0;
}

static int ctl_logfile(struct conn *c, const struct xsd_msg *m, const char **v, unsigned int n)
{
    int err;

    if (n != 1)
        return EINVAL;
    if ((err = xsd_log_open(v[0])) != 0)
        return err;
    send_ack(c, m);
    return 0;
}

static int ctl_print(struct conn *c, const struct xsd_msg *m, const char **v, unsigned int n)
{
    if (n != 1)
        return EINVAL;
    xsd_log(XSD_LOG_ERR, "control: %s", v[0]);
    send_ack(c, m);
    return 0;
}

static int ctl_memreport(struct conn *c, const struct xsd_msg *m, const char **v, unsigned int n)
{
    char buf[256];
    size_t conns = 0;

    (void)v;
    if (n)
        return EINVAL;
    for (struct conn *x = xsd_conns; x; x = x->next)
        conns++;
    snprintf(buf, sizeof(buf), "nodes: %zu\nwatches: %zu\nconnections: %zu\ndomains: %u\n",
             tree_count(), watch_count(), conns, domain_count());
    reply_text(c, m, buf);
    return 0;
}

static int ctl_quota(struct conn *c, const struct xsd_msg *m, const char **v, unsigned int n)
{
    char buf[XENSTORE_PAYLOAD_MAX];
    size_t len = 0;

    if (n == 0) {
        len += (size_t)snprintf(buf, sizeof(buf), "Quota settings:\n");
        for (int i = 0; i < Q_COUNT; i++)
            len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%-17s: %8d %s\n",
                                    xsd_quota_defs[i].name, xsd_quota[i],
                                    xsd_quota_defs[i].descr);
        reply_text(c, m, buf);
        return 0;
    }
    if (strcmp(v[0], "set") == 0) {
        int q, val;
        if (n != 3 || (q = quota_by_name(v[1])) < 0)
            return EINVAL;
        val = atoi(v[2]);
        if (val < 1)
            return EINVAL;
        xsd_quota[q] = val;
        send_ack(c, m);
        return 0;
    }
    if (n == 1) {
        unsigned int domid;
        struct xsd_domain *d;
        struct conn *dc;
        if (!xsc_parse_domid(v[0], &domid))
            return EINVAL;
        d = domain_find(domid);
        dc = d ? d->conn : NULL;
        snprintf(buf, sizeof(buf),
                 "Domain %u:\n%-17s: %8u\n%-17s: %8u\n%-17s: %8u\n%-17s: %8u\n", domid,
                 "nodes", tree_owned(domid), "watches", dc ? dc->nwatches : 0,
                 "transactions", dc ? dc->ntx : 0, "outstanding", dc ? dc->out_replies : 0);
        reply_text(c, m, buf);
        return 0;
    }
    return EINVAL;
}

static int ctl_help(struct conn *c, const struct xsd_msg *m, const char **v, unsigned int n);

static const struct {
    const char *name;
    int (*fn)(struct conn *, const struct xsd_msg *, const char **, unsigned int);
    const char *usage;
} cmds[] = {
    { "check", ctl_check, "check" },
    { "log", ctl_log, "log on|off" },
    { "logfile", ctl_logfile, "logfile <file>" },
    { "memreport", ctl_memreport, "memreport" },
    { "print", ctl_print, "print <string>" },
    { "quota", ctl_quota, "quota [set <name> <val>|<domid>]" },
    { "help", ctl_help, "help" },
};

static int ctl_help(struct conn *c, const struct xsd_msg *m, const char **v, unsigned int n)
{
    char buf[1024];
    size_t len = 0;

    (void)v; (void)n;
    for (size_t i = 0; i < XSD_ARRAY_SIZE(cmds); i++)
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s\n", cmds[i].usage);
    reply_text(c, m, buf);
    return 0;
}

int control_dispatch(struct conn *c, const struct xsd_msg *m)
{
    const char *v[CTL_MAX_ARGS + 1];
    unsigned int num = xsc_count_strings(m->body, m->hdr.len);

    if (num < 1 || num > CTL_MAX_ARGS + 1)
        return EINVAL;
    if (wire_strings(m, v, num) != num)
        return EIO;
    for (size_t i = 0; i < XSD_ARRAY_SIZE(cmds); i++)
        if (strcmp(v[0], cmds[i].name) == 0)
            return cmds[i].fn(c, m, v + 1, num - 1);
    return EINVAL;
}

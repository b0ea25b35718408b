/*
 * xenstored internals: one header for the daemon's core library
 * (libxenstored-core.a), which main.c, the unit tests and the fuzz target
 * link.  One concept a file: tree.c (nodes), perms.c, transaction.c,
 * watch.c, quota.c, wire.c (framing), ops.c (one handler per message type),
 * conn.c, socket.c, ring.c, domain.c, control.c, event.c, log.c.
 */
#ifndef TANDEM_XENSTORED_H
#define TANDEM_XENSTORED_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "xs_common.h"

#define XSD_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define xsd_container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

/* ---- htab.c: intrusive string-keyed hash table ------------------------ */
struct hnode {
    struct hnode *next;
    uint32_t hash;
    const char *key;
};
struct htab {
    struct hnode **buckets;
    size_t nbuckets, count;
};
uint32_t htab_hash(const char *s);
void htab_init(struct htab *t);
void htab_free(struct htab *t);      /* frees the bucket array only */
struct hnode *htab_get(const struct htab *t, const char *key);
void htab_add(struct htab *t, struct hnode *n, const char *key);
void htab_del(struct htab *t, struct hnode *n);
/* Calls fn for every entry; fn may delete the entry it is given. */
void htab_each(struct htab *t, void (*fn)(struct hnode *, void *), void *arg);

/* ---- log.c ------------------------------------------------------------ */
enum { XSD_LOG_ERR, XSD_LOG_INFO, XSD_LOG_DEBUG };
extern int xsd_verbose;      /* --verbose: request tracing */
extern bool xsd_trace_on;    /* CONTROL log on|off */
int xsd_log_open(const char *path);
void xsd_log_close(void);
void xsd_log_reopen(void); /* after log rotation (SIGHUP) */
void xsd_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- quota.c ---------------------------------------------------------- */
enum xsd_quota {
    Q_NODES,        /* nodes owned per domain           (ENOSPC) */
    Q_NODE_SIZE,    /* bytes of one node                (ENOSPC) */
    Q_PERMS,        /* permissions per node             (ENOSPC) */
    Q_WATCHES,      /* watches per domain               (E2BIG)  */
    Q_TRANSACTIONS, /* open transactions per connection (ENOSPC) */
    Q_OUTSTANDING,  /* requests in flight per connection (stall) */
    Q_TX_NODES,     /* nodes accessed per transaction   (ENOSPC) */
    Q_PATH_MAX,     /* path bytes below /local/domain/N (EINVAL) */
    Q_COUNT
};
struct xsd_quota_def {
    const char *name;
    int def;
    const char *descr;
};
extern int xsd_quota[Q_COUNT];
extern const struct xsd_quota_def xsd_quota_defs[Q_COUNT];
void quota_reset(void);
int quota_by_name(const char *name); /* index or -1 */

/* ---- tree.c: nodes ---------------------------------------------------- */
/*
 * A node lives either in the main table or in a transaction's table (a
 * private copy).  Children are a list of NUL-terminated leaf names, as on
 * the wire, in creation order.
 */
struct node {
    struct hnode h;
    char *name;
    char *value;
    uint32_t vlen;
    char *children;
    uint32_t childlen, childcap;
    struct xsc_perm *perms;
    uint32_t nperms;
    uint64_t gen;
    /* Transaction copies only. */
    bool deleted;     /* tombstone: absent inside the transaction */
    bool modified;    /* to be applied at commit */
    bool base_exists; /* existed in the main tree when first accessed */
    uint8_t fired;    /* watch events queued for commit: 1 subtree, 2 exact */
    uint64_t base_gen;
};

extern uint64_t xsd_generation;
void tree_init(void);
void tree_fini(void);
struct node *tree_lookup(const char *path);     /* main tree */
struct node *node_new(const char *name, const void *val, uint32_t vlen,
                      const struct xsc_perm *perms, uint32_t nperms);
void node_free(struct node *n);
int node_set_value(struct node *n, const void *val, uint32_t vlen);
int node_set_perms(struct node *n, const struct xsc_perm *perms, uint32_t nperms);
int node_add_child(struct node *n, const char *leaf);
void node_del_child(struct node *n, const char *leaf);
size_t node_size(const struct node *n); /* what the node-size quota counts */
static inline unsigned int node_owner(const struct node *n) { return n->perms[0].id; }
/* Main-tree mutation (keeps owner accounting). */
void tree_insert(struct node *n);
void tree_remove(struct node *n); /* unlinks and frees n only */
void tree_chown(struct node *n, unsigned int owner);
void tree_touch(struct node *n);  /* new generation */
unsigned int tree_owned(unsigned int domid);
void tree_acc(unsigned int domid, int delta);
size_t tree_count(void);
const char *leaf_name(const char *path);
/* Writes the parent path of path into buf (size >= strlen(path)+1). */
void parent_path(const char *path, char *buf);
/* Integrity check of the main tree (CONTROL check); 0 if consistent. */
int tree_check(char *msg, size_t size);

/* ---- conn.c ----------------------------------------------------------- */
struct conn;
struct transaction;
struct watch;
struct xsd_domain;

struct conn_ops {
    /* Moves bytes; >= 0 bytes done (0 = would block), < 0 = broken. */
    ssize_t (*read)(struct conn *c, void *buf, size_t len);
    ssize_t (*write)(struct conn *c, const void *buf, size_t len);
    void (*update)(struct conn *c); /* re-arm readiness interest */
    void (*close)(struct conn *c);  /* release the transport */
    const char *kind;
};

struct outmsg {
    struct outmsg *next;
    size_t len, off;
    bool is_reply;
    uint64_t queued_ms;
    char data[];
};

#define XSD_HDR_LEN ((size_t)sizeof(struct xsd_sockmsg))
#define XSD_MSG_MAX (XSD_HDR_LEN + XENSTORE_PAYLOAD_MAX)
#define XSD_INBUF (2 * XSD_MSG_MAX)
#define XSD_OUTQ_MAX (4u << 20)        /* queued bytes before a drop */
#define XSD_OUTQ_TOTAL_MAX (64u << 20) /* all connections' queued bytes */
#define XSD_STALL_MS 20000             /* Xen's watch-event timeout */
#define XSD_BATCH 8                    /* requests per connection per round */

struct conn {
    const struct conn_ops *ops;
    void *priv;
    int fd;
    unsigned int id;         /* domain id: 0 for sockets */
    struct xsd_domain *domain; /* ring connections only */
    bool has_target;
    unsigned int target;     /* SET_TARGET */
    bool dead;
    bool ignored;            /* protocol error: no more I/O */
    char inbuf[XSD_INBUF];
    size_t inlen;
    struct outmsg *out_head, *out_tail;
    size_t out_bytes;
    unsigned int out_replies;
    uint64_t stall_since_ms; /* output pending without progress */
    struct watch *watches;
    unsigned int nwatches;
    struct transaction *txs;
    unsigned int ntx;
    uint32_t next_txid;
    unsigned int batch;      /* requests served in round batch_round */
    uint64_t batch_round;
    bool backlog;            /* input left over when its batch ran out */
    bool half_noted;         /* its partial message made the loop poll */
    uint64_t ring_event_ms;  /* ring: when ring_event last ran */
    bool unkicked_said;      /* ring: ring_check_unkicked has said so once */
    struct conn *next, *prev;
    /* CONN_MEM capture (tests, fuzzing) */
    char *cap;
    size_t caplen, capsize;
};

extern struct conn *xsd_conns;
extern size_t xsd_outq_total_max;  /* XSD_OUTQ_TOTAL_MAX; tests lower it */
size_t conn_out_total(void);
struct conn *conn_new(const struct conn_ops *ops, void *priv, int fd, unsigned int domid);
bool conn_privileged(const struct conn *c);
/* Queues a complete message; writes through when the queue is empty. */
void conn_queue(struct conn *c, const void *msg, size_t len, bool is_reply);
void conn_flush(struct conn *c);                /* retry queued output */
void conn_input(struct conn *c);                /* read and dispatch a batch */
void conn_next_round(void);                     /* new batch for everyone */
bool conn_backlogged(void);                     /* anyone left input over */
void conn_serve_backlog(void);                  /* a batch for each of them */
void conn_process(struct conn *c);              /* dispatch buffered input */
void conn_close(struct conn *c, const char *why); /* deferred free */
void conn_reset(struct conn *c);                /* drop watches, txs, queues */
void conn_reap(void);                           /* free closed connections */
void conn_check_stalls(uint64_t now_ms);
bool conn_wants_read(const struct conn *c);
void conn_close_all(void);
uint64_t xsd_now_ms(void);
uint64_t xsd_now_ns(void);
extern uint64_t xsd_half_message_ns; /* last header seen without its payload */
#define XSD_SPIN_NS 25000u           /* how long the loop polls for the rest */
/* In-memory connection for tests and the fuzzer: replies are captured. */
struct conn *conn_new_mem(unsigned int domid);
void conn_mem_feed(struct conn *c, const void *data, size_t len);

/* ---- wire.c: framing and replies -------------------------------------- */
struct xsd_msg {
    struct xsd_sockmsg hdr;
    const char *body;  /* hdr.len bytes, not NUL-terminated in general */
};
/* Splits a complete message off buf: 1 = got one (consumed set),
 * 0 = need more bytes, -1 = bad header (payload over the limit). */
int wire_parse(const char *buf, size_t len, struct xsd_msg *m, size_t *consumed);
/* Up to max strings of the payload (Xen's get_strings); returns count. */
unsigned int wire_strings(const struct xsd_msg *m, const char **vec, unsigned int max);
/* The payload as one string with exactly one NUL at its end, or NULL. */
const char *wire_onearg(const struct xsd_msg *m);
void send_reply(struct conn *c, const struct xsd_msg *req, uint32_t type,
                const void *data, size_t len);
void send_ack(struct conn *c, const struct xsd_msg *req);
void send_error(struct conn *c, const struct xsd_msg *req, int err);
void send_event(struct conn *c, const char *path, const char *token);

/* ---- perms.c ---------------------------------------------------------- */
unsigned int perm_for_conn(const struct conn *c, const struct xsc_perm *perms, uint32_t n);
#define XSD_PERM_OWNER 0x08u

/* ---- transaction.c ---------------------------------------------------- */
struct tx_fire {
    struct tx_fire *next;
    bool exact;
    char path[];
};
struct transaction {
    struct transaction *next;
    uint32_t id;
    struct htab nodes;       /* accessed nodes: copies and tombstones */
    struct tx_fire *fires, *fires_tail;
    int node_delta;          /* nodes created - deleted for the caller */
};
struct transaction *tx_start(struct conn *c);         /* errno on NULL */
struct transaction *tx_find(struct conn *c, uint32_t id);
void tx_unlink(struct conn *c, struct transaction *t);
int tx_commit(struct conn *c, struct transaction *t); /* 0 or EAGAIN */
void tx_free(struct transaction *t);
void tx_add_fire(struct transaction *t, const char *path, bool exact);

/* ---- store.c: the node view an operation sees (main or transaction) --- */
/* Returns the node visible at path or NULL with errno (ENOENT, ENOSPC). */
struct node *store_read(struct conn *c, struct transaction *t, const char *path);
/* Marks n changed (generation or transaction copy). */
void store_write(struct conn *c, struct transaction *t, struct node *n);
/* Creates path and missing parents with inherited permissions. */
struct node *store_create(struct conn *c, struct transaction *t, const char *path,
                          const void *val, uint32_t vlen);
/* Removes path and its descendants, firing watches. */
int store_rm(struct conn *c, struct transaction *t, const char *path);
/* Permission-checked read (Xen's get_node), errno per Xen's rules. */
struct node *store_get(struct conn *c, struct transaction *t, const char *path,
                       unsigned int perm);

/* ---- watch.c ---------------------------------------------------------- */
struct watch {
    struct watch *conn_next;
    struct watch *idx_next, *idx_prev;
    struct conn *conn;
    char *path;       /* absolute (or @special) */
    char *token;
    size_t strip;     /* bytes to strip for a relative watch */
};
void watch_init(void);
void watch_fini(void);
int watch_add(struct conn *c, const char *path, const char *token, bool relative,
              struct watch **out);
int watch_remove(struct conn *c, const char *path, const char *token);
void watch_remove_all(struct conn *c);
/* Fires watches for a change at path (exact: only watches on path). */
void watch_fire(struct conn *src, struct transaction *t, const char *path, bool exact,
                const struct xsc_perm *perms, uint32_t nperms);
void watch_fire_special(const char *name);
void watch_event(struct watch *w, const char *path);
size_t watch_count(void);

/* ---- domain.c --------------------------------------------------------- */
struct ring_attach {
    void *page;          /* struct xenstore_domain_interface */
    void *map_base;
    size_t map_len;
    int kick_fd;         /* readable when the guest notified */
    int notify_fd;       /* write 1 to notify the guest */
    int ctl_fd;          /* -1, or a connection whose hang-up means the
                          * domain is gone (its VMM exited) */
    int guard_slot;      /* -1, or the mapping is under the SIGBUS guard */
    volatile sig_atomic_t faulted; /* the guard caught a fault in it */
};
/* Set by the SIGBUS guard (vmm_transport.c); the loop then releases the
 * domains whose ring faulted (domain_check_faults). */
extern volatile sig_atomic_t xsd_ring_faults;
void domain_check_faults(void);
/* Where a domain's ring page and event channel come from. */
struct domain_transport {
    const char *name;
    int (*attach)(const struct domain_transport *t, unsigned int domid, uint64_t gfn,
                  unsigned int port, struct ring_attach *out); /* 0 or errno */
    void (*detach)(const struct domain_transport *t, struct ring_attach *ra);
    void *priv;
};
extern const struct domain_transport vmm_transport;
extern const char *xsd_vmm_dir;
void domain_set_transport(const struct domain_transport *t);

struct xsd_domain {
    unsigned int domid;
    bool introduced;
    bool shutdown;
    uint64_t gfn;
    unsigned int port;
    struct conn *conn;
    struct ring_attach ra;
    void *evsrc;
    void *ctl_evsrc;
};
#define XSD_DOMID_FIRST_RESERVED 0x7FF0u
extern bool xsd_keep_orphans;
struct xsd_domain *domain_find(unsigned int domid);
int domain_introduce(unsigned int domid, uint64_t gfn, unsigned int port);
int domain_release(unsigned int domid);
void domain_fini(void);
unsigned int domain_count(void);

/* ---- ring.c: the shared-page transport -------------------------------- */
extern const struct conn_ops ring_conn_ops;
void ring_event(struct conn *c);  /* kick: flush output, read input */
void ring_reset(struct conn *c);  /* reconnect handshake */
/* Every XSD_RING_CHECK_MS (event loop): a ring with requests to read, or
 * room for queued output, and no event for that long is served anyway. */
#define XSD_RING_CHECK_MS 1000
void ring_check_unkicked(uint64_t now_ms);

/* ---- event.c: the epoll loop ------------------------------------------ */
struct evsrc {
    int fd;
    uint32_t events;  /* what epoll watches for now (ev_add/ev_mod) */
    void (*cb)(struct evsrc *s, uint32_t events);
    void *arg;
    struct evsrc *dead_next;
};
int ev_init(void);
void ev_fini(void);
int ev_add(struct evsrc *s, uint32_t events);
int ev_mod(struct evsrc *s, uint32_t events);
void ev_del(struct evsrc *s);
/* Stops watching s and frees it (malloc'd) once the current round of
 * events is dispatched: an event for it may still be pending. */
void ev_release(struct evsrc *s);
/* One round: waits up to timeout_ms, dispatches, reaps; returns events. */
int ev_run_once(int timeout_ms);
/* Before it sleeps the loop polls for the next event for an adaptive
 * window of at most us microseconds (tdm_poll, as the backends' queues;
 * XSD_POLL_US_DEFAULT; 0: never): a client that sends its next request
 * at once is served without a wake-up. */
#define XSD_POLL_US_DEFAULT 200u
void ev_set_poll_us(unsigned us);
/* The signal mask while the loop sleeps (the daemon blocks its stop and
 * log signals everywhere else, so none is missed); without it, as is. */
void ev_set_wait_sigmask(const sigset_t *mask);
extern volatile int xsd_stop;

/* ---- socket.c --------------------------------------------------------- */
int socket_listen(const char *path); /* fd or -errno */
void socket_close_listener(void);
/* Accepting stops while descriptors are short: a freed one resumes it, and
 * so does a retry a second later (socket_accept_paused, once a round). */
void socket_resume_accept(void);
bool socket_accept_paused(uint64_t now_ms);
extern const struct conn_ops socket_conn_ops;

/* ---- ops.c / control.c ----------------------------------------------- */
void ops_dispatch(struct conn *c, const struct xsd_msg *m);
const char *ops_name(uint32_t type);
int control_dispatch(struct conn *c, const struct xsd_msg *m);

/* ---- core.c: whole-daemon setup --------------------------------------- */
int xsd_core_init(void);
void xsd_core_fini(void);

#endif

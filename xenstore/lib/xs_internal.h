/*
 * libxenstore internals: the handle, the message framing and the reader
 * thread.  Nothing here is exported (libxenstore.map keeps only xs_*).
 */
#ifndef TANDEM_XS_INTERNAL_H
#define TANDEM_XS_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "xenstore.h"

/* One message received from the daemon; body is NUL-terminated (one byte
 * beyond hdr.len) so that string payloads can be used directly. */
struct xs_msg {
    struct xsd_sockmsg hdr;
    char *body;
    struct xs_msg *next;
};

/* Bytes of received stream not yet cut into messages: room for two full
 * messages so that one recv() usually takes a whole reply. */
#define XS_RBUF_SIZE (2 * (sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX))

struct xs_handle {
    int fd;
    bool is_socket;      /* send() with MSG_NOSIGNAL, else write() */
    bool unwatch_filter; /* XS_UNWATCH_FILTER */

    /* One request in flight per handle, as in Xen. */
    pthread_mutex_t request_lock;
    uint32_t next_req_id;

    /* Everything below is shared with the reader thread, under lock. */
    pthread_mutex_t lock;
    pthread_cond_t reply_cond;
    pthread_cond_t watch_cond;
    bool awaiting;               /* a request is in flight (reader mode) */
    struct xs_msg *reply;        /* the reply to the request in flight */
    struct xs_msg *watch_head;   /* queued watch events, oldest first */
    struct xs_msg *watch_tail;
    int broken;                  /* errno once the connection is unusable */
    int watch_pipe[2];           /* xs_fileno(): one byte while events queued */

    bool reader_running;
    pthread_t reader;
    int stop_fd;                 /* eventfd that tells the reader to exit */

    /* Receive buffer; used by exactly one reader at a time (the requester
     * before the reader thread exists, the reader thread afterwards). */
    size_t rlen;
    char rbuf[XS_RBUF_SIZE];
};

/* xs_conn.c */
struct xs_handle *xs_conn_open(const char *path, int *err);
struct xs_handle *xs_conn_adopt(int fd, bool is_socket);
void xs_conn_free(struct xs_handle *h);
int xs_conn_send(struct xs_handle *h, const struct xsd_sockmsg *hdr,
                 const struct iovec *iov, unsigned int n);
int xs_conn_recv(struct xs_handle *h, struct xs_msg **out, int stop_fd);
void xs_msg_free(struct xs_msg *m);

/* xs_talk.c: one request, its reply body (NUL-terminated, malloc()ed) or
 * NULL with errno.  len (may be NULL) gets the reply length. */
void *xs_talkv(struct xs_handle *h, xs_transaction_t t, enum xsd_sockmsg_type type,
               const struct iovec *iov, unsigned int n, unsigned int *len);
void *xs_single(struct xs_handle *h, xs_transaction_t t, enum xsd_sockmsg_type type,
                const char *arg, unsigned int *len);
bool xs_reply_ok(void *reply);
void xs_mark_broken(struct xs_handle *h, int err);

/* xs_paths.c: the xenbus device, tried when the socket fails. */
const char *xs_domain_dev(void);

/* xs_reader.c */
int xs_reader_start(struct xs_handle *h);
void xs_reader_stop(struct xs_handle *h);
bool xs_event_valid(const struct xs_msg *m);
void xs_watch_enqueue(struct xs_handle *h, struct xs_msg *m);
struct xs_msg *xs_watch_dequeue(struct xs_handle *h);

#endif

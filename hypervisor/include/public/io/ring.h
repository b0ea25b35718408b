/*
 * Shared request/response rings, the interface of Xen's public io/ring.h
 * (same macro names, same page layout) written for Tandem.
 *
 * Page layout: req_prod, req_event, rsp_prod, rsp_event (u32 each), 4 bytes
 * of per-protocol private data, 44 bytes of padding, then the entries at
 * offset 64. The number of entries is the largest power of two that fits.
 * Indices run freely modulo 2^32; an index selects slot (idx & (size - 1)).
 */
#ifndef TANDEM_PUBLIC_IO_RING_H
#define TANDEM_PUBLIC_IO_RING_H

#include <stdint.h>
#include <stddef.h>

typedef uint32_t RING_IDX;

/* Barriers: the includer may supply its own before including this file. */
#ifndef xen_mb
#define xen_mb()  __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif
#ifndef xen_rmb
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#endif
#ifndef xen_wmb
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#endif

/* Round down to a power of two (up to 2^31). */
#define __RD2(x)  (((x) & 0x00000002) ? 0x2 : ((x) & 0x1))
#define __RD4(x)  (((x) & 0x0000000c) ? __RD2((x) >> 2) << 2 : __RD2(x))
#define __RD8(x)  (((x) & 0x000000f0) ? __RD4((x) >> 4) << 4 : __RD4(x))
#define __RD16(x) (((x) & 0x0000ff00) ? __RD8((x) >> 8) << 8 : __RD8(x))
#define __RD32(x) (((x) & 0xffff0000) ? __RD16((x) >> 16) << 16 : __RD16(x))

#define XEN_RING_HEADER_SIZE 64

/* Entries that fit in a shared area of _sz bytes. */
#define __CONST_RING_SIZE(_name, _sz) \
    (__RD32(((_sz) - XEN_RING_HEADER_SIZE) / sizeof(union _name##_sring_entry)))

#define __RING_SIZE(_s, _sz) \
    (__RD32(((_sz) - (size_t)((char *)&(_s)->ring - (char *)(_s))) / sizeof((_s)->ring[0])))

#define DEFINE_RING_TYPES(__name, __req_t, __rsp_t)                        \
union __name##_sring_entry {                                               \
    __req_t req;                                                           \
    __rsp_t rsp;                                                           \
};                                                                         \
struct __name##_sring {                                                    \
    RING_IDX req_prod, req_event;                                          \
    RING_IDX rsp_prod, rsp_event;                                          \
    union {                                                                \
        struct { uint8_t smartpoll_active; } netif;                        \
        struct { uint8_t msg; } tapif_user;                                \
        uint8_t pvt_pad[4];                                                \
    } pvt;                                                                 \
    uint8_t __pad[44];                                                     \
    union __name##_sring_entry ring[];                                     \
};                                                                         \
struct __name##_front_ring {                                               \
    RING_IDX req_prod_pvt;                                                 \
    RING_IDX rsp_cons;                                                     \
    unsigned int nr_ents;                                                  \
    struct __name##_sring *sring;                                          \
};                                                                         \
struct __name##_back_ring {                                                \
    RING_IDX rsp_prod_pvt;                                                 \
    RING_IDX req_cons;                                                     \
    unsigned int nr_ents;                                                  \
    struct __name##_sring *sring;                                          \
};                                                                         \
typedef struct __name##_sring __name##_sring_t;                            \
typedef struct __name##_front_ring __name##_front_ring_t;                  \
typedef struct __name##_back_ring __name##_back_ring_t

/* Initialise a freshly allocated shared page (front end only). */
#define SHARED_RING_INIT(_s) do {                                          \
    (_s)->req_prod = (_s)->rsp_prod = 0;                                   \
    (_s)->req_event = (_s)->rsp_event = 1;                                 \
    for (size_t __i = 0; __i < sizeof((_s)->pvt.pvt_pad); __i++)           \
        (_s)->pvt.pvt_pad[__i] = 0;                                        \
    for (size_t __i = 0; __i < sizeof((_s)->__pad); __i++)                 \
        (_s)->__pad[__i] = 0;                                              \
} while (0)

#define FRONT_RING_ATTACH(_r, _s, _i, __size) do {                         \
    (_r)->req_prod_pvt = (_i);                                             \
    (_r)->rsp_cons = (_i);                                                 \
    (_r)->nr_ents = __RING_SIZE(_s, __size);                               \
    (_r)->sring = (_s);                                                    \
} while (0)
#define FRONT_RING_INIT(_r, _s, __size) FRONT_RING_ATTACH(_r, _s, 0, __size)

#define BACK_RING_ATTACH(_r, _s, _i, __size) do {                          \
    (_r)->rsp_prod_pvt = (_i);                                             \
    (_r)->req_cons = (_i);                                                 \
    (_r)->nr_ents = __RING_SIZE(_s, __size);                               \
    (_r)->sring = (_s);                                                    \
} while (0)
#define BACK_RING_INIT(_r, _s, __size) BACK_RING_ATTACH(_r, _s, 0, __size)

#define RING_SIZE(_r) ((_r)->nr_ents)

#define RING_FREE_REQUESTS(_r) \
    (RING_SIZE(_r) - ((_r)->req_prod_pvt - (_r)->rsp_cons))

#define RING_FULL(_r) (RING_FREE_REQUESTS(_r) == 0)

#define RING_HAS_UNCONSUMED_RESPONSES(_r) \
    ((_r)->sring->rsp_prod - (_r)->rsp_cons)

/* Requests the back end may consume, never more than a full ring. */
#define RING_HAS_UNCONSUMED_REQUESTS(_r) ({                                \
    unsigned int __req = (_r)->sring->req_prod - (_r)->req_cons;           \
    unsigned int __rsp = RING_SIZE(_r) - ((_r)->req_cons - (_r)->rsp_prod_pvt); \
    __req < __rsp ? __req : __rsp;                                         \
})

#define RING_GET_REQUEST(_r, _idx) \
    (&((_r)->sring->ring[(_idx) & (RING_SIZE(_r) - 1)].req))

#define RING_GET_RESPONSE(_r, _idx) \
    (&((_r)->sring->ring[(_idx) & (RING_SIZE(_r) - 1)].rsp))

/*
 * Copy a request out of shared memory so the back end validates and uses
 * one private snapshot (the front end may change the slot at any time).
 */
#define RING_COPY_REQUEST(_r, _idx, _req) do {                             \
    __builtin_memcpy((_req), RING_GET_REQUEST(_r, _idx), sizeof(*(_req))); \
    __asm__ __volatile__("" ::: "memory");                                 \
} while (0)

#define RING_COPY_RESPONSE(_r, _idx, _rsp) do {                            \
    __builtin_memcpy((_rsp), RING_GET_RESPONSE(_r, _idx), sizeof(*(_rsp))); \
    __asm__ __volatile__("" ::: "memory");                                 \
} while (0)

/* A consumer index that ran past the producer by more than a ring. */
#define RING_REQUEST_CONS_OVERFLOW(_r, _cons) \
    (((_cons) - (_r)->rsp_prod_pvt) >= RING_SIZE(_r))

#define RING_REQUEST_PROD_OVERFLOW(_r, _prod) \
    (((_prod) - (_r)->rsp_prod_pvt) > RING_SIZE(_r))

#define RING_RESPONSE_PROD_OVERFLOW(_r, _prod) \
    (((_prod) - (_r)->rsp_cons) > RING_SIZE(_r))

#define RING_PUSH_REQUESTS(_r) do {                                        \
    xen_wmb();                                                             \
    (_r)->sring->req_prod = (_r)->req_prod_pvt;                            \
} while (0)

#define RING_PUSH_RESPONSES(_r) do {                                       \
    xen_wmb();                                                             \
    (_r)->sring->rsp_prod = (_r)->rsp_prod_pvt;                            \
} while (0)

/*
 * Publish and decide whether the other end asked to be told: notify when
 * its event index lies inside the window just published.
 */
#define RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(_r, _notify) do {              \
    RING_IDX __old = (_r)->sring->req_prod;                                \
    RING_IDX __new = (_r)->req_prod_pvt;                                   \
    xen_wmb();                                                             \
    (_r)->sring->req_prod = __new;                                         \
    xen_mb();                                                              \
    (_notify) = ((RING_IDX)(__new - (_r)->sring->req_event) <              \
                 (RING_IDX)(__new - __old));                               \
} while (0)

#define RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(_r, _notify) do {             \
    RING_IDX __old = (_r)->sring->rsp_prod;                                \
    RING_IDX __new = (_r)->rsp_prod_pvt;                                   \
    xen_wmb();                                                             \
    (_r)->sring->rsp_prod = __new;                                         \
    xen_mb();                                                              \
    (_notify) = ((RING_IDX)(__new - (_r)->sring->rsp_event) <              \
                 (RING_IDX)(__new - __old));                               \
} while (0)

/*
 * Before sleeping: ask to be notified of the next request, then look again
 * (closes the race with a producer that published in between).
 */
#define RING_FINAL_CHECK_FOR_REQUESTS(_r, _work_to_do) do {                \
    (_work_to_do) = RING_HAS_UNCONSUMED_REQUESTS(_r);                      \
    if (_work_to_do)                                                       \
        break;                                                             \
    (_r)->sring->req_event = (_r)->req_cons + 1;                           \
    xen_mb();                                                              \
    (_work_to_do) = RING_HAS_UNCONSUMED_REQUESTS(_r);                      \
} while (0)

#define RING_FINAL_CHECK_FOR_RESPONSES(_r, _work_to_do) do {               \
    (_work_to_do) = RING_HAS_UNCONSUMED_RESPONSES(_r);                     \
    if (_work_to_do)                                                       \
        break;                                                             \
    (_r)->sring->rsp_event = (_r)->rsp_cons + 1;                           \
    xen_mb();                                                              \
    (_work_to_do) = RING_HAS_UNCONSUMED_RESPONSES(_r);                     \
} while (0)

#endif

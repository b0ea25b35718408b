/* Backend ring operations (see blk_ring.h). Indexes are free-running
 * 32-bit counters; all comparisons are differences, so wrap-around at
 * 2^32 needs no special case. */
#include "blk_ring.h"

void blk_ring_attach(struct blk_ring *ring, void *sring, unsigned order)
{
    blkif_sring_t *s = sring;

    /* Responses already published are done; anything after them is
     * work this backend has not seen (a fresh ring starts at 0). */
    BACK_RING_ATTACH(&ring->r, s, __atomic_load_n(&s->rsp_prod, __ATOMIC_ACQUIRE),
                     (size_t)XEN_PAGE_SIZE << order);
    ring->broken = false;
}

bool blk_ring_has_requests(const struct blk_ring *ring)
{
    RING_IDX prod = __atomic_load_n(&ring->r.sring->req_prod, __ATOMIC_ACQUIRE);

    return !ring->broken && prod != ring->r.req_cons;
}

int blk_ring_take(struct blk_ring *ring, union blkif_sring_entry *out)
{
    blkif_back_ring_t *r = &ring->r;
    RING_IDX prod;

    if (ring->broken)
        return -1;
    prod = __atomic_load_n(&r->sring->req_prod, __ATOMIC_ACQUIRE);
    if (RING_REQUEST_PROD_OVERFLOW(r, prod)) {
        ring->broken = true;        /* a frontend bug or attack; stop here */
        return -1;
    }
    if (prod == r->req_cons || RING_REQUEST_CONS_OVERFLOW(r, r->req_cons))
        return 0;
    /* One copy; the guest may rewrite the slot at any time after this. */
    __builtin_memcpy(out, &r->sring->ring[r->req_cons & (RING_SIZE(r) - 1)], sizeof(*out));
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    r->req_cons++;
    return 1;
}

void blk_ring_respond(struct blk_ring *ring, uint64_t id, uint8_t op, int16_t status)
{
    blkif_back_ring_t *r = &ring->r;
    struct blkif_response rsp = { .id = id, .operation = op, .status = status };

    __builtin_memcpy(RING_GET_RESPONSE(r, r->rsp_prod_pvt), &rsp, sizeof(rsp));
    r->rsp_prod_pvt++;
}

bool blk_ring_push(struct blk_ring *ring)
{
    bool notify;

    RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&ring->r, notify);
    return notify;
}

bool blk_ring_final_check(struct blk_ring *ring)
{
    int work;

    if (ring->broken)
        return false;
    RING_FINAL_CHECK_FOR_REQUESTS(&ring->r, work);
    return work != 0;
}

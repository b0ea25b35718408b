/*
 * The I/O bus (iobus.h, docs/vmm.md "Devices"). Each space is a sorted
 * array of ranges, found by binary search. Readers take no lock:
 *
 *  - The array is copy-on-write. A writer (iobus_register/unregister,
 *    serialised by the bus mutex) builds a new array, publishes it with
 *    one atomic store and frees the old one once no reader can still be
 *    looking at it.
 *  - Every thread that makes accesses has a slot of its own (a cache line,
 *    claimed on its first access, given back when the thread ends). A
 *    reader marks its slot "in lookup" before it loads the array and
 *    clears it once it has copied the range it found; while the handler
 *    runs, the slot names the range's id. The handler runs with nothing
 *    held: a handler may itself register, unregister or make accesses (to
 *    a depth of IOBUS_MAX_NEST).
 *  - The reader's store must be ordered before its load of the array. On
 *    Linux >= 4.14 that order is the writer's to pay for: it calls
 *    membarrier(PRIVATE_EXPEDITED), a full barrier on every CPU running a
 *    thread of this process, and the reader's store is a plain one (an
 *    access costs about 9 ns here). Without membarrier, the reader's store
 *    is seq_cst (a locked instruction, about 35 ns).
 *  - After publishing (and the barrier), a writer waits for every slot to
 *    leave its lookup (a few instructions' wait); the old array is then
 *    unreachable. An
 *    unregister then also waits, sleeping, until no slot runs the removed
 *    range's handler, except the caller's own slot (a handler that removes
 *    its own range is still running: it is the caller).
 *
 * A writer therefore waits as long as the removed handler runs (the
 * hypercall port's handler can sleep in SCHEDOP_poll), never for other
 * devices' handlers; registering waits for lookups only.
 */
#include <errno.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "iobus.h"

#define IOBUS_MAX_NEST 4
#define PIO_LIMIT 0x10000ULL

struct entry {
    struct iobus_range r;
    uint64_t id;               /* unique over all buses: what a slot names while it runs */
};

struct table {
    size_t n;
    struct entry e[];
};

struct iobus {
    pthread_mutex_t write_lock;
    _Atomic(struct table *) t[IOBUS_NR_SPACES];
};

/* One per thread that has made an access. */
struct slot {
    _Alignas(64) atomic_bool used;
    atomic_bool in_lookup;
    atomic_uint depth;
    _Atomic uint64_t running[IOBUS_MAX_NEST];
    struct slot *next;         /* the list never shrinks; slots are reused */
};

static _Atomic(struct slot *) slots;
static _Atomic uint64_t next_id = 1;
static pthread_key_t slot_key;
static pthread_once_t slot_once = PTHREAD_ONCE_INIT;
static _Thread_local struct slot *my_slot;
static pthread_once_t barrier_once = PTHREAD_ONCE_INIT;
static bool asymmetric;        /* membarrier registered: readers' stores are plain */

/* Before any thread makes an access (iobus_new). */
static void barrier_init(void)
{
    asymmetric = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}

/* The writer's side of the readers' store-then-load. */
static void full_barrier_everywhere(void)
{
    if (asymmetric && syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0)
        return;
    atomic_thread_fence(memory_order_seq_cst);
}

static void slot_release(void *p)
{
    struct slot *s = p;
    atomic_store(&s->used, false);
}

static void slot_key_init(void)
{
    pthread_key_create(&slot_key, slot_release);
}

/* This thread's slot, or NULL if none could be had (out of memory). */
static struct slot *get_slot(void)
{
    if (my_slot)
        return my_slot;
    pthread_once(&slot_once, slot_key_init);
    struct slot *s;
    for (s = atomic_load(&slots); s; s = s->next) {
        bool expected = false;
        if (atomic_compare_exchange_strong(&s->used, &expected, true))
            break;
    }
    if (!s) {
        s = aligned_alloc(64, sizeof(*s));
        if (!s)
            return NULL;
        memset(s, 0, sizeof(*s));
        atomic_store(&s->used, true);
        s->next = atomic_load(&slots);
        while (!atomic_compare_exchange_weak(&slots, &s->next, s)) {
        }
    }
    pthread_setspecific(slot_key, s);
    my_slot = s;
    return s;
}

struct iobus *iobus_new(void)
{
    pthread_once(&barrier_once, barrier_init);
    struct iobus *bus = calloc(1, sizeof(*bus));
    if (!bus)
        return NULL;
    pthread_mutex_init(&bus->write_lock, NULL);
    for (int s = 0; s < IOBUS_NR_SPACES; s++) {
        struct table *t = calloc(1, sizeof(*t));
        if (!t) {
            iobus_free(bus);
            return NULL;
        }
        atomic_init(&bus->t[s], t);
    }
    return bus;
}

/* No vCPU may be making accesses any more. */
void iobus_free(struct iobus *bus)
{
    if (!bus)
        return;
    for (int s = 0; s < IOBUS_NR_SPACES; s++)
        free(atomic_load(&bus->t[s]));
    pthread_mutex_destroy(&bus->write_lock);
    free(bus);
}

/* The index of the range holding addr, or -1. */
static long find(const struct table *t, uint64_t addr)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct iobus_range *r = &t->e[mid].r;
        if (addr < r->base)
            hi = mid;
        else if (addr - r->base >= r->len)
            lo = mid + 1;
        else
            return (long)mid;
    }
    return -1;
}

/* The first index whose range starts at or after base. */
static size_t lower_bound(const struct table *t, uint64_t base)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->e[mid].r.base < base)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void pause_briefly(unsigned int *spins)
{
    if (++*spins < 64) {
        sched_yield();
        return;
    }
    struct timespec ts = { 0, 100000 }; /* 100 us */
    nanosleep(&ts, NULL);
}

/* After a new table is published: no thread is still looking at the old
 * one once this returns; with id != 0, none runs that range's handler
 * either (except the calling thread). */
static void wait_readers(uint64_t id)
{
    struct slot *self = my_slot;
    full_barrier_everywhere();
    for (struct slot *s = atomic_load(&slots); s; s = s->next) {
        unsigned int spins = 0;
        if (s == self)
            continue;   /* our own lookup is not in progress: we are in a write */
        while (atomic_load(&s->in_lookup))
            pause_briefly(&spins);
        if (!id)
            continue;
        for (;;) {
            unsigned int d = atomic_load(&s->depth);
            bool busy = false;
            for (unsigned int i = 0; i < d && i < IOBUS_MAX_NEST; i++)
                busy |= atomic_load(&s->running[i]) == id;
            if (!busy)
                break;
            pause_briefly(&spins);
        }
    }
}

static int valid(const struct iobus_range *r)
{
    if (!r || r->space >= IOBUS_NR_SPACES || r->len == 0 || !r->fn)
        return -1;
    if (r->base + r->len < r->base && r->base + r->len != 0)
        return -1;                      /* wraps (ending exactly at 2^64 is fine) */
    if (r->space == IOBUS_PIO && (r->base >= PIO_LIMIT || r->len > PIO_LIMIT - r->base))
        return -1;
    return 0;
}

/* The last byte of a range (no overflow for one ending at 2^64). */
static uint64_t last(const struct iobus_range *r)
{
    return r->base + (r->len - 1);
}

int iobus_register(struct iobus *bus, const struct iobus_range *r)
{
    if (!bus || valid(r)) {
        errno = EINVAL;
        return -1;
    }
    pthread_mutex_lock(&bus->write_lock);
    struct table *old = atomic_load(&bus->t[r->space]);
    size_t at = lower_bound(old, r->base);
    if ((at < old->n && old->e[at].r.base <= last(r)) ||
        (at > 0 && last(&old->e[at - 1].r) >= r->base)) {
        pthread_mutex_unlock(&bus->write_lock);
        errno = EEXIST;
        return -1;
    }
    struct table *t = malloc(sizeof(*t) + (old->n + 1) * sizeof(t->e[0]));
    if (!t) {
        pthread_mutex_unlock(&bus->write_lock);
        errno = ENOMEM;
        return -1;
    }
    t->n = old->n + 1;
    memcpy(t->e, old->e, at * sizeof(t->e[0]));
    t->e[at] = (struct entry){ .r = *r, .id = atomic_fetch_add(&next_id, 1) };
    memcpy(t->e + at + 1, old->e + at, (old->n - at) * sizeof(t->e[0]));
    atomic_store(&bus->t[r->space], t);
    wait_readers(0);
    pthread_mutex_unlock(&bus->write_lock);
    free(old);
    return 0;
}

int iobus_unregister(struct iobus *bus, enum iobus_space space, uint64_t base)
{
    if (!bus || space >= IOBUS_NR_SPACES) {
        errno = EINVAL;
        return -1;
    }
    pthread_mutex_lock(&bus->write_lock);
    struct table *old = atomic_load(&bus->t[space]);
    size_t at = lower_bound(old, base);
    if (at == old->n || old->e[at].r.base != base) {
        pthread_mutex_unlock(&bus->write_lock);
        errno = ENOENT;
        return -1;
    }
    struct table *t = malloc(sizeof(*t) + (old->n - 1) * sizeof(t->e[0]));
    if (!t) {
        pthread_mutex_unlock(&bus->write_lock);
        errno = ENOMEM;
        return -1;
    }
    uint64_t id = old->e[at].id;
    t->n = old->n - 1;
    memcpy(t->e, old->e, at * sizeof(t->e[0]));
    memcpy(t->e + at, old->e + at + 1, (old->n - at - 1) * sizeof(t->e[0]));
    atomic_store(&bus->t[space], t);
    wait_readers(id);
    pthread_mutex_unlock(&bus->write_lock);
    free(old);
    return 0;
}

bool iobus_access(struct iobus *bus, enum iobus_space space, uint64_t addr, uint8_t *data,
                  uint32_t len, bool is_write, struct vcpu *v)
{
    if (!bus || space >= IOBUS_NR_SPACES || len == 0 || len > 8 ||
        (space == IOBUS_PIO && len > 4))
        return false;
    struct slot *s = get_slot();
    if (!s)
        return false;
    unsigned int d = atomic_load_explicit(&s->depth, memory_order_relaxed);
    if (d >= IOBUS_MAX_NEST)
        return false;   /* handlers calling handlers this deep: a loop, not a device */
    /* Store, then load the table, against the writer's store of the table,
     * barrier, load of in_lookup: either we see its new table or it sees us
     * in the lookup and waits. */
    if (asymmetric) {
        atomic_store_explicit(&s->in_lookup, true, memory_order_relaxed);
        atomic_signal_fence(memory_order_seq_cst);   /* the CPU's order is membarrier's */
    } else {
        atomic_store(&s->in_lookup, true);
    }
    const struct table *t = atomic_load_explicit(&bus->t[space], memory_order_acquire);
    long i = find(t, addr);
    struct iobus_range r;
    bool hit = i >= 0 && len <= t->e[i].r.len - (addr - t->e[i].r.base);
    if (hit) {
        r = t->e[i].r;
        atomic_store_explicit(&s->running[d], t->e[i].id, memory_order_relaxed);
        atomic_store_explicit(&s->depth, d + 1, memory_order_relaxed);
    }
    atomic_store_explicit(&s->in_lookup, false, memory_order_release);
    if (!hit)
        return false;
    if (!is_write)
        memset(data, 0, len);
    r.fn(r.opaque, v, addr - r.base, data, len, is_write);
    atomic_store_explicit(&s->depth, d, memory_order_release);
    return true;
}

/* Calls fn for each range of space in address order (under the bus's
 * write lock: fn must not register or unregister). */
void iobus_foreach(struct iobus *bus, enum iobus_space space,
                   void (*fn)(const struct iobus_range *r, void *ctx), void *ctx)
{
    if (!bus || space >= IOBUS_NR_SPACES)
        return;
    pthread_mutex_lock(&bus->write_lock);
    const struct table *t = atomic_load(&bus->t[space]);
    for (size_t i = 0; i < t->n; i++)
        fn(&t->e[i].r, ctx);
    pthread_mutex_unlock(&bus->write_lock);
}

/*
 * Grant tables, v1 (see gnttab.h).  The table is frames placed
 * back to back in the physmap window right after shared_info; references
 * are handed out from a free list threaded through next[] (as a stack, so
 * a just-freed reference — still warm in the backend's caches — is reused
 * first).  next[ref] == REF_IN_USE marks an allocated reference, which is
 * how double frees and frees of foreign numbers are caught.
 */
#include "gnttab.h"
#include "hypercall.h"
#include "kernel.h"
#include "kerrno.h"
#include "ktime.h"
#include "mm.h"
#include "platform.h"
#include "public/memory.h"
#include "spinlock.h"
#include "thread.h"

#define REF_IN_USE   0xfffffffeU
#define REF_LIST_END 0xffffffffU

static struct {
    struct grant_entry_v1 *table; /* NULL until set up */
    unsigned int nr_frames;
    unsigned int nr;              /* entries */
    uint32_t *next;               /* free-list links, REF_IN_USE when allocated */
    uint32_t head;                /* first free reference */
    unsigned int free;
    struct spinlock lock;
    struct waitq free_wq;         /* woken when references are freed */
} gt = { .head = REF_LIST_END };

bool gnttab_available(void)
{
    return gt.table != NULL;
}

unsigned int gnttab_nr_frames(void)
{
    return gt.nr_frames;
}

unsigned int gnttab_nr_entries(void)
{
    return gt.nr;
}

unsigned int gnttab_free_count(void)
{
    return READ_ONCE(gt.free);
}

/* Builds the free list over [GNTTAB_NR_RESERVED_ENTRIES, nr). */
static int attach(struct grant_entry_v1 *table, unsigned int nr)
{
    uint32_t *next = malloc(nr * sizeof(*next));
    if (!next)
        return -ENOMEM;
    for (unsigned int i = 0; i < nr; i++)
        next[i] = i + 1 < nr ? i + 1 : REF_LIST_END;
    for (unsigned int i = 0; i < GNTTAB_NR_RESERVED_ENTRIES; i++)
        next[i] = REF_IN_USE; /* never handed out, never freed */
    /* our entries start revoked; the reserved ones belong to the toolstack */
    memset(&table[GNTTAB_NR_RESERVED_ENTRIES], 0,
           (nr - GNTTAB_NR_RESERVED_ENTRIES) * sizeof(table[0]));
    gt.next = next;
    gt.head = GNTTAB_NR_RESERVED_ENTRIES;
    gt.free = nr - GNTTAB_NR_RESERVED_ENTRIES;
    gt.nr = nr;
    __atomic_store_n(&gt.table, table, __ATOMIC_RELEASE);
    return 0;
}

void gnttab_attach_table(struct grant_entry_v1 *table, unsigned int nr)
{
    free(gt.next);
    gt.table = NULL;
    gt.nr_frames = (unsigned int)(nr / GNTTAB_ENTRIES_PER_FRAME_V1);
    if (nr <= GNTTAB_NR_RESERVED_ENTRIES || attach(table, nr) < 0)
        printk("gnttab: cannot attach a table of %u entries\n", nr);
}

/* How many frames to ask for: the FDT's grant-frames (default 32), capped
 * by the VMM's maximum, ours, and the physmap window after shared_info. */
static unsigned int frames_wanted(uint32_t vmm_max)
{
    unsigned int n = platform.grant_frames ? platform.grant_frames : GNTTAB_DEFAULT_FRAMES;
    unsigned int window = (unsigned int)(platform.physmap_size / PAGE_SIZE);
    if (n > vmm_max)
        n = vmm_max;
    if (n > GNTTAB_MAX_FRAMES)
        n = GNTTAB_MAX_FRAMES;
    if (window < 1)
        return 0;
    if (n > window - 1)
        n = window - 1;
    return n;
}

static int place_frames(uint64_t first_gpfn, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++) {
        struct xen_add_to_physmap xatp = {
            .domid = DOMID_SELF,
            .space = XENMAPSPACE_grant_table,
            .idx = i,
            .gpfn = first_gpfn + i,
        };
        long r = HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);
        if (r < 0) {
            printk("gnttab: XENMEM_add_to_physmap(grant frame %u at gpfn %#llx) failed: %ld\n", i,
                   (unsigned long long)(first_gpfn + i), r);
            return (int)r;
        }
    }
    return 0;
}

/* setup_table must agree with where we placed the frames. */
static int check_setup_table(uint64_t first_gpfn, unsigned int n)
{
    xen_pfn_t *frames = malloc(n * sizeof(*frames));
    if (!frames)
        return -ENOMEM;
    struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = n };
    st.frame_list = (uint64_t)virt_to_phys(frames);
    long r = HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &st, 1);
    int rc = 0;
    if (r < 0 || st.status != GNTST_okay) {
        printk("gnttab: GNTTABOP_setup_table(%u frames) failed: %ld, status %d\n", n, r, st.status);
        rc = -EIO;
    }
    for (unsigned int i = 0; rc == 0 && i < n; i++) {
        if (frames[i] != first_gpfn + i) {
            printk("gnttab: frame %u is at gpfn %#llx, placed at %#llx\n", i,
                   (unsigned long long)frames[i], (unsigned long long)(first_gpfn + i));
            rc = -EIO;
        }
    }
    free(frames);
    return rc;
}

static int setup(void);

/* 0 = not set up, 1 = being set up, 2 = done, 3 = failed */
static int init_state;
static int init_result;

int gnttab_init(void)
{
    int expect = 0;
    if (__atomic_compare_exchange_n(&init_state, &expect, 1, false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE)) {
        init_result = setup();
        __atomic_store_n(&init_state, init_result == 0 ? 2 : 3, __ATOMIC_RELEASE);
    }
    while (__atomic_load_n(&init_state, __ATOMIC_ACQUIRE) == 1)
        thread_yield(); /* another vCPU's thread is setting up */
    return init_result;
}

/* New domain: the frames are placed again where they were; no dom0 map
 * survived the old domain, so its reading/writing marks are cleared (the
 * references stay granted: their frontends reconnect and end them). */
int gnttab_resume(void)
{
    if (__atomic_load_n(&init_state, __ATOMIC_ACQUIRE) != 2)
        return 0;
    uint64_t first_gpfn = (platform.physmap_base >> PAGE_SHIFT) + 1;
    int rc = place_frames(first_gpfn, gt.nr_frames);
    if (rc < 0) {
        printk("gnttab: placing the frames again failed (%d)\n", rc);
        return rc;
    }
    for (unsigned int i = 0; i < gt.nr; i++)
        __atomic_fetch_and(&gt.table[i].flags, (uint16_t)~(GTF_reading | GTF_writing),
                           __ATOMIC_ACQ_REL);
    return 0;
}

static int setup(void)
{
    struct gnttab_query_size q = { .dom = DOMID_SELF };
    long r = HYPERVISOR_grant_table_op(GNTTABOP_query_size, &q, 1);
    if (r < 0 || q.status != GNTST_okay) {
        printk("gnttab: GNTTABOP_query_size failed: %ld, status %d\n", r, q.status);
        return -ENODEV;
    }
    unsigned int n = frames_wanted(q.max_nr_frames);
    if (n == 0) {
        printk("gnttab: no grant frames (VMM max %u, physmap window %#llx bytes)\n",
               q.max_nr_frames, (unsigned long long)platform.physmap_size);
        return -ENODEV;
    }
    uint64_t first_gpfn = (platform.physmap_base >> PAGE_SHIFT) + 1; /* after shared_info */
    int rc = place_frames(first_gpfn, n);
    if (rc == 0)
        rc = check_setup_table(first_gpfn, n);
    if (rc == 0)
        rc = attach(phys_to_virt(first_gpfn << PAGE_SHIFT), n * GNTTAB_ENTRIES_PER_FRAME_V1);
    if (rc < 0)
        return rc;
    gt.nr_frames = n;
    printk("gnttab: %u frames (%u references) at %#llx\n", n, gt.nr,
           (unsigned long long)(first_gpfn << PAGE_SHIFT));
    return 0;
}

/* ---- the allocator ---- */

/* Pops n references; false (nothing taken) if fewer are free. */
static bool take_refs(unsigned int n, grant_ref_t *refs)
{
    unsigned long flags = spin_lock_irqsave(&gt.lock);
    bool ok = gt.table && gt.free >= n;
    for (unsigned int i = 0; ok && i < n; i++) {
        uint32_t ref = gt.head;
        gt.head = gt.next[ref];
        gt.next[ref] = REF_IN_USE;
        refs[i] = ref;
    }
    if (ok)
        gt.free -= n;
    spin_unlock_irqrestore(&gt.lock, flags);
    return ok;
}

static int alloc_error(void)
{
    return gt.table ? -ENOSPC : -ENODEV;
}

int gnttab_alloc_refs(unsigned int n, grant_ref_t *refs)
{
    return take_refs(n, refs) ? 0 : alloc_error();
}

int gnttab_alloc_ref(void)
{
    grant_ref_t ref;
    return take_refs(1, &ref) ? (int)ref : alloc_error();
}

int gnttab_alloc_refs_wait(unsigned int n, grant_ref_t *refs, uint64_t deadline)
{
    if (!gt.table)
        return -ENODEV;
    if (n > gt.nr - GNTTAB_NR_RESERVED_ENTRIES)
        return -ENOSPC; /* would wait forever */
    /* wait_event_until may evaluate its condition again after it became
     * true: take the references once only */
    bool got = false;
    if (!wait_event_until(&gt.free_wq, got || (got = take_refs(n, refs)), deadline))
        return -ETIMEDOUT;
    return 0;
}

/* Checks ref can go back on the free list; the message names the caller's bug. */
static int check_free(grant_ref_t ref)
{
    if (ref >= gt.nr || ref < GNTTAB_NR_RESERVED_ENTRIES) {
        printk("gnttab: free of reference %u outside [%u, %u)\n", ref, GNTTAB_NR_RESERVED_ENTRIES,
               gt.nr);
        return -EINVAL;
    }
    if (gt.next[ref] != REF_IN_USE) {
        printk("gnttab: double free of reference %u\n", ref);
        return -EINVAL;
    }
    if (__atomic_load_n(&gt.table[ref].flags, __ATOMIC_ACQUIRE) & GTF_type_mask) {
        printk("gnttab: free of reference %u that is still granted\n", ref);
        return -EBUSY;
    }
    return 0;
}

static int put_refs(const grant_ref_t *refs, unsigned int n)
{
    int rc = 0;
    unsigned long flags = spin_lock_irqsave(&gt.lock);
    for (unsigned int i = 0; gt.table && i < n; i++) {
        int r = check_free(refs[i]);
        if (r < 0) {
            rc = r;
            continue;
        }
        gt.next[refs[i]] = gt.head;
        gt.head = refs[i];
        gt.free++;
    }
    spin_unlock_irqrestore(&gt.lock, flags);
    waitq_wake_all(&gt.free_wq);
    return gt.table ? rc : -ENODEV;
}

int gnttab_free_ref(grant_ref_t ref)
{
    return put_refs(&ref, 1);
}

void gnttab_free_refs(const grant_ref_t *refs, unsigned int n)
{
    put_refs(refs, n);
}

/* ---- entries ---- */

static struct grant_entry_v1 *entry(grant_ref_t ref)
{
    if (!gt.table || ref >= gt.nr)
        return NULL;
    return &gt.table[ref];
}

void gnttab_grant_access_ref(grant_ref_t ref, domid_t domid, uint64_t frame, bool readonly)
{
    struct grant_entry_v1 *e = entry(ref);
    if (!e || frame > UINT32_MAX) {
        printk("gnttab: cannot grant reference %u for frame %#llx\n", ref,
               (unsigned long long)frame);
        return;
    }
    e->frame = (uint32_t)frame;
    e->domid = domid;
    /* wmb: the other end must see frame and domid before the permit flag */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(&e->flags, (uint16_t)(GTF_permit_access | (readonly ? GTF_readonly : 0)),
                     __ATOMIC_RELEASE);
}

int gnttab_grant_access(domid_t domid, uint64_t frame, bool readonly)
{
    if (frame > UINT32_MAX)
        return -EINVAL;
    int ref = gnttab_alloc_ref();
    if (ref >= 0)
        gnttab_grant_access_ref((grant_ref_t)ref, domid, frame, readonly);
    return ref;
}

int gnttab_grant_page(domid_t domid, const void *va, bool readonly)
{
    return gnttab_grant_access(domid, virt_to_phys(va) >> PAGE_SHIFT, readonly);
}

int gnttab_end_access(grant_ref_t ref)
{
    struct grant_entry_v1 *e = entry(ref);
    if (!e)
        return gt.table ? -EINVAL : -ENODEV;
    uint16_t flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);
    for (;;) {
        if ((flags & GTF_type_mask) != GTF_permit_access)
            return -EINVAL;
        if (flags & (GTF_reading | GTF_writing))
            return -EBUSY;
        /* the other end sets reading/writing with its own cmpxchg: if it
         * got in first, this fails and we look again */
        if (__atomic_compare_exchange_n(&e->flags, &flags, 0, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            return 0;
    }
}

int gnttab_end_access_and_free(grant_ref_t ref)
{
    int r = gnttab_end_access(ref);
    return r < 0 ? r : gnttab_free_ref(ref);
}

bool gnttab_in_use(grant_ref_t ref)
{
    struct grant_entry_v1 *e = entry(ref);
    return e && (__atomic_load_n(&e->flags, __ATOMIC_ACQUIRE) & (GTF_reading | GTF_writing));
}

/* ---- batches ---- */

int gnttab_grant_frames(domid_t domid, const uint64_t *frames, unsigned int n, bool readonly,
                        grant_ref_t *refs)
{
    for (unsigned int i = 0; i < n; i++)
        if (frames[i] > UINT32_MAX)
            return -EINVAL;
    int r = gnttab_alloc_refs(n, refs);
    if (r < 0)
        return r;
    for (unsigned int i = 0; i < n; i++)
        gnttab_grant_access_ref(refs[i], domid, frames[i], readonly);
    return 0;
}

unsigned int gnttab_end_access_refs(const grant_ref_t *refs, unsigned int n, bool free_refs)
{
    unsigned int busy = 0;
    for (unsigned int i = 0; i < n; i++) {
        int r = gnttab_end_access(refs[i]);
        if (r == -EBUSY)
            busy++;
        else if (r == 0 && free_refs)
            gnttab_free_ref(refs[i]);
    }
    return busy;
}

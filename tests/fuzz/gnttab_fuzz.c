/* libFuzzer target for dom0/gnttab: the input is a hostile guest — the
 * contents of its grant table, then a script of dom0 map/unmap/batch/copy
 * requests interleaved with the guest rewriting entries. Checks: no crash
 * or sanitizer report, every map points at a page of guest RAM, every
 * refusal has a known reason and a message, and the flags dom0 owns
 * (GTF_reading/GTF_writing) are set exactly while dom0 holds a map. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tdm_gnttab.h"
#include "public/grant_table.h"

#define RAM_PAGES  64
#define RAM        (RAM_PAGES * 4096u)
#define REGION_GPA 0xFC000000ULL
#define MAX_FRAMES 4
#define REGION     (4096u * (MAX_FRAMES + 1))
#define MAX_MAPS   64
#define DOMID      1

static int memfd = -1;
static uint8_t *guest;

static void init_memory(void)
{
    memfd = memfd_create("fuzz-guest", MFD_CLOEXEC);
    if (memfd < 0 || ftruncate(memfd, RAM + REGION) < 0)
        abort();
    guest = mmap(NULL, RAM + REGION, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    if (guest == MAP_FAILED)
        abort();
}

static struct grant_entry_v1 *entry(uint32_t ref)
{
    return (struct grant_entry_v1 *)(guest + RAM + 4096) + ref;
}

struct input {
    const uint8_t *p;
    size_t n;
};

static unsigned take(struct input *in, unsigned bytes)
{
    unsigned v = 0;

    for (unsigned i = 0; i < bytes; i++) {
        v = v << 8 | (in->n ? *in->p : 0);
        if (in->n) {
            in->p++;
            in->n--;
        }
    }
    return v;
}

struct state {
    struct tdm_gnttab *g;
    unsigned nr_refs;
    struct tdm_grant_map maps[MAX_MAPS];
    unsigned nmaps;
};

static void check_map(const struct tdm_grant_map *m)
{
    uint32_t tag;

    memcpy(&tag, m->addr, sizeof(tag));          /* RAM pages are tagged with their number */
    if (tag >= RAM_PAGES || ((uintptr_t)m->addr & 4095))
        abort();
    if (!m->readonly)
        ((volatile uint8_t *)m->addr)[4095] ^= 1;
}

static void check_refusal(int why)
{
    if (why <= TDM_GNT_OK || why >= TDM_GNT_REASON_COUNT || !*tdm_last_error())
        abort();
}

/* While dom0 holds a map of a ref, its entry shows GTF_reading (and
 * GTF_writing for a writable map). The guest ops below never clear those
 * bits, so any miss is the library's. */
static void check_flags(struct state *s)
{
    for (unsigned i = 0; i < s->nmaps; i++) {
        uint16_t f = __atomic_load_n(&entry(s->maps[i].ref)->flags, __ATOMIC_ACQUIRE);

        if (!(f & GTF_reading) || (!s->maps[i].readonly && !(f & GTF_writing)))
            abort();
    }
}

static void do_map(struct state *s, uint32_t ref, bool ro)
{
    struct tdm_grant_map m;
    int why;

    if (s->nmaps == MAX_MAPS)
        return;
    if (tdm_gnttab_map(s->g, DOMID, ref, ro, &m, &why) == 0) {
        uint16_t f = __atomic_load_n(&entry(ref)->flags, __ATOMIC_ACQUIRE);

        if (!(f & GTF_reading) || (!ro && !(f & GTF_writing)))
            abort();
        check_map(&m);
        s->maps[s->nmaps++] = m;
    } else {
        check_refusal(why);
        if (m.addr)
            abort();
    }
}

static void do_unmap(struct state *s, unsigned idx)
{
    struct tdm_grant_map m;
    bool last = true;

    if (s->nmaps == 0)
        return;
    idx %= s->nmaps;
    m = s->maps[idx];
    s->maps[idx] = s->maps[--s->nmaps];
    if (tdm_gnttab_unmap(s->g, &m) != 0)
        abort();
    for (unsigned i = 0; i < s->nmaps; i++)
        if (s->maps[i].ref == m.ref)
            last = false;
    if (last && (entry(m.ref)->flags & (GTF_reading | GTF_writing)))
        abort();
}

static void do_batch(struct state *s, struct input *in, bool ro)
{
    uint32_t refs[8];
    struct tdm_grant_map out[8];
    int status[8];
    unsigned n = take(in, 1) % 9, failed;

    for (unsigned i = 0; i < n; i++)
        refs[i] = take(in, 2) % (s->nr_refs + 8);
    failed = tdm_gnttab_map_batch(s->g, DOMID, n, refs, ro, out, status);
    for (unsigned i = 0; i < n; i++) {
        if (status[i] == TDM_GNT_OK) {
            check_map(&out[i]);
            failed++;
        } else {
            check_refusal(status[i]);
        }
    }
    if (failed != n || tdm_gnttab_unmap_batch(s->g, n, out, status) != 0)
        abort();
}

static void do_copy(struct state *s, struct input *in)
{
    uint8_t buf[4096];
    struct tdm_gnttab_copy_seg seg = {
        .source = { .is_grant = true, .domid = DOMID, .ref = take(in, 2) % (s->nr_refs + 8),
                    .offset = (uint16_t)take(in, 2) },
        .dest = { .local = buf },
        .len = (uint16_t)(take(in, 2) % 4097),
    };

    if (take(in, 1) & 1) {                     /* reverse direction */
        seg.dest = seg.source;
        if (seg.dest.offset < 4)          /* keep the page's tag intact */
            seg.dest.offset += 4;
        seg.source = (struct tdm_gnttab_copy_side){ .local = buf };
        memset(buf, 0xa5, sizeof(buf));
    }
    tdm_gnttab_copy(s->g, &seg, 1);
    if (seg.status != TDM_GNT_OK)
        check_refusal(seg.status);
}

/* The guest rewrites an entry's flags/domid (not the dom0-owned bits of
 * refs dom0 holds: a guest that clears those only hurts itself, and the
 * flag check above would then be meaningless) or its frame. */
static void op_guest_write(struct state *s, uint32_t ref, unsigned v)
{
    struct grant_entry_v1 *e = entry(ref % s->nr_refs);
    uint16_t keep = e->flags & (GTF_reading | GTF_writing);

    e->flags = (uint16_t)((v & ~(GTF_reading | GTF_writing)) | keep);
    e->domid = (uint16_t)(v >> 16 & 3);
    e->frame = v % (RAM_PAGES + 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = { data, size };
    struct tdm_guest_memory m = { .ram_size = RAM, .region_gpa = REGION_GPA,
                                  .region_offset = RAM, .region_size = REGION };
    struct state s = { 0 };

    if (memfd < 0)
        init_memory();
    memset(guest, 0, RAM + REGION);
    for (uint32_t p = 0; p < RAM_PAGES; p++)
        memcpy(guest + p * 4096, &p, sizeof(p));
    m.memfd = memfd;
    m.nr_frames = 1 + take(&in, 1) % MAX_FRAMES;
    for (unsigned i = 0; i < m.nr_frames; i++)
        m.frame_gpa[i] = REGION_GPA + 4096 * (i + 1);
    s.nr_refs = m.nr_frames * 512;
    /* Grant entries straight from the input (up to 64), minus the bits
     * only dom0 sets, so that leftovers after close are dom0's fault. */
    for (unsigned i = 0; i < 64 && in.n >= 8; i++) {
        struct grant_entry_v1 *e = entry(take(&in, 2) % s.nr_refs);

        memcpy(e, in.p, 6);
        e->flags &= (uint16_t)~(GTF_reading | GTF_writing);
        in.p += 6;
        in.n -= 6;
    }
    s.g = tdm_gnttab_open("/nonexistent");
    if (!s.g || tdm_gnttab_attach(s.g, DOMID, &m) != 0)
        abort();
    while (in.n) {
        unsigned op = take(&in, 1);
        uint32_t ref = take(&in, 2) % (s.nr_refs + 8);

        switch (op % 7) {
        case 0: do_map(&s, ref, true); break;
        case 1: do_map(&s, ref, false); break;
        case 2: do_unmap(&s, ref); break;
        case 3: do_batch(&s, &in, op & 8); break;
        case 4: do_copy(&s, &in); break;
        case 5: op_guest_write(&s, ref, take(&in, 4)); break;
        case 6: do_map(&s, 0xffffffffu - ref, op & 8); break;
        }
        check_flags(&s);
    }
    tdm_gnttab_close(s.g);
    for (unsigned r = 0; r < s.nr_refs; r++)   /* close dropped every mark */
        if (entry(r)->flags & (GTF_reading | GTF_writing))
            abort();
    return 0;
}

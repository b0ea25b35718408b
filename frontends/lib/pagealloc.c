/*
 * Bitmap page-frame allocator (see pagealloc.h).  First fit from a moving
 * hint; whole 64-frame words that are full are skipped at once, which
 * keeps a search short even when the vCPU runs emulated.
 */
#include <stdbool.h>

#include "klib.h"
#include "pagealloc.h"

#define FRAME_SHIFT 12
#define ALIGN_UP_FRAMES(x, a) (((x) + (a) - 1) / (a) * (a))

static bool frame_used(const struct pagealloc *pa, uint64_t f)
{
    return (pa->bitmap[f / 64] >> (f % 64)) & 1;
}

/* Bits set in w, without the popcnt instruction (the emulator in plain
 * cpu-mode lacks it). */
static unsigned int bits_set(uint64_t w)
{
    w = w - ((w >> 1) & 0x5555555555555555ULL);
    w = (w & 0x3333333333333333ULL) + ((w >> 2) & 0x3333333333333333ULL);
    w = (w + (w >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
    return (unsigned int)((w * 0x0101010101010101ULL) >> 56);
}

/* Sets the bits of mask in word i to used/free, keeping nr_free right. */
static void set_word(struct pagealloc *pa, uint64_t i, uint64_t mask, bool used)
{
    uint64_t *w = &pa->bitmap[i];
    uint64_t changed = used ? (~*w & mask) : (*w & mask);
    if (used) {
        *w |= mask;
        pa->nr_free -= bits_set(changed);
    } else {
        *w &= ~mask;
        pa->nr_free += bits_set(changed);
    }
}

/* Whole 64-frame words at a time: boot marks all of RAM, and in plain
 * cpu-mode every instruction counts. */
static void set_frames(struct pagealloc *pa, uint64_t first, uint64_t end, bool used)
{
    while (first < end) {
        uint64_t i = first / 64, bit = first % 64;
        uint64_t n = end - first < 64 - bit ? end - first : 64 - bit;
        uint64_t mask = n == 64 ? ~0ULL : ((1ULL << n) - 1) << bit;
        set_word(pa, i, mask, used);
        first += n;
    }
}

size_t pagealloc_bitmap_bytes(uint64_t nr_frames)
{
    return (size_t)((nr_frames + 63) / 64 * 8);
}

void pagealloc_init(struct pagealloc *pa, uint64_t *bitmap, uint64_t nr_frames)
{
    pa->bitmap = bitmap;
    pa->nr_frames = nr_frames;
    pa->nr_free = 0;
    pa->hint = 1;
    memset(bitmap, 0xff, pagealloc_bitmap_bytes(nr_frames));
}

void pagealloc_init_free(struct pagealloc *pa, uint64_t *bitmap, uint64_t nr_frames)
{
    size_t bytes = pagealloc_bitmap_bytes(nr_frames);
    pa->bitmap = bitmap;
    pa->nr_frames = nr_frames;
    pa->hint = 1;
    memset(bitmap, 0, bytes);
    pa->nr_free = nr_frames;
    if (nr_frames % 64) /* bits past the end stay "used" so they are never found */
        bitmap[nr_frames / 64] = ~0ULL << (nr_frames % 64);
    if (nr_frames) {
        bitmap[0] |= 1;
        pa->nr_free--;
    }
}

void pagealloc_add_free(struct pagealloc *pa, uint64_t start, uint64_t end)
{
    uint64_t first = (start + (1ULL << FRAME_SHIFT) - 1) >> FRAME_SHIFT;
    uint64_t last = end >> FRAME_SHIFT;
    if (first == 0)
        first = 1; /* frame 0 stays reserved: 0 means "no memory" */
    if (last > pa->nr_frames)
        last = pa->nr_frames;
    if (first < last)
        set_frames(pa, first, last, false);
}

void pagealloc_reserve(struct pagealloc *pa, uint64_t start, uint64_t end)
{
    uint64_t first = start >> FRAME_SHIFT;
    uint64_t last = (end + (1ULL << FRAME_SHIFT) - 1) >> FRAME_SHIFT;
    if (last > pa->nr_frames)
        last = pa->nr_frames;
    if (first < last)
        set_frames(pa, first, last, true);
}

/* Length of the run of free frames starting at f, up to n. */
static uint64_t free_run(const struct pagealloc *pa, uint64_t f, uint64_t n)
{
    uint64_t len = 0;
    while (len < n && f + len < pa->nr_frames && !frame_used(pa, f + len))
        len++;
    return len;
}

static uint64_t search(struct pagealloc *pa, uint64_t from, uint64_t to, uint64_t n,
                       uint64_t align)
{
    uint64_t f = ALIGN_UP_FRAMES(from, align);
    while (f + n <= to) {
        if (f % 64 == 0 && pa->bitmap[f / 64] == ~0ULL) {
            f = ALIGN_UP_FRAMES(f + 64, align);
            continue;
        }
        uint64_t run = free_run(pa, f, n);
        if (run == n)
            return f;
        f = ALIGN_UP_FRAMES(f + run + 1, align);
    }
    return 0;
}

uint64_t pagealloc_alloc(struct pagealloc *pa, uint64_t n, uint64_t align)
{
    if (n == 0 || n > pa->nr_free || align == 0 || (align & (align - 1)))
        return 0;
    uint64_t f = search(pa, pa->hint, pa->nr_frames, n, align);
    if (!f)
        f = search(pa, 1, pa->nr_frames, n, align);
    if (!f)
        return 0;
    set_frames(pa, f, f + n, true);
    pa->hint = f + n;
    return f << FRAME_SHIFT;
}

int pagealloc_free(struct pagealloc *pa, uint64_t addr, uint64_t n)
{
    uint64_t f = addr >> FRAME_SHIFT;
    if ((addr & ((1ULL << FRAME_SHIFT) - 1)) || f == 0 || n == 0 || f + n > pa->nr_frames ||
        f + n < f)
        return -1;
    for (uint64_t i = f; i < f + n; i++)
        if (!frame_used(pa, i))
            return -1;
    set_frames(pa, f, f + n, false);
    if (f < pa->hint)
        pa->hint = f;
    return 0;
}

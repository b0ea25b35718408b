/* Adaptive polling (see tdm_poll.h). */
#include "tdm_poll.h"

#include <time.h>

uint64_t tdm_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void tdm_poll_init(struct tdm_poll *p, unsigned max_us)
{
    p->max_ns = (uint64_t)max_us * 1000u;
    p->ns = p->max_ns / 2;
}

bool tdm_poll_spin(struct tdm_poll *p, const uint64_t *fixed_ns, bool (*ready)(void *ctx),
                   void *ctx)
{
    uint64_t end;

    if (!p->max_ns)
        return false;
    end = tdm_now_ns() + (fixed_ns ? *fixed_ns : p->ns);
    do {
        if (ready(ctx)) {
            p->ns = p->ns * 2 + 1000 > p->max_ns ? p->max_ns : p->ns * 2 + 1000;
            return true;
        }
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();     /* be kind to the sibling hyperthread */
#endif
    } while (tdm_now_ns() < end);
    if (!fixed_ns)
        p->ns /= 2;
    return false;
}

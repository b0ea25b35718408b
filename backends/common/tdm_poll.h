/* The short adaptive poll every backend queue does before it sleeps:
 * spin on "is there work" for a window that doubles (+1 us) when polling
 * found work and halves when it did not, up to a ceiling, so an idle
 * queue sleeps at once and a busy one skips the doorbell round trip. */
#ifndef TANDEM_BACKENDS_TDM_POLL_H
#define TANDEM_BACKENDS_TDM_POLL_H

#include <stdbool.h>
#include <stdint.h>

struct tdm_poll {
    uint64_t ns, max_ns;
};

uint64_t tdm_now_ns(void);

/* Ceiling max_us (0: never poll); starts at half of it. */
void tdm_poll_init(struct tdm_poll *p, unsigned max_us);

/* Spins until ready(ctx) or the window ends; true if it found work.
 * fixed_ns non-NULL: poll that long instead, and a miss does not shrink
 * the adaptive window (blkback's busy window while I/O is in flight). */
bool tdm_poll_spin(struct tdm_poll *p, const uint64_t *fixed_ns, bool (*ready)(void *ctx),
                   void *ctx);

#endif

/*
 * Cooperative threads.  Each thread runs on the vCPU it was created for
 * until it yields, sleeps, blocks or exits; interrupt handlers only wake
 * threads.  When no thread of a vCPU can run, the vCPU idles (arch_idle)
 * with its one-shot timer armed for the earliest sleeper.
 */
#ifndef TANDEM_GUEST_THREAD_H
#define TANDEM_GUEST_THREAD_H

#include <stdbool.h>
#include <stdint.h>

#include "ktime.h"

#define THREAD_STACK_PAGES 4

enum thread_state { THREAD_RUNNING, THREAD_RUNNABLE, THREAD_BLOCKED, THREAD_DEAD };

struct thread {
    char name[16];
    uint64_t sp;               /* saved stack pointer while switched out */
    void *stack;               /* NULL for a vCPU's boot thread */
    int cpu;
    enum thread_state state;
    uint64_t deadline;         /* wake at this system time when blocked; 0 = never */
    void (*fn)(void *);
    void *arg;
    unsigned long irq_flags;   /* saved across wait_event's sleep */
    struct thread *rq_next;    /* run queue link */
    struct thread *all_next;   /* this vCPU's thread list */
    struct thread *wq_next;    /* wait queue link */
    struct waitq *wq;
};

/* Makes the caller (kernel_main, or a secondary vCPU's entry) the boot
 * thread of vCPU cpu. */
void sched_init_cpu(int cpu, const char *name);

/* A new runnable thread on the current vCPU / on vCPU cpu. NULL if out of
 * memory. */
struct thread *thread_create(const char *name, void (*fn)(void *), void *arg);
struct thread *thread_create_on(int cpu, const char *name, void (*fn)(void *), void *arg);

struct thread *thread_current(void);
void thread_yield(void);
void thread_exit(void) __attribute__((noreturn));
void thread_sleep_until(uint64_t deadline);
void thread_sleep_ns(uint64_t ns);
static inline void msleep(uint64_t ms) { thread_sleep_ns(ms * NSEC_PER_MSEC); }

/* Blocks until thread_wake(); only for threads nobody else must wake
 * through a condition (e.g. a secondary vCPU's boot thread). */
void thread_block(void);

/* Wakes t if it is blocked (any context, any vCPU). */
void thread_wake(struct thread *t);

/* With more than one vCPU running threads, idle waits are capped so that
 * wakeups from other vCPUs are seen (there are no IPIs). */
void sched_set_multi_cpu(bool on);
/* fn(cpu) interrupts vCPU cpu out of its idle halt (an IPI event);
 * vCPUs marked kickable then halt without the polling cap. */
void sched_set_kick(void (*fn)(int cpu));
void sched_set_cpu_kickable(int cpu, bool on);
/* This vCPU gets no upcalls (no per-vCPU upcall vector): it must poll
 * instead of halting. */
void sched_set_cpu_polls(int cpu, bool polls);

/*
 * Wait queues: wait_event(wq, cond) sleeps until cond is true; wakers make
 * cond true, then call waitq_wake_all(wq) (safe in interrupt handlers).
 */
struct waitq {
    struct thread *head;
};
#define WAITQ_INIT { NULL }

void waitq_wake_all(struct waitq *wq);

/* Internal steps of wait_event; see the macro. */
void waitq_prepare(struct waitq *wq, uint64_t deadline);
void waitq_cancel(struct waitq *wq);
void waitq_sleep(struct waitq *wq);

/* Returns true when cond became true, false when the deadline (system
 * time, 0 = none) passed first. */
#define wait_event_until(wq, cond, deadline)                                  \
    ({                                                                        \
        bool ok_;                                                             \
        uint64_t dl_ = (deadline);                                            \
        for (;;) {                                                            \
            if (cond) {                                                       \
                ok_ = true;                                                   \
                break;                                                        \
            }                                                                 \
            if (dl_ && monotonic_ns() >= dl_) {                               \
                ok_ = false;                                                  \
                break;                                                        \
            }                                                                 \
            waitq_prepare((wq), dl_);                                         \
            if (cond) {                                                       \
                waitq_cancel(wq);                                             \
                continue;                                                     \
            }                                                                 \
            waitq_sleep(wq);                                                  \
        }                                                                     \
        ok_;                                                                  \
    })

#define wait_event(wq, cond) ((void)wait_event_until((wq), (cond), 0))

#endif

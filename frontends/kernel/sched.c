/*
 * Cooperative scheduler (see thread.h).  One lock guards every vCPU's run
 * queue and all thread states: there are few vCPUs and switches are rare,
 * and one lock keeps cross-vCPU wakeups simple.  schedule() runs with
 * interrupts off; when nothing is runnable it idles on the current stack,
 * so no idle thread is needed.  A vCPU cannot be interrupted by another
 * vCPU except through an IPI event channel: a wakeup for a thread of an
 * idle vCPU kicks it (smp.c binds the ports); without IPI ports, idle
 * waits are capped at a few ms to notice wakeups from elsewhere.
 */
#include "arch.h"
#include "kernel.h"
#include "ktime.h"
#include "mm.h"
#include "spinlock.h"
#include "thread.h"

#define MULTI_CPU_IDLE_CAP_NS (2 * NSEC_PER_MSEC)

struct cpu_sched {
    struct thread *current;
    struct thread *rq_head, *rq_tail;
    struct thread *all;     /* every thread of this vCPU */
    bool online;
    bool polls; /* no upcalls arrive here: never halt */
    bool idle;  /* halted in idle_until (under sched_lock) */
    bool kickable; /* kick_fn reaches this vCPU */
};

static struct cpu_sched cpus[ARCH_MAX_CPUS];
static struct spinlock sched_lock = SPINLOCK_INIT;
static bool multi_cpu;
static void (*kick_fn)(int cpu); /* interrupts an idle vCPU (an IPI port) */

void switch_context(uint64_t *save_sp, uint64_t load_sp);
void thread_trampoline(void);

/* Saves the callee-saved registers on the old stack, switches stacks and
 * restores them from the new one.  A new thread's stack is prepared so
 * that the final `ret` enters thread_trampoline with r12 = the thread. */
__asm__(".text\n"
        ".globl switch_context\n"
        "switch_context:\n"
        "  push %rbp\n  push %rbx\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
        "  mov %rsp, (%rdi)\n"
        "  mov %rsi, %rsp\n"
        "  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbx\n  pop %rbp\n"
        "  ret\n"
        ".globl thread_trampoline\n"
        "thread_trampoline:\n"
        "  mov %r12, %rdi\n"
        "  xor %ebp, %ebp\n"
        "  call thread_start\n"
        "  ud2\n");

static struct cpu_sched *this_cpu(void)
{
    return &cpus[arch_cpu_id()];
}

struct thread *thread_current(void)
{
    return this_cpu()->current;
}

void sched_set_multi_cpu(bool on)
{
    multi_cpu = on;
}

void sched_set_kick(void (*fn)(int cpu))
{
    kick_fn = fn;
}

void sched_set_cpu_kickable(int cpu, bool on)
{
    cpus[cpu].kickable = on;
}

static void rq_push(struct cpu_sched *c, struct thread *t)
{
    t->rq_next = NULL;
    if (c->rq_tail)
        c->rq_tail->rq_next = t;
    else
        c->rq_head = t;
    c->rq_tail = t;
}

static struct thread *rq_pop(struct cpu_sched *c)
{
    struct thread *t = c->rq_head;
    if (t) {
        c->rq_head = t->rq_next;
        if (!c->rq_head)
            c->rq_tail = NULL;
    }
    return t;
}

static void rq_remove(struct cpu_sched *c, struct thread *t)
{
    struct thread *prev = NULL;
    for (struct thread *i = c->rq_head; i; prev = i, i = i->rq_next) {
        if (i != t)
            continue;
        if (prev)
            prev->rq_next = i->rq_next;
        else
            c->rq_head = i->rq_next;
        if (c->rq_tail == i)
            c->rq_tail = prev;
        return;
    }
}

/* Caller holds sched_lock.  Returns true when t's vCPU is another one
 * that sits idle and must be kicked (after the lock is dropped). */
static bool wake_locked(struct thread *t)
{
    if (t->state != THREAD_BLOCKED)
        return false;
    t->state = THREAD_RUNNABLE;
    t->deadline = 0;
    rq_push(&cpus[t->cpu], t);
    return cpus[t->cpu].idle && t->cpu != arch_cpu_id();
}

static void kick(int cpu)
{
    if (kick_fn)
        kick_fn(cpu);
}

void thread_wake(struct thread *t)
{
    unsigned long flags = spin_lock_irqsave(&sched_lock);
    bool need_kick = wake_locked(t);
    int cpu = t->cpu;
    spin_unlock_irqrestore(&sched_lock, flags);
    if (need_kick)
        kick(cpu);
}

/* Wakes expired sleepers; returns the earliest remaining deadline. */
static uint64_t wake_expired(struct cpu_sched *c, uint64_t now)
{
    uint64_t next = 0;
    for (struct thread *t = c->all; t; t = t->all_next) {
        if (t->state != THREAD_BLOCKED || !t->deadline)
            continue;
        if (t->deadline <= now)
            wake_locked(t);
        else if (!next || t->deadline < next)
            next = t->deadline;
    }
    return next;
}

/* Frees threads that died on this vCPU (never the one running). */
static void reap(struct cpu_sched *c)
{
    struct thread **link = &c->all;
    while (*link) {
        struct thread *t = *link;
        if (t->state == THREAD_DEAD && t != c->current) {
            *link = t->all_next;
            page_free(t->stack, THREAD_STACK_PAGES);
            free(t);
        } else {
            link = &t->all_next;
        }
    }
}

void sched_set_cpu_polls(int cpu, bool polls)
{
    cpus[cpu].polls = polls;
}

/* Waits for an interrupt, or until the deadline (0 = none).  Called with
 * interrupts disabled, returns with them disabled. */
static void idle_until(struct cpu_sched *c, uint64_t deadline)
{
    uint64_t now = monotonic_ns();
    if (multi_cpu && !(kick_fn && c->kickable) &&
        (!deadline || deadline > now + MULTI_CPU_IDLE_CAP_NS))
        deadline = now + MULTI_CPU_IDLE_CAP_NS;
    if (c->polls) {
        arch_irq_enable();
        while (!READ_ONCE(c->rq_head) && monotonic_ns() < deadline)
            __asm__ __volatile__("pause");
        arch_irq_disable();
        return;
    }
    if (deadline)
        timer_arm(deadline);
    arch_idle();
}

/* Picks the next thread of this vCPU and switches to it; idles while
 * there is none.  Called with interrupts disabled. */
static void schedule(void)
{
    struct cpu_sched *c = this_cpu();
    struct thread *prev = c->current, *next;
    spin_lock(&sched_lock);
    if (prev->state == THREAD_RUNNING) {
        prev->state = THREAD_RUNNABLE;
        rq_push(c, prev);
    }
    for (;;) {
        uint64_t deadline = wake_expired(c, monotonic_ns());
        next = rq_pop(c);
        if (next)
            break;
        c->idle = true;
        spin_unlock(&sched_lock);
        idle_until(c, deadline);
        spin_lock(&sched_lock);
        c->idle = false;
    }
    next->state = THREAD_RUNNING;
    c->current = next;
    spin_unlock(&sched_lock);
    if (next != prev)
        switch_context(&prev->sp, next->sp);
    spin_lock(&sched_lock);
    reap(this_cpu());
    spin_unlock(&sched_lock);
}

void thread_start(struct thread *t);
void thread_start(struct thread *t)
{
    spin_lock(&sched_lock);
    reap(this_cpu());
    spin_unlock(&sched_lock);
    arch_irq_enable();
    t->fn(t->arg);
    thread_exit();
}

void sched_init_cpu(int cpu, const char *name)
{
    struct thread *t = calloc(1, sizeof(*t));
    if (!t)
        panic("sched: no memory for the boot thread of vcpu %d", cpu);
    strlcpy(t->name, name, sizeof(t->name));
    t->cpu = cpu;
    t->state = THREAD_RUNNING;
    unsigned long flags = spin_lock_irqsave(&sched_lock);
    cpus[cpu].current = t;
    cpus[cpu].all = t;
    cpus[cpu].online = true;
    spin_unlock_irqrestore(&sched_lock, flags);
}

struct thread *thread_create_on(int cpu, const char *name, void (*fn)(void *), void *arg)
{
    if (cpu < 0 || cpu >= ARCH_MAX_CPUS || !cpus[cpu].online)
        return NULL;
    struct thread *t = calloc(1, sizeof(*t));
    void *stack = page_alloc(THREAD_STACK_PAGES);
    if (!t || !stack) {
        free(t);
        if (stack)
            page_free(stack, THREAD_STACK_PAGES);
        return NULL;
    }
    strlcpy(t->name, name, sizeof(t->name));
    t->stack = stack;
    t->cpu = cpu;
    t->fn = fn;
    t->arg = arg;
    /* Frame popped by switch_context: r15 r14 r13 r12 rbx rbp, then the
     * return address.  Placed so that rsp is 16-byte aligned after the
     * `ret`, as the trampoline's `call` expects. */
    uint64_t *top = (uint64_t *)((char *)stack + THREAD_STACK_PAGES * PAGE_SIZE);
    uint64_t *frame = top - 9;
    frame[0] = 0;                       /* r15 */
    frame[1] = 0;                       /* r14 */
    frame[2] = 0;                       /* r13 */
    frame[3] = (uint64_t)(uintptr_t)t;  /* r12 */
    frame[4] = 0;                       /* rbx */
    frame[5] = 0;                       /* rbp */
    frame[6] = (uint64_t)(uintptr_t)thread_trampoline;
    frame[7] = 0;
    frame[8] = 0;
    t->sp = (uint64_t)(uintptr_t)frame;
    unsigned long flags = spin_lock_irqsave(&sched_lock);
    t->all_next = cpus[cpu].all;
    cpus[cpu].all = t;
    t->state = THREAD_RUNNABLE;
    rq_push(&cpus[cpu], t);
    bool need_kick = cpus[cpu].idle && cpu != arch_cpu_id();
    spin_unlock_irqrestore(&sched_lock, flags);
    if (need_kick)
        kick(cpu);
    return t;
}

struct thread *thread_create(const char *name, void (*fn)(void *), void *arg)
{
    return thread_create_on(arch_cpu_id(), name, fn, arg);
}

void thread_yield(void)
{
    unsigned long flags = arch_irq_save();
    schedule();
    arch_irq_restore(flags);
}

void thread_exit(void)
{
    arch_irq_disable();
    spin_lock(&sched_lock);
    thread_current()->state = THREAD_DEAD;
    spin_unlock(&sched_lock);
    schedule();
    panic("sched: dead thread was scheduled");
}

void thread_sleep_until(uint64_t deadline)
{
    unsigned long flags = arch_irq_save();
    struct thread *t = thread_current();
    while (monotonic_ns() < deadline) {
        spin_lock(&sched_lock);
        t->state = THREAD_BLOCKED;
        t->deadline = deadline;
        spin_unlock(&sched_lock);
        schedule();
    }
    arch_irq_restore(flags);
}

void thread_block(void)
{
    unsigned long flags = arch_irq_save();
    spin_lock(&sched_lock);
    thread_current()->state = THREAD_BLOCKED;
    thread_current()->deadline = 0;
    spin_unlock(&sched_lock);
    schedule();
    arch_irq_restore(flags);
}

void thread_sleep_ns(uint64_t ns)
{
    thread_sleep_until(monotonic_ns() + ns);
}

/* Wait queues: threads are linked through wq_next; a thread is on at
 * most one queue at a time. */
static void wq_remove_locked(struct waitq *wq, struct thread *t)
{
    for (struct thread **link = &wq->head; *link; link = &(*link)->wq_next) {
        if (*link == t) {
            *link = t->wq_next;
            break;
        }
    }
    t->wq = NULL;
}

void waitq_prepare(struct waitq *wq, uint64_t deadline)
{
    unsigned long flags = arch_irq_save();
    struct thread *t = thread_current();
    spin_lock(&sched_lock);
    t->irq_flags = flags;
    if (t->wq != wq) {
        t->wq_next = wq->head;
        wq->head = t;
        t->wq = wq;
    }
    t->state = THREAD_BLOCKED;
    t->deadline = deadline;
    spin_unlock(&sched_lock);
}

/* Undoes waitq_prepare when the condition turned true meanwhile; a waker
 * may already have queued the thread to run. */
void waitq_cancel(struct waitq *wq)
{
    struct thread *t = thread_current();
    spin_lock(&sched_lock);
    wq_remove_locked(wq, t);
    if (t->state == THREAD_RUNNABLE)
        rq_remove(&cpus[t->cpu], t);
    t->state = THREAD_RUNNING;
    t->deadline = 0;
    spin_unlock(&sched_lock);
    arch_irq_restore(t->irq_flags);
}

void waitq_sleep(struct waitq *wq)
{
    struct thread *t = thread_current();
    unsigned long flags = t->irq_flags;
    schedule();
    spin_lock(&sched_lock);
    wq_remove_locked(wq, t);
    spin_unlock(&sched_lock);
    arch_irq_restore(flags);
}

void waitq_wake_all(struct waitq *wq)
{
    uint64_t kicks = 0; /* bit per vCPU to interrupt */
    unsigned long flags = spin_lock_irqsave(&sched_lock);
    struct thread *t = wq->head;
    wq->head = NULL;
    while (t) {
        struct thread *next = t->wq_next;
        t->wq = NULL;
        if (wake_locked(t))
            kicks |= 1ULL << t->cpu;
        t = next;
    }
    spin_unlock_irqrestore(&sched_lock, flags);
    for (int cpu = 0; kicks; cpu++, kicks >>= 1)
        if (kicks & 1)
            kick(cpu);
}

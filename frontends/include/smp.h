/*
 * Secondary vCPUs: started on demand (boot stays lean); each runs the
 * scheduler for the threads created on it.
 */
#ifndef TANDEM_GUEST_SMP_H
#define TANDEM_GUEST_SMP_H

/* Starts vCPUs 1..platform.nr_cpus-1 and waits until they run their
 * scheduler.  Returns the number of vCPUs online (including the boot one). */
int smp_start(void);
int smp_cpus_online(void);

#endif

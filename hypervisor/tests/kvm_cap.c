/* kvm-cap [--dev PATH] CAP: prints KVM_CHECK_EXTENSION(CAP) of /dev/kvm (or
 * PATH) in decimal; 0 means the capability is absent. Used by need_kvm_xen
 * (hypervisor/tests/kvm.sh) to ask for KVM_CAP_XEN_HVM (38). Exit status 0,
 * or 2 with one line on stderr (bad arguments, device cannot be opened or
 * does not answer the ioctl). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define KVM_CHECK_EXTENSION_IOCTL 0xAE03 /* _IO(KVMIO = 0xAE, 0x03) */

static int usage(void)
{
    fprintf(stderr, "usage: kvm-cap [--dev PATH] CAP (CAP: a KVM_CAP_* number, e.g. 38 for KVM_CAP_XEN_HVM)\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *dev = "/dev/kvm";
    const char *cap_arg = NULL;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dev") == 0 && i + 1 < argc)
            dev = argv[++i];
        else if (argv[i][0] != '-' && !cap_arg)
            cap_arg = argv[i];
        else
            return usage();
    }
    if (!cap_arg)
        return usage();
    char *end;
    errno = 0;
    long cap = strtol(cap_arg, &end, 10);
    if (errno || end == cap_arg || *end || cap < 0 || cap > 100000) {
        fprintf(stderr, "kvm-cap: '%s' is not a capability number\n", cap_arg);
        return 2;
    }
    int fd = open(dev, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "kvm-cap: cannot open %s: %s\n", dev, strerror(errno));
        return 2;
    }
    int r = ioctl(fd, KVM_CHECK_EXTENSION_IOCTL, (unsigned long)cap);
    if (r < 0) {
        fprintf(stderr, "kvm-cap: KVM_CHECK_EXTENSION(%ld) on %s: %s\n", cap, dev, strerror(errno));
        close(fd);
        return 2;
    }
    close(fd);
    printf("%d\n", r);
    return 0;
}

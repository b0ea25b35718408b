/* Tap devices of the network engine (see neteng_tap.h). */
#include "neteng_tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

bool neteng_tap_name_ok(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n >= IFNAMSIZ || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

int neteng_tap_open(const char *name, char *err, size_t errlen)
{
    struct ifreq ifr = { 0 };
    int hdr = 10;                       /* struct virtio_net_hdr */
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);

    if (fd < 0) {
        snprintf(err, errlen, "/dev/net/tun: %s", strerror(errno));
        return -1;
    }
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE;
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        snprintf(err, errlen, "creating tap %s: %s", name, strerror(errno));
        close(fd);
        return -1;
    }
    if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
        snprintf(err, errlen, "tap %s: virtio-net header size: %s", name, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int neteng_tap_offload(int fd, bool csum, bool tso4, bool tso6, char *err, size_t errlen)
{
    unsigned flags = 0;

    if (csum) {                         /* TSO needs partial checksums */
        flags |= TUN_F_CSUM;
        flags |= tso4 ? TUN_F_TSO4 : 0;
        flags |= tso6 ? TUN_F_TSO6 : 0;
    }
    if (ioctl(fd, TUNSETOFFLOAD, flags) < 0) {
        snprintf(err, errlen, "TUNSETOFFLOAD: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int neteng_tap_up(const char *name, const char *bridge, char *err, size_t errlen)
{
    struct ifreq ifr = { 0 };
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int rc = -1;

    if (s < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    memset(ifr.ifr_hwaddr.sa_data, 0xff, 6);
    ifr.ifr_hwaddr.sa_data[0] = (char)0xfe;
    if (ioctl(s, SIOCSIFHWADDR, &ifr) < 0) {
        snprintf(err, errlen, "%s: setting the MAC: %s", name, strerror(errno));
        goto out;
    }
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0 ||
        (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr) < 0)) {
        snprintf(err, errlen, "%s: bringing it up: %s", name, strerror(errno));
        goto out;
    }
    if (bridge) {
        struct ifreq br = { 0 };
        unsigned idx = if_nametoindex(name);

        snprintf(br.ifr_name, sizeof(br.ifr_name), "%s", bridge);
        br.ifr_ifindex = (int)idx;
        if (idx == 0 || ioctl(s, SIOCBRADDIF, &br) < 0) {
            snprintf(err, errlen, "attaching %s to bridge %s: %s", name, bridge,
                     strerror(errno));
            goto out;
        }
    }
    rc = 0;
out:
    close(s);
    return rc;
}

/* Error numbers the guest kernel returns (negated), Linux/Xen values. */
#ifndef TANDEM_GUEST_KERRNO_H
#define TANDEM_GUEST_KERRNO_H

#define EPERM 1
#define ENOENT 2
#define EIO 5
#define E2BIG 7
#define EAGAIN 11
#define ENOMEM 12
#define EACCES 13
#define EBUSY 16
#define EEXIST 17
#define EISDIR 21
#define EINVAL 22
#define ENOSPC 28
#define EROFS 30
#define ENOSYS 38
#define ENOTEMPTY 39
#define EPROTO 71
#define EISCONN 106
#define ETIMEDOUT 110

#endif

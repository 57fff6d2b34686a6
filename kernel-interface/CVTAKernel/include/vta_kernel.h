/*
 * swift-vta kernel interface shim: the Linux calls and macros that Swift's Glibc overlay does not
 * expose (CMSG_* for fd passing, struct ucred, accept4, memfd_create, eventfd flags), kept as
 * small functions with plain types so Swift calls them directly.
 */
#ifndef VTA_KERNEL_H
#define VTA_KERNEL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vta_mmio.h"
#include "vta_uapi.h"

#define VTA_MAX_FDS_PER_MESSAGE 4

/* memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING); -1 and errno on failure. */
int vta_memfd_create(const char *name);

/* Seals a memfd against shrinking (so a peer cannot make our mapping fault). */
int vta_memfd_seal_shrink(int fd);

/* A listening AF_UNIX SOCK_SEQPACKET socket bound to path, close-on-exec, with the given mode.
 * Removes a stale socket file first. Returns the fd or -1 (errno). */
int vta_unix_listen(const char *path, int backlog, unsigned mode);

/* Connects a close-on-exec AF_UNIX SOCK_SEQPACKET socket; -1 and errno on failure. */
int vta_unix_connect(const char *path);

/* accept4(fd, NULL, NULL, SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0)). */
int vta_accept(int fd, int nonblock);

/* Whether fd is a SOCK_SEQPACKET socket (for sockets handed over by systemd). */
int vta_is_seqpacket(int fd);

/* Sends one message with up to VTA_MAX_FDS_PER_MESSAGE descriptors (SCM_RIGHTS), MSG_NOSIGNAL.
 * Returns bytes sent or -1 (errno). */
ssize_t vta_send_message(int fd, const void *buf, size_t len, const int *fds, int nfds);

/* Receives one message and its descriptors (MSG_CMSG_CLOEXEC). *nfds gets the number received.
 * *truncated is set when the data or control part did not fit (MSG_TRUNC / MSG_CTRUNC); any fds
 * that did arrive are still returned so the caller can close them. Returns bytes or -1. */
ssize_t vta_recv_message(int fd, void *buf, size_t len, int *fds, int *nfds, int *truncated);

/* Peer credentials of a connected AF_UNIX socket (SO_PEERCRED). 0 on success. */
int vta_peer_credentials(int fd, int32_t *pid, uint32_t *uid, uint32_t *gid);

/* Supplementary groups of the peer (SO_PEERGROUPS, Linux 4.13+). Returns how many were stored
 * (at most max), or -1. */
int vta_peer_groups(int fd, uint32_t *gids, int max);

/* eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK). */
int vta_eventfd(void);

/* Size of the file behind fd (fstat), or -1. */
int64_t vta_fd_size(int fd);

/* Waits until fd is readable (poll POLLIN), e.g. a UIO interrupt or a DRM completion.
 * timeout_ns < 0 waits forever. Returns 1 when readable (also when the peer hung up but data is
 * still pending), 0 on timeout, -EIO when the fd reports POLLERR/POLLHUP/POLLNVAL without data
 * (a UIO device that was removed or has no IRQ), or another -errno. EINTR is retried with the
 * time that remains (CLOCK_MONOTONIC), so signals neither shorten nor lengthen the wait. */
int vta_wait_readable(int fd, int64_t timeout_ns);

/* ioctl(fd, request, arg) retried on EINTR and EAGAIN (like libdrm's drmIoctl). Returns 0, or
 * -errno. Swift cannot use the variadic ioctl with a request from the uAPI constants portably. */
int vta_ioctl_ptr(int fd, unsigned long request, void *arg);


#ifndef VTA_KERNEL_H_DAEMON
#define VTA_KERNEL_H_DAEMON
/* Sends one sd_notify datagram to the AF_UNIX socket named by `path` (a leading '@' means the
 * abstract namespace), as systemd's protocol specifies. 0 on success, -1 and errno otherwise. */
int vta_sd_notify(const char *path, const char *message);

/* Blocks SIGTERM, SIGINT and SIGHUP in the calling thread (and threads it creates later), ignores
 * SIGPIPE, and returns a signalfd that reports the blocked signals. */
int vta_termination_signalfd(void);

/* Reads one signal number from a signalfd (0 if none pending). */
int vta_read_signal(int sfd);
#endif

#endif /* VTA_KERNEL_H */

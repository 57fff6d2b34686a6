#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "vta_kernel.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <pthread.h>
#include <stddef.h>
#include <unistd.h>

int vta_memfd_create(const char *name) { return memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING); }

int vta_memfd_seal_shrink(int fd) { return fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK); }

static int fill_address(struct sockaddr_un *a, const char *path) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof a->sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(a->sun_path, path, n);
    return 0;
}

int vta_unix_listen(const char *path, int backlog, unsigned mode) {
    struct sockaddr_un a;
    if (fill_address(&a, path) != 0) return -1;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) unlink(path);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || chmod(path, mode) != 0 || listen(fd, backlog) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int vta_unix_connect(const char *path) {
    struct sockaddr_un a;
    if (fill_address(&a, path) != 0) return -1;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int vta_accept(int fd, int nonblock) { return accept4(fd, NULL, NULL, SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0)); }

int vta_is_seqpacket(int fd) {
    int type = 0;
    socklen_t len = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) return 0;
    return type == SOCK_SEQPACKET;
}

ssize_t vta_send_message(int fd, const void *buf, size_t len, const int *fds, int nfds) {
    struct iovec iov = { (void *)buf, len };
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    char control[CMSG_SPACE(sizeof(int) * VTA_MAX_FDS_PER_MESSAGE)];
    if (nfds > 0) {
        if (nfds > VTA_MAX_FDS_PER_MESSAGE) {
            errno = EINVAL;
            return -1;
        }
        memset(control, 0, sizeof control);
        m.msg_control = control;
        m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
    }
    ssize_t r;
    do { r = sendmsg(fd, &m, MSG_NOSIGNAL); } while (r < 0 && errno == EINTR);
    return r;
}

ssize_t vta_recv_message(int fd, void *buf, size_t len, int *fds, int *nfds, int *truncated) {
    struct iovec iov = { buf, len };
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    char control[CMSG_SPACE(sizeof(int) * VTA_MAX_FDS_PER_MESSAGE)];
    m.msg_control = control;
    m.msg_controllen = sizeof control;
    *nfds = 0;
    *truncated = 0;
    ssize_t r;
    do { r = recvmsg(fd, &m, MSG_CMSG_CLOEXEC); } while (r < 0 && errno == EINTR);
    if (r < 0) return r;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            for (int i = 0; i < n; i++) {
                int f;
                memcpy(&f, CMSG_DATA(c) + sizeof(int) * (size_t)i, sizeof f);
                if (*nfds < VTA_MAX_FDS_PER_MESSAGE) fds[(*nfds)++] = f;
                else close(f);
            }
        }
    }
    if (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) *truncated = 1;
    return r;
}

int vta_peer_credentials(int fd, int32_t *pid, uint32_t *uid, uint32_t *gid) {
    struct ucred c;
    socklen_t len = sizeof c;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c, &len) != 0) return -1;
    *pid = c.pid;
    *uid = c.uid;
    *gid = c.gid;
    return 0;
}

int vta_peer_groups(int fd, uint32_t *gids, int max) {
#ifdef SO_PEERGROUPS
    gid_t buf[256];
    socklen_t len = sizeof buf;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, buf, &len) != 0) return -1;
    int n = (int)(len / sizeof(gid_t));
    if (n > max) n = max;
    for (int i = 0; i < n; i++) gids[i] = (uint32_t)buf[i];
    return n;
#else
    (void)fd; (void)gids; (void)max;
    return -1;
#endif
}

int vta_eventfd(void) { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }

int64_t vta_fd_size(int fd) {
    struct stat st;
    if (fstat(fd, &st) != 0) return -1;
    return (int64_t)st.st_size;
}

#include <signal.h>
#include <sys/signalfd.h>

int vta_sd_notify(const char *path, const char *message) {
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof a.sun_path) {
        errno = EINVAL;
        return -1;
    }
    memcpy(a.sun_path, path, n);
    if (path[0] == '@') a.sun_path[0] = '\0';
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    ssize_t r = sendto(fd, message, strlen(message), MSG_NOSIGNAL, (struct sockaddr *)&a, len);
    int e = errno;
    close(fd);
    errno = e;
    return r < 0 ? -1 : 0;
}

int vta_termination_signalfd(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) return -1;
    signal(SIGPIPE, SIG_IGN);
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

int vta_read_signal(int sfd) {
    struct signalfd_siginfo info;
    ssize_t r = read(sfd, &info, sizeof info);
    return r == (ssize_t)sizeof info ? (int)info.ssi_signo : 0;
}

#include <poll.h>
#include <sys/ioctl.h>
#include <time.h>

static int64_t monotonic_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

int vta_wait_readable(int fd, int64_t timeout_ns) {
    const int64_t deadline = timeout_ns >= 0 ? monotonic_ns() + timeout_ns : 0;
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN, .revents = 0 };
        struct timespec ts, *tsp = NULL;
        if (timeout_ns >= 0) {
            int64_t left = deadline - monotonic_ns();
            if (left < 0) left = 0;
            ts.tv_sec = (time_t)(left / 1000000000);
            ts.tv_nsec = (long)(left % 1000000000);
            tsp = &ts;
        }
        int r = ppoll(&p, 1, tsp, NULL);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        if (r == 0) return 0;
        if ((p.revents & POLLIN) && !(p.revents & (POLLERR | POLLNVAL))) return 1;
        if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) return -EIO;
        /* Some other event (POLLPRI...) without data: keep waiting for the rest of the time. */
        if (timeout_ns >= 0 && monotonic_ns() >= deadline) return 0;
    }
}

int vta_ioctl_ptr(int fd, unsigned long request, void *arg) {
    int r;
    do {
        r = ioctl(fd, request, arg);
    } while (r == -1 && (errno == EINTR || errno == EAGAIN));
    return r == -1 ? -errno : 0;
}

#define _GNU_SOURCE
#include "CUDPBatch.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>

int callseq_udp_receive_batch(int fd, void *buffers, size_t bufferSize, unsigned count,
                              callseq_udp_datagram *datagrams) {
    if (count > CALLSEQ_UDP_BATCH_MAX) count = CALLSEQ_UDP_BATCH_MAX;
    struct mmsghdr messages[CALLSEQ_UDP_BATCH_MAX];
    struct iovec vectors[CALLSEQ_UDP_BATCH_MAX];
    for (unsigned i = 0; i < count; i++) {
        vectors[i].iov_base = (char *)buffers + (size_t)i * bufferSize;
        vectors[i].iov_len = bufferSize;
        memset(&messages[i], 0, sizeof messages[i]);
        messages[i].msg_hdr.msg_name = &datagrams[i].source;
        messages[i].msg_hdr.msg_namelen = sizeof datagrams[i].source;
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    // MSG_TRUNC: msg_len is a datagram's real size, so a truncated one is recognised (udp(7)).
    int n = recvmmsg(fd, messages, count, MSG_DONTWAIT | MSG_TRUNC, NULL);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
    for (int i = 0; i < n; i++) {
        datagrams[i].sourceLength = messages[i].msg_hdr.msg_namelen;
        datagrams[i].size = messages[i].msg_len;
        datagrams[i].truncated = (messages[i].msg_hdr.msg_flags & MSG_TRUNC) != 0 || messages[i].msg_len > bufferSize;
    }
    return n;
}

int callseq_udp_send_batch(int fd, const void *data, const uint32_t *offsets, const uint32_t *lengths,
                           unsigned count, const struct sockaddr *destination, uint32_t destinationLength) {
    if (count > CALLSEQ_UDP_BATCH_MAX) count = CALLSEQ_UDP_BATCH_MAX;
    struct mmsghdr messages[CALLSEQ_UDP_BATCH_MAX];
    struct iovec vectors[CALLSEQ_UDP_BATCH_MAX];
    for (unsigned i = 0; i < count; i++) {
        vectors[i].iov_base = (char *)data + offsets[i];
        vectors[i].iov_len = lengths[i];
        memset(&messages[i], 0, sizeof messages[i]);
        messages[i].msg_hdr.msg_name = (void *)destination;
        messages[i].msg_hdr.msg_namelen = destinationLength;
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    int n = sendmmsg(fd, messages, count, MSG_DONTWAIT);
    return n < 0 ? -errno : n;
}

int callseq_epoll_create(void) {
    int fd = epoll_create1(EPOLL_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

static int control(int epoll, int operation, int fd, uint64_t data) {
    struct epoll_event event;
    memset(&event, 0, sizeof event);
    event.events = EPOLLIN | EPOLLET;
    event.data.u64 = data;
    return epoll_ctl(epoll, operation, fd, &event) < 0 ? -errno : 0;
}

int callseq_epoll_add(int epoll, int fd, uint64_t data) { return control(epoll, EPOLL_CTL_ADD, fd, data); }

int callseq_epoll_modify(int epoll, int fd, uint64_t data) { return control(epoll, EPOLL_CTL_MOD, fd, data); }

int callseq_epoll_remove(int epoll, int fd) { return control(epoll, EPOLL_CTL_DEL, fd, 0); }

int callseq_epoll_poll(int epoll, uint64_t *data, int max) {
    if (max > CALLSEQ_UDP_BATCH_MAX) max = CALLSEQ_UDP_BATCH_MAX;
    struct epoll_event events[CALLSEQ_UDP_BATCH_MAX];
    int n = epoll_wait(epoll, events, max, 0);
    if (n < 0) return errno == EINTR ? 0 : -errno;
    for (int i = 0; i < n; i++) data[i] = events[i].data.u64;
    return n;
}

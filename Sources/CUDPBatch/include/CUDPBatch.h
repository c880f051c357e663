// Batched UDP system calls for the media threads (recvmmsg, sendmmsg, epoll): Swift's Glibc module does not
// import `struct mmsghdr` or the mmsg calls (they need _GNU_SOURCE), and epoll_event is a packed struct on
// x86-64. Non-blocking, no allocation: the caller owns every buffer.
#ifndef CUDPBATCH_H
#define CUDPBATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/// The most datagrams one batch call handles.
#define CALLSEQ_UDP_BATCH_MAX 64

/// One received datagram of a batch: where it came from and its size (`size` > the buffer: truncated).
typedef struct {
    struct sockaddr_storage source;
    uint32_t sourceLength;
    uint32_t truncated;
    size_t size;
} callseq_udp_datagram;

/// recvmmsg(2) with MSG_DONTWAIT: up to `count` (≤ CALLSEQ_UDP_BATCH_MAX) datagrams into `count` buffers of
/// `bufferSize` bytes laid end to end at `buffers`. Returns the number received (0 when none was waiting), or
/// -errno.
int callseq_udp_receive_batch(int fd, void *buffers, size_t bufferSize, unsigned count,
                              callseq_udp_datagram *datagrams);

/// sendmmsg(2) with MSG_DONTWAIT: `count` (≤ CALLSEQ_UDP_BATCH_MAX) packets, packet i at `data + offsets[i]`
/// of `lengths[i]` bytes, all to `destination`. Returns the number sent (the kernel may stop early), or -errno.
int callseq_udp_send_batch(int fd, const void *data, const uint32_t *offsets, const uint32_t *lengths,
                           unsigned count, const struct sockaddr *destination, uint32_t destinationLength);

/// epoll_create1(EPOLL_CLOEXEC); -errno on failure.
int callseq_epoll_create(void);

/// Watches `fd` for input, edge-triggered (EPOLLIN | EPOLLET), reporting `data`; 0 or -errno.
int callseq_epoll_add(int epoll, int fd, uint64_t data);

/// Changes the data reported for `fd`; 0 or -errno.
int callseq_epoll_modify(int epoll, int fd, uint64_t data);

/// Stops watching `fd`; 0 or -errno.
int callseq_epoll_remove(int epoll, int fd);

/// epoll_wait(2) without waiting: the data of up to `max` (≤ CALLSEQ_UDP_BATCH_MAX) ready descriptors into
/// `data`. Returns their number, or -errno.
int callseq_epoll_poll(int epoll, uint64_t *data, int max);

/// A media thread's io_uring for sends (sendring.c): packets queued during a tick, submitted in one system call.
typedef struct callseq_send_ring callseq_send_ring;

/// A ring for `entries` (1...4096) queued sends. NULL with `*error` set on failure (ENOSYS, EPERM: io_uring
/// missing, disabled or filtered; ENOMEM...).
callseq_send_ring *callseq_send_ring_create(unsigned entries, int *error);

/// Closes the ring.
void callseq_send_ring_destroy(callseq_send_ring *ring);

/// Queues one datagram of `length` bytes at `data` from socket `fd` to `destination` (at most a sockaddr_in6).
/// The bytes must stay unchanged until the next flush. 0, -EBUSY when the queue is full (flush first), -EINVAL
/// for a longer address.
int callseq_send_ring_queue(callseq_send_ring *ring, int fd, const void *data, uint32_t length,
                            const struct sockaddr *destination, uint32_t destinationLength);

/// Submits the queued sends in one io_uring_enter(2) and counts the completions seen (sent, failed). Returns
/// the number of system calls made (0 or 1), or -errno when the submission failed or was partial.
int callseq_send_ring_flush(callseq_send_ring *ring, uint64_t *sent, uint64_t *failed);

/// Sends queued or submitted whose completion was not seen yet.
unsigned callseq_send_ring_pending(const callseq_send_ring *ring);

#endif

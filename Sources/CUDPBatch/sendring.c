// The media thread's sends through one io_uring (io_uring_enter(2), liburing): a tick queues every due call's
// packets, each an IORING_OP_SENDMSG from the call's own socket to its own destination, and submits them in one
// system call instead of one sendto(2) a packet. Every send carries MSG_DONTWAIT: a full send buffer completes
// the request at once with -EAGAIN (counted as failed, like sendto's EAGAIN) instead of parking it for a retry,
// so every request has completed when the submitting call returns and its message, address and bytes are
// never read after the flush. (Registering the sockets with the ring, to spare the descriptor lookup, was
// tried: a registration a call, at join and leave, made the tick's worst lateness higher, 7-22 ms against
// 5 ms at 2,000 calls, for no CPU saved.)
#define _GNU_SOURCE
#include "CUDPBatch.h"

#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

struct callseq_send_ring {
    struct io_uring ring;
    int ready;
    unsigned entries;
    unsigned queued;
    unsigned inflight;  // submitted, completion not yet seen (none with MSG_DONTWAIT; kept for safety)
    struct msghdr *messages;
    struct iovec *vectors;
    struct sockaddr_in6 *addresses;
};

static int setup(struct io_uring *ring, unsigned entries) {
    // SUBMIT_ALL: a request that fails at submission does not stop the ones after it (5.18).
    // SINGLE_ISSUER: only the media thread submits (6.0). COOP_TASKRUN: no interrupt for task work (5.19).
    unsigned flags[] = {IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN,
                        IORING_SETUP_SUBMIT_ALL, 0};
    int result = -EINVAL;
    for (unsigned i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        struct io_uring_params params;
        memset(&params, 0, sizeof params);
        params.flags = flags[i];
        result = io_uring_queue_init_params(entries, ring, &params);
        if (result != -EINVAL) return result;
    }
    return result;
}

callseq_send_ring *callseq_send_ring_create(unsigned entries, int *error) {
    *error = 0;
    if (entries == 0 || entries > 4096) {
        *error = EINVAL;
        return NULL;
    }
    callseq_send_ring *r = calloc(1, sizeof *r);
    if (!r) {
        *error = ENOMEM;
        return NULL;
    }
    r->entries = entries;
    r->messages = calloc(entries, sizeof *r->messages);
    r->vectors = calloc(entries, sizeof *r->vectors);
    r->addresses = calloc(entries, sizeof *r->addresses);
    if (!r->messages || !r->vectors || !r->addresses) {
        *error = ENOMEM;
        callseq_send_ring_destroy(r);
        return NULL;
    }
    int result = setup(&r->ring, entries);
    if (result < 0) {
        *error = -result;
        callseq_send_ring_destroy(r);
        return NULL;
    }
    r->ready = 1;
    return r;
}

void callseq_send_ring_destroy(callseq_send_ring *r) {
    if (!r) return;
    if (r->ready) io_uring_queue_exit(&r->ring);
    free(r->messages);
    free(r->vectors);
    free(r->addresses);
    free(r);
}

int callseq_send_ring_queue(callseq_send_ring *r, int fd, const void *data, uint32_t length,
                            const struct sockaddr *destination, uint32_t destinationLength) {
    if (destinationLength > sizeof(struct sockaddr_in6)) return -EINVAL;
    if (r->queued + r->inflight >= r->entries) return -EBUSY;
    struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
    if (!sqe) return -EBUSY;
    unsigned i = r->queued++;
    memcpy(&r->addresses[i], destination, destinationLength);
    r->vectors[i].iov_base = (void *)data;
    r->vectors[i].iov_len = length;
    struct msghdr *m = &r->messages[i];
    m->msg_name = &r->addresses[i];
    m->msg_namelen = destinationLength;
    m->msg_iov = &r->vectors[i];
    m->msg_iovlen = 1;
    m->msg_control = NULL;
    m->msg_controllen = 0;
    m->msg_flags = 0;
    io_uring_prep_sendmsg(sqe, fd, m, MSG_DONTWAIT);
    sqe->user_data = 0;
    return 0;
}

static void reap(callseq_send_ring *r, uint64_t *sent, uint64_t *failed) {
    struct io_uring_cqe *cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&r->ring, head, cqe) {
        if (cqe->res >= 0) (*sent)++;
        else (*failed)++;
        seen++;
    }
    io_uring_cq_advance(&r->ring, seen);
    r->inflight = seen > r->inflight ? 0 : r->inflight - seen;
}

int callseq_send_ring_flush(callseq_send_ring *r, uint64_t *sent, uint64_t *failed) {
    *sent = 0;
    *failed = 0;
    int calls = 0;
    if (r->queued > 0) {
        int n = io_uring_submit(&r->ring);
        calls = 1;
        if (n < 0) return n;  // nothing taken; the caller gives up the ring
        unsigned submitted = (unsigned)n < r->queued ? (unsigned)n : r->queued;
        r->inflight += submitted;
        r->queued -= submitted;
        // A request refused at submission stops the rest without IORING_SETUP_SUBMIT_ALL (before 5.18): what
        // is left would leave at a later flush with bytes that have changed since. The caller gives up the ring.
        if (r->queued > 0) {
            reap(r, sent, failed);
            return -EIO;
        }
    }
    reap(r, sent, failed);
    return calls;
}

unsigned callseq_send_ring_pending(const callseq_send_ring *r) { return r->queued + r->inflight; }

// A thread's own wait for its receivers' sockets (receive-wait.c), used by udp-receive.c when a receiver is opened
// with ownWait.
#ifndef TERTULIA_RECEIVE_WAIT_H
#define TERTULIA_RECEIVE_WAIT_H
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef struct ReceiveWait ReceiveWait;

/** Called for a member whose socket is ready: `error` when the socket reports one (EPOLLERR, EPOLLHUP). */
typedef void (*ReceiveWaitReady)(void* member, bool error);

/**
 * Adds fd (readable: ready(member, ...)) to the calling thread's wait on loop, made with its first member; NULL
 * when it cannot (then the caller watches fd with a uv_poll_t as before). Every member of a thread gives the same
 * `ready`.
 */
ReceiveWait* receive_wait_join(uv_loop_t* loop, int fd, void* member, ReceiveWaitReady ready);

/** Takes fd out of w (before it is closed); the wait closes itself with its last member. */
void receive_wait_leave(ReceiveWait* w, int fd);

/** How many times the calling thread's waits found a member's socket ready (a test's and a benchmark's count). */
uint64_t receive_wait_handled(void);

#endif

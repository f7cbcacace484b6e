// A thread's own wait for its receivers' sockets (native data plane, ARCHITECTURE.md "Toward a native data plane",
// brick 5 in its single-threaded form). Without it each receiver's socket is a uv_poll_t in the event loop's epoll,
// and every datagram that wakes the thread runs a whole turn of Node's loop around the read, even when the routes
// forwarded the batch without JavaScript: libuv's phases, and Node's check of immediates, which opens a callback
// scope and makes a JavaScript object each time (~6 % of a busy media worker in a meeting of three).
// With it the sockets are not in the loop's epoll but in one of the thread's own, together with the loop's epoll
// itself (uv_backend_fd: readable when the loop has anything to do). In the loop's prepare phase — the last step
// before libuv waits for I/O — the thread waits on that set for as long as libuv would have waited
// (uv_backend_timeout: the next timer, 0 with immediates or closing handles pending). A readable socket is read and
// handled right there (udp-receive.c: the routes forward, JavaScript is called for what it must see, as a
// callback from the event loop), the thread's send queues leave (udp-send-queue.c), and the wait starts again,
// with no turn of the loop. Anything else — a timer due, a worker message, another socket, an immediate JavaScript
// queued — ends the wait, and libuv's turn goes on as it would have: its own wait then returns at once.
// One thread, one loop: nothing here is shared between threads.
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "receive-wait.h"
#include "udp-send-queue.h"

/** Ready sockets taken from one epoll_wait (more stay ready: the set is level-triggered). */
#define WAIT_EVENTS 64

struct ReceiveWait {
  uv_prepare_t prepare;
  uv_loop_t* loop;
  int epfd;
  int members;
  ReceiveWaitReady ready;
};

/** The calling thread's wait (a worker thread's loop is its own). */
static __thread ReceiveWait* threadWait = NULL;
/** Ready sockets the calling thread's waits have handled. */
static __thread uint64_t threadHandled = 0;

uint64_t receive_wait_handled(void) {
  return threadHandled;
}

static void on_closed(uv_handle_t* h) {
  ReceiveWait* w = (ReceiveWait*)h->data;
  close(w->epfd);
  free(w);
}

static void on_prepare(uv_prepare_t* h) {
  ReceiveWait* w = (ReceiveWait*)h->data;
  struct epoll_event ev[WAIT_EVENTS];
  while (w->members > 0) {
    // what libuv would wait for, from now (the time it keeps is the turn's start: a wait here passed some of it)
    uv_update_time(w->loop);
    int timeout = uv_backend_timeout(w->loop);
    if (timeout == 0) return;
    int n = epoll_wait(w->epfd, ev, WAIT_EVENTS, timeout);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    bool loopReady = false;
    for (int i = 0; i < n && w->members > 0; i++) {
      if (ev[i].data.ptr == NULL) loopReady = true;
      // a member that left during this round (closed by JavaScript) is still in memory until the loop's closing
      // phase, which comes after this: udp-receive.c skips a closing receiver
      else {
        threadHandled++;
        w->ready(ev[i].data.ptr, (ev[i].events & (EPOLLERR | EPOLLHUP)) != 0);
      }
    }
    send_queues_flush_thread();
    if (loopReady) break;
  }
  uv_update_time(w->loop);
}

ReceiveWait* receive_wait_join(uv_loop_t* loop, int fd, void* member, ReceiveWaitReady ready) {
  ReceiveWait* w = threadWait;
  if (w != NULL && (w->loop != loop || w->ready != ready)) return NULL;
  if (w == NULL) {
    w = calloc(1, sizeof *w);
    if (w == NULL) return NULL;
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = NULL};
    if (w->epfd < 0 || epoll_ctl(w->epfd, EPOLL_CTL_ADD, uv_backend_fd(loop), &e) != 0) {
      if (w->epfd >= 0) close(w->epfd);
      free(w);
      return NULL;
    }
    w->loop = loop;
    w->ready = ready;
    uv_prepare_init(loop, &w->prepare);
    w->prepare.data = w;
    uv_prepare_start(&w->prepare, on_prepare);
    threadWait = w;
  }
  struct epoll_event e = {.events = EPOLLIN, .data.ptr = member};
  if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &e) != 0) {
    if (w->members == 0) {
      threadWait = NULL;
      uv_close((uv_handle_t*)&w->prepare, on_closed);
    }
    return NULL;
  }
  w->members++;
  return w;
}

void receive_wait_leave(ReceiveWait* w, int fd) {
  epoll_ctl(w->epfd, EPOLL_CTL_DEL, fd, NULL);
  if (--w->members > 0) return;
  // the last member: the prepare handle (active, so it kept the loop alive like the members' polls) goes
  if (threadWait == w) threadWait = NULL;
  uv_prepare_stop(&w->prepare);
  uv_close((uv_handle_t*)&w->prepare, on_closed);
}

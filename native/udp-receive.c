// The receive side of Tertulia's native UDP module (linked into udp-batch.node with udp-batch.c): the event loop
// watches a socket (uv_poll_t on the thread's own libuv loop) and, when it is readable, up to RECV_BATCH datagrams
// are read with one recvmmsg(2) into an arena JavaScript shares, each with its sender and the kernel's arrival
// time (SO_TIMESTAMPNS), and ONE JavaScript callback handles the batch. Node's dgram instead reads one datagram
// per libuv read, allocates a Buffer and an rinfo object with an address string for each and calls JavaScript
// once per datagram (and the arrival time then cost one more system call).
//
//   openReceiver(fd, arena, meta, ages, bufferBytes, onBatch[, srtpPeers[, routes]]) -> receiver
//       arena: ArrayBuffer of RECV_BATCH * RECV_SLOT bytes (datagram i at i * RECV_SLOT); meta: Uint32Array of
//       RECV_META (i*4: length, IPv4 address in host order, port, flags: 1 = truncated, larger than a slot;
//       2 = SRTP/SRTCP of a peer of srtpPeers (srtp-peers.c) unprotected in place, its plaintext length in the
//       upper 16 bits (the length stays the datagram's); 4 = such a datagram refused (a bad tag, a replay); 8 (with
//       2) = forwarded by the thread's routes (routes.c), JavaScript only books it from their log (a batch forwarded
//       whole, with no new kernel drops, is not handed to JavaScript at all); then at
//       RECV_BATCH * 4: how many datagrams the kernel has dropped at this socket since it opened (SO_RXQ_OVFL: a full
//       receive buffer), as of the batch's last datagram);
//       ages: Float64Array of RECV_BATCH (how long ago, ms by the kernel's clock, datagram i arrived; -1 unknown).
//       onBatch(count) is called with the number of datagrams filled in, or with -errno when the socket reports
//       an error (a connected socket's ICMP port unreachable: -ECONNREFUSED). The arena is written again after
//       onBatch returns: what JavaScript keeps, it copies. Sets SO_RCVBUF/SO_SNDBUF to bufferBytes (0: leaves them).
//       Microtasks queued by onBatch run when it returns (napi_make_callback), so sends queued during a batch leave
//       together then.
//   closeReceiver(receiver)       stops watching, closes the socket; no onBatch after it. Idempotent.
//   connectUdp4(fd, address, port) connects the socket (a peer's own socket in a SO_REUSEPORT group).
//   localPort(fd) -> port         the port the socket is bound to.
//   closeFd(fd)                   closes a socket no receiver owns (one whose connect failed).
// A worker thread that exits closes its receivers (an async cleanup hook: the poll handle is closed on its loop).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>
#include "napi-typed.h"
#include "udp-receive.h"
#include "srtp-peers.h"
#include "routes.h"

/**
 * Batches read in one readiness callback at most (then the loop runs other work and comes back: the poll is
 * level-triggered). One: a backlog of 8 batches fanned out to a webinar's receivers was ~24,000 sends (hundreds of
 * ms) in one callback, while the thread's other sockets (the connected ones of a shared port), its timers (the
 * pacer) and its hand-offs to other workers waited; dgram reads 32 datagrams per callback.
 */
#define MAX_BATCHES_PER_WAKE 1
/** Error wake-ups in a row (no datagram read between them) after which the socket is given up: it is broken. */
#define MAX_ERROR_RUN 64

typedef struct Receiver {
  uv_poll_t poll;
  napi_env env;
  int fd;
  bool closing;
  /** the poll handle's close callback ran */
  bool closed;
  /** the JavaScript handle was collected */
  bool finalized;
  /** stopped by the environment's teardown: no Node-API calls any more */
  bool teardown;
  /** error wake-ups since the last datagram read */
  int errorRun;
  napi_ref onBatch;
  napi_ref arenaRef;
  napi_ref metaRef;
  napi_ref agesRef;
  /** The thread's SRTP peers (NULL: none given), and their handle kept alive while this runs. */
  const SrtpPeers* peers;
  napi_ref peersRef;
  /** The thread's native routes (NULL: none given): what they forward, JavaScript only books. */
  Routes* routes;
  napi_ref routesRef;
  napi_async_context async;
  napi_async_cleanup_hook_handle cleanup;
  uint8_t* arena;
  uint32_t* meta;
  double* ages;
  struct mmsghdr msgs[RECV_BATCH];
  struct iovec iov[RECV_BATCH];
  struct sockaddr_in from[RECV_BATCH];
  char control[RECV_BATCH][CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(uint32_t))];
  /** the kernel's drop count (SO_RXQ_OVFL) last heard; it comes only with a datagram, so it is carried over */
  uint32_t drops;
  /** the drop count of the last batch JavaScript was called for */
  uint32_t dropsTold;
} Receiver;

static void maybe_free(Receiver* r) {
  if (r->closed && r->finalized) free(r);
}

static void on_closed(uv_handle_t* h) {
  Receiver* r = (Receiver*)h->data;
  if (!r->teardown) {
    // here, not in stop(): stop() may run inside the callback this context describes
    napi_handle_scope scope;
    if (napi_open_handle_scope(r->env, &scope) == napi_ok) {
      napi_async_destroy(r->env, r->async);
      napi_close_handle_scope(r->env, scope);
    }
  }
  if (r->cleanup != NULL) {
    napi_remove_async_cleanup_hook(r->cleanup);
    r->cleanup = NULL;
  }
  r->closed = true;
  maybe_free(r);
}

/** Stops watching and closes the socket; `teardown`: the environment is going away (no Node-API calls). */
static void stop(Receiver* r, bool teardown) {
  if (r->closing) return;
  r->closing = true;
  r->teardown = teardown;
  uv_poll_stop(&r->poll);
  if (r->fd >= 0) close(r->fd);
  r->fd = -1;
  if (!teardown) {
    napi_delete_reference(r->env, r->onBatch);
    napi_delete_reference(r->env, r->arenaRef);
    napi_delete_reference(r->env, r->metaRef);
    napi_delete_reference(r->env, r->agesRef);
    if (r->peersRef != NULL) napi_delete_reference(r->env, r->peersRef);
    if (r->routesRef != NULL) napi_delete_reference(r->env, r->routesRef);
  }
  uv_close((uv_handle_t*)&r->poll, on_closed);
}

static void on_cleanup(napi_async_cleanup_hook_handle handle, void* data) {
  (void)handle;
  stop((Receiver*)data, true);
}

static void on_finalize(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  Receiver* r = (Receiver*)data;
  r->finalized = true;
  maybe_free(r);
}

/** Calls onBatch(arg) as a callback from the event loop (microtasks and nextTicks run after it). */
static void call_js(Receiver* r, int32_t arg) {
  napi_env env = r->env;
  r->dropsTold = r->meta[(size_t)RECV_BATCH * 4];
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn, recv, argv[1], result;
  if (napi_get_reference_value(env, r->onBatch, &fn) == napi_ok && fn != NULL && napi_get_global(env, &recv) == napi_ok &&
      napi_create_int32(env, arg, &argv[0]) == napi_ok) {
    if (napi_make_callback(env, r->async, recv, fn, 1, argv, &result) == napi_pending_exception) {
      // as an exception from any event-loop callback: the process's uncaught-exception handling
      napi_value error;
      if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
    }
  }
  napi_close_handle_scope(env, scope);
}

/** Reads one batch; returns how many datagrams (0: none waiting), or -errno. */
static int read_batch(Receiver* r) {
  for (int i = 0; i < RECV_BATCH; i++) {
    r->iov[i].iov_base = r->arena + (size_t)i * RECV_SLOT;
    r->iov[i].iov_len = RECV_SLOT;
    struct msghdr* h = &r->msgs[i].msg_hdr;
    h->msg_name = &r->from[i];
    h->msg_namelen = sizeof r->from[i];
    h->msg_iov = &r->iov[i];
    h->msg_iovlen = 1;
    h->msg_control = r->control[i];
    h->msg_controllen = sizeof r->control[i];
    h->msg_flags = 0;
  }
  int n;
  do n = recvmmsg(r->fd, r->msgs, RECV_BATCH, MSG_DONTWAIT, NULL);
  while (n < 0 && errno == EINTR);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
  struct timespec now, mono;
  clock_gettime(CLOCK_REALTIME, &now);
  clock_gettime(CLOCK_MONOTONIC, &mono);
  const double monoMs = (double)mono.tv_sec * 1e3 + (double)mono.tv_nsec / 1e6;
  routes_batch_begin(r->routes);
  for (int i = 0; i < n; i++) {
    struct msghdr* h = &r->msgs[i].msg_hdr;
    uint32_t* m = r->meta + (size_t)i * 4;
    unsigned len = r->msgs[i].msg_len;
    m[0] = len > RECV_SLOT ? RECV_SLOT : len;
    m[1] = h->msg_namelen >= sizeof(struct sockaddr_in) && r->from[i].sin_family == AF_INET ? ntohl(r->from[i].sin_addr.s_addr) : 0;
    m[2] = h->msg_namelen >= sizeof(struct sockaddr_in) ? ntohs(r->from[i].sin_port) : 0;
    m[3] = (h->msg_flags & MSG_TRUNC) ? 1 : 0;
    double age = -1;
    for (struct cmsghdr* c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS && c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
        struct timespec t;
        memcpy(&t, CMSG_DATA(c), sizeof t);
        age = (double)(now.tv_sec - t.tv_sec) * 1e3 + (double)(now.tv_nsec - t.tv_nsec) / 1e6;
      } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL && c->cmsg_len >= CMSG_LEN(sizeof(uint32_t))) {
        memcpy(&r->drops, CMSG_DATA(c), sizeof r->drops);
      }
    }
    r->ages[i] = age;
    if (r->peers != NULL && m[3] == 0) {
      int32_t sender = -1;
      uint8_t* p = r->arena + (size_t)i * RECV_SLOT;
      int plain = srtp_peers_unprotect(r->peers, m[1], (uint16_t)m[2], p, (int)m[0], RECV_SLOT, &sender);
      if (plain > 0) m[3] = 2 | ((uint32_t)plain << 16) | (routes_forward(r->routes, sender, p, plain, (int)m[0], monoMs, age) ? 8 : 0);
      else if (plain < 0) m[3] = 4;
    }
    // STUN, DTLS, a stranger's or a refused datagram: JavaScript handles it before anything after it
    if (!(m[3] & 2)) routes_batch_stop(r->routes);
  }
  r->meta[(size_t)RECV_BATCH * 4] = r->drops;
  if (r->routes != NULL) {
    // the ages are JavaScript's against the moment it is called, right after this: the time the routes took forwarding
    // is added, so that no datagram looks as if it had arrived later than it did
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    const double spent = (double)end.tv_sec * 1e3 + (double)end.tv_nsec / 1e6 - monoMs;
    for (int i = 0; i < n; i++)
      if (r->ages[i] >= 0) r->ages[i] += spent;
  }
  return n;
}

/** Whether the routes forwarded every datagram of the batch (and the kernel dropped nothing since the last call). */
static bool forwarded_whole(const Receiver* r, int n) {
  if (r->routes == NULL || r->meta[(size_t)RECV_BATCH * 4] != r->dropsTold) return false;
  for (int i = 0; i < n; i++)
    if (!(r->meta[(size_t)i * 4 + 3] & 8)) return false;
  return true;
}

static void on_readable(uv_poll_t* h, int status, int events) {
  Receiver* r = (Receiver*)h->data;
  if (r->closing) return;
  if (status < 0) {
    // POLLERR (a connected socket's pending ICMP error): libuv stopped the handle. Report the socket's own
    // error (reading it clears it) and watch again.
    // An error that does not clear (nothing in SO_ERROR, POLLERR still up) would wake this forever: after
    // MAX_ERROR_RUN of them with no datagram between, the socket stays unwatched (JavaScript heard each error).
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err == 0) err = EIO;
    call_js(r, -err);
    if (!r->closing && ++r->errorRun < MAX_ERROR_RUN) uv_poll_start(&r->poll, UV_READABLE, on_readable);
    return;
  }
  if (!(events & UV_READABLE)) return;
  for (int k = 0; k < MAX_BATCHES_PER_WAKE && !r->closing; k++) {
    int n = read_batch(r);
    if (n == 0) return;
    r->errorRun = 0;
    // a batch the routes forwarded whole needs no JavaScript now: it books them the next time it runs
    if (!forwarded_whole(r, n)) call_js(r, n);
    if (n < RECV_BATCH) return;
  }
}

static napi_value OpenReceiver(napi_env env, napi_callback_info info) {
  static const char* usage = "openReceiver(fd, ArrayBuffer, Uint32Array, Float64Array, bufferBytes, onBatch[, srtpPeers[, routes]])";
  size_t argc = 8;
  napi_value a[8];
  int32_t fd = -1, bufferBytes = 0;
  void* arena = NULL;
  size_t arenaLength = 0, metaLength = 0, agesLength = 0;
  uint32_t* meta = NULL;
  double* ages = NULL;
  napi_valuetype fnType = napi_undefined;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 6 || napi_get_value_int32(env, a[0], &fd) != napi_ok ||
      napi_get_arraybuffer_info(env, a[1], &arena, &arenaLength) != napi_ok || !typed(env, a[2], napi_uint32_array, (void**)&meta, &metaLength) ||
      !typed(env, a[3], napi_float64_array, (void**)&ages, &agesLength) || napi_get_value_int32(env, a[4], &bufferBytes) != napi_ok ||
      napi_typeof(env, a[5], &fnType) != napi_ok || fnType != napi_function || fd < 0) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  SrtpPeers* peers = NULL;
  napi_valuetype peersType = napi_undefined;
  if (argc >= 7 && (napi_typeof(env, a[6], &peersType) != napi_ok ||
                    (peersType != napi_undefined && (peers = srtp_peers_of(env, a[6])) == NULL))) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  Routes* routes = NULL;
  napi_valuetype routesType = napi_undefined;
  if (argc >= 8 && (napi_typeof(env, a[7], &routesType) != napi_ok ||
                    (routesType != napi_undefined && (peers == NULL || (routes = routes_of(env, a[7])) == NULL)))) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  if (arenaLength < (size_t)RECV_BATCH * RECV_SLOT || metaLength < (size_t)RECV_META || agesLength < RECV_BATCH) {
    napi_throw_range_error(env, NULL, "openReceiver: arrays smaller than RECV_BATCH datagrams");
    return NULL;
  }
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) != 0) {
    napi_throw_error(env, NULL, "openReceiver: not a socket (SO_TIMESTAMPNS)");
    return NULL;
  }
  // the kernel's count of datagrams dropped at this socket comes with each datagram read (a cmsg): what was
  // lost is counted, not guessed (udp-receive.ts adds the increments to the bridge's counters)
  setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
  if (bufferBytes > 0) {
    // the kernel caps them (net.core.rmem_max); the defaults work, with less headroom
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufferBytes, sizeof bufferBytes);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufferBytes, sizeof bufferBytes);
  }
  uv_loop_t* loop = NULL;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == NULL) {
    napi_throw_error(env, NULL, "openReceiver: no event loop");
    return NULL;
  }
  Receiver* r = calloc(1, sizeof *r);
  if (r == NULL) {
    napi_throw_error(env, NULL, "openReceiver: out of memory");
    return NULL;
  }
  r->env = env;
  r->fd = fd;
  r->arena = arena;
  r->meta = meta;
  r->ages = ages;
  r->peers = peers;
  r->routes = routes;
  int err = uv_poll_init(loop, &r->poll, fd);
  if (err != 0) {
    free(r);
    napi_throw_error(env, NULL, uv_strerror(err)); // UV_EEXIST: another handle (a dgram socket) reads it
    return NULL;
  }
  r->poll.data = r;
  napi_value name, handle;
  napi_create_string_utf8(env, "tertulia.udpReceive", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &r->async);
  napi_create_reference(env, a[5], 1, &r->onBatch);
  napi_create_reference(env, a[1], 1, &r->arenaRef);
  napi_create_reference(env, a[2], 1, &r->metaRef);
  napi_create_reference(env, a[3], 1, &r->agesRef);
  if (peers != NULL) napi_create_reference(env, a[6], 1, &r->peersRef);
  if (routes != NULL) napi_create_reference(env, a[7], 1, &r->routesRef);
  napi_add_async_cleanup_hook(env, on_cleanup, r, &r->cleanup);
  uv_poll_start(&r->poll, UV_READABLE, on_readable);
  if (napi_create_external(env, r, on_finalize, NULL, &handle) != napi_ok) {
    r->finalized = true;
    r->fd = -1; // the caller still owns the socket when this throws (it closes it): not closed here too
    stop(r, false);
    napi_throw_error(env, NULL, "openReceiver: no handle");
    return NULL;
  }
  return handle;
}

static napi_value CloseReceiver(napi_env env, napi_callback_info info) {
  Receiver* data = external_arg(env, info, "closeReceiver(receiver)");
  if (data != NULL) stop(data, false);
  return NULL;
}

static napi_value ConnectUdp4(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value a[3];
  int32_t fd = -1, port = -1;
  char address[64];
  size_t alen = 0;
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 3 || napi_get_value_int32(env, a[0], &fd) != napi_ok ||
      napi_get_value_string_utf8(env, a[1], address, sizeof address, &alen) != napi_ok || napi_get_value_int32(env, a[2], &port) != napi_ok ||
      port <= 0 || port > 65535 || inet_pton(AF_INET, address, &sa.sin_addr) != 1) {
    napi_throw_type_error(env, NULL, "connectUdp4(fd, IPv4 address, port 1..65535)");
    return NULL;
  }
  sa.sin_port = htons((uint16_t)port);
  if (connect(fd, (struct sockaddr*)&sa, sizeof sa) != 0) {
    napi_throw_error(env, NULL, strerror(errno));
    return NULL;
  }
  return NULL;
}

static napi_value LocalPort(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1], out;
  int32_t fd = -1;
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_int32(env, a[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "localPort(fd)");
    return NULL;
  }
  if (getsockname(fd, (struct sockaddr*)&sa, &len) != 0 || sa.sin_family != AF_INET) {
    napi_throw_error(env, NULL, "localPort: not a bound IPv4 socket");
    return NULL;
  }
  napi_create_int32(env, ntohs(sa.sin_port), &out);
  return out;
}

static napi_value CloseFd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  int32_t fd = -1;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_int32(env, a[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, NULL, "closeFd(fd)");
    return NULL;
  }
  close(fd);
  return NULL;
}

void udp_receive_init(napi_env env, napi_value exports) {
  napi_value f, v;
  napi_create_function(env, "openReceiver", NAPI_AUTO_LENGTH, OpenReceiver, NULL, &f);
  napi_set_named_property(env, exports, "openReceiver", f);
  napi_create_function(env, "closeReceiver", NAPI_AUTO_LENGTH, CloseReceiver, NULL, &f);
  napi_set_named_property(env, exports, "closeReceiver", f);
  napi_create_function(env, "connectUdp4", NAPI_AUTO_LENGTH, ConnectUdp4, NULL, &f);
  napi_set_named_property(env, exports, "connectUdp4", f);
  napi_create_function(env, "localPort", NAPI_AUTO_LENGTH, LocalPort, NULL, &f);
  napi_set_named_property(env, exports, "localPort", f);
  napi_create_function(env, "closeFd", NAPI_AUTO_LENGTH, CloseFd, NULL, &f);
  napi_set_named_property(env, exports, "closeFd", f);
  napi_create_int32(env, RECV_BATCH, &v);
  napi_set_named_property(env, exports, "RECV_BATCH", v);
  napi_create_int32(env, RECV_SLOT, &v);
  napi_set_named_property(env, exports, "RECV_SLOT", v);
  napi_create_int32(env, RECV_META, &v);
  napi_set_named_property(env, exports, "RECV_META", v);
}

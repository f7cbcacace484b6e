// Tertulia's optional native module for the bridge's UDP socket (Node-API, Linux): many datagrams in one
// sendmmsg(2) call (Node's dgram has no batched send, and one socket.send() per forwarded packet costs ~3 µs
// more than this on the project's benchmark machine, docs/BENCHMARKS.md), and the kernel's arrival time of a
// received datagram (for transport-cc feedback). The bridge works the same without it
// (src/bridge/native/udp-batch.ts falls back to dgram sends and event-loop times); scripts/build-native.sh builds it.
//
//   openUdp4(address, port, reusePort) -> fd   a non-blocking IPv4 UDP socket, bound, receive stamps on
//                                              (dgram then adopts it)
//   sendBatch(fd, arena, offsets, lengths, addrs, ports, count) -> sent
//       datagram i is arena[offsets[i] .. offsets[i] + lengths[i]) to addrs[i]:ports[i] (IPv4, host order);
//       returns how many were sent (a datagram the kernel refuses is skipped; a full socket buffer stops).
//   sendEach(fds, arena, offsets, lengths, addrs, ports, count) -> sent
//       as sendBatch, but datagram i leaves from its own socket fds[i] (the SIP gateway's calls: each phone
//       expects its RTP from the port in our SDP): one sendto(2) each, all in one call from JavaScript (what
//       costs in a dgram send is Node's per-send work, not the system call). A datagram refused is skipped.
//   receiveAgeMs(fd) -> ms
//       how long ago (kernel clock) the datagram last read from fd arrived at the host: SIOCGSTAMPNS, the
//       kernel's receive timestamp of the last datagram read. Called from the message handler of the socket
//       (libuv reads one datagram and runs its callback before reading the next), it dates that datagram,
//       however late the event loop got to it. -1 when the kernel has no stamp (the first datagram: the first
//       call turns stamping on). The dgram receive path's; the native one (udp-receive.c: recvmmsg batches
//       with SO_TIMESTAMPNS) gets every datagram's time with the datagram.
//   setThreadName(name)
//       names the calling thread (its first 15 bytes: the kernel's limit) so that top -H, perf and /proc show which
//       thread is which media worker (Node names every thread "node").
#define _GNU_SOURCE
// With srtp-peers.c (and the SRTP crypto, srtp-core.c) the receive batch unprotects the SRTP of the peers
// JavaScript maps (createSrtpPeers, setSrtpPeer, deleteSrtpPeer).
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <pthread.h>
#include "napi-typed.h"
#include "udp-receive.h"
#include "srtp-peers.h"
#include "udp-send-queue.h"
#include "vp8-rewrite.h"
#include "routes.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/** Datagrams per sendmmsg call (more are sent in several). */
#define MAX_BATCH 256

static napi_value throw_errno(napi_env env, const char* what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  const char* code = err == EADDRINUSE ? "EADDRINUSE" : err == EACCES ? "EACCES" : err == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : NULL;
  napi_throw_error(env, code, msg);
  return NULL;
}

static napi_value OpenUdp4(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value a[3];
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 3) {
    napi_throw_type_error(env, NULL, "openUdp4(address, port, reusePort)");
    return NULL;
  }
  char address[64];
  size_t alen = 0;
  int32_t port = 0;
  bool reuse = false;
  if (napi_get_value_string_utf8(env, a[0], address, sizeof address, &alen) != napi_ok ||
      napi_get_value_int32(env, a[1], &port) != napi_ok || napi_get_value_bool(env, a[2], &reuse) != napi_ok ||
      port < 0 || port > 65535) {
    napi_throw_type_error(env, NULL, "openUdp4(address: string, port: 0..65535, reusePort: boolean)");
    return NULL;
  }
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, address, &sa.sin_addr) != 1) {
    napi_throw_type_error(env, NULL, "openUdp4: not an IPv4 address");
    return NULL;
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  int one = 1;
  if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "SO_REUSEPORT", err);
  }
  if (bind(fd, (struct sockaddr*)&sa, sizeof sa) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "bind", err);
  }
  // the first SIOCGSTAMPNS turns the kernel's receive stamps on for this socket (receiveAgeMs reads them)
  struct timespec unused;
  ioctl(fd, SIOCGSTAMPNS, &unused);
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
}



/**
 * Reads arguments 1..6 into `d`; `room` is how many entries the caller's own array (argument 0) has. Throws and
 * returns false on a wrong argument or a count beyond any array.
 */
static bool read_datagrams(napi_env env, napi_value* a, size_t room, const char* usage, const char* tooMany, Datagrams* d) {
  size_t n0 = 0, n1 = 0, n2 = 0, n3 = 0;
  if (napi_get_arraybuffer_info(env, a[1], &d->arena, &d->arenaLength) != napi_ok ||
      !typed(env, a[2], napi_int32_array, (void**)&d->offsets, &n0) ||
      !typed(env, a[3], napi_int32_array, (void**)&d->lengths, &n1) ||
      !typed(env, a[4], napi_uint32_array, (void**)&d->addrs, &n2) ||
      !typed(env, a[5], napi_uint16_array, (void**)&d->ports, &n3) ||
      napi_get_value_int32(env, a[6], &d->count) != napi_ok) {
    napi_throw_type_error(env, NULL, usage);
    return false;
  }
  if (d->count < 0) d->count = 0;
  size_t c = (size_t)d->count;
  if (c > room || c > n0 || c > n1 || c > n2 || c > n3) {
    napi_throw_range_error(env, NULL, tooMany);
    return false;
  }
  return true;
}

int udp_send_datagrams(int fd, const Datagrams* d) {
  struct mmsghdr msgs[MAX_BATCH];
  struct iovec iov[MAX_BATCH];
  struct sockaddr_in to[MAX_BATCH];
  int sent = 0, done = 0;
  while (done < d->count) {
    int n = 0;
    for (; n < MAX_BATCH && done + n < d->count; n++) {
      int i = done + n;
      int32_t o = d->offsets[i], l = d->lengths[i];
      // never read outside the arena
      if (o < 0 || l < 0 || (size_t)o + (size_t)l > d->arenaLength) l = 0, o = 0;
      iov[n].iov_base = (char*)d->arena + o;
      iov[n].iov_len = (size_t)l;
      memset(&to[n], 0, sizeof to[n]);
      to[n].sin_family = AF_INET;
      to[n].sin_port = htons(d->ports[i]);
      to[n].sin_addr.s_addr = htonl(d->addrs[i]);
      memset(&msgs[n].msg_hdr, 0, sizeof msgs[n].msg_hdr);
      msgs[n].msg_hdr.msg_name = &to[n];
      msgs[n].msg_hdr.msg_namelen = sizeof to[n];
      msgs[n].msg_hdr.msg_iov = &iov[n];
      msgs[n].msg_hdr.msg_iovlen = 1;
    }
    int k = 0;
    while (k < n) {
      int r = sendmmsg(fd, msgs + k, (unsigned)(n - k), MSG_DONTWAIT);
      if (r > 0) {
        sent += r;
        k += r;
      } else if (r < 0 && errno == EINTR) {
        continue;
      } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
        return sent; // the socket buffer is full: the rest is dropped (as the kernel would drop it)
      } else {
        k++; // this datagram is refused (bad address, too large): skip it, send the others
      }
    }
    done += n;
  }
  return sent;
}

static napi_value SendBatch(napi_env env, napi_callback_info info) {
  static const char* usage = "sendBatch(fd, ArrayBuffer, Int32Array, Int32Array, Uint32Array, Uint16Array, count)";
  size_t argc = 7;
  napi_value a[7];
  int32_t fd = -1;
  Datagrams d;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 7 || napi_get_value_int32(env, a[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  if (!read_datagrams(env, a, SIZE_MAX, usage, "sendBatch: count exceeds the arrays", &d)) return NULL;
  napi_value out;
  napi_create_int32(env, udp_send_datagrams(fd, &d), &out);
  return out;
}

static napi_value SendEach(napi_env env, napi_callback_info info) {
  static const char* usage = "sendEach(Int32Array, ArrayBuffer, Int32Array, Int32Array, Uint32Array, Uint16Array, count)";
  size_t argc = 7;
  napi_value a[7];
  size_t nf = 0;
  int32_t* fds;
  Datagrams d;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 7 || !typed(env, a[0], napi_int32_array, (void**)&fds, &nf)) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  if (!read_datagrams(env, a, nf, usage, "sendEach: count exceeds the arrays", &d)) return NULL;
  int sent = 0;
  struct sockaddr_in to;
  memset(&to, 0, sizeof to);
  to.sin_family = AF_INET;
  for (int i = 0; i < d.count; i++) {
    int32_t o = d.offsets[i], l = d.lengths[i];
    // never read outside the arena; a descriptor that is not a socket is refused by the kernel (ENOTSOCK)
    if (o < 0 || l < 0 || (size_t)o + (size_t)l > d.arenaLength || fds[i] < 0) continue;
    to.sin_port = htons(d.ports[i]);
    to.sin_addr.s_addr = htonl(d.addrs[i]);
    ssize_t r;
    do r = sendto(fds[i], (char*)d.arena + o, (size_t)l, MSG_DONTWAIT, (struct sockaddr*)&to, sizeof to);
    while (r < 0 && errno == EINTR);
    if (r >= 0) sent++;
  }
  napi_value out;
  napi_create_int32(env, sent, &out);
  return out;
}

static napi_value ReceiveAgeMs(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  int32_t fd = -1;
  double age = -1;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_int32(env, a[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "receiveAgeMs(fd)");
    return NULL;
  }
  struct timespec stamp, now;
  if (fd >= 0 && ioctl(fd, SIOCGSTAMPNS, &stamp) == 0 && clock_gettime(CLOCK_REALTIME, &now) == 0) {
    age = (double)(now.tv_sec - stamp.tv_sec) * 1e3 + (double)(now.tv_nsec - stamp.tv_nsec) / 1e6;
  }
  napi_value out;
  napi_create_double(env, age, &out);
  return out;
}

static napi_value SetThreadName(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  char name[16];
  size_t len = 0;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_string_utf8(env, a[0], name, sizeof name, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "setThreadName(name)");
    return NULL;
  }
  napi_value out;
  napi_get_boolean(env, pthread_setname_np(pthread_self(), name) == 0, &out);
  return out;
}

NAPI_MODULE_INIT() {
  napi_value f;
  napi_create_function(env, "setThreadName", NAPI_AUTO_LENGTH, SetThreadName, NULL, &f);
  napi_set_named_property(env, exports, "setThreadName", f);
  napi_create_function(env, "openUdp4", NAPI_AUTO_LENGTH, OpenUdp4, NULL, &f);
  napi_set_named_property(env, exports, "openUdp4", f);
  napi_create_function(env, "sendBatch", NAPI_AUTO_LENGTH, SendBatch, NULL, &f);
  napi_set_named_property(env, exports, "sendBatch", f);
  napi_create_function(env, "sendEach", NAPI_AUTO_LENGTH, SendEach, NULL, &f);
  napi_set_named_property(env, exports, "sendEach", f);
  napi_create_function(env, "receiveAgeMs", NAPI_AUTO_LENGTH, ReceiveAgeMs, NULL, &f);
  napi_set_named_property(env, exports, "receiveAgeMs", f);
  napi_create_function(env, "createSrtpPeers", NAPI_AUTO_LENGTH, srtp_peers_create, NULL, &f);
  napi_set_named_property(env, exports, "createSrtpPeers", f);
  napi_create_function(env, "setSrtpPeer", NAPI_AUTO_LENGTH, srtp_peers_set, NULL, &f);
  napi_set_named_property(env, exports, "setSrtpPeer", f);
  napi_create_function(env, "deleteSrtpPeer", NAPI_AUTO_LENGTH, srtp_peers_delete, NULL, &f);
  napi_set_named_property(env, exports, "deleteSrtpPeer", f);
  udp_receive_init(env, exports);
  udp_send_queue_init(env, exports);
  vp8_rewrite_init(env, exports);
  routes_init(env, exports);
  return exports;
}

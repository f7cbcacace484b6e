// The peers whose SRTP a thread's native receive batches unprotect before JavaScript sees the datagram (issue 16,
// the native data plane's second brick: docs/ARCHITECTURE.md). JavaScript (UdpTransport, kept by the bridge as its
// transports' checked addresses and keys change) maps a peer's address and port to the contexts of its current
// receiving SrtpSession (native/srtp.c's externals: this module links the same srtp-core.c); the receive batch
// (udp-receive.c) unprotects each SRTP or SRTCP datagram from a mapped peer in place and tells JavaScript the
// plaintext length, or that it was refused. The contexts' ROC and replay state is the session's own, so the
// TypeScript path (ICE-TCP, dgram) and this one never disagree.
//
//   createSrtpPeers() -> peers
//   setSrtpPeer(peers, address, port, rtpCtx, rtcpCtx[, sender]) -> boolean   IPv4 address in host order; false:
//       table full; sender: the sending transport's id in the thread's native routes (routes.c), -1 (the default): none
//   deleteSrtpPeer(peers, address, port)
// A table belongs to one thread. Its entries keep their contexts alive (references) until deleted or the table is
// collected.
#include "srtp-peers.h"
#include "open-table.h"
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/** The type tag of a table's handle: no other handle is ever read as a table. */
static const napi_type_tag PEERS_TAG = {0x5465727475505452ull, 0x53525450506565ull};

/** Peers one table maps at most (beyond: their datagrams are unprotected in JavaScript, as without the table). */
#define MAX_PEERS 65536

struct SrtpPeers {
  napi_env env;
  SrtpPeer* slots;
  /** A power of two (0 before the first peer); at most half full. */
  uint32_t cap;
  uint32_t count;
};

static uint64_t peer_key(uint32_t address, uint16_t port) {
  return ((uint64_t)address << 16) | port;
}

static uint32_t home(uint64_t key, uint32_t cap) {
  return open_table_home64(key, cap);
}

static uint32_t slot_home(const void* slot, uint32_t cap) {
  return home(((const SrtpPeer*)slot)->key, cap);
}

static int slot_used(const void* slot) {
  return ((const SrtpPeer*)slot)->used;
}

static SrtpPeer* find(const SrtpPeers* t, uint64_t key) {
  if (t->cap == 0) return NULL;
  for (uint32_t i = home(key, t->cap);; i = (i + 1) & (t->cap - 1)) {
    SrtpPeer* p = &t->slots[i];
    if (!p->used) return NULL;
    if (p->key == key) return p;
  }
}

static void place(SrtpPeers* t, const SrtpPeer* p) {
  t->slots[open_table_free_slot(t->slots, sizeof *t->slots, t->cap, home(p->key, t->cap), slot_used)] = *p;
  t->count++;
}

static bool grow(SrtpPeers* t) {
  return open_table_resize((void**)&t->slots, sizeof *t->slots, &t->cap, t->cap == 0 ? 16 : t->cap * 2, slot_home, slot_used) == 0;
}

static void unref(SrtpPeers* t, SrtpPeer* p) {
  if (p->rtpRef != NULL) napi_delete_reference(t->env, p->rtpRef);
  if (p->rtcpRef != NULL) napi_delete_reference(t->env, p->rtcpRef);
  p->rtpRef = p->rtcpRef = NULL;
}

/** Removes the peer at key (its references already deleted), keeping every run reachable (backward shift). */
static void remove_at(SrtpPeers* t, SrtpPeer* p) {
  open_table_remove(t->slots, sizeof *t->slots, t->cap, (uint32_t)(p - t->slots), slot_home, slot_used);
  t->count--;
}

int srtp_peers_unprotect(const SrtpPeers* t, uint32_t address, uint16_t port, uint8_t* p, int len, size_t cap, int32_t* sender) {
  *sender = -1;
  // RFC 7983: SRTP and SRTCP start with 128..191; RFC 5761: RTCP's packet types 192..223 in the second byte
  if (t == NULL || t->count == 0 || len < 12 || p[0] < 128 || p[0] > 191) return 0;
  const SrtpPeer* peer = find(t, peer_key(address, port));
  if (peer == NULL) return 0;
  *sender = peer->sender;
  int n = p[1] >= 192 && p[1] <= 223 ? srtp_unprotect_rtcp(peer->rtcp, p, len, cap) : srtp_unprotect_rtp(peer->rtp, p, len, cap);
  return n > 0 ? n : -1;
}

static void finalize_peers(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  SrtpPeers* t = data;
  for (uint32_t i = 0; i < t->cap; i++)
    if (t->slots[i].used) unref(t, &t->slots[i]);
  free(t->slots);
  free(t);
}

napi_value srtp_peers_create(napi_env env, napi_callback_info info) {
  (void)info;
  SrtpPeers* t = calloc(1, sizeof *t);
  napi_value ext;
  if (t == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  t->env = env;
  if (napi_create_external(env, t, finalize_peers, NULL, &ext) != napi_ok) {
    free(t);
    napi_throw_error(env, NULL, "could not wrap the SRTP peers");
    return NULL;
  }
  if (napi_type_tag_object(env, ext, &PEERS_TAG) != napi_ok) {
    napi_throw_error(env, NULL, "could not tag the SRTP peers");
    return NULL;
  }
  return ext;
}

SrtpPeers* srtp_peers_of(napi_env env, napi_value handle) {
  bool tagged = false;
  void* data = NULL;
  if (napi_check_object_type_tag(env, handle, &PEERS_TAG, &tagged) != napi_ok || !tagged ||
      napi_get_value_external(env, handle, &data) != napi_ok)
    return NULL;
  return data;
}

/** The table, address and port of a (peers, address, port, ...) call; NULL after throwing `usage`. */
static SrtpPeers* peer_args(napi_env env, napi_callback_info info, size_t want, napi_value* a, const char* usage, uint64_t* key) {
  size_t argc = want;
  SrtpPeers* data = NULL;
  uint32_t address = 0, port = 0;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < want ||
      (data = srtp_peers_of(env, a[0])) == NULL || napi_get_value_uint32(env, a[1], &address) != napi_ok ||
      napi_get_value_uint32(env, a[2], &port) != napi_ok || port > 65535) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  *key = peer_key(address, (uint16_t)port);
  return data;
}

napi_value srtp_peers_set(napi_env env, napi_callback_info info) {
  napi_value a[6];
  uint64_t key = 0;
  SrtpPeers* t = peer_args(env, info, 5, a, "setSrtpPeer(peers, address, port, rtpCtx, rtcpCtx[, sender])", &key);
  if (t == NULL) return NULL;
  int32_t sender = -1;
  size_t argc = 6;
  napi_valuetype st = napi_undefined;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok) return NULL;
  if (argc >= 6 && napi_typeof(env, a[5], &st) == napi_ok && st != napi_undefined && (napi_get_value_int32(env, a[5], &sender) != napi_ok || sender < -1)) {
    napi_throw_type_error(env, NULL, "setSrtpPeer: sender is an integer >= -1");
    return NULL;
  }
  void *rtp = NULL, *rtcp = NULL;
  const napi_type_tag tag = {SRTP_CTX_TAG_LOWER, SRTP_CTX_TAG_UPPER};
  bool rtpTagged = false, rtcpTagged = false;
  if (napi_check_object_type_tag(env, a[3], &tag, &rtpTagged) != napi_ok || !rtpTagged ||
      napi_check_object_type_tag(env, a[4], &tag, &rtcpTagged) != napi_ok || !rtcpTagged ||
      napi_get_value_external(env, a[3], &rtp) != napi_ok || rtp == NULL || napi_get_value_external(env, a[4], &rtcp) != napi_ok ||
      rtcp == NULL) {
    napi_throw_type_error(env, NULL, "setSrtpPeer: rtpCtx and rtcpCtx are contexts of this build's SRTP module");
    return NULL;
  }
  SrtpPeer* p = find(t, key);
  bool ok = true;
  if (p != NULL) {
    unref(t, p);
  } else if (t->count >= MAX_PEERS || ((t->count + 1) * 2 > t->cap && !grow(t))) {
    ok = false;
  } else {
    SrtpPeer fresh = {0};
    fresh.key = key;
    fresh.used = 1;
    place(t, &fresh);
    p = find(t, key);
  }
  if (ok) {
    p->rtp = rtp;
    p->rtcp = rtcp;
    p->sender = sender;
    if (napi_create_reference(env, a[3], 1, &p->rtpRef) != napi_ok || napi_create_reference(env, a[4], 1, &p->rtcpRef) != napi_ok) {
      unref(t, p);
      remove_at(t, p);
      ok = false;
    }
  }
  napi_value result;
  napi_get_boolean(env, ok, &result);
  return result;
}

napi_value srtp_peers_delete(napi_env env, napi_callback_info info) {
  napi_value a[3];
  uint64_t key = 0;
  SrtpPeers* t = peer_args(env, info, 3, a, "deleteSrtpPeer(peers, address, port)", &key);
  if (t == NULL) return NULL;
  SrtpPeer* p = find(t, key);
  if (p != NULL) {
    unref(t, p);
    remove_at(t, p);
  }
  return NULL;
}

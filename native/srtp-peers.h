// The peers whose SRTP a thread's native receive batches unprotect (srtp-peers.c), linked into udp-batch.node.
#ifndef TERTULIA_SRTP_PEERS_H
#define TERTULIA_SRTP_PEERS_H
#include <node_api.h>
#include <stdint.h>
#include "srtp-core.h"

/** One peer address and the contexts of what it sends (RTP's keys, RTCP's keys). */
typedef struct {
  /** IPv4 address (host order) << 16 | port. */
  uint64_t key;
  int used;
  SrtpCtx* rtp;
  SrtpCtx* rtcp;
  /** The sending transport's id in the thread's native routes (routes.c); -1: none. */
  int32_t sender;
  /** The contexts' JavaScript handles, kept alive while the peer is here. */
  napi_ref rtpRef;
  napi_ref rtcpRef;
} SrtpPeer;

typedef struct SrtpPeers SrtpPeers;

/** The table a handle holds (its type tag checked), or NULL when it is not a table's handle. */
SrtpPeers* srtp_peers_of(napi_env env, napi_value handle);

/** Unprotects datagram p[0..len) (cap: bytes p holds) in place if its sender is a peer of t and it is SRTP or
 *  SRTCP: the plaintext length, -1 when it was refused (a bad tag, a replay), 0 when not tried (not a peer's).
 *  *sender: the peer's sender id (setSrtpPeer's sixth argument), -1 when none or not a peer. */
int srtp_peers_unprotect(const SrtpPeers* t, uint32_t address, uint16_t port, uint8_t* p, int len, size_t cap, int32_t* sender);

/** createSrtpPeers(), setSrtpPeer(peers, address, port, rtpCtx, rtcpCtx[, sender]), deleteSrtpPeer(peers, address, port). */
napi_value srtp_peers_create(napi_env env, napi_callback_info info);
napi_value srtp_peers_set(napi_env env, napi_callback_info info);
napi_value srtp_peers_delete(napi_env env, napi_callback_info info);

#endif

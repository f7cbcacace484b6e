// The receive side of the native UDP module (udp-receive.c), registered by udp-batch.c's module init.
#ifndef TERTULIA_UDP_RECEIVE_H
#define TERTULIA_UDP_RECEIVE_H
#include <node_api.h>

/** Datagrams read by one recvmmsg call (and handled by one JavaScript callback) at most. */
#define RECV_BATCH 64
/** Bytes of the arena per datagram: a larger datagram is truncated to it and flagged (media is under 1500). */
#define RECV_SLOT 2048
/** Entries of the meta array: four per datagram, then the socket's kernel drop count (SO_RXQ_OVFL). */
#define RECV_META (RECV_BATCH * 4 + 1)

void udp_receive_init(napi_env env, napi_value exports);

#endif

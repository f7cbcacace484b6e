// The send side shared by the native UDP module's files: udp-batch.c's sendmmsg loop, used by sendBatch and by
// the send queues of udp-send-queue.c.
#ifndef TERTULIA_UDP_SEND_QUEUE_H
#define TERTULIA_UDP_SEND_QUEUE_H
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

/**
 * Datagrams to send: datagram i = arena[offsets[i] .. offsets[i] + lengths[i]) to addrs[i]:ports[i] (IPv4, host
 * order) for i in [0, count) (sendBatch's and sendEach's arguments 1..6, a send queue's arrays).
 */
typedef struct {
  void* arena;
  size_t arenaLength;
  int32_t* offsets;
  int32_t* lengths;
  uint32_t* addrs;
  uint16_t* ports;
  int32_t count;
} Datagrams;

/**
 * Sends d's datagrams from fd in sendmmsg calls; returns how many were sent (a datagram the kernel refuses is
 * skipped, a full socket buffer drops the rest). Never reads outside the arena.
 */
int udp_send_datagrams(int fd, const Datagrams* d);

void udp_send_queue_init(napi_env env, napi_value exports);

#endif

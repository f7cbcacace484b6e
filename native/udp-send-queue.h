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

/** A send queue (openSendQueue's handle, its type tag checked); NULL when the handle is not one. */
typedef struct SendQueue SendQueue;
SendQueue* send_queue_of(napi_env env, napi_value handle);
/**
 * The next datagram's slot of q (what is queued is sent first when the queue is full): its bytes, *index and *cap
 * (bytes it holds); NULL when the queue is closed. Nothing is queued until send_queue_commit(q, *index, ...).
 */
uint8_t* send_queue_slot(SendQueue* q, int32_t* index, int* cap);
/** Queues the slot send_queue_slot gave: len bytes to addr:port (IPv4, host order). */
void send_queue_commit(SendQueue* q, int32_t index, int len, uint32_t addr, uint16_t port);

#endif

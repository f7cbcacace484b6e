// The send queue of the native UDP module: datagrams JavaScript queues during one turn of its thread's event loop
// leave in one sendmmsg call in that turn's check phase (a uv_check_t on the thread's own loop), without a call
// back into JavaScript. The queue's arrays are JavaScript's: it writes a datagram and its destination and counts it
// in state[0]; nothing crosses into C until the check phase reads them. Before it, each turn that queued anything
// ran a setImmediate callback (a JavaScript entry from the event loop, about 6 % of a media worker's time in a
// meeting of three) only to make this one call.
//
//   openSendQueue(fd, arena, offsets, lengths, addrs, ports, state) -> queue
//       datagram i = arena[offsets[i] .. offsets[i] + lengths[i]) to addrs[i]:ports[i] (IPv4, host order) for i in
//       [0, state[0]); state (Int32Array of SEND_QUEUE_STATE): [0] datagrams queued, set to 0 when they are sent;
//       [1] += datagrams that failed (refused, or the socket buffer was full); [2] += sendmmsg calls made.
//       The check phase runs after the poll phase of the same turn: what socket callbacks queue leaves in their
//       turn. What a timer queues would wait for the poll phase's wait for I/O: JavaScript queues an immediate
//       then (udp-transport.ts), which makes the poll phase not wait, and this queue's check, run before Node's,
//       sends it.
//   closeSendQueue(queue)   stops it (the socket stays open: its owner closes it, after this). Idempotent.
// The queue never keeps the event loop alive; a worker thread that exits stops its queues (async cleanup hook).
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <uv.h>
#include "napi-typed.h"
#include "udp-send-queue.h"

#define SEND_QUEUE_STATE 3
#define REFS 6

/** The type tag of a queue's handle (the native data plane's routes take one: routes.c). */
static const napi_type_tag QUEUE_TAG = {0x5465727475535155ull, 0x53656e6451756575ull};

struct SendQueue {
  uv_check_t check;
  napi_env env;
  int fd;
  bool closing;
  bool closed;
  bool finalized;
  /** the arrays (count: set from state[0] at each send) */
  Datagrams d;
  int32_t* state;
  /** entries of the smallest of offsets, lengths, addrs, ports: state[0] is never believed beyond it */
  int32_t room;
  /** the arena and the arrays, kept alive while the queue runs */
  napi_ref refs[REFS];
  napi_async_cleanup_hook_handle cleanup;
};

static void maybe_free(SendQueue* q) {
  if (q->closed && q->finalized) free(q);
}

/** Sends what is queued (the check phase; a full queue the native data plane adds to). */
static void send_queued(SendQueue* q) {
  int32_t n = q->state[0];
  if (n <= 0 || q->closing) return;
  if (n > q->room) n = q->room;
  q->state[0] = 0;
  q->d.count = n;
  int sent = udp_send_datagrams(q->fd, &q->d);
  q->state[1] += n - sent;
  q->state[2] += 1;
}

static void on_check(uv_check_t* h) {
  send_queued((SendQueue*)h->data);
}

SendQueue* send_queue_of(napi_env env, napi_value handle) {
  bool tagged = false;
  void* data = NULL;
  if (napi_check_object_type_tag(env, handle, &QUEUE_TAG, &tagged) != napi_ok || !tagged || napi_get_value_external(env, handle, &data) != napi_ok)
    return NULL;
  return data;
}

uint8_t* send_queue_slot(SendQueue* q, int32_t* index, int* cap) {
  if (q->closing) return NULL;
  if (q->state[0] >= q->room) send_queued(q);
  int32_t i = q->state[0];
  if (i < 0 || i >= q->room) return NULL;
  int32_t off = q->d.offsets[i];
  int32_t end = i + 1 < q->room ? q->d.offsets[i + 1] : (int32_t)q->d.arenaLength;
  if (off < 0 || end <= off || (size_t)end > q->d.arenaLength) return NULL;
  *index = i;
  *cap = end - off;
  return (uint8_t*)q->d.arena + off;
}

void send_queue_commit(SendQueue* q, int32_t index, int len, uint32_t addr, uint16_t port) {
  q->d.lengths[index] = len;
  q->d.addrs[index] = addr;
  q->d.ports[index] = port;
  q->state[0] = index + 1;
}

static void on_closed(uv_handle_t* h) {
  SendQueue* q = (SendQueue*)h->data;
  if (q->cleanup != NULL) {
    napi_remove_async_cleanup_hook(q->cleanup);
    q->cleanup = NULL;
  }
  q->closed = true;
  maybe_free(q);
}

/** Stops the queue; `teardown`: the environment is going away (no Node-API calls). */
static void stop(SendQueue* q, bool teardown) {
  if (q->closing) return;
  q->closing = true;
  uv_check_stop(&q->check);
  if (!teardown) {
    for (int i = 0; i < REFS; i++) {
      if (q->refs[i] != NULL) napi_delete_reference(q->env, q->refs[i]);
      q->refs[i] = NULL;
    }
  }
  uv_close((uv_handle_t*)&q->check, on_closed);
}

static void on_cleanup(napi_async_cleanup_hook_handle handle, void* data) {
  (void)handle;
  stop((SendQueue*)data, true);
}

static void on_finalize(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  SendQueue* q = (SendQueue*)data;
  q->finalized = true;
  // collected without closeSendQueue: nothing can queue any more
  if (!q->closing) stop(q, false);
  else maybe_free(q);
}

static napi_value OpenSendQueue(napi_env env, napi_callback_info info) {
  static const char* usage = "openSendQueue(fd, ArrayBuffer, Int32Array, Int32Array, Uint32Array, Uint16Array, Int32Array state)";
  size_t argc = 7;
  napi_value a[7];
  int32_t fd = -1;
  void* arena = NULL;
  size_t arenaLength = 0, n0 = 0, n1 = 0, n2 = 0, n3 = 0, ns = 0;
  int32_t *offsets = NULL, *lengths = NULL, *state = NULL;
  uint32_t* addrs = NULL;
  uint16_t* ports = NULL;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 7 || napi_get_value_int32(env, a[0], &fd) != napi_ok || fd < 0 ||
      napi_get_arraybuffer_info(env, a[1], &arena, &arenaLength) != napi_ok || !typed(env, a[2], napi_int32_array, (void**)&offsets, &n0) ||
      !typed(env, a[3], napi_int32_array, (void**)&lengths, &n1) || !typed(env, a[4], napi_uint32_array, (void**)&addrs, &n2) ||
      !typed(env, a[5], napi_uint16_array, (void**)&ports, &n3) || !typed(env, a[6], napi_int32_array, (void**)&state, &ns)) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  if (ns < SEND_QUEUE_STATE) {
    napi_throw_range_error(env, NULL, "openSendQueue: state needs SEND_QUEUE_STATE entries");
    return NULL;
  }
  uv_loop_t* loop = NULL;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == NULL) {
    napi_throw_error(env, NULL, "openSendQueue: no event loop");
    return NULL;
  }
  SendQueue* q = calloc(1, sizeof *q);
  if (q == NULL) {
    napi_throw_error(env, NULL, "openSendQueue: out of memory");
    return NULL;
  }
  size_t room = n0;
  if (n1 < room) room = n1;
  if (n2 < room) room = n2;
  if (n3 < room) room = n3;
  q->env = env;
  q->fd = fd;
  q->d.arena = arena;
  q->d.arenaLength = arenaLength;
  q->d.offsets = offsets;
  q->d.lengths = lengths;
  q->d.addrs = addrs;
  q->d.ports = ports;
  q->state = state;
  q->room = room > INT32_MAX ? INT32_MAX : (int32_t)room;
  for (int i = 0; i < REFS; i++) napi_create_reference(env, a[i + 1], 1, &q->refs[i]);
  uv_check_init(loop, &q->check);
  q->check.data = q;
  uv_check_start(&q->check, on_check);
  // a queue alone does not keep the thread running
  uv_unref((uv_handle_t*)&q->check);
  napi_add_async_cleanup_hook(env, on_cleanup, q, &q->cleanup);
  napi_value handle;
  if (napi_create_external(env, q, on_finalize, NULL, &handle) != napi_ok) {
    q->finalized = true;
    stop(q, false);
    napi_throw_error(env, NULL, "openSendQueue: no handle");
    return NULL;
  }
  napi_type_tag_object(env, handle, &QUEUE_TAG);
  return handle;
}

static napi_value CloseSendQueue(napi_env env, napi_callback_info info) {
  SendQueue* data = external_arg(env, info, "closeSendQueue(queue)");
  if (data != NULL) stop(data, false);
  return NULL;
}

void udp_send_queue_init(napi_env env, napi_value exports) {
  napi_value f, v;
  napi_create_function(env, "openSendQueue", NAPI_AUTO_LENGTH, OpenSendQueue, NULL, &f);
  napi_set_named_property(env, exports, "openSendQueue", f);
  napi_create_function(env, "closeSendQueue", NAPI_AUTO_LENGTH, CloseSendQueue, NULL, &f);
  napi_set_named_property(env, exports, "closeSendQueue", f);
  napi_create_int32(env, SEND_QUEUE_STATE, &v);
  napi_set_named_property(env, exports, "SEND_QUEUE_STATE", v);
}

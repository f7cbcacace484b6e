// The receive hold of a thread (linked into udp-batch.node): after a read that found fewer datagrams than a batch
// holds, every socket the thread reads natively stops being watched for `ms` milliseconds; then all are watched
// again and whatever arrived meanwhile is read in that one wake-up. In a small meeting a media worker wakes for
// every one or two datagrams, and each wake-up costs about as much as the datagrams it carries (the kernel's sleep
// and wake, a turn of Node's event loop): holding trades at most `ms` of added delay before a datagram is read for
// fewer, fuller wake-ups and send batches. The kernel dates every datagram as it arrives (SO_TIMESTAMPNS), so the
// congestion feedback built from those times does not see the hold. A full batch is never followed by a hold (there
// is more to read: the socket is read again at once), so a busy thread runs as without it. 0 ms (the default): off.
//
//   setReceiveHold(ms)   this thread's hold, 0..50 ms (each worker thread has its own). Returns the value set.
// Every receiver of a thread joins its hold when it opens and leaves it when it closes (udp-receive.c).
#include <stdint.h>
#include <stdlib.h>
#include "receive-hold.h"

#define MAX_HOLD_MS 50

struct ReceiveHold {
  uv_timer_t timer;
  napi_env env;
  HoldMember* first;
  uint64_t ms;
  bool holding;
  /** the environment is going away: no more holds */
  bool closing;
  napi_async_cleanup_hook_handle cleanup;
};

static void on_hold_end(uv_timer_t* t) {
  ReceiveHold* h = (ReceiveHold*)t->data;
  h->holding = false;
  for (HoldMember* m = h->first; m != NULL; m = m->next)
    if (m->watching) uv_poll_start(m->poll, UV_READABLE, m->onReadable);
}

static void on_timer_closed(uv_handle_t* t) {
  ReceiveHold* h = (ReceiveHold*)t->data;
  napi_remove_async_cleanup_hook(h->cleanup);
  free(h);
}

static void on_cleanup(napi_async_cleanup_hook_handle handle, void* data) {
  (void)handle;
  ReceiveHold* h = (ReceiveHold*)data;
  h->closing = true;
  napi_set_instance_data(h->env, NULL, NULL, NULL);
  // sockets still listed (their own cleanup runs later) must not reach this hold again
  for (HoldMember* m = h->first; m != NULL; m = m->next) m->hold = NULL;
  h->first = NULL;
  uv_close((uv_handle_t*)&h->timer, on_timer_closed);
}

ReceiveHold* receive_hold_of(napi_env env) {
  void* data = NULL;
  if (napi_get_instance_data(env, &data) == napi_ok && data != NULL) return (ReceiveHold*)data;
  uv_loop_t* loop = NULL;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == NULL) return NULL;
  ReceiveHold* h = calloc(1, sizeof *h);
  if (h == NULL) return NULL;
  uv_timer_init(loop, &h->timer);
  h->timer.data = h;
  h->env = env;
  // freed by the cleanup hook, after the timer's handle is closed on its loop (the instance data has no finalizer)
  if (napi_add_async_cleanup_hook(env, on_cleanup, h, &h->cleanup) != napi_ok || napi_set_instance_data(env, h, NULL, NULL) != napi_ok) {
    uv_close((uv_handle_t*)&h->timer, (uv_close_cb)free);
    return NULL;
  }
  return h;
}

void receive_hold_join(ReceiveHold* h, HoldMember* m) {
  m->watching = true;
  m->hold = NULL;
  if (h != NULL && !h->closing) {
    m->hold = h;
    m->prev = NULL;
    m->next = h->first;
    if (h->first != NULL) h->first->prev = m;
    h->first = m;
    if (h->holding) return;
  }
  uv_poll_start(m->poll, UV_READABLE, m->onReadable);
}

void receive_hold_leave(HoldMember* m) {
  ReceiveHold* h = m->hold;
  m->watching = false;
  if (h == NULL) return;
  if (m->prev != NULL) m->prev->next = m->next;
  else h->first = m->next;
  if (m->next != NULL) m->next->prev = m->prev;
  m->prev = m->next = NULL;
  m->hold = NULL;
}

void receive_hold_rewatch(HoldMember* m) {
  if (!m->watching || (m->hold != NULL && m->hold->holding)) return;
  uv_poll_start(m->poll, UV_READABLE, m->onReadable);
}

void receive_hold_after_read(HoldMember* m, int count, int batch) {
  ReceiveHold* h = m->hold;
  if (h == NULL || h->ms == 0 || h->holding || h->closing || count <= 0 || count >= batch) return;
  h->holding = true;
  for (HoldMember* m = h->first; m != NULL; m = m->next)
    if (m->watching) uv_poll_stop(m->poll);
  // from now, not from the wake-up (the batch's JavaScript may have taken a while)
  uv_update_time(h->timer.loop);
  uv_timer_start(&h->timer, on_hold_end, h->ms, 0);
}

static napi_value SetReceiveHold(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1], out;
  int32_t ms = -1;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_int32(env, a[0], &ms) != napi_ok ||
      ms < 0 || ms > MAX_HOLD_MS) {
    napi_throw_range_error(env, NULL, "setReceiveHold(ms): 0..50");
    return NULL;
  }
  ReceiveHold* h = receive_hold_of(env);
  if (h == NULL) {
    napi_throw_error(env, NULL, "setReceiveHold: out of memory");
    return NULL;
  }
  h->ms = (uint64_t)ms;
  napi_create_int32(env, ms, &out);
  return out;
}

void receive_hold_init(napi_env env, napi_value exports) {
  napi_value f;
  napi_create_function(env, "setReceiveHold", NAPI_AUTO_LENGTH, SetReceiveHold, NULL, &f);
  napi_set_named_property(env, exports, "setReceiveHold", f);
}

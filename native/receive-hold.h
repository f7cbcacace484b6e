// A thread's receive hold (receive-hold.c): after a read that found only a few datagrams, every socket the thread
// reads is left unwatched for a few milliseconds, so what arrives meanwhile is read in one wake-up.
#ifndef TERTULIA_RECEIVE_HOLD_H
#define TERTULIA_RECEIVE_HOLD_H
#include <node_api.h>
#include <stdbool.h>
#include <uv.h>

typedef struct ReceiveHold ReceiveHold;

/** A socket of the thread: its poll handle and the callback it is watched with. Embedded in its owner. */
typedef struct HoldMember {
  /** the thread's hold the socket is listed in (NULL: none, or it went away with its environment) */
  ReceiveHold* hold;
  struct HoldMember* prev;
  struct HoldMember* next;
  uv_poll_t* poll;
  uv_poll_cb onReadable;
  /** whether the owner wants the socket watched (false once it gave the socket up) */
  bool watching;
} HoldMember;

/** The hold of the thread env runs on (made at the first call; NULL: out of memory, then sockets are never held). */
ReceiveHold* receive_hold_of(napi_env env);
/** Adds a socket to h (NULL: none) and watches it, at once unless the thread is holding (then when the hold ends). */
void receive_hold_join(ReceiveHold* h, HoldMember* m);
/** Removes a socket from its hold (its owner stops its poll itself). */
void receive_hold_leave(HoldMember* m);
/** Starts watching m again after libuv stopped it (an error), unless the thread is holding (the hold's end does). */
void receive_hold_rewatch(HoldMember* m);
/** After m's read of `count` datagrams of at most `batch`: holds every socket of the thread when it is worth it. */
void receive_hold_after_read(HoldMember* m, int count, int batch);
void receive_hold_init(napi_env env, napi_value exports);

#endif

// The native data plane's third brick (docs/ARCHITECTURE.md "Toward a native data plane"): a thread's routes, so
// that its receive batch (udp-receive.c) forwards the common packet of a simulcast camera without JavaScript.
// A route is one stream of one sending transport (its sender id in the SRTP peer table, srtp-peers.c, and the
// stream's SSRC) and the receivers this thread sends it to, each with its transport (the SRTP context it is sent
// with, and a small Int32Array shared with WebRtcTransport: mode, address, port, transport-wide number). The stream
// is a simulcast layer (each receiver also has its VP8 rewriter: the rewriter's own state, vp8-rewrite.h, shared
// with vp8-rewriter.ts) or a plain source (audio, a screen or camera without simulcast: copied as it is).
// A packet of a route is forwarded here only when JavaScript would do exactly this with it: a layer's VP8 packet
// with a payload, not a keyframe, no receiver waiting for a switch to that layer; any packet of a plain source; and
// every receiver that gets it sendable over UDP with a native context. Then, as router.ts and downtrack.ts would:
// a layer's mid and rid hidden, and for each receiver the copy (rewritten for a layer) numbered transport-wide,
// protected and queued on the thread's send queue (udp-send-queue.c, sent in the check phase). What JavaScript
// still keeps (transport-cc arrivals, the retransmission buffer, layer rates, audio levels, per-receiver counters,
// the sent-packet records of the bandwidth estimate) it books from the log this writes: one record per packet, with
// a copy of the packet in a store ring, read whenever JavaScript runs next (before it handles anything else: a
// batch the module forwarded whole calls no JavaScript at all). Anything
// else goes to JavaScript as before, and so does every later packet of that route in the same batch (the order of
// a stream never changes). JavaScript turns the routes off (state[0] = 0) the moment anything they depend on
// changes, and builds them again (clearRoutes, setRoute...) before turning them on.
//
//   createRoutes(queue, state, log, store, ids) -> routes
//       queue: the thread's send queue (openSendQueue); state: Int32Array [0] on (1) / off (0), [1] entries of the
//       log used and [2] bytes of the store used (JavaScript sets both to 0 once read); log: Float64Array, records
//       [stream id, a layer's temporal id or a plain source's audio level (-1: none), transport-wide number received
//       (-1: none), arrival (the kernel's, performance.now() ms), when it was forwarded (the same clock), its plain
//       bytes' offset in the store, their length, the datagram's length, n, then n times (downtrack id,
//       transport-wide number sent (-1: none), bytes queued (-1: the protect failed))];
//       store: ArrayBuffer where each forwarded packet's plain bytes (mid and rid hidden) are copied;
//       ids: Int32Array [transport-cc extension id, mid's, repaired rid's (mid..repaired rid are hidden), the id
//       they are hidden as, VP8's payload type, the audio level's extension id].
//   setRouteTransport(routes, id, ctx, state) -> boolean    the transport `id` sends with SRTP context ctx (of the
//       SRTP module's sending session; null: none, then its mode is not 1); state: Int32Array [mode: 0 not connected
//       (its receivers are skipped), 1 sendable here, 2 JavaScript sends; IPv4 address (host order); port; next
//       transport-wide number (both paths number from it)].
//   setRoute(routes, sender, ssrc, layer, streamId, group, outs, states, histories) -> boolean   layer: the
//       simulcast layer's index, -1 for a plain source, -2 for a stream JavaScript forwards (an RTX stream, a stream
//       that does not qualify: its packets mark its source's group, and no outs); group: its source's id (>= 0; layers of one camera share it:
//       within a batch, once one of their packets goes to JavaScript, the later ones of all of them do); outs:
//       Int32Array of (transport id, downtrack id) pairs; states/histories: each receiver's rewriter's ArrayBuffers
//       (a layer), empty arrays (a plain source).
//   clearRoutes(routes)                forgets every route and transport.
//   setRoutesClock(routes, nowMs)      performance.now() of this thread now (the rewriters' clock).
// One routes object belongs to one thread. Everything it was given is kept alive (references) while it holds it.
#define _GNU_SOURCE
#include "routes.h"
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "napi-typed.h"
#include "open-table.h"
#include "srtp-core.h"
#include "udp-send-queue.h"
#include "vp8-rewrite.h"

static const napi_type_tag ROUTES_TAG = {0x5465727475526f75ull, 0x526f757465735461ull};

/** Routes, transports and receivers per route a table holds at most (beyond: JavaScript forwards). */
#define MAX_ROUTES 65536
#define MAX_TRANSPORTS 65536
#define MAX_OUTS 4096
/** The largest packet forwarded (router.ts MAX_FORWARD), and what an SRTP tag adds at most. */
#define MAX_FORWARD 1500
#define MAX_TAG 16
/** Header extension elements read per packet (RtpView's MAX_ELEMENTS). */
#define MAX_ELEMENTS 32
#define LOG_HEAD 9
/** A kernel arrival time older than this is not believed (the wall clock was stepped): the forwarding time is. */
#define MAX_ARRIVAL_AGE_MS 5000
/** A route's layer for a stream JavaScript forwards (an RTX stream, a stream that does not qualify): it only marks its source. */
#define ROUTE_JS_ONLY -2

typedef struct {
  SrtpCtx* ctx;
  napi_ref ctxRef;
  int32_t* st;
  napi_ref stRef;
} OutTransport;

typedef struct {
  int32_t transport;
  int32_t downtrack;
  Vp8Rewriter rw;
  napi_ref stateRef;
  napi_ref historyRef;
} RouteOut;

typedef struct {
  uint64_t key;
  int used;
  /** A simulcast layer's index; -1: a plain source. */
  int32_t layer;
  int32_t layerId;
  /** Its camera (the simulcast source, whose layers share receivers' rewriters): an index into groupPunted. */
  int32_t group;
  int32_t nOuts;
  RouteOut* outs;
} Route;

struct Routes {
  napi_env env;
  SendQueue* queue;
  napi_ref queueRef;
  int32_t* state;
  napi_ref stateRef;
  double* log;
  size_t logCap;
  napi_ref logRef;
  uint8_t* store;
  size_t storeCap;
  napi_ref storeRef;
  int twccId, midId, repairedRidId, hiddenId, vp8Pt, audioLevelId;
  /** monotonic ms - performance.now() */
  double clockOffsetMs;
  uint32_t batch;
  /** The batch routes_batch_stop stopped (nothing more of it forwarded here). */
  uint32_t stoppedBatch;
  /** Per camera: the batch in which one of its packets went to JavaScript (its later ones then go too). */
  uint32_t* groupPunted;
  uint32_t nGroups;
  Route* slots;
  uint32_t cap;
  uint32_t count;
  OutTransport* transports;
  uint32_t nTransports;
};

static double monotonic_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static uint64_t route_key(int32_t sender, uint32_t ssrc) {
  return ((uint64_t)(uint32_t)sender << 32) | ssrc;
}

static uint32_t home(uint64_t key, uint32_t cap) {
  return open_table_home64(key, cap);
}

static uint32_t slot_home(const void* slot, uint32_t cap) {
  return home(((const Route*)slot)->key, cap);
}

static int slot_used(const void* slot) {
  return ((const Route*)slot)->used;
}

static Route* find(const Routes* t, uint64_t key) {
  if (t->cap == 0) return NULL;
  for (uint32_t i = home(key, t->cap);; i = (i + 1) & (t->cap - 1)) {
    Route* r = &t->slots[i];
    if (!r->used) return NULL;
    if (r->key == key) return r;
  }
}

static void unref(napi_env env, napi_ref* ref) {
  if (*ref != NULL) napi_delete_reference(env, *ref);
  *ref = NULL;
}

static void free_outs(Routes* t, Route* r) {
  for (int32_t i = 0; i < r->nOuts; i++) {
    unref(t->env, &r->outs[i].stateRef);
    unref(t->env, &r->outs[i].historyRef);
  }
  free(r->outs);
  r->outs = NULL;
  r->nOuts = 0;
}

static void forget_transport(Routes* t, OutTransport* o) {
  unref(t->env, &o->ctxRef);
  unref(t->env, &o->stRef);
  o->ctx = NULL;
  o->st = NULL;
}

static void clear(Routes* t) {
  for (uint32_t i = 0; i < t->cap; i++)
    if (t->slots[i].used) free_outs(t, &t->slots[i]);
  if (t->slots != NULL) memset(t->slots, 0, (size_t)t->cap * sizeof *t->slots);
  t->count = 0;
}

// ---------------------------------------------------------------- the packet path

static inline uint32_t get_u32(const uint8_t* p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/**
 * The header extension of p (laid out as r), as RtpView reads it: with `hide`, hides (renames in place) the one-byte
 * elements with ids in [midId, repairedRidId] among the first MAX_ELEMENTS; *level: the audio level (the first
 * element with its id: its low 7 bits), -1 when none. Returns the offset of the transport-wide number (the first
 * element with that id, when it holds 2 bytes or more), -1 when none.
 */
static int read_extensions(const Routes* t, uint8_t* p, const RtpLayout* r, int hide, int* level) {
  *level = -1;
  if (!(p[0] & 0x10)) return -1;
  int levelSeen = 0;
  int base = 12 + 4 * (p[0] & 0x0f);
  int profile = ((int)p[base] << 8) | p[base + 1];
  int at = base + 4, end = r->headerLength, elements = 0, tw = -1, twSeen = 0;
  if (profile == 0xbede) {
    while (at < end && elements < MAX_ELEMENTS) {
      int id = p[at] >> 4;
      if (id == 0) {
        at++;
        continue;
      }
      if (id == 15) break;
      int l = (p[at] & 0x0f) + 1;
      if (at + 1 + l > end) break;
      if (id == t->twccId && !twSeen) {
        twSeen = 1;
        if (l >= 2) tw = at + 1;
      }
      if (id == t->audioLevelId && !levelSeen) {
        levelSeen = 1;
        *level = p[at + 1] & 0x7f;
      }
      if (hide && id >= t->midId && id <= t->repairedRidId) p[at] = (uint8_t)((t->hiddenId << 4) | (p[at] & 0x0f));
      elements++;
      at += 1 + l;
    }
  } else if ((profile & 0xfff0) == 0x1000) {
    while (at < end && elements < MAX_ELEMENTS) {
      int id = p[at];
      if (id == 0) {
        at++;
        continue;
      }
      if (at + 2 > end) break;
      int l = p[at + 1];
      if (at + 2 + l > end) break;
      if (id == t->twccId && !twSeen) {
        twSeen = 1;
        if (l >= 2) tw = at + 2;
      }
      if (id == t->audioLevelId && !levelSeen) {
        levelSeen = 1;
        // an element of no bytes has no level byte: RtpView reads the byte after it all the same
        *level = p[at + 2] & 0x7f;
      }
      elements++;
      at += 2 + l;
    }
  }
  return tw;
}

void routes_batch_begin(Routes* t) {
  if (t != NULL) t->batch++;
}

void routes_batch_stop(Routes* t) {
  if (t != NULL) t->stoppedBatch = t->batch;
}

int routes_forward(Routes* t, int32_t sender, uint8_t* p, int len, int datagramLen, double monoMs, double ageMs) {
  if (t == NULL || sender < 0 || t->count == 0 || t->state[0] != 1 || len < 12 || len > MAX_FORWARD) return 0;
  // RTCP (RFC 5761: packet types 192..223) stays JavaScript's
  if (p[1] >= 192 && p[1] <= 223) return 0;
  if (t->stoppedBatch == t->batch) return 0;
  Route* rt = find(t, route_key(sender, get_u32(p + 8)));
  if (rt == NULL) {
    // an SSRC the routes do not know (a layer's first packets, before its route): JavaScript may switch with it
    t->stoppedBatch = t->batch;
    return 0;
  }
  // a packet of its source went to JavaScript in this batch (a keyframe that switches layers when JavaScript gets
  // to it, an RTX packet that fills a hole, say): so do the later ones, of any of its layers
  if (t->groupPunted[rt->group] == t->batch) return 0;
  if (rt->layer == ROUTE_JS_ONLY) {
    t->groupPunted[rt->group] = t->batch;
    return 0;
  }
  RtpLayout r;
  Vp8Desc d;
  const int plain = rt->layer < 0;
  memset(&d, 0, sizeof d);
  d.tid = -1;
  // a layer's padding only, malformed descriptor or keyframe (its size is read, switches wait for it): JavaScript's
  int punt = !rtp_layout(p, len, &r) ||
             (!plain && (r.payloadType != t->vp8Pt || r.payloadEnd == r.headerLength || !vp8_descriptor(p, r.headerLength, r.payloadEnd, &d) || d.keyframe));
  int sends = 0;
  for (int32_t i = 0; i < rt->nOuts && !punt; i++) {
    const RouteOut* o = &rt->outs[i];
    const OutTransport* ot = (uint32_t)o->transport < t->nTransports ? &t->transports[o->transport] : NULL;
    if (ot == NULL || ot->st == NULL) {
      punt = 1;
      break;
    }
    if (ot->st[0] == 0) continue;  // not connected: downtrack.ts skips it
    if (!plain) {
      int current = o->rw.s[RW_CURRENT_LAYER];
      if (rt->layer != current) {
        // a switch to this layer waits for its keyframe while another plays: downtrack.ts holds it
        if (rt->layer == o->rw.s[RW_TARGET_LAYER] && current >= 0) punt = 1;
        continue;
      }
    }
    if (ot->st[0] != 1 || ot->ctx == NULL) punt = 1;
    sends++;
  }
  // room to log it and keep its bytes (else JavaScript's: it books what is logged first)
  if (!punt && ((size_t)t->state[1] + LOG_HEAD + 3 * (size_t)sends > t->logCap || (size_t)t->state[2] + (size_t)len > t->storeCap)) punt = 1;
  if (punt) {
    t->groupPunted[rt->group] = t->batch;
    return 0;
  }
  int level = -1;
  const int tw = read_extensions(t, p, &r, !plain, &level);
  const double nowMs = monotonic_ms() - t->clockOffsetMs;
  double* rec = t->log + t->state[1];
  rec[0] = rt->layerId;
  rec[1] = plain ? level : d.tid;
  rec[2] = tw >= 0 ? ((int)p[tw] << 8) | p[tw + 1] : -1;
  // the kernel's arrival, against the batch's read (not this packet's turn: the batch's earlier work is no delay)
  const double readMs = monoMs - t->clockOffsetMs;
  rec[3] = ageMs >= 0 && ageMs < MAX_ARRIVAL_AGE_MS ? readMs - ageMs : readMs;
  rec[4] = nowMs;
  rec[5] = t->state[2];
  rec[6] = len;
  rec[7] = datagramLen;
  memcpy(t->store + t->state[2], p, len);
  t->state[2] += len;
  int n = 0;
  for (int32_t i = 0; i < rt->nOuts; i++) {
    RouteOut* o = &rt->outs[i];
    OutTransport* ot = &t->transports[o->transport];
    if (ot->st[0] == 0 || (!plain && rt->layer != o->rw.s[RW_CURRENT_LAYER])) continue;
    int32_t qi = 0;
    int cap = 0;
    uint8_t* out = send_queue_slot(t->queue, &qi, &cap);
    if (out == NULL || cap < len + MAX_TAG) continue;  // the queue closed (the socket is closing)
    memcpy(out, p, len);
    if (!plain && !vp8_rewrite(&o->rw, out, &r, &d, rt->layer, nowMs)) continue;
    int32_t sent = -1;
    if (tw >= 0) {
      sent = ot->st[3] & 0xffff;
      out[tw] = sent >> 8;
      out[tw + 1] = sent;
      ot->st[3] = (sent + 1) & 0xffff;
    }
    int m = srtp_protect_rtp(ot->ctx, out, len, (size_t)cap);
    if (m > 0) send_queue_commit(t->queue, qi, m, (uint32_t)ot->st[1], (uint16_t)ot->st[2]);
    double* e = rec + LOG_HEAD + 3 * n;
    e[0] = o->downtrack;
    e[1] = sent;
    e[2] = m > 0 ? m : -1;
    n++;
  }
  rec[8] = n;
  t->state[1] += LOG_HEAD + 3 * n;
  return 1;
}

// ---------------------------------------------------------------- Node-API

Routes* routes_of(napi_env env, napi_value handle) {
  bool tagged = false;
  void* data = NULL;
  if (napi_check_object_type_tag(env, handle, &ROUTES_TAG, &tagged) != napi_ok || !tagged || napi_get_value_external(env, handle, &data) != napi_ok)
    return NULL;
  return data;
}

static void finalize_routes(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  Routes* t = data;
  clear(t);
  for (uint32_t i = 0; i < t->nTransports; i++) forget_transport(t, &t->transports[i]);
  unref(t->env, &t->queueRef);
  unref(t->env, &t->stateRef);
  unref(t->env, &t->logRef);
  unref(t->env, &t->storeRef);
  free(t->slots);
  free(t->transports);
  free(t->groupPunted);
  free(t);
}

static napi_value CreateRoutes(napi_env env, napi_callback_info info) {
  static const char* usage = "createRoutes(queue, state: Int32Array(3), log: Float64Array, store: ArrayBuffer, ids: Int32Array(6))";
  size_t argc = 5;
  napi_value a[5];
  int32_t *state = NULL, *ids = NULL;
  double* log = NULL;
  void* store = NULL;
  size_t ns = 0, nl = 0, ni = 0, nb = 0;
  bool isBuffer = false;
  SendQueue* q = NULL;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 5 || (q = send_queue_of(env, a[0])) == NULL ||
      !typed(env, a[1], napi_int32_array, (void**)&state, &ns) || ns < 3 || !typed(env, a[2], napi_float64_array, (void**)&log, &nl) ||
      nl < 64 || napi_is_arraybuffer(env, a[3], &isBuffer) != napi_ok || !isBuffer || napi_get_arraybuffer_info(env, a[3], &store, &nb) != napi_ok ||
      nb < 2 * MAX_FORWARD || !typed(env, a[4], napi_int32_array, (void**)&ids, &ni) || ni < 6) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  Routes* t = calloc(1, sizeof *t);
  if (t == NULL) {
    napi_throw_error(env, NULL, "createRoutes: out of memory");
    return NULL;
  }
  t->env = env;
  t->queue = q;
  t->state = state;
  t->log = log;
  t->logCap = nl;
  t->store = store;
  t->storeCap = nb;
  t->twccId = ids[0];
  t->midId = ids[1];
  t->repairedRidId = ids[2];
  t->hiddenId = ids[3];
  t->vp8Pt = ids[4];
  t->audioLevelId = ids[5];
  t->clockOffsetMs = monotonic_ms();
  napi_value ext;
  if (napi_create_external(env, t, finalize_routes, NULL, &ext) != napi_ok) {
    free(t);
    napi_throw_error(env, NULL, "createRoutes: no handle");
    return NULL;
  }
  napi_create_reference(env, a[0], 1, &t->queueRef);
  napi_create_reference(env, a[1], 1, &t->stateRef);
  napi_create_reference(env, a[2], 1, &t->logRef);
  napi_create_reference(env, a[3], 1, &t->storeRef);
  napi_type_tag_object(env, ext, &ROUTES_TAG);
  return ext;
}

static napi_value boolean(napi_env env, bool v) {
  napi_value out;
  napi_get_boolean(env, v, &out);
  return out;
}

static napi_value SetRouteTransport(napi_env env, napi_callback_info info) {
  static const char* usage = "setRouteTransport(routes, id, ctx | null, state: Int32Array(4))";
  size_t argc = 4;
  napi_value a[4];
  Routes* t = NULL;
  int32_t id = -1, *st = NULL;
  size_t n = 0;
  napi_valuetype ct = napi_undefined;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 4 || (t = routes_of(env, a[0])) == NULL ||
      napi_get_value_int32(env, a[1], &id) != napi_ok || id < 0 || napi_typeof(env, a[2], &ct) != napi_ok ||
      !typed(env, a[3], napi_int32_array, (void**)&st, &n) || n < 4) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  if (id >= MAX_TRANSPORTS) return boolean(env, false);
  if ((uint32_t)id >= t->nTransports) {
    uint32_t want = t->nTransports == 0 ? 64 : t->nTransports;
    while (want <= (uint32_t)id) want *= 2;
    OutTransport* grown = realloc(t->transports, (size_t)want * sizeof *grown);
    if (grown == NULL) return boolean(env, false);
    memset(grown + t->nTransports, 0, (size_t)(want - t->nTransports) * sizeof *grown);
    t->transports = grown;
    t->nTransports = want;
  }
  OutTransport* o = &t->transports[id];
  forget_transport(t, o);
  void* ctx = NULL;
  if (ct != napi_null && ct != napi_undefined) {
    const napi_type_tag tag = {SRTP_CTX_TAG_LOWER, SRTP_CTX_TAG_UPPER};
    bool tagged = false;
    if (napi_check_object_type_tag(env, a[2], &tag, &tagged) != napi_ok || !tagged || napi_get_value_external(env, a[2], &ctx) != napi_ok || ctx == NULL) {
      napi_throw_type_error(env, NULL, "setRouteTransport: ctx is a context of this build's SRTP module");
      return NULL;
    }
    if (napi_create_reference(env, a[2], 1, &o->ctxRef) != napi_ok) return boolean(env, false);
  }
  if (napi_create_reference(env, a[3], 1, &o->stRef) != napi_ok) {
    forget_transport(t, o);
    return boolean(env, false);
  }
  o->ctx = ctx;
  o->st = st;
  return boolean(env, true);
}

static napi_value SetRoute(napi_env env, napi_callback_info info) {
  static const char* usage = "setRoute(routes, sender, ssrc, layer, layerId, group, outs: Int32Array, states: ArrayBuffer[], histories: ArrayBuffer[])";
  size_t argc = 9;
  napi_value a[9];
  Routes* t = NULL;
  int32_t sender = -1, layer = -1, layerId = -1, group = -1, *pairs = NULL;
  uint32_t ssrc = 0, ns = 0, nh = 0;
  size_t np = 0;
  bool isArray = false, isArray2 = false;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 9 || (t = routes_of(env, a[0])) == NULL ||
      napi_get_value_int32(env, a[1], &sender) != napi_ok || sender < 0 || napi_get_value_uint32(env, a[2], &ssrc) != napi_ok ||
      napi_get_value_int32(env, a[3], &layer) != napi_ok || layer < ROUTE_JS_ONLY || napi_get_value_int32(env, a[4], &layerId) != napi_ok ||
      layerId < 0 || napi_get_value_int32(env, a[5], &group) != napi_ok || group < 0 ||
      !typed(env, a[6], napi_int32_array, (void**)&pairs, &np) || np % 2 != 0 ||
      napi_is_array(env, a[7], &isArray) != napi_ok || !isArray || napi_is_array(env, a[8], &isArray2) != napi_ok || !isArray2 ||
      napi_get_array_length(env, a[7], &ns) != napi_ok || napi_get_array_length(env, a[8], &nh) != napi_ok ||
      (layer >= 0 ? ns != np / 2 : ns != 0) || nh != ns || (layer == ROUTE_JS_ONLY && np != 0)) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  int32_t nOuts = (int32_t)(np / 2);
  if (nOuts > MAX_OUTS || group >= MAX_ROUTES) return boolean(env, false);
  if ((uint32_t)group >= t->nGroups) {
    uint32_t want = t->nGroups == 0 ? 64 : t->nGroups;
    while (want <= (uint32_t)group) want *= 2;
    uint32_t* grown = realloc(t->groupPunted, (size_t)want * sizeof *grown);
    if (grown == NULL) return boolean(env, false);
    for (uint32_t i = t->nGroups; i < want; i++) grown[i] = t->batch - 1;
    t->groupPunted = grown;
    t->nGroups = want;
  }
  RouteOut* outs = calloc(nOuts > 0 ? (size_t)nOuts : 1, sizeof *outs);
  if (outs == NULL) return boolean(env, false);
  Route fresh = {0};
  fresh.outs = outs;
  for (int32_t i = 0; i < nOuts; i++) {
    napi_value sv, hv;
    RouteOut* o = &outs[i];
    o->transport = pairs[2 * i];
    o->downtrack = pairs[2 * i + 1];
    if (layer < 0) {
      if (o->transport < 0 || o->downtrack < 0) {
        fresh.nOuts = i;
        free_outs(t, &fresh);
        napi_throw_type_error(env, NULL, "setRoute: every receiver is (transport id >= 0, downtrack id >= 0)");
        return NULL;
      }
      fresh.nOuts = i + 1;
      continue;
    }
    if (napi_get_element(env, a[7], (uint32_t)i, &sv) != napi_ok || napi_get_element(env, a[8], (uint32_t)i, &hv) != napi_ok ||
        (o->rw.s = (int32_t*)aligned_buffer(env, sv, RW_STATE_BYTES)) == NULL || (o->rw.history = aligned_buffer(env, hv, RW_HISTORY_BYTES)) == NULL ||
        o->transport < 0 || o->downtrack < 0) {
      fresh.nOuts = i;
      free_outs(t, &fresh);
      napi_throw_type_error(env, NULL, "setRoute: every receiver is (transport id >= 0, downtrack id >= 0) with a rewriter's state and history");
      return NULL;
    }
    fresh.nOuts = i + 1;
    if (napi_create_reference(env, sv, 1, &o->stateRef) != napi_ok || napi_create_reference(env, hv, 1, &o->historyRef) != napi_ok) {
      free_outs(t, &fresh);
      return boolean(env, false);
    }
  }
  uint64_t key = route_key(sender, ssrc);
  Route* r = find(t, key);
  if (r != NULL) {
    free_outs(t, r);
  } else {
    if (t->count >= MAX_ROUTES ||
        ((t->count + 1) * 2 > t->cap &&
         open_table_resize((void**)&t->slots, sizeof *t->slots, &t->cap, t->cap == 0 ? 16 : t->cap * 2, slot_home, slot_used) != 0)) {
      free_outs(t, &fresh);
      return boolean(env, false);
    }
    r = &t->slots[open_table_free_slot(t->slots, sizeof *t->slots, t->cap, home(key, t->cap), slot_used)];
    t->count++;
  }
  r->key = key;
  r->used = 1;
  r->layer = layer;
  r->layerId = layerId;
  r->group = group;
  t->groupPunted[group] = t->batch - 1;
  r->nOuts = fresh.nOuts;
  r->outs = fresh.outs;
  return boolean(env, true);
}

static napi_value ClearRoutes(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  Routes* t = NULL;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 1 || (t = routes_of(env, a[0])) == NULL) {
    napi_throw_type_error(env, NULL, "clearRoutes(routes)");
    return NULL;
  }
  clear(t);
  for (uint32_t i = 0; i < t->nTransports; i++) forget_transport(t, &t->transports[i]);
  return NULL;
}

static napi_value SetRoutesClock(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value a[2];
  Routes* t = NULL;
  double now = 0;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 2 || (t = routes_of(env, a[0])) == NULL ||
      napi_get_value_double(env, a[1], &now) != napi_ok) {
    napi_throw_type_error(env, NULL, "setRoutesClock(routes, performanceNowMs)");
    return NULL;
  }
  t->clockOffsetMs = monotonic_ms() - now;
  return NULL;
}

void routes_init(napi_env env, napi_value exports) {
  napi_value f;
  napi_create_function(env, "createRoutes", NAPI_AUTO_LENGTH, CreateRoutes, NULL, &f);
  napi_set_named_property(env, exports, "createRoutes", f);
  napi_create_function(env, "setRouteTransport", NAPI_AUTO_LENGTH, SetRouteTransport, NULL, &f);
  napi_set_named_property(env, exports, "setRouteTransport", f);
  napi_create_function(env, "setRoute", NAPI_AUTO_LENGTH, SetRoute, NULL, &f);
  napi_set_named_property(env, exports, "setRoute", f);
  napi_create_function(env, "clearRoutes", NAPI_AUTO_LENGTH, ClearRoutes, NULL, &f);
  napi_set_named_property(env, exports, "clearRoutes", f);
  napi_create_function(env, "setRoutesClock", NAPI_AUTO_LENGTH, SetRoutesClock, NULL, &f);
  napi_set_named_property(env, exports, "setRoutesClock", f);
}

// The per-SSRC state of native/srtp.c's contexts: see srtp-streams.h.
#include "srtp-streams.h"
#include "open-table.h"
#include <stdlib.h>
#include <string.h>

static uint32_t home(uint32_t ssrc, uint32_t cap) {
  // every bit of the SSRC moves the slot (murmur3's finalizer): a peer choosing SSRCs that share their low or high
  // bits must not make every lookup walk one long run
  uint32_t h = ssrc;
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h & (cap - 1);
}

static uint32_t slot_home(const void* slot, uint32_t cap) {
  return home(((const SrtpStream*)slot)->ssrc, cap);
}

static int slot_used(const void* slot) {
  return ((const SrtpStream*)slot)->used;
}

SrtpStream* srtp_stream_find(const SrtpStreams* t, uint32_t ssrc) {
  if (t->cap == 0) return NULL;
  for (uint32_t i = home(ssrc, t->cap);; i = (i + 1) & (t->cap - 1)) {
    SrtpStream* s = &t->slots[i];
    if (!s->used) return NULL;
    if (s->ssrc == ssrc) return s;
  }
}

/** Puts stream s (used) into a table with room, without a lookup. */
static SrtpStream* place(SrtpStreams* t, const SrtpStream* s) {
  SrtpStream* at = &t->slots[open_table_free_slot(t->slots, sizeof *t->slots, t->cap, home(s->ssrc, t->cap), slot_used)];
  *at = *s;
  t->count++;
  return at;
}

static int resize(SrtpStreams* t, uint32_t cap) {
  return open_table_resize((void**)&t->slots, sizeof *t->slots, &t->cap, cap, slot_home, slot_used);
}

SrtpStream* srtp_stream_get(SrtpStreams* t, uint32_t ssrc, int receiving) {
  SrtpStream* s = srtp_stream_find(t, ssrc);
  if (s != NULL) return s;
  if (receiving && t->count >= SRTP_MAX_STREAMS) {
    // a peer that sent this many streams starts its windows again, as the TypeScript path does. Never the
    // streams sent: a ROC starting again at 0 would use a keystream (GCM: a nonce) a second time
    memset(t->slots, 0, (size_t)t->cap * sizeof *t->slots);
    t->count = 0;
  }
  if ((t->count + 1) * 2 > t->cap && resize(t, t->cap == 0 ? 8 : t->cap * 2) != 0) return NULL;
  SrtpStream fresh = {0};
  fresh.ssrc = ssrc;
  fresh.used = 1;
  return place(t, &fresh);
}

void srtp_stream_forget(SrtpStreams* t, uint32_t ssrc) {
  if (t->cap == 0) return;
  const uint32_t mask = t->cap - 1;
  uint32_t i = home(ssrc, t->cap);
  while (t->slots[i].used && t->slots[i].ssrc != ssrc) i = (i + 1) & mask;
  if (!t->slots[i].used) return;
  open_table_remove(t->slots, sizeof *t->slots, t->cap, i, slot_home, slot_used);
  t->count--;
}

void srtp_streams_free(SrtpStreams* t) {
  free(t->slots);
  t->slots = NULL;
  t->cap = t->count = 0;
}

int64_t srtp_estimate_roc(const SrtpStream* s, uint16_t seq) {
  if (s == NULL || !s->init) return 0;
  if (s->sl < 32768) {
    if ((int32_t)seq - (int32_t)s->sl > 32768) return (int64_t)s->roc - 1;  // -1 when ROC is 0: refused
    return s->roc;
  }
  if ((int32_t)s->sl - 32768 > (int32_t)seq) return s->roc == 0xffffffffu ? -1 : (int64_t)s->roc + 1;
  return s->roc;
}

int srtp_replay_ok(const SrtpStream* s, uint64_t index) {
  if (s == NULL || !s->init || index > s->highest) return 1;
  uint64_t d = s->highest - index;
  return d < 64 && ((s->window >> d) & 1) == 0;
}

void srtp_replay_commit(SrtpStream* s, uint64_t index) {
  if (!s->init) {
    s->init = 1;
    s->highest = index;
    s->window = 1;
  } else if (index > s->highest) {
    uint64_t d = index - s->highest;
    s->window = d >= 64 ? 1 : (s->window << d) | 1;
    s->highest = index;
  } else {
    s->window |= (uint64_t)1 << (s->highest - index);
  }
}

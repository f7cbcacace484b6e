// What Tertulia's native open-addressing tables share (srtp-streams.c's streams, srtp-peers.c's peers, routes.c's
// routes): linear
// probing in a power-of-two array of slots kept at most half full, and deletion by backward shift (no tombstones).
#ifndef TERTULIA_OPEN_TABLE_H
#define TERTULIA_OPEN_TABLE_H
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/** The slot of a 64-bit key in a table of cap slots (murmur3's finalizer: every bit of the key moves the slot). */
static inline uint32_t open_table_home64(uint64_t key, uint32_t cap) {
  key ^= key >> 33;
  key *= 0xff51afd7ed558ccdull;
  key ^= key >> 33;
  key *= 0xc4ceb9fe1a85ec53ull;
  key ^= key >> 33;
  return (uint32_t)key & (cap - 1);
}

/** The home slot of an entry (its hash within cap), and whether a slot holds an entry. */
typedef uint32_t (*open_table_home)(const void* slot, uint32_t cap);
typedef int (*open_table_used)(const void* slot);

/** The slot where an entry whose home is h goes in a table with room (the first free one of its run). */
static inline uint32_t open_table_free_slot(const void* slots, size_t size, uint32_t cap, uint32_t h, open_table_used used) {
  const uint8_t* s = slots;
  while (used(s + (size_t)h * size)) h = (h + 1) & (cap - 1);
  return h;
}

/**
 * Moves the entries of *slots (*cap slots of `size` bytes, 0 for none yet) into a new array of newCap slots: 0, or
 * -1 when out of memory (the table unchanged).
 */
static inline int open_table_resize(void** slots, size_t size, uint32_t* cap, uint32_t newCap, open_table_home home, open_table_used used) {
  uint8_t* fresh = calloc(newCap, size);
  if (fresh == NULL) return -1;
  uint8_t* old = *slots;
  for (uint32_t i = 0; i < *cap; i++) {
    const uint8_t* e = old + (size_t)i * size;
    if (used(e)) memcpy(fresh + (size_t)open_table_free_slot(fresh, size, newCap, home(e, newCap), used) * size, e, size);
  }
  free(old);
  *slots = fresh;
  *cap = newCap;
  return 0;
}

/**
 * Empties slot i of `slots` (cap slots of `size` bytes) and moves up every later entry of its run that the hole
 * would cut off from its home: an entry at j moves to the hole when its home is not cyclically within (hole, j].
 * The caller counts one entry less.
 */
static inline void open_table_remove(void* slots, size_t size, uint32_t cap, uint32_t i, open_table_home home, open_table_used used) {
  uint8_t* s = slots;
  const uint32_t mask = cap - 1;
  for (uint32_t j = (i + 1) & mask; used(s + (size_t)j * size); j = (j + 1) & mask) {
    uint32_t h = home(s + (size_t)j * size, cap);
    int within = i <= j ? (h > i && h <= j) : (h > i || h <= j);
    if (!within) {
      memcpy(s + (size_t)i * size, s + (size_t)j * size, size);
      i = j;
    }
  }
  memset(s + (size_t)i * size, 0, size);
}

#endif

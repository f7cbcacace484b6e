// The per-SSRC state an SRTP context keeps (RFC 3711 §3.3.1, §3.3.2): for RTP the highest sequence number and
// rollover counter (s_l, ROC) seen or sent, the highest index (ROC * 65536 + SEQ, 48 bits; for SRTCP the 31-bit
// index) and, on the receiving side, the 64-packet replay window. Kept in native/srtp.c's contexts so that a
// packet costs one call from JavaScript (and later none) instead of a lookup and bookkeeping in JavaScript around
// the cipher call. packet/srtp.ts keeps the same rules for its Node-crypto fallback; the tests run both.
#ifndef TERTULIA_SRTP_STREAMS_H
#define TERTULIA_SRTP_STREAMS_H
#include <stdint.h>

/** Streams a table of received streams holds at most: reaching it starts the table again (as packet/srtp.ts's
 *  MAX_REPLAY_STATES). A table of streams sent is never started again (their ROCs must never go back). */
#define SRTP_MAX_STREAMS 65536

typedef struct {
  uint32_t ssrc;
  uint8_t used;
  /** Something was accepted (receiving) or sent (sending): s_l, roc, highest and window hold. */
  uint8_t init;
  uint16_t sl;
  uint32_t roc;
  uint64_t highest;
  /** Bit d: index highest - d was accepted (receiving only). */
  uint64_t window;
} SrtpStream;

/** An open-addressing table of streams by SSRC (linear probing, at most half full). */
typedef struct {
  SrtpStream* slots;
  /** A power of two, or 0 before the first stream. */
  uint32_t cap;
  uint32_t count;
} SrtpStreams;

/** The stream of ssrc, or NULL. */
SrtpStream* srtp_stream_find(const SrtpStreams* t, uint32_t ssrc);
/** The stream of ssrc, made (zeroed, not init) when new; NULL when out of memory. `receiving`: a table of received
 *  streams, started again at SRTP_MAX_STREAMS. */
SrtpStream* srtp_stream_get(SrtpStreams* t, uint32_t ssrc, int receiving);
/** Forgets ssrc's stream (a source that went away). */
void srtp_stream_forget(SrtpStreams* t, uint32_t ssrc);
/** Frees the table. */
void srtp_streams_free(SrtpStreams* t);

/** The ROC guess for an RTP packet with sequence number seq (RFC 3711 §3.3.1): 0 for a new stream, -1 if negative. */
int64_t srtp_estimate_roc(const SrtpStream* s, uint16_t seq);
/** Whether index is neither a replay nor older than the window (a stream that accepted nothing takes anything). */
int srtp_replay_ok(const SrtpStream* s, uint64_t index);
/** Marks index accepted (after its tag checked). */
void srtp_replay_commit(SrtpStream* s, uint64_t index);

#endif

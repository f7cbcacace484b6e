// The native data plane's routes (routes.c): per thread, which receivers a simulcast layer's packets go to, so that
// the receive batch forwards the common packet without JavaScript. Linked into udp-batch.node.
#ifndef TERTULIA_ROUTES_H
#define TERTULIA_ROUTES_H
#include <node_api.h>
#include <stdint.h>

typedef struct Routes Routes;

/** The routes a handle holds (its type tag checked), or NULL when it is not a routes handle. */
Routes* routes_of(napi_env env, napi_value handle);

/** A receive batch begins: a route that left a packet to JavaScript in the last batch may forward again. */
void routes_batch_begin(Routes* t);
/**
 * Nothing more of this batch is forwarded natively: a datagram JavaScript will handle first may change what the
 * routes say (a STUN check moving a path, a DTLS alert ending a session), and what follows it must see that.
 */
void routes_batch_stop(Routes* t);

/**
 * A datagram of the batch (datagramLen bytes, arrived ageMs before the batch was read at monoMs, CLOCK_MONOTONIC ms;
 * ageMs -1: unknown) whose plain RTP p[0..len) transport `sender` sent (its SRTP unprotected): 1 when it was forwarded
 * here (JavaScript books it from the log later), 0 when JavaScript handles it.
 */
int routes_forward(Routes* t, int32_t sender, uint8_t* p, int len, int datagramLen, double monoMs, double ageMs);

/** createRoutes, setRouteTransport, setRoute, clearRoutes, setRoutesClock. */
void routes_init(napi_env env, napi_value exports);

#endif

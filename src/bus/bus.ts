// How parts talk. In one process the bus is in memory (memory-bus.ts); across machines it is NATS.
// Payloads are plain JSON values; every receiver validates what it gets with a schema from src/protocol.

import type { KeyValue, KeyValueOptions } from './key-value.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json | undefined };

export type Unsubscribe = () => void;

export class BusTimeoutError extends Error {
  constructor(subject: string, timeoutMs: number) {
    super(`no reply on ${subject} within ${timeoutMs} ms`);
    this.name = 'BusTimeoutError';
  }
}

export class BusNoHandlerError extends Error {
  constructor(subject: string) {
    super(`nobody handles ${subject}`);
    this.name = 'BusNoHandlerError';
  }
}

/**
 * A request refused for a reason the requester can act on, named by a short code (a bus call's table in
 * src/protocol/bus-calls.ts lists the codes each call may fail with). The code crosses NATS with the message.
 */
export class BusCallError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'BusCallError';
    this.code = code;
  }
}

/**
 * How a bus links this process to the others, for `tertulia status`: in memory (every part in this process), or
 * NATS: its server address(es) without credentials, and since when (Date.now()) the connection is lost.
 */
export type BusLink = { kind: 'memory' } | { kind: 'nats'; server: string; connected: boolean; downSince?: number };

export interface Bus {
  /** Fire-and-forget event to every subscriber of `subject`. */
  publish(subject: string, payload: Json): void;
  subscribe(subject: string, handler: (payload: unknown) => void): Unsubscribe;
  /** One handler answers requests on `subject`; a thrown error becomes a rejected request. */
  handle(subject: string, handler: (payload: unknown) => Promise<Json> | Json): Unsubscribe;
  request(subject: string, payload: Json, timeoutMs?: number): Promise<unknown>;
  /**
   * A key-value store for state that must outlive a process (key-value.ts): a JetStream bucket over NATS, a
   * map in one process. `durable` says which one came back (false over NATS when the server has no JetStream).
   */
  keyValue(bucket: string, opts: KeyValueOptions): Promise<{ store: KeyValue; durable: boolean }>;
  /** False while the link to the other processes is down (NATS reconnecting); an in-memory bus always is. */
  connected(): boolean;
  /** What links it to the other processes (a stand-in bus, such as a media worker's, says nothing). */
  link?(): BusLink;
  close(): Promise<void>;
}

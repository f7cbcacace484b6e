// The bus inside one process. Payloads are deep-copied (structuredClone) so parts never share objects,
// exactly as if they crossed a process boundary.
import { MemoryKeyValue, type KeyValue, type KeyValueOptions } from './key-value.ts';
import { type Bus, type BusLink, BusNoHandlerError, BusTimeoutError, type Json, type Unsubscribe } from './bus.ts';

export class MemoryBus implements Bus {
  private readonly subscribers = new Map<string, Set<(payload: unknown) => void>>();
  private readonly handlers = new Map<string, (payload: unknown) => Promise<Json> | Json>();
  private readonly buckets = new Map<string, MemoryKeyValue>();

  /** One map per bucket name, shared by every part of the process (as one JetStream bucket is). */
  async keyValue(bucket: string, opts: KeyValueOptions): Promise<{ store: KeyValue; durable: boolean }> {
    let kv = this.buckets.get(bucket);
    if (!kv) this.buckets.set(bucket, (kv = new MemoryKeyValue(opts)));
    return { store: kv, durable: false };
  }

  publish(subject: string, payload: Json): void {
    const subs = this.subscribers.get(subject);
    if (!subs) return;
    for (const handler of [...subs]) {
      const copy = structuredClone(payload);
      queueMicrotask(() => {
        try {
          const result: unknown = handler(copy);
          // an async subscriber's rejection must not become an unhandled rejection (that ends the process)
          if (result instanceof Promise) result.catch(() => {});
        } catch {
          // a subscriber's failure is its own; the publisher never sees it
        }
      });
    }
  }

  subscribe(subject: string, handler: (payload: unknown) => void): Unsubscribe {
    let subs = this.subscribers.get(subject);
    if (!subs) this.subscribers.set(subject, (subs = new Set()));
    subs.add(handler);
    return () => subs.delete(handler);
  }

  handle(subject: string, handler: (payload: unknown) => Promise<Json> | Json): Unsubscribe {
    if (this.handlers.has(subject)) throw new Error(`${subject} already has a handler`);
    this.handlers.set(subject, handler);
    return () => {
      if (this.handlers.get(subject) === handler) this.handlers.delete(subject);
    };
  }

  async request(subject: string, payload: Json, timeoutMs = 5000): Promise<unknown> {
    const handler = this.handlers.get(subject);
    if (!handler) throw new BusNoHandlerError(subject);
    const copy = structuredClone(payload);
    let timer: NodeJS.Timeout | undefined;
    try {
      const reply = await Promise.race([
        Promise.resolve().then(() => handler(copy)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new BusTimeoutError(subject, timeoutMs)), timeoutMs);
        }),
      ]);
      return structuredClone(reply);
    } finally {
      clearTimeout(timer);
    }
  }

  connected(): boolean {
    return true; // one process: nothing to lose
  }

  link(): BusLink {
    return { kind: 'memory' };
  }

  async close(): Promise<void> {
    this.subscribers.clear();
    this.handlers.clear();
  }
}

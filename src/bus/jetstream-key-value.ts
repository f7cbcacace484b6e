// A KeyValue (key-value.ts) kept in a NATS JetStream key-value bucket: the server holds it (on disk with
// `nats-server -js`), so it outlives every process that uses it, and every process sees the same values.
// Errors are the store's own (a stopped server: the client's timeout); callers decide what a failure means.
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { jetstreamManager } from '@nats-io/jetstream';
import type { Json } from './bus.ts';
import { casLoop, checkKey, checkValueSize, KeyValueFullError, type KeyValue, type KeyValueEntry, type KeyValueOptions } from './key-value.ts';

/**
 * The server has no JetStream (started without `-js`: nobody answers JetStream's API), or is too old for
 * key-value buckets: opening again will not help. Anything else (a timeout on a loaded server) may pass.
 */
export function isNoJetStream(e: unknown): boolean {
  const err = e as Error | undefined;
  return err?.name === 'JetStreamNotEnabled' || /kv is only supported on servers/i.test(err?.message ?? '');
}

/**
 * Opens (creating when missing) bucket `name`; rejects when the server has no JetStream. A bucket made by an
 * older version (without a byte cap, or another one) gets this version's caps.
 */
export async function openJetStreamKeyValue(nc: NatsConnection, name: string, opts: KeyValueOptions): Promise<KeyValue> {
  const kv = await new Kvm(nc).create(name, {
    history: 1,
    ttl: opts.ttlSeconds * 1000,
    maxValueSize: opts.maxValueBytes,
    ...(opts.maxBytes ? { max_bytes: opts.maxBytes } : {}),
    description: 'tertulia state that outlives a process',
  });
  const maxBytes = opts.maxBytes ?? -1;
  const status = await kv.status();
  if (status.max_bytes !== maxBytes || status.maxValueSize !== opts.maxValueBytes) {
    const jsm = await jetstreamManager(nc);
    const stream = `KV_${name}`;
    const info = await jsm.streams.info(stream);
    await jsm.streams.update(stream, { ...info.config, max_bytes: maxBytes, max_msg_size: opts.maxValueBytes });
  }
  return new JetStreamKeyValue(kv, opts);
}

/** The server's refusal of a write past the bucket's max_bytes, as a KeyValueFullError; other errors as they are. */
function fullOr(e: unknown): unknown {
  const message = (e as Error)?.message ?? '';
  return /maximum bytes exceeded|insufficient resources|10047|10023/i.test(message) ? new KeyValueFullError(message) : e;
}

function isRevisionConflict(e: unknown): boolean {
  return /wrong last sequence|key exists|10071|10164/i.test((e as Error)?.message ?? '');
}

class JetStreamKeyValue implements KeyValue {
  private readonly kv: KV;
  private readonly opts: KeyValueOptions;
  constructor(kv: KV, opts: KeyValueOptions) {
    this.kv = kv;
    this.opts = opts;
  }

  async get(key: string): Promise<KeyValueEntry | undefined> {
    checkKey(key);
    const e = await this.kv.get(key);
    if (!e || e.operation !== 'PUT' || e.length === 0) return undefined;
    return { value: JSON.parse(e.string()) as Json, revision: e.revision };
  }

  async put(key: string, value: Json): Promise<void> {
    checkKey(key);
    try {
      await this.kv.put(key, checkValueSize(value, this.opts.maxValueBytes));
    } catch (e) {
      throw fullOr(e);
    }
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    await this.kv.delete(key);
  }

  async keys(prefix: string): Promise<string[]> {
    const out: string[] = [];
    for await (const k of await this.kv.keys(prefix.endsWith('.') ? `${prefix}>` : `${prefix}*`)) out.push(k);
    return out;
  }

  async update(key: string, change: (old: Json | undefined) => Json | undefined): Promise<void> {
    checkKey(key);
    const raw = async () => {
      const e = await this.kv.get(key);
      return e ? { live: e.operation === 'PUT' && e.length > 0, revision: e.revision, entry: e } : undefined;
    };
    let lastRevision = 0;
    await casLoop(
      key,
      async () => {
        const r = await raw();
        lastRevision = r?.revision ?? 0;
        return r?.live ? { value: JSON.parse(r.entry.string()) as Json, revision: r.revision } : undefined;
      },
      async (value) => {
        try {
          if (value === undefined) {
            if (lastRevision > 0) await this.kv.delete(key, { previousSeq: lastRevision });
          } else {
            const text = checkValueSize(value, this.opts.maxValueBytes);
            // a deleted key keeps a marker with a revision: update against it, create only when never written
            if (lastRevision > 0) await this.kv.update(key, text, lastRevision);
            else await this.kv.create(key, text);
          }
          return true;
        } catch (e) {
          if (isRevisionConflict(e)) return false;
          throw fullOr(e);
        }
      },
      change,
    );
  }
}

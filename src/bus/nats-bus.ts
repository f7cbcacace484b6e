// The bus between processes and machines: NATS (https://nats.io), with the same semantics as MemoryBus.
//
// - Payloads are JSON (UTF-8). A message that is not JSON is dropped (events) or answered with an error
//   (requests); it never reaches a handler and never ends the process.
// - A request's reply is an envelope, validated on arrival: {ok: true, reply} or {ok: false, error, name}.
//   A handler's thrown Error comes back to the requester as a rejected request with the same message (and,
//   for BusTimeoutError / BusNoHandlerError thrown by a handler's own requests, the same class).
// - Nobody subscribed to a request's subject -> BusNoHandlerError at once (NATS "no responders");
//   no reply in time -> BusTimeoutError.
// - `handle` subscribes in a queue group, so each request is handled exactly once even when two processes
//   handle the same subject (NATS would otherwise deliver it to all of them and both would act). Which
//   instance handles what is decided by the subject: bridge subjects carry the bridge id
//   (`bridge.<id>.allocate`), so every bridge answers only its own; `focus.*` has one focus per deployment
//   (a conference's state lives in that focus). Events (`publish`/`subscribe`) reach every subscriber.
// - Losing the server is not fatal: the client reconnects forever (logging each disconnect/reconnect) and
//   re-subscribes; meanwhile requests fail with BusTimeoutError and events are buffered by the client.
// - Credentials (user/password/token, also when written in the URL) are never logged.
import {
  connect,
  NoRespondersError,
  RequestError,
  TimeoutError,
  type Msg,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import type { Logger } from '../log.ts';
import { type Bus, type BusLink, BusNoHandlerError, BusTimeoutError, type Json, type Unsubscribe } from './bus.ts';
import { parseNatsUrl, redactNatsUrl } from './nats-url.ts';
import { MemoryKeyValue, type KeyValue, type KeyValueOptions } from './key-value.ts';
import { isNoJetStream, openJetStreamKeyValue } from './jetstream-key-value.ts';
import { decode, encode, encodeReply, readReply } from './nats-wire.ts';

export { parseNatsUrl, redactNatsUrl } from './nats-url.ts';

/** The queue group every request handler joins (see the header comment). */
export const HANDLER_QUEUE_GROUP = 'tertulia';

export interface NatsBusOptions {
  /** nats://host:port (several may be given comma-separated). Credentials in the URL are accepted. */
  url: string;
  user?: string;
  password?: string;
  token?: string;
  log: Logger;
  /** Connection name shown by the NATS server's monitoring (e.g. "tertulia bridge host-1"). */
  name?: string;
  /** Pause between connection attempts (default 2000 ms). */
  reconnectWaitMs?: number;
  /** Give up the first connection after this long (default: never; keeps trying and logging). */
  firstConnectTimeoutMs?: number;
}

/** How long `keyValue` tries to open a bucket on a server that has JetStream before it keeps the state in memory. */
export const KEY_VALUE_OPEN_RETRY_MS = 60_000;

/** `credentials`: what this side sent, for the hint of a refused authorization (never the values). */
function describeConnectError(e: unknown, credentials: { user: boolean; password: boolean; token: boolean } = { user: false, password: false, token: false }): string {
  const err = e as Error & { code?: string; cause?: unknown };
  const cause = err?.cause as (Error & { code?: string }) | undefined;
  const text = [err?.message, cause?.message && cause.message !== err?.message ? cause.message : undefined, err?.code ?? cause?.code]
    .filter(Boolean)
    .join(': ');
  if (/authoriz|authenticat/i.test(text)) {
    if (credentials.user && !credentials.password) return `${text} (natsUser is set but no password was given: set TERTULIA_NATS_PASSWORD, or natsPassword in the configuration file)`;
    if (!credentials.user && !credentials.token) return `${text} (no credentials were given: natsUser and natsPassword, or natsToken)`;
    return `${text} (check natsUser/natsPassword or natsToken)`;
  }
  return text || String(e);
}

export class NatsBus implements Bus {
  private readonly handlers = new Set<string>();
  private readonly subscriptions = new Set<Subscription>();
  private closed = false;
  /** Follows the connection's disconnect/reconnect events. */
  private linkUp = true;
  /** When the connection was lost (Date.now()); undefined while it is up. */
  private downSince: number | undefined;
  private readonly statusLoop: Promise<void>;

  private readonly nc: NatsConnection;
  private readonly log: Logger;
  /** The server address(es), without credentials. */
  readonly server: string;

  private constructor(nc: NatsConnection, log: Logger, server: string) {
    this.nc = nc;
    this.log = log;
    this.server = server;
    this.statusLoop = this.watchStatus();
  }

  /**
   * Connects to the NATS server, trying again every reconnectWaitMs while it cannot be reached (each
   * failure logged), so the machines of a deployment may start in any order.
   */
  static async connect(opts: NatsBusOptions): Promise<NatsBus> {
    const log = opts.log.child({ part: 'bus' });
    const fromUrl = parseNatsUrl(opts.url);
    const shown = redactNatsUrl(opts.url);
    const user = opts.user || fromUrl.user;
    const pass = opts.password || fromUrl.password;
    const token = opts.token || fromUrl.token;
    const waitMs = opts.reconnectWaitMs ?? 2000;
    const deadline = opts.firstConnectTimeoutMs === undefined ? Infinity : Date.now() + opts.firstConnectTimeoutMs;
    let attempt = 0;
    for (;;) {
      attempt++;
      try {
        const nc = await connect({
          servers: fromUrl.servers,
          ...(user ? { user, pass: pass ?? '' } : {}),
          ...(token ? { token } : {}),
          name: opts.name ?? 'tertulia',
          reconnect: true,
          maxReconnectAttempts: -1,
          reconnectTimeWait: waitMs,
          timeout: Math.max(waitMs, 2000),
          pingInterval: 10_000,
          maxPingOut: 3,
        });
        log.info({ server: shown, attempts: attempt }, 'connected to NATS');
        return new NatsBus(nc, log, shown);
      } catch (e) {
        const reason = describeConnectError(e, { user: Boolean(user), password: Boolean(pass), token: Boolean(token) });
        if (Date.now() + waitMs > deadline) throw new Error(`cannot connect to NATS at ${shown}: ${reason}`);
        // the first failure and then one line every 10 attempts: clear, but not a flood
        if (attempt === 1 || attempt % 10 === 0) {
          log.error({ server: shown, attempts: attempt, err: reason }, `cannot connect to NATS; trying again every ${waitMs} ms`);
        }
        await new Promise((r) => setTimeout(r, waitMs));
      }
    }
  }

  private async watchStatus(): Promise<void> {
    try {
      for await (const s of this.nc.status()) {
        switch (s.type) {
          case 'disconnect':
            this.linkUp = false;
            this.downSince ??= Date.now();
            this.log.warn({ server: redactNatsUrl(s.server) }, 'lost the NATS connection; reconnecting');
            break;
          case 'reconnect':
            this.linkUp = true;
            this.downSince = undefined;
            this.log.info({ server: redactNatsUrl(s.server) }, 'reconnected to NATS');
            break;
          case 'error':
            this.log.error({ err: describeConnectError(s.error) }, 'NATS error');
            break;
          case 'staleConnection':
            this.log.warn('the NATS server stopped answering pings; reconnecting');
            break;
          case 'slowConsumer':
            this.log.warn({ subject: s.sub.getSubject(), pending: s.pending }, 'NATS slow consumer: messages are piling up');
            break;
          case 'ldm':
            this.log.warn('the NATS server is entering lame duck mode (shutting down)');
            break;
          default:
            break;
        }
      }
    } catch (e) {
      if (!this.closed) this.log.error({ err: (e as Error).message }, 'NATS status watch ended');
    }
  }

  /** Resolves once the server has everything sent on this connection so far (subscriptions and unsubscriptions included). */
  async flush(): Promise<void> {
    if (!this.closed) await this.nc.flush();
  }

  connected(): boolean {
    return !this.closed && this.linkUp && !this.nc.isClosed();
  }

  /** The server address(es) without credentials, and since when the connection is lost (`tertulia status`). */
  link(): BusLink {
    const connected = this.connected();
    return { kind: 'nats', server: this.server, connected, ...(!connected && this.downSince !== undefined ? { downSince: this.downSince } : {}) };
  }

  publish(subject: string, payload: Json): void {
    if (this.closed) return;
    try {
      this.nc.publish(subject, encode(payload));
    } catch (e) {
      // fire-and-forget, like MemoryBus: the publisher never fails because of the bus
      this.log.warn({ subject, err: (e as Error).message }, 'could not publish on the bus');
    }
  }

  subscribe(subject: string, handler: (payload: unknown) => void): Unsubscribe {
    const sub = this.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) {
          this.log.warn({ subject, err: err.message }, 'bus subscription error');
          return;
        }
        let payload: unknown;
        try {
          payload = decode(msg.data);
        } catch (e) {
          this.log.warn({ subject, err: (e as Error).message }, 'dropped a malformed bus message');
          return;
        }
        try {
          const result: unknown = handler(payload);
          if (result instanceof Promise) result.catch(() => {});
        } catch {
          // a subscriber's failure is its own; the publisher never sees it
        }
      },
    });
    this.subscriptions.add(sub);
    return () => {
      this.subscriptions.delete(sub);
      if (!this.closed) sub.unsubscribe();
    };
  }

  handle(subject: string, handler: (payload: unknown) => Promise<Json> | Json): Unsubscribe {
    if (this.handlers.has(subject)) throw new Error(`${subject} already has a handler`);
    this.handlers.add(subject);
    const sub = this.nc.subscribe(subject, {
      queue: HANDLER_QUEUE_GROUP,
      callback: (err, msg) => {
        if (err) {
          this.log.warn({ subject, err: err.message }, 'bus handler subscription error');
          return;
        }
        void this.answer(subject, msg, handler);
      },
    });
    this.subscriptions.add(sub);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.handlers.delete(subject);
      this.subscriptions.delete(sub);
      if (!this.closed) sub.unsubscribe();
    };
  }

  private async answer(subject: string, msg: Msg, handler: (payload: unknown) => Promise<Json> | Json): Promise<void> {
    let outcome: { reply: unknown } | { error: unknown };
    try {
      outcome = { reply: await handler(decode(msg.data)) };
    } catch (e) {
      outcome = { error: e };
    }
    if (!msg.reply) return; // a publish on a request subject: nobody waits for the answer
    try {
      msg.respond(encodeReply(outcome));
    } catch (e) {
      this.log.warn({ subject, err: (e as Error).message }, 'could not send a bus reply');
    }
  }

  async request(subject: string, payload: Json, timeoutMs = 5000): Promise<unknown> {
    if (this.closed) throw new Error(`cannot request ${subject}: the bus is closed`);
    let msg: Msg;
    try {
      msg = await this.nc.request(subject, encode(payload), { timeout: timeoutMs });
    } catch (e) {
      throw this.requestError(subject, timeoutMs, e);
    }
    return readReply(subject, timeoutMs, msg.data);
  }

  private requestError(subject: string, timeoutMs: number, e: unknown): Error {
    const cause = (e as Error & { cause?: unknown })?.cause;
    if (e instanceof NoRespondersError || cause instanceof NoRespondersError || (e instanceof RequestError && e.isNoResponders())) {
      return new BusNoHandlerError(subject);
    }
    if (e instanceof TimeoutError || cause instanceof TimeoutError) return new BusTimeoutError(subject, timeoutMs);
    const text = (e as Error)?.message ?? String(e);
    if (/disconnect/i.test(text)) return new BusTimeoutError(subject, timeoutMs); // the reply cannot come: as a timeout
    return new Error(`bus request on ${subject} failed: ${text}`);
  }

  /**
   * The JetStream bucket `bucket` (created when missing). A server without JetStream (started without `-js`)
   * gets a warning and a store in this process's memory instead: the state then lives only as long as the process.
   * Any other failure (a JetStream API call timing out on a loaded server, an outage) is not taken for "no
   * JetStream": the open is tried again, with a warning each time, for up to `KEY_VALUE_OPEN_RETRY_MS`; only then
   * is the state kept in memory, as an error (every other process then keeps its own).
   */
  async keyValue(bucket: string, opts: KeyValueOptions): Promise<{ store: KeyValue; durable: boolean }> {
    const deadline = Date.now() + KEY_VALUE_OPEN_RETRY_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        return { store: await openJetStreamKeyValue(this.nc, bucket, opts), durable: true };
      } catch (e) {
        const err = (e as Error)?.message ?? String(e);
        if (isNoJetStream(e)) {
          this.log.warn({ bucket, err }, 'NATS has no JetStream (start nats-server with -js): this state is kept in this process only and is lost when it stops');
          return { store: new MemoryKeyValue(opts), durable: false };
        }
        if (this.closed || Date.now() >= deadline) {
          this.log.error({ bucket, err, attempts: attempt }, 'JetStream bucket could not be opened: this state is kept in this process only (other processes do not see it)');
          return { store: new MemoryKeyValue(opts), durable: false };
        }
        this.log.warn({ bucket, err, attempt }, 'JetStream bucket not opened yet; trying again');
        await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** (attempt - 1), 5000)));
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handlers.clear();
    this.subscriptions.clear();
    // drain: stop taking new messages, let handlers still running send their replies, then close
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.nc.drain(),
        new Promise((resolve) => {
          timer = setTimeout(resolve, 2000);
        }),
      ]);
    } catch {
      // already closed or not connected: close below
    } finally {
      clearTimeout(timer);
    }
    if (!this.nc.isClosed()) await this.nc.close().catch(() => {});
    await this.statusLoop;
    this.log.info('NATS connection closed');
  }
}

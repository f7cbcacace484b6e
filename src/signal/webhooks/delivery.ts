// Delivery of webhook events to one receiver URL: a bounded in-memory queue, sent one at a time in the order the
// events happened. An attempt fails on a network error, a timeout or any status but 2xx; it is tried again after
// 1, 2, 4 … s (at most MAX_DELAY_MS apart) up to `attempts` times, then given up. Later events wait behind a
// retried one, so a receiver sees them in order. Nothing here ever waits for the meeting or blocks it: the
// queue drops its oldest event when full. A receiver that stops answering is logged once when the outage
// starts and once when it answers again (with what was lost meanwhile), never per event; only the URL's origin is
// logged (a path or query may hold a receiver's own token), never the secret.
import type { Logger } from '../../log.ts';
import { signWebhook, WEBHOOK_HEADERS } from './signature.ts';

export interface DeliveryOptions {
  /** Events waiting at most; beyond, the oldest is dropped. */
  maxQueue: number;
  /** Attempts per event, the first included. */
  attempts: number;
  /** Delay before the first retry; doubled for each next one. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** Each request's time limit (connect, headers and body). */
  timeoutMs: number;
}

export const DEFAULT_DELIVERY: DeliveryOptions = { maxQueue: 1000, attempts: 8, firstDelayMs: 1000, maxDelayMs: 60_000, timeoutMs: 10_000 };

export interface QueuedEvent {
  id: string;
  type: string;
  body: string;
}

export class WebhookDelivery {
  private readonly url: string;
  private readonly secret: string;
  private readonly log: Logger;
  private readonly opts: DeliveryOptions;
  private readonly queue: QueuedEvent[] = [];
  private running = false;
  /** Aborts the request or backoff wait under way when closing. */
  private readonly stop = new AbortController();
  /** The receiver failed since it last answered. */
  private down = false;
  /** Events dropped (queue full) or given up since the outage was logged. */
  private lost = 0;
  /** Resolves when the queue is empty and nothing is in flight. */
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => {};

  constructor(url: string, secret: string, log: Logger, opts: DeliveryOptions = DEFAULT_DELIVERY) {
    this.url = url;
    this.secret = secret;
    this.opts = opts;
    this.log = log.child({ receiver: new URL(url).origin });
  }

  /** Events waiting or being sent. */
  get pending(): number {
    return this.queue.length + (this.running ? 1 : 0);
  }

  enqueue(event: QueuedEvent): void {
    if (this.stop.signal.aborted) return;
    if (this.queue.length >= this.opts.maxQueue) {
      const dropped = this.queue.shift()!;
      if (this.lost++ === 0) this.log.warn({ event: dropped.id, type: dropped.type, maxQueue: this.opts.maxQueue }, 'webhook queue full: dropping the oldest events');
    }
    this.queue.push(event);
    if (!this.running) {
      this.running = true;
      this.idle = new Promise((r) => (this.markIdle = r));
      void this.drain();
    }
  }

  private async drain(): Promise<void> {
    try {
      for (let next = this.queue.shift(); next && !this.stop.signal.aborted; next = this.queue.shift()) await this.deliver(next);
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'webhook delivery failed');
    } finally {
      this.running = false;
      this.markIdle();
    }
  }

  private async deliver(event: QueuedEvent): Promise<void> {
    for (let attempt = 1; attempt <= this.opts.attempts; attempt++) {
      const failure = await this.attempt(event);
      if (this.stop.signal.aborted) return;
      if (failure === undefined) {
        if (this.down) this.log.info({ lost: this.lost }, 'webhook receiver answers again');
        this.down = false;
        this.lost = 0;
        return;
      }
      if (!this.down) {
        this.down = true;
        this.log.warn({ event: event.id, type: event.type, failure }, 'webhook receiver does not accept events; retrying with backoff');
      } else this.log.debug({ event: event.id, attempt, failure }, 'webhook attempt failed');
      if (attempt < this.opts.attempts) await this.wait(Math.min(this.opts.maxDelayMs, this.opts.firstDelayMs * 2 ** (attempt - 1)));
    }
    this.lost++;
    this.log.debug({ event: event.id, type: event.type }, 'webhook event given up');
  }

  /** One POST; undefined when the receiver took it, else why not. */
  private async attempt(event: QueuedEvent): Promise<string | undefined> {
    const timestamp = Math.floor(Date.now() / 1000);
    try {
      const res = await fetch(this.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'Tertulia-Webhooks',
          [WEBHOOK_HEADERS.id]: event.id,
          [WEBHOOK_HEADERS.timestamp]: String(timestamp),
          [WEBHOOK_HEADERS.signature]: signWebhook(this.secret, timestamp, event.body),
        },
        body: event.body,
        // a redirect is a failure: the event goes only where the admin said
        redirect: 'manual',
        signal: AbortSignal.any([this.stop.signal, AbortSignal.timeout(this.opts.timeoutMs)]),
      });
      // the answer's body is not wanted
      await res.body?.cancel().catch(() => {});
      return res.status >= 200 && res.status < 300 ? undefined : `HTTP ${res.status}`;
    } catch (e) {
      const err = e as Error & { cause?: { code?: string } };
      return err.name === 'TimeoutError' ? 'timeout' : (err.cause?.code ?? err.message);
    }
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.stop.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.stop.signal.addEventListener('abort', done);
    });
  }

  /** Waits up to `graceMs` for what is queued (unless the receiver is down), then stops for good. */
  async close(graceMs: number): Promise<void> {
    if (this.running && !this.down && graceMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.idle, new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
    }
    const left = this.pending;
    this.stop.abort();
    this.queue.length = 0;
    if (left > 0 || this.lost > 0) this.log.warn({ unsent: left, lost: this.lost }, 'webhook events not delivered at stop');
  }
}

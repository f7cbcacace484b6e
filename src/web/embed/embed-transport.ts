// The app's end of the IFrame API's postMessage link (embed-protocol.ts). Only in a frame whose URL hash has
// `jitsi_meet_external_api_id`: it accepts messages from the parent window only, learns the parent's origin
// from its `hello` (which must match the browser's `ancestorOrigins` where the browser tells them) and from
// then on accepts nothing from any other origin and posts to that origin only. Events wait (a bounded queue)
// until the hello. Which sites may frame the app at all is the server's CSP frame-ancestors (embedAllowedOrigins).
import { acceptPost, EMBED_NAMESPACE, hostMessageSchema, MAX_EMBED_QUEUE, type AppMessage } from './embed-protocol.ts';

export interface EmbedHandlers {
  command(name: string, args: readonly unknown[]): void;
  request(name: string, args: readonly unknown[]): Promise<unknown>;
}

/** Whether a hello from `origin` may be the parent's: the browser's word (ancestorOrigins[0]) when it gives one. */
export function parentOriginAllowed(origin: string, ancestorOrigins: ArrayLike<string> | undefined): boolean {
  if (!origin || origin === 'null') return false;
  return !ancestorOrigins || ancestorOrigins.length === 0 || ancestorOrigins[0] === origin;
}

type Unsent = { kind: 'event'; name: string; data: Record<string, unknown> } | { kind: 'response'; requestId: number; ok: boolean; result?: unknown; error?: string };

export class EmbedTransport {
  readonly apiId: number;
  readonly #handlers: EmbedHandlers;
  #origin: string | null = null;
  #queue: AppMessage[] = [];
  readonly #onMessage = (ev: MessageEvent) => this.#receive(ev);

  constructor(apiId: number, handlers: EmbedHandlers) {
    this.apiId = apiId;
    this.#handlers = handlers;
    window.addEventListener('message', this.#onMessage);
  }

  /** Sends one of Jitsi's events to the host page (held until the host said hello). */
  emit(name: string, data: Record<string, unknown> = {}): void {
    this.#send({ kind: 'event', name, data });
  }

  close(): void {
    window.removeEventListener('message', this.#onMessage);
  }

  #send(m: Unsent): void {
    const message = { ns: EMBED_NAMESPACE, apiId: this.apiId, ...m } as AppMessage;
    if (this.#origin === null) {
      if (this.#queue.length < MAX_EMBED_QUEUE) this.#queue.push(message);
      return;
    }
    this.#post(message);
  }

  #post(m: AppMessage): void {
    if (this.#origin === null) return;
    try {
      window.parent.postMessage(m, this.#origin);
    } catch (e) {
      console.error('tertulia: could not post to the host page', e);
    }
  }

  #receive(ev: MessageEvent): void {
    const m = acceptPost(hostMessageSchema, ev, { source: window.parent, origin: this.#origin, apiId: this.apiId });
    if (!m) return;
    if (m.kind === 'hello') {
      if (this.#origin === null) {
        if (!parentOriginAllowed(ev.origin, window.location.ancestorOrigins)) return;
        this.#origin = ev.origin;
      }
      this.#post({ ns: EMBED_NAMESPACE, apiId: this.apiId, kind: 'ready' });
      const queued = this.#queue;
      this.#queue = [];
      for (const q of queued) this.#post(q);
      return;
    }
    if (this.#origin === null) return; // nothing before the hello
    if (m.kind === 'command') {
      try {
        this.#handlers.command(m.name, m.args);
      } catch (e) {
        console.error(`tertulia: the "${m.name}" command failed`, e);
      }
      return;
    }
    const { requestId } = m;
    let answer: Promise<unknown>;
    try {
      answer = this.#handlers.request(m.name, m.args);
    } catch (e) {
      answer = Promise.reject(e as Error);
    }
    answer.then(
      (result) => this.#send({ kind: 'response', requestId, ok: true, result }),
      (e: unknown) => this.#send({ kind: 'response', requestId, ok: false, error: e instanceof Error ? e.message : String(e) }),
    );
  }
}

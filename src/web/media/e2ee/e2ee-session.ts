// End-to-end encryption in the page (issue 20): follows the room's setting (`e2ee-state`), runs the key agreement
// with every other participant over `e2ee-relay` (key-agreement.ts) and drives the encoded-transform worker
// (e2ee-worker.ts) that encrypts what we send and decrypts what we receive. Make it before the conference starts
// (RoomPage): the setting comes right after `joined`.
// Keys: ours is a random AES-128 key with a random 32-bit id. When someone joins we ratchet it one step (the
// newcomer gets the new step, the others derive it: nobody waits) ; when someone leaves we make a new one, send it
// to those who stay and use it ROTATE_DELAY_MS later (the one who left never gets it).
// While off, nothing is attached (no worker, no transform, no special connection): media costs what it costs without
// E2EE. Turned on in a running meeting, the transforms go on the existing senders and receivers; except in Chromium
// (156), which runs a script transform only if it was set before media flowed through that sender or receiver
// (set later, frames silently bypass it): there we ask for a new session, whose connection gets them from its first
// offer. Turned off, the transforms are taken off again; in Chromium (where removing one stops the media) they stay
// as pass-through until the next connection.
// A browser without encoded transforms cannot take part: it says so to its user and to the others (a `hello`
// with supported false), and its plain media is never shown by those who encrypt.
import { e2eeRelayDataSchema, type E2eeRelayData } from '../../../protocol/e2ee-messages.ts';
import type { ServerMessage } from '../../../protocol/signal-messages.ts';
import type { Conference } from '../conference.ts';
import { Store } from '../store.ts';
import { perConference } from '../../meeting/per-conference.ts';
import { exposeDiagnostics } from '../diagnostics.ts';
import { randomRawKey, ratchetKey } from './frame-crypto.ts';
import { KeyAgreement, unwrapKey, wrapKey } from './key-agreement.ts';
import type { E2eeFrameStats, FromWorker, ToWorker, TransformOptions } from './worker-messages.ts';
import E2eeWorker from './e2ee-worker.ts?worker';

/** How long after sending a new key (someone left) we start using it. */
const ROTATE_DELAY_MS = 1000;
/** Between two relayed messages: under the server's relay rate (signal/e2ee.ts RELAY_PER_SECOND). */
const RELAY_GAP_MS = 60;

export interface E2eeState {
  /** The room's setting. */
  enabled: boolean;
  /** Who last turned it on or off. */
  by: string | null;
  /** This browser can encrypt media (encoded transforms). */
  supported: boolean;
  /** Participants (ids) whose browser cannot encrypt: their media is not shown while E2EE is on. */
  unsupported: readonly string[];
  /** Participants (ids) whose media key we hold. */
  keyed: readonly string[];
  stats: E2eeFrameStats;
}

interface Peer {
  helloSent: boolean;
  /** A hello came from it this session (a second one means it started over). */
  heard: boolean;
  shared?: Promise<CryptoKey>;
  keyIds: Set<number>;
}

interface OwnKey {
  keyId: number;
  ratchet: number;
  raw: Uint8Array;
}

type TransformApi = 'script' | 'streams' | null;

/**
 * Which encoded-transform API to use: the standard RTCRtpScriptTransform (Chromium, Firefox, Safari), else Chrome's
 * older createEncodedStreams (a Chromium without script transforms: it needs connections made for it), else none.
 */
export function transformApi(): TransformApi {
  if (typeof RTCRtpScriptTransform === 'function') return 'script';
  if (typeof RTCRtpSender !== 'undefined' && 'createEncodedStreams' in RTCRtpSender.prototype) return 'streams';
  return null;
}

/**
 * A script transform set on a sender or receiver that media already flows through takes effect. Not in Chromium
 * (156, told apart by its older API): frames bypass it, so a plain connection cannot be encrypted later.
 */
function lateTransformsWork(): boolean {
  return !(typeof RTCRtpSender !== 'undefined' && 'createEncodedStreams' in RTCRtpSender.prototype);
}

export class E2eeSession extends Store<E2eeState> {
  readonly #conference: Conference;
  readonly #api = transformApi();
  #worker: Worker | null = null;
  readonly #agreement: KeyAgreement | null = this.#api ? new KeyAgreement() : null;
  #peers = new Map<string, Peer>();
  #own: OwnKey | null = null;
  #rotateTimer: ReturnType<typeof setTimeout> | null = null;
  readonly #attached = new WeakSet<RTCRtpSender | RTCRtpReceiver>();
  /** Transforms put on senders and receivers by this page (diagnostics: 0 while E2EE was never on). */
  #attachedCount = 0;
  /** Our messages to peers go out one after another, in order (a hello before the key it lets the peer open). */
  #queue: Promise<void> = Promise.resolve();
  #lastRelay = -Infinity;

  constructor(conference: Conference) {
    super({ enabled: false, by: null, supported: transformApi() !== null, unsupported: [], keyed: [], stats: { transforms: 0, encrypted: 0, decrypted: 0, undecryptable: 0, plainDropped: 0 } });
    this.#conference = conference;
    // only where script transforms are missing: Chrome's older API works only on a connection made for it
    conference.encodedInsertableStreams = this.#api === 'streams';
    conference.prepareConnection = (pc) => this.#attach(pc);
    conference.onMessage((m) => this.#onMessage(m));
    this.subscribe(() => this.#publishDiagnostics());
    this.#publishDiagnostics();
  }

  #publishDiagnostics(): void {
    const { enabled, supported, keyed, unsupported, stats } = this.state;
    exposeDiagnostics({ e2ee: { enabled, supported, keyed, unsupported, stats, api: this.#api, attached: this.#attachedCount } });
  }

  /** Moderators: turn it on or off for everyone (the server checks the role). */
  setEnabled(enabled: boolean): void {
    this.#conference.sendMessage({ type: 'set-e2ee', enabled });
  }

  #onMessage(m: ServerMessage): void {
    switch (m.type) {
      case 'joined':
        // a new session (another room, or back after a reconnect): key agreement again with whoever is there
        this.#peers = new Map();
        this.update({ unsupported: [], keyed: [] });
        break;
      case 'e2ee-state':
        this.update({ by: m.by ?? null });
        if (m.enabled && !this.state.enabled) this.#start();
        else if (!m.enabled && this.state.enabled) this.#stop();
        else if (m.enabled) this.#helloAll();
        break;
      case 'participant-joined':
        if (!this.state.enabled || m.participant.id === this.#conference.state.selfId) break;
        if (!this.#peers.has(m.participant.id)) this.#ratchetOwn();
        this.#hello(m.participant.id, false);
        break;
      case 'participant-left':
        if (!this.#peers.has(m.id)) break;
        this.#forget(m.id);
        if (this.state.enabled) this.#rotateOwn();
        break;
      case 'e2ee-relay': {
        let data: E2eeRelayData;
        try {
          const parsed = e2eeRelayDataSchema.safeParse(JSON.parse(m.data));
          if (!parsed.success) throw new Error(parsed.error.message);
          data = parsed.data;
        } catch (e) {
          console.warn('tertulia: e2ee message refused', m.from, (e as Error).message);
          break;
        }
        this.#fromPeer(m.from, data);
        break;
      }
    }
  }

  #start(): void {
    this.update({ enabled: true });
    if (!this.#api) {
      this.#helloAll(); // told on the page; the others learn it from our hello
      return;
    }
    this.#worker ??= this.#newWorker();
    const raw = randomRawKey();
    this.#own = { keyId: crypto.getRandomValues(new Uint32Array(1))[0]!, ratchet: 0, raw };
    this.#post({ op: 'enable', enabled: true });
    this.#post({ op: 'send-key', keyId: this.#own.keyId, ratchet: 0, raw });
    const pc = this.#conference.peerConnection;
    if (pc && this.#api === 'script' && !lateTransformsWork() && this.#hasPlainEnds(pc)) {
      // Chromium: the live connection's media would bypass transforms set now; the next one gets them from the start
      // (nothing is sent meanwhile: the old connection closes at once). The new session's hellos follow `joined`.
      this.#conference.renewSession();
      return;
    }
    if (pc) this.#attach(pc);
    this.#helloAll();
    // peers whose hello came before the setting did
    for (const [id, peer] of this.#peers) this.#sendOwnKey(id, peer);
  }

  #stop(): void {
    this.update({ enabled: false, unsupported: [], keyed: [] });
    if (this.#rotateTimer) clearTimeout(this.#rotateTimer);
    this.#rotateTimer = null;
    this.#own = null;
    this.#peers = new Map();
    this.#post({ op: 'enable', enabled: false });
    const pc = this.#conference.peerConnection;
    if (pc && this.#api === 'script' && lateTransformsWork()) this.#detach(pc);
  }

  /** Takes our transforms off `pc`'s senders and receivers (not in Chromium: there that stops the media). */
  #detach(pc: RTCPeerConnection): void {
    for (const t of pc.getTransceivers()) {
      for (const end of [t.sender, t.receiver]) {
        if (!this.#attached.has(end)) continue;
        end.transform = null;
        this.#attached.delete(end);
      }
    }
  }

  #newWorker(): Worker {
    const w = new E2eeWorker();
    w.onmessage = (ev: MessageEvent<FromWorker>) => {
      if (ev.data.op === 'stats') this.update({ stats: ev.data.stats });
    };
    return w;
  }

  #post(m: ToWorker, transfer: Transferable[] = []): void {
    this.#worker?.postMessage(m, transfer);
  }

  /** `pc` has a sender or receiver in use without our transform. */
  #hasPlainEnds(pc: RTCPeerConnection): boolean {
    return pc.getTransceivers().some((t) => t.mid !== null && !this.#attached.has(this.#isOwn(t) ? t.sender : t.receiver));
  }

  /** Our microphone, camera and screen (mids 0, 1, 2), as opposed to what we receive. */
  #isOwn(t: RTCRtpTransceiver): boolean {
    return t.mid === '0' || t.mid === '1' || t.mid === '2';
  }

  /** Puts the worker on every sender and receiver of `pc` not yet given one (right after each offer). */
  #attach(pc: RTCPeerConnection): void {
    if (!this.#api) return;
    // the older API must be piped on every sender and receiver from the start, on or off (frames wait for it)
    if (!this.state.enabled && this.#api === 'script') return;
    this.#worker ??= this.#newWorker();
    // whose frames each receive m-line carries from this offer on: a frame opens only with that participant's keys
    this.#post({ op: 'receivers', owners: Object.fromEntries(this.#conference.remoteSources.map((s) => [s.mid, s.participantId])) });
    for (const t of pc.getTransceivers()) {
      if (t.mid === null) continue;
      const own = this.#isOwn(t);
      if (own && !this.#attached.has(t.sender)) this.#transform(t.sender, { side: 'send', kind: t.mid === '0' ? 'audio' : 'video' });
      if (!own && !this.#attached.has(t.receiver)) this.#transform(t.receiver, { side: 'receive', kind: t.receiver.track.kind === 'audio' ? 'audio' : 'video', mid: t.mid });
    }
  }

  #transform(end: RTCRtpSender | RTCRtpReceiver, options: TransformOptions): void {
    try {
      if (this.#api === 'script') {
        end.transform = new RTCRtpScriptTransform(this.#worker!, options);
      } else {
        const streams = (end as unknown as { createEncodedStreams(): { readable: ReadableStream; writable: WritableStream } }).createEncodedStreams();
        this.#post({ op: 'streams', options, readable: streams.readable, writable: streams.writable }, [streams.readable, streams.writable]);
      }
      this.#attached.add(end);
      this.#attachedCount++;
      this.#publishDiagnostics();
    } catch (e) {
      console.error('tertulia: could not attach the encryption transform', e);
    }
  }

  #helloAll(): void {
    for (const p of this.#conference.state.participants) if (!p.phone) this.#hello(p.id, false);
  }

  /**
   * Our public key to `id`, or word that we cannot encrypt: once per session, or again as the `reply` to a first
   * hello (the peer started over: reloaded, reconnected, or its setting came late).
   */
  #hello(id: string, reply: boolean): void {
    const peer = this.#peer(id);
    if (peer.helloSent && !reply) return;
    peer.helloSent = true;
    this.#enqueue(async () => {
      const data: E2eeRelayData = this.#agreement ? { kind: 'hello', supported: true, publicKey: await this.#agreement.publicKey(), ...(reply ? { reply } : {}) } : { kind: 'hello', supported: false };
      await this.#relay(id, data);
    });
  }

  #fromPeer(from: string, data: E2eeRelayData): void {
    if (!this.#conference.state.participants.some((p) => p.id === from)) return;
    const peer = this.#peer(from);
    if (data.kind === 'hello') {
      if (!data.supported || !data.publicKey) {
        if (!this.state.unsupported.includes(from)) this.update({ unsupported: [...this.state.unsupported, from] });
        return;
      }
      if (this.state.unsupported.includes(from)) this.update({ unsupported: this.state.unsupported.filter((x) => x !== from) });
      // a first hello after ours crossed it: nothing to answer; a second one: it started over and needs ours again
      if (this.state.enabled && !data.reply) this.#hello(from, peer.heard);
      peer.heard = true;
      if (!this.#agreement) return;
      peer.shared = this.#agreement.shared(data.publicKey);
      peer.shared.catch(() => console.warn('tertulia: a participant sent a bad public key', from));
      this.#sendOwnKey(from, peer);
      return;
    }
    const shared = peer.shared;
    if (!shared || !this.#api) return;
    void (async () => {
      const raw = await unwrapKey(await shared, data.iv, data.wrapped, data.keyId, data.ratchet);
      if (!raw) {
        console.warn('tertulia: a media key did not open', from);
        return;
      }
      if (this.#peers.get(from) !== peer) return; // left meanwhile
      peer.keyIds.add(data.keyId);
      // bound to `from`: it opens only frames of the m-lines the server says carry `from`
      this.#post({ op: 'add-key', sender: from, keyId: data.keyId, ratchet: data.ratchet, raw });
      if (!this.state.keyed.includes(from)) this.update({ keyed: [...this.state.keyed, from] });
    })().catch((e: unknown) => console.warn('tertulia: a media key was refused', from, e));
  }

  /** Our current key to `id` (read when its turn in the queue comes: after any ratchet queued before). */
  #sendOwnKey(id: string, peer: Peer): void {
    this.#enqueue(async () => {
      const own = this.#own;
      const shared = peer.shared;
      if (!own || !shared || !this.state.enabled) return;
      const { iv, wrapped } = await wrapKey(await shared, own.raw, own.keyId, own.ratchet);
      if (this.#peers.get(id) === peer) await this.#relay(id, { kind: 'key', keyId: own.keyId, ratchet: own.ratchet, iv, wrapped });
    });
  }

  /** Someone joined: one step forward (they get this step; the others derive it from frames). */
  #ratchetOwn(): void {
    const own = this.#own;
    if (!own || own.ratchet >= 255) {
      this.#rotateOwn();
      return;
    }
    this.#enqueue(async () => {
      const raw = await ratchetKey(own.raw);
      if (this.#own !== own) return;
      this.#own = { keyId: own.keyId, ratchet: own.ratchet + 1, raw };
      this.#post({ op: 'send-key', keyId: own.keyId, ratchet: own.ratchet + 1, raw });
    });
  }

  /** Someone left: a new key, sent to those who stay, used a moment later. */
  #rotateOwn(): void {
    if (!this.#own) return;
    const next: OwnKey = { keyId: crypto.getRandomValues(new Uint32Array(1))[0]!, ratchet: 0, raw: randomRawKey() };
    this.#own = next;
    for (const [id, peer] of this.#peers) this.#sendOwnKey(id, peer);
    if (this.#rotateTimer) clearTimeout(this.#rotateTimer);
    this.#rotateTimer = setTimeout(() => {
      this.#rotateTimer = null;
      if (this.#own === next) this.#post({ op: 'send-key', keyId: next.keyId, ratchet: 0, raw: next.raw });
    }, ROTATE_DELAY_MS);
  }

  #forget(id: string): void {
    const peer = this.#peers.get(id);
    this.#peers.delete(id);
    if (peer?.keyIds.size) this.#post({ op: 'drop-sender', sender: id });
    this.update({ unsupported: this.state.unsupported.filter((x) => x !== id), keyed: this.state.keyed.filter((x) => x !== id) });
  }

  #peer(id: string): Peer {
    let p = this.#peers.get(id);
    if (!p) {
      p = { helloSent: false, heard: false, keyIds: new Set() };
      this.#peers.set(id, p);
    }
    return p;
  }

  /** Sends now, or after RELAY_GAP_MS since the last one (called from the queue, so the gaps add up in order). */
  async #relay(to: string, data: E2eeRelayData): Promise<void> {
    const wait = this.#lastRelay + RELAY_GAP_MS - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    this.#lastRelay = performance.now();
    this.#conference.sendMessage({ type: 'e2ee-relay', to, data: JSON.stringify(data) });
  }

  #enqueue(task: () => Promise<void>): void {
    this.#queue = this.#queue.then(task).catch((e: unknown) => console.warn('tertulia: e2ee key exchange step failed', e));
  }
}

export const e2eeFor = perConference((c) => new E2eeSession(c));

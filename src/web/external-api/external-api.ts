// JitsiMeetExternalAPI for a host page (served as /external_api.js): makes the meeting's iframe, sends it commands
// and requests and turns what the app posts back into Jitsi's events. Talks only to that iframe's window and
// origin (embed-protocol.ts); keeps Jitsi's participant list from the events for the synchronous getters.
import { EventEmitter } from './event-emitter.ts';
import { cssSize, FRAME_ALLOW, frameUrl, type FrameUrlOptions } from './frame-url.ts';
import { acceptPost, appMessageSchema, EMBED_NAMESPACE, MAX_EMBED_QUEUE, type AppMessage, type HostMessage } from '../embed/embed-protocol.ts';

export interface ExternalApiOptions extends FrameUrlOptions {
  width?: number | string;
  height?: number | string;
  parentNode?: Element;
  onload?: (this: HTMLIFrameElement, ev: Event) => void;
}

/** A participant as getParticipantsInfo() lists it. */
export interface ParticipantInfo {
  participantId: string;
  displayName?: string;
  formattedDisplayName?: string;
  avatarURL?: string;
}

type Unsent = { kind: 'command'; name: string; args: unknown[] } | { kind: 'request'; requestId: number; name: string; args: unknown[] };
type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

/**
 * How long the frame's document has, once loaded, to answer our hello; without an answer it holds no meeting (a
 * wrong domain, a server that does not let this page embed it, an error page) and waiting requests are refused.
 */
const ANSWER_TIMEOUT_MS = 15_000;
/** How long the frame has to load at all before the same. */
const LOAD_TIMEOUT_MS = 60_000;

/**
 * `(domain, options)`, or Jitsi's old list `(domain, roomName, width, height, parentNode, configOverwrite,
 * interfaceConfigOverwrite, noSSL, jwt, onload)` (noSSL is ignored: always HTTPS).
 */
function apiOptions(args: unknown[]): ExternalApiOptions {
  const [first] = args;
  if (first === undefined) return {};
  if (typeof first === 'string') {
    const [roomName, width, height, parentNode, configOverwrite, interfaceConfigOverwrite, , jwt, onload] = args;
    return { roomName, width, height, parentNode, configOverwrite, interfaceConfigOverwrite, jwt, onload } as ExternalApiOptions;
  }
  if (first === null || typeof first !== 'object') throw new TypeError('JitsiMeetExternalAPI(domain, options): options is an object');
  return first as ExternalApiOptions;
}

/** One id per API object on the page, as in Jitsi (the iframe's `jitsi_meet_external_api_id`). */
let nextApiId = 0;

export class JitsiMeetExternalAPI extends EventEmitter {
  readonly #id: number;
  readonly #origin: string;
  readonly #frame: HTMLIFrameElement;
  #ready = false;
  /** The frame did not answer in time (ANSWER_TIMEOUT_MS): requests are refused until a document in it answers. */
  #unanswered = false;
  #answerTimer: ReturnType<typeof setTimeout> | undefined;
  #disposed = false;
  #queue: HostMessage[] = [];
  #pending = new Map<number, Pending>();
  #nextRequestId = 1;
  #participants = new Map<string, Omit<ParticipantInfo, 'participantId'>>();
  readonly #onMessage = (ev: MessageEvent) => this.#receive(ev);

  constructor(domain: string, ...args: unknown[]) {
    super();
    if (typeof domain !== 'string') throw new TypeError('JitsiMeetExternalAPI(domain, options): the domain is a string');
    const options = apiOptions(args);
    this.#id = nextApiId++;
    const url = frameUrl(domain, this.#id, options);
    this.#origin = new URL(url).origin;
    const frame = document.createElement('iframe');
    frame.allow = FRAME_ALLOW;
    frame.name = frame.id = `jitsiConferenceFrame${this.#id}`;
    frame.setAttribute('allowfullscreen', 'true');
    frame.style.border = '0';
    frame.style.width = cssSize(options.width) ?? '100%';
    frame.style.height = cssSize(options.height) ?? '100%';
    frame.addEventListener('load', (ev) => {
      // a new document in the frame: it learns our origin from this hello
      this.#ready = false;
      this.#expectAnswer(ANSWER_TIMEOUT_MS);
      this.#post({ ns: EMBED_NAMESPACE, apiId: this.#id, kind: 'hello' });
      options.onload?.call(frame, ev);
    });
    window.addEventListener('message', this.#onMessage);
    frame.src = url;
    (options.parentNode ?? document.body).appendChild(frame);
    this.#frame = frame;
    this.#expectAnswer(LOAD_TIMEOUT_MS);
  }

  // ---- commands ----

  /** Jitsi's executeCommand(name, ...args); commands before the meeting is ready wait for it. */
  executeCommand(name: string, ...args: unknown[]): void {
    this.#send({ kind: 'command', name, args });
  }

  /** `{ name: [args] }` (or a single argument) for each command. */
  executeCommands(commands: Record<string, unknown>): void {
    for (const [name, args] of Object.entries(commands ?? {})) this.executeCommand(name, ...(Array.isArray(args) ? args : [args]));
  }

  pinParticipant(participantId: string | null, videoType?: string): void {
    this.executeCommand('pinParticipant', participantId, videoType);
  }

  setLargeVideoParticipant(participantId?: string, videoType?: string): void {
    this.executeCommand('setLargeVideoParticipant', participantId, videoType);
  }

  startRecording(options: Record<string, unknown>): void {
    this.executeCommand('startRecording', options);
  }

  stopRecording(mode: string): void {
    this.executeCommand('stopRecording', mode);
  }

  setAudioInputDevice(label: string, deviceId?: string): Promise<unknown> {
    return this.#request('setAudioInputDevice', [label, deviceId]);
  }

  setAudioOutputDevice(label: string, deviceId?: string): Promise<unknown> {
    return this.#request('setAudioOutputDevice', [label, deviceId]);
  }

  setVideoInputDevice(label: string, deviceId?: string): Promise<unknown> {
    return this.#request('setVideoInputDevice', [label, deviceId]);
  }

  // ---- functions ----

  /** Everyone in the meeting, ourselves included, as the events told (Jitsi: synchronous). */
  getParticipantsInfo(): ParticipantInfo[] {
    return [...this.#participants].map(([participantId, p]) => ({ participantId, ...p }));
  }

  getRoomsInfo(): Promise<unknown> {
    return this.#request('getRoomsInfo');
  }

  getNumberOfParticipants(): number {
    return this.#participants.size;
  }

  getDisplayName(participantId: string): string | undefined {
    return this.#participants.get(participantId)?.displayName;
  }

  getAvatarURL(participantId: string): string | undefined {
    return this.#participants.get(participantId)?.avatarURL;
  }

  isAudioMuted(): Promise<boolean> {
    return this.#request('isAudioMuted') as Promise<boolean>;
  }

  isVideoMuted(): Promise<boolean> {
    return this.#request('isVideoMuted') as Promise<boolean>;
  }

  isAudioAvailable(): Promise<boolean> {
    return this.#request('isAudioAvailable') as Promise<boolean>;
  }

  isVideoAvailable(): Promise<boolean> {
    return this.#request('isVideoAvailable') as Promise<boolean>;
  }

  getAvailableDevices(): Promise<unknown> {
    return this.#request('getAvailableDevices');
  }

  getCurrentDevices(): Promise<unknown> {
    return this.#request('getCurrentDevices');
  }

  getContentSharingParticipants(): Promise<unknown> {
    return this.#request('getContentSharingParticipants');
  }

  captureLargeVideoScreenshot(): Promise<unknown> {
    return this.#request('captureLargeVideoScreenshot');
  }

  getIFrame(): HTMLIFrameElement {
    return this.#frame;
  }

  /** Removes the iframe (which ends the meeting for us) and every listener; pending answers are refused. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    window.removeEventListener('message', this.#onMessage);
    clearTimeout(this.#answerTimer);
    for (const p of this.#pending.values()) p.reject(new Error('JitsiMeetExternalAPI: disposed'));
    this.#pending.clear();
    this.#queue = [];
    this.#frame.remove();
    this.removeAllListeners();
  }

  // ---- transport ----

  #request(name: string, args: unknown[] = []): Promise<unknown> {
    if (this.#disposed) return Promise.reject(new Error('JitsiMeetExternalAPI: disposed'));
    if (this.#unanswered) return Promise.reject(new Error(this.#unansweredText()));
    const requestId = this.#nextRequestId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(requestId, { resolve, reject });
      this.#send({ kind: 'request', requestId, name, args });
    });
  }

  #send(m: Unsent): void {
    if (this.#disposed) return;
    const message = { ns: EMBED_NAMESPACE, apiId: this.#id, ...m } as HostMessage;
    if (this.#ready) this.#post(message);
    else if (this.#unanswered) console.warn(`JitsiMeetExternalAPI: "${m.name}" dropped: ${this.#unansweredText()}`);
    else if (this.#queue.length < MAX_EMBED_QUEUE) this.#queue.push(message);
    else console.warn(`JitsiMeetExternalAPI: "${m.name}" dropped, the meeting is not ready yet`);
  }

  #post(m: HostMessage): void {
    try {
      // only the meeting's origin may read it: nothing if the frame shows anything else
      this.#frame.contentWindow?.postMessage(m, this.#origin);
    } catch (e) {
      // arguments that cannot be copied (functions, DOM nodes)
      console.error(`JitsiMeetExternalAPI: could not send "${m.kind === 'hello' ? 'hello' : m.name}"`, e);
      if (m.kind === 'request') this.#settle({ ns: m.ns, apiId: m.apiId, kind: 'response', requestId: m.requestId, ok: false, error: (e as Error).message });
    }
  }

  #receive(ev: MessageEvent): void {
    if (this.#disposed) return;
    const m = acceptPost(appMessageSchema, ev, { source: this.#frame.contentWindow, origin: this.#origin, apiId: this.#id });
    if (!m) return;
    switch (m.kind) {
      case 'ready': {
        this.#ready = true;
        this.#unanswered = false;
        clearTimeout(this.#answerTimer);
        const queued = this.#queue;
        this.#queue = [];
        for (const q of queued) this.#post(q);
        break;
      }
      case 'response':
        this.#settle(m);
        break;
      case 'event':
        this.#track(m.name, m.data);
        this.emit(m.name, m.data);
        break;
    }
  }

  /** Unless the frame answers within `ms`, it is taken for holding no meeting (see ANSWER_TIMEOUT_MS). */
  #expectAnswer(ms: number): void {
    clearTimeout(this.#answerTimer);
    this.#answerTimer = setTimeout(() => this.#noAnswer(), ms);
  }

  #unansweredText(): string {
    return `the frame at ${this.#origin} did not answer: is it a Tertulia server, and does it let this page embed it (embedAllowedOrigins)?`;
  }

  /** Refuses what waits for the frame and tells the page once (Jitsi's errorOccurred). */
  #noAnswer(): void {
    if (this.#disposed || this.#ready) return;
    this.#unanswered = true;
    const message = this.#unansweredText();
    console.error(`JitsiMeetExternalAPI: ${message}`);
    // queued ones, and any a document that went away had been sent: none will be answered
    this.#queue = [];
    for (const p of this.#pending.values()) p.reject(new Error(message));
    this.#pending.clear();
    this.emit('errorOccurred', { name: 'embed.frameNotAnswering', type: 'CONNECTION', isFatal: true, message, details: { origin: this.#origin } });
  }

  #settle(m: Extract<AppMessage, { kind: 'response' }>): void {
    const p = this.#pending.get(m.requestId);
    if (!p) return;
    this.#pending.delete(m.requestId);
    if (m.ok) p.resolve(m.result);
    else p.reject(new Error(m.error ?? 'failed'));
  }

  /** The participant list Jitsi keeps from the events. */
  #track(name: string, data: Record<string, unknown>): void {
    const id = typeof data.id === 'string' ? data.id : undefined;
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    switch (name) {
      case 'videoConferenceJoined':
      case 'participantJoined':
        if (id) this.#participants.set(id, { displayName: str(data.displayName), formattedDisplayName: str(data.formattedDisplayName) ?? str(data.displayName), avatarURL: str(data.avatarURL) });
        break;
      case 'participantLeft':
        if (id) this.#participants.delete(id);
        break;
      case 'displayNameChange': {
        const p = id ? this.#participants.get(id) : undefined;
        if (p) {
          p.displayName = str(data.displayname);
          p.formattedDisplayName = str(data.formattedDisplayName) ?? p.displayName;
        }
        break;
      }
      case 'videoConferenceLeft':
        // everyone else is gone for us too
        this.#participants.clear();
        break;
    }
  }
}

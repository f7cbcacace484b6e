// The app embedded by a host page's JitsiMeetExternalAPI: started at load when the URL hash has
// `jitsi_meet_external_api_id` and the app is in a frame; attached to each meeting the room page starts. Commands
// and requests that need a meeting wait for it (bounded); `devices.*` hash options pick the devices once joined.
import { parseHashParams, hashOption } from '../url-options.ts';
import type { Conference } from '../media/conference.ts';
import { chatStoreFor } from '../meeting/chat-store.ts';
import { accessFor } from '../access/access-client.ts';
import { viewFor } from '../meeting/view-store.ts';
import { MAX_EMBED_QUEUE } from './embed-protocol.ts';
import { EmbedTransport } from './embed-transport.ts';
import { overwriteConfigArgs, runCommand, type EmbedContext } from './embed-commands.ts';
import { optionsStore } from '../options-store.ts';
import { answerRequest } from './embed-requests.ts';
import { availableDevices, setDevice, type DeviceKind } from './embed-devices.ts';
import { EmbedEvents } from './embed-events.ts';

/** The API instance's id from the hash, when it is one (a whole number). */
export function embedApiId(hash: string): number | undefined {
  const id = parseHashParams(hash).get('jitsi_meet_external_api_id');
  const n = typeof id === 'string' ? Number(id) : id;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 1_000_000_000 ? n : undefined;
}

const DEVICE_OPTIONS: ReadonlyArray<[string, DeviceKind]> = [
  ['devices.audioInput', 'audioinput'],
  ['devices.audioOutput', 'audiooutput'],
  ['devices.videoInput', 'videoinput'],
];

export class Embedding {
  readonly #transport: EmbedTransport;
  readonly #hash: ReadonlyMap<string, unknown>;
  #context: EmbedContext | null = null;
  #events: EmbedEvents | null = null;
  #waiting: Array<(c: EmbedContext) => void> = [];

  constructor(apiId: number, hash: string) {
    this.#hash = parseHashParams(hash);
    this.#transport = new EmbedTransport(apiId, {
      // overwriteConfig changes the page's options, also before a meeting started (on the pre-join page)
      command: (name, args) => (name === 'overwriteConfig' ? this.#overwriteConfig(args) : this.#whenAttached((c) => runCommand(c, name, args))),
      request: (name, args) =>
        name === 'getAvailableDevices' ? availableDevices() : new Promise((resolve, reject) => this.#whenAttached((c) => answerRequest(c, name, args).then(resolve, reject))),
    });
  }

  /** Follows a new meeting (the first, or a rejoin): its events go to the host page, commands act on it. */
  attach(conference: Conference): void {
    this.#events?.dispose();
    const context: EmbedContext = {
      conference,
      chat: chatStoreFor(conference),
      access: accessFor(conference),
      view: viewFor(conference),
      error: this.#error,
    };
    this.#context = context;
    this.#events = new EmbedEvents(context, (name, data) => this.#transport.emit(name, data));
    this.#applyDevices(conference);
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const w of waiting) w(context);
  }

  #overwriteConfig(args: readonly unknown[]): void {
    const parsed = overwriteConfigArgs.safeParse(args);
    if (parsed.success) optionsStore().overwrite(parsed.data[0]);
    else this.#error('command.bad-arguments', `overwriteConfig: ${parsed.error.issues[0]?.message ?? 'bad arguments'}`, 'CONFIG');
  }

  #error: EmbedContext['error'] = (name, message, type = 'OTHER', isFatal = false) => this.#transport.emit('errorOccurred', { name, message, type, isFatal });

  #whenAttached(f: (c: EmbedContext) => void): void {
    if (this.#context) f(this.#context);
    else if (this.#waiting.length < MAX_EMBED_QUEUE) this.#waiting.push(f);
  }

  /** `devices.audioInput` etc. (a label or an id), once the meeting's own devices are open. */
  #applyDevices(conference: Conference): void {
    const wanted = DEVICE_OPTIONS.map(([key, kind]) => [hashOption(this.#hash, key), kind] as const).filter(([v]) => typeof v === 'string' && v);
    if (wanted.length === 0) return;
    const apply = () => {
      for (const [v, kind] of wanted) void setDevice(conference, kind, v as string, v as string);
    };
    if (conference.state.status === 'joined') return apply();
    const stop = conference.subscribe(() => {
      if (conference.state.status === 'connecting') return;
      stop();
      if (conference.state.status === 'joined') apply();
    });
  }
}

let current: Embedding | null | undefined;

/** The embedding of this page: made on first call when the app runs in a frame of the IFrame API, else null. */
export function embedding(): Embedding | null {
  if (current === undefined) {
    const apiId = embedApiId(window.location.hash);
    current = apiId !== undefined && window.parent !== window ? new Embedding(apiId, window.location.hash) : null;
  }
  return current;
}

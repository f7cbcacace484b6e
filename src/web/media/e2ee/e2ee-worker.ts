// The encoded-transform worker of end-to-end encryption: every frame we send passes through `encryptFrame` with our
// current key, every frame we receive through `decryptFrame` with the sender's (frame-crypto.ts, keyring.ts).
// Attached per sender and receiver by the page (e2ee-session.ts) with RTCRtpScriptTransform (`rtctransform`
// events) or, in Chrome without it, createEncodedStreams (the streams posted here).
// Invariants: while on, no frame leaves unencrypted (none is sent before a key is set) and no plain frame received
// is passed on; a frame whose key has not come yet waits for it up to KEY_WAIT_MS (a newcomer's first keyframe
// usually arrives before the key exchange finishes), frames after it keep their order. A received frame is opened
// only with a key of the participant its m-line carries (the server says whose source each mid is), so nobody can
// slip a key under another participant's key id.
import { CLEAR_BYTES, decryptFrame, encryptFrame, importMediaKey, readTrailer, type MediaKey } from './frame-crypto.ts';
import { ReceiveKeyring } from './keyring.ts';
import type { E2eeFrameStats, FromWorker, ToWorker, TransformOptions } from './worker-messages.ts';

const KEY_WAIT_MS = 2000;

interface EncodedFrame {
  data: ArrayBuffer;
  type?: 'key' | 'delta' | 'empty';
}

interface WorkerScope {
  onmessage: ((ev: MessageEvent<ToWorker>) => void) | null;
  onrtctransform: ((ev: { transformer: { readable: ReadableStream; writable: WritableStream; options: TransformOptions } }) => void) | null;
  postMessage(m: FromWorker): void;
}
const scope = self as unknown as WorkerScope;

let enabled = false;
let sendKey: MediaKey | null = null;
const keyring = new ReceiveKeyring();
/** Whose frames each receive m-line (mid) carries now. */
let receivers = new Map<string, string>();
/** When we stop waiting for a key not held (by sender and key id; ms since the epoch): later frames of it are not held again. */
const waitUntil = new Map<string, number>();
const stats: E2eeFrameStats = { transforms: 0, encrypted: 0, decrypted: 0, undecryptable: 0, plainDropped: 0 };
let statsChanged = false;

scope.onmessage = (ev) => {
  const m = ev.data;
  switch (m.op) {
    case 'enable':
      enabled = m.enabled;
      if (!enabled) {
        sendKey = null;
        keyring.clear();
        waitUntil.clear();
      }
      break;
    case 'send-key': {
      const { keyId, ratchet } = m;
      void importMediaKey(m.raw).then((key) => {
        sendKey = { keyId, ratchet, key };
      });
      // our own frames come back to nobody, but a receiver of ours may be this page in a test: harmless
      break;
    }
    case 'add-key':
      keyring.add(m.sender, m.keyId, m.ratchet, m.raw);
      waitUntil.delete(`${m.keyId}/${m.sender}`);
      break;
    case 'drop-sender':
      keyring.removeSender(m.sender);
      break;
    case 'receivers':
      receivers = new Map(Object.entries(m.owners));
      break;
    case 'streams':
      pipe(m.readable, m.writable, m.options);
      break;
  }
};

scope.onrtctransform = (ev) => {
  const t = ev.transformer;
  pipe(t.readable, t.writable, t.options);
};

function pipe(readable: ReadableStream, writable: WritableStream, options: TransformOptions): void {
  count('transforms');
  const transform =
    options.side === 'send'
      ? (f: EncodedFrame, c: TransformStreamDefaultController<EncodedFrame>) => encrypt(f, c, options.kind)
      : (f: EncodedFrame, c: TransformStreamDefaultController<EncodedFrame>) => decrypt(f, c, options.mid);
  readable
    .pipeThrough(new TransformStream<EncodedFrame, EncodedFrame>({ transform }))
    .pipeTo(writable)
    .catch((e: unknown) => console.warn('tertulia e2ee worker: a transform ended', options, String(e)));
}

async function encrypt(frame: EncodedFrame, c: TransformStreamDefaultController<EncodedFrame>, kind: 'audio' | 'video'): Promise<void> {
  if (!enabled) {
    c.enqueue(frame);
    return;
  }
  const key = sendKey;
  if (!key) return; // on, but no key yet: nothing leaves in the clear
  const clear = kind === 'audio' ? CLEAR_BYTES.audio : frame.type === 'key' ? CLEAR_BYTES.videoKey : CLEAR_BYTES.videoDelta;
  frame.data = await encryptFrame(frame.data, clear, key);
  count('encrypted');
  c.enqueue(frame);
}

async function decrypt(frame: EncodedFrame, c: TransformStreamDefaultController<EncodedFrame>, mid: string | undefined): Promise<void> {
  const trailer = readTrailer(frame.data);
  if (!trailer) {
    if (enabled) count('plainDropped');
    else c.enqueue(frame);
    return;
  }
  // whose frame this is: read per frame, since a recycled m-line carries someone else after a renegotiation
  const sender = mid === undefined ? undefined : receivers.get(mid);
  if (sender === undefined) {
    if (enabled) count('undecryptable');
    else c.enqueue(frame);
    return;
  }
  if (!keyring.has(sender, trailer.keyId) && enabled) {
    const now = Date.now();
    const w = `${trailer.keyId}/${sender}`;
    let until = waitUntil.get(w);
    if (until === undefined) {
      until = now + KEY_WAIT_MS;
      waitUntil.set(w, until);
      if (waitUntil.size > 256) waitUntil.delete(waitUntil.keys().next().value!);
    }
    if (until > now) await keyring.waitFor(sender, trailer.keyId, until - now);
  }
  const key = await keyring.key(sender, trailer.keyId, trailer.ratchet);
  const plain = key && (await decryptFrame(frame.data, key));
  if (plain) {
    frame.data = plain;
    count('decrypted');
    c.enqueue(frame);
  } else if (enabled) {
    count('undecryptable');
  } else {
    c.enqueue(frame); // off: a plain frame that only looks like ours
  }
}

function count(k: keyof E2eeFrameStats): void {
  stats[k]++;
  statsChanged = true;
}

setInterval(() => {
  if (!statsChanged) return;
  statsChanged = false;
  scope.postMessage({ op: 'stats', stats: { ...stats } });
}, 1000);

// What the page and the encoded-transform worker (e2ee-worker.ts) say to each other. Raw keys cross only this
// boundary (page -> worker, same origin, never the network).

/** Which way a transform works, and on what (chosen when the page attaches it to a sender or receiver). */
export interface TransformOptions {
  side: 'send' | 'receive';
  kind: 'audio' | 'video';
  /** A receiver's m-line: whose frames it carries is in the latest `receivers` message. */
  mid?: string;
}

export type ToWorker =
  /** On: frames we send are encrypted, plain frames received are dropped. Off: frames pass (encrypted ones still opened). */
  | { op: 'enable'; enabled: boolean }
  /** The key our frames are encrypted with from now on (null: none yet; nothing is sent until one comes). */
  | { op: 'send-key'; keyId: number; ratchet: number; raw: Uint8Array }
  /** Another participant's key (`sender`: whose key exchange brought it; it opens only that participant's frames). */
  | { op: 'add-key'; sender: string; keyId: number; ratchet: number; raw: Uint8Array }
  /** Every key of a participant that left. */
  | { op: 'drop-sender'; sender: string }
  /** Which participant each receive m-line (by mid) carries, from the latest offer (sent before its transforms). */
  | { op: 'receivers'; owners: Record<string, string> }
  /** Chrome's older API (createEncodedStreams): a sender's or receiver's streams, moved here. */
  | { op: 'streams'; options: TransformOptions; readable: ReadableStream; writable: WritableStream };

/** Frame counts since the worker started, posted about once a second while they change. */
export interface E2eeFrameStats {
  /** Senders and receivers piped through the worker. */
  transforms: number;
  encrypted: number;
  decrypted: number;
  /** Received frames no held key opened (wrong key, changed on the way, or the key never came). */
  undecryptable: number;
  /** Plain frames received while E2EE is on (a browser that does not encrypt): never shown. */
  plainDropped: number;
}

export type FromWorker = { op: 'stats'; stats: E2eeFrameStats };

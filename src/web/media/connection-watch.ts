// Whether audio and video could connect: the peer connection went to 'failed', or is still not 'connected'
// MEDIA_CONNECT_TIMEOUT_MS after it was made (for instance a browser that only speaks DTLS 1.3 to a bridge
// that only speaks 1.2: ICE succeeds, the DTLS handshake never does; see docs/dtls.md). The meeting page shows
// a notice then, instead of a silent "connecting" forever; it goes away if the connection comes up after all.
// Also whether a connection that was up is interrupted ('disconnected': the bridge stopped answering, the network
// dropped): the page says so while the browser tries to get it back, instead of frozen pictures and nothing else.

/** How long a new peer connection may take to connect before the person is told it did not. */
export const MEDIA_CONNECT_TIMEOUT_MS = 20_000;

/** The part of RTCPeerConnection the watch reads (tests pass a stand-in). */
export interface WatchedConnection {
  readonly connectionState: RTCPeerConnectionState;
  addEventListener(type: 'connectionstatechange', listener: () => void): void;
  removeEventListener(type: 'connectionstatechange', listener: () => void): void;
}

/**
 * Follows one peer connection; `onChange(failed)` is called when the verdict changes, `onInterrupted(interrupted)`
 * when a connection that was up goes 'disconnected' (the browser is trying to get it back), and when that ends: it
 * is back, or it failed (then `onChange(true)` says so: not coming back by itself).
 */
export class MediaConnectionWatch {
  failed = false;
  interrupted = false;
  #onInterrupted: (interrupted: boolean) => void;
  #pc: WatchedConnection;
  #timer: ReturnType<typeof setTimeout> | null;
  #onChange: (failed: boolean) => void;
  #everConnected = false;

  constructor(pc: WatchedConnection, onChange: (failed: boolean) => void, timeoutMs = MEDIA_CONNECT_TIMEOUT_MS, onInterrupted: (interrupted: boolean) => void = () => {}) {
    this.#pc = pc;
    this.#onChange = onChange;
    this.#onInterrupted = onInterrupted;
    pc.addEventListener('connectionstatechange', this.#check);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (!this.#everConnected && this.#pc.connectionState !== 'connected') this.#set(true);
    }, timeoutMs);
    this.#check();
  }

  readonly #check = (): void => {
    const s = this.#pc.connectionState;
    if (s === 'connected') {
      this.#everConnected = true;
      this.#set(false);
      this.#setInterrupted(false);
    } else if (s === 'failed') {
      // not coming back by itself: the failed notice says so instead
      this.#set(true);
      this.#setInterrupted(false);
    } else if (s === 'disconnected' && this.#everConnected) {
      this.#setInterrupted(true);
    }
  };

  #setInterrupted(interrupted: boolean): void {
    if (interrupted === this.interrupted) return;
    this.interrupted = interrupted;
    this.#onInterrupted(interrupted);
  }

  #set(failed: boolean): void {
    if (failed === this.failed) return;
    this.failed = failed;
    this.#onChange(failed);
  }

  stop(): void {
    this.#pc.removeEventListener('connectionstatechange', this.#check);
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}

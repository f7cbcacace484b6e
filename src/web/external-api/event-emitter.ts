// The EventEmitter methods JitsiMeetExternalAPI offers (Jitsi's extends Node's `events`): on/addListener,
// once, off/removeListener, removeAllListeners, emit, listenerCount. A listener that throws is reported on the
// console and does not stop the others.
type Listener = (...args: unknown[]) => void;

export class EventEmitter {
  #listeners = new Map<string, Listener[]>();

  on(event: string, listener: Listener): this {
    if (typeof listener !== 'function') throw new TypeError('the listener must be a function');
    this.#listeners.set(event, [...(this.#listeners.get(event) ?? []), listener]);
    return this;
  }

  addListener(event: string, listener: Listener): this {
    return this.on(event, listener);
  }

  once(event: string, listener: Listener): this {
    const wrapper: Listener & { inner?: Listener } = (...args) => {
      this.off(event, wrapper);
      listener(...args);
    };
    wrapper.inner = listener;
    return this.on(event, wrapper);
  }

  off(event: string, listener: Listener): this {
    const list = this.#listeners.get(event);
    if (!list) return this;
    const i = list.findLastIndex((l) => l === listener || (l as { inner?: Listener }).inner === listener);
    if (i >= 0) {
      const next = [...list.slice(0, i), ...list.slice(i + 1)];
      if (next.length > 0) this.#listeners.set(event, next);
      else this.#listeners.delete(event);
    }
    return this;
  }

  removeListener(event: string, listener: Listener): this {
    return this.off(event, listener);
  }

  removeAllListeners(event?: string): this {
    if (event === undefined) this.#listeners.clear();
    else this.#listeners.delete(event);
    return this;
  }

  listenerCount(event: string): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  emit(event: string, ...args: unknown[]): boolean {
    const list = this.#listeners.get(event);
    if (!list) return false;
    for (const l of list) {
      try {
        l(...args);
      } catch (e) {
        console.error(`JitsiMeetExternalAPI: a "${event}" listener failed`, e);
      }
    }
    return true;
  }
}

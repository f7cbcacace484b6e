// A tiny observable state holder for useSyncExternalStore: immutable snapshots, replaced on every change.
export class Store<S> {
  #state: S;
  #listeners = new Set<() => void>();

  constructor(initial: S) {
    this.#state = initial;
  }

  get state(): S {
    return this.#state;
  }

  protected update(patch: Partial<S>): void {
    this.#state = { ...this.#state, ...patch };
    for (const l of [...this.#listeners]) l();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  getSnapshot = (): S => this.#state;
}

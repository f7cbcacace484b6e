// A bounded queue for costly asynchronous work (password hashing): at most `concurrency` tasks run at once,
// at most `maxWaiting` wait for a turn, and a task beyond that is refused at once with QueueFullError (never
// queued), so a flood costs neither memory nor a growing delay for everyone else.
export class QueueFullError extends Error {
  constructor() {
    super('too many tasks are waiting');
    this.name = 'QueueFullError';
  }
}

export class WorkQueue {
  readonly concurrency: number;
  readonly maxWaiting: number;
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(opts: { concurrency: number; maxWaiting: number }) {
    if (!(opts.concurrency >= 1) || !(opts.maxWaiting >= 0)) throw new RangeError('concurrency >= 1 and maxWaiting >= 0');
    this.concurrency = opts.concurrency;
    this.maxWaiting = opts.maxWaiting;
  }

  /** Tasks running now. */
  get running(): number {
    return this.active;
  }

  /** Tasks waiting for a turn. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `task` when a slot is free; rejects with QueueFullError (without running it) when the queue is full. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.concurrency) {
      if (this.waiting.length >= this.maxWaiting) throw new QueueFullError();
      // the slot is handed over by the task that finishes (active stays counted), so nothing can jump the queue
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

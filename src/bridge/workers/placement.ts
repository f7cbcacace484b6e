// Which media worker an endpoint is placed on. A conference starts on the least loaded worker (its home) and
// its endpoints go there too, so a small meeting's packets never cross threads; from `span` endpoints on, each
// new one goes to the least loaded worker (a conference too big for one worker spans several). Load is the
// number of endpoints placed on a worker.

export class WorkerPlacement {
  /** Endpoints placed on each worker. */
  readonly loads: number[];
  private readonly span: number;
  private readonly conferences = new Map<string, { home: number; endpoints: number }>();

  constructor(workers: number, span: number) {
    this.loads = new Array<number>(workers).fill(0);
    this.span = Math.max(1, span);
  }

  /** Places one more endpoint of `conferenceId`; returns its worker. */
  place(conferenceId: string): number {
    let conf = this.conferences.get(conferenceId);
    if (conf === undefined) this.conferences.set(conferenceId, (conf = { home: this.leastLoaded(), endpoints: 0 }));
    const worker = conf.endpoints < this.span ? conf.home : this.leastLoaded();
    conf.endpoints++;
    this.loads[worker]++;
    return worker;
  }

  /** An endpoint of `conferenceId` placed on `worker` is gone; true when it was the conference's last. */
  remove(conferenceId: string, worker: number): boolean {
    this.loads[worker]--;
    const conf = this.conferences.get(conferenceId);
    if (conf === undefined || --conf.endpoints > 0) return false;
    this.conferences.delete(conferenceId);
    return true;
  }

  /** The worker with the fewest endpoints (the lowest index among equals). */
  private leastLoaded(): number {
    let best = 0;
    for (let i = 1; i < this.loads.length; i++) if (this.loads[i] < this.loads[best]) best = i;
    return best;
  }
}

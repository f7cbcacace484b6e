// A webhook receiver for tests: a plain Node HTTP server that keeps every POST it gets (raw body, headers, the
// parsed event) and answers what the test says: a status, or nothing at all (a receiver that hangs).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedHook {
  headers: http.IncomingHttpHeaders;
  body: string;
  event: any;
  /** What this receiver answered. */
  answered?: number | 'hang';
}

/** What to answer request number `n` (1-based): a status, or 'hang' to never answer. */
export type Answer = (n: number, hook: ReceivedHook) => number | 'hang';

export class WebhookReceiver {
  readonly received: ReceivedHook[] = [];
  /** Requests left unanswered ('hang'), answered at close. */
  private readonly hanging = new Set<http.ServerResponse>();
  private server: http.Server | undefined;
  answer: Answer;
  port = 0;

  constructor(answer: Answer = () => 200) {
    this.answer = answer;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks?receiver-token=abc`;
  }

  /** Starts listening, on `port` when given (one chosen before, while nothing listened there). */
  async listen(port = 0): Promise<this> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let event: any;
        try {
          event = JSON.parse(body);
        } catch {
          event = undefined;
        }
        const hook: ReceivedHook = { headers: req.headers, body, event };
        this.received.push(hook);
        const a = this.answer(this.received.length, hook);
        hook.answered = a;
        if (a === 'hang') this.hanging.add(res);
        else res.writeHead(a).end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  /** The requests taken (answered 2xx), in arrival order. */
  accepted(): ReceivedHook[] {
    return this.received.filter((h) => typeof h.answered === 'number' && h.answered >= 200 && h.answered < 300);
  }

  async waitFor(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; received ${JSON.stringify(this.received.map((h) => h.event?.type))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  }
}

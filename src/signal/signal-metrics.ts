// What signal counts for /metrics (src/metrics/): join times, refused credentials, refused sockets. prom-client
// objects in no registry: the process's metrics listener registers them (`list`). Changed once per join or refusal,
// never per media packet.
import { Counter, Histogram, type Metric } from 'prom-client';

/** Error codes that mean wrong credentials: a password, a token, a room password. */
const AUTH_FAILURE_CODES = new Set(['login-failed', 'bad-token', 'wrong-password']);

export class SignalMetrics {
  readonly joinSeconds = new Histogram({
    name: 'tertulia_signal_join_seconds',
    help: "Time from a WebSocket's join request to its joined reply (admission, lobby and room join included)",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [],
  });
  readonly authFailures = new Counter({
    name: 'tertulia_signal_auth_failures_total',
    help: 'Refused credentials: login-failed (account password), bad-token (JWT), wrong-password (room password)',
    labelNames: ['reason'],
    registers: [],
  });
  readonly refusedSockets = new Counter({
    name: 'tertulia_signal_websockets_refused_total',
    help: 'WebSockets refused by the per-address cap (maxConnectionsPerAddress)',
    registers: [],
  });

  constructor() {
    for (const reason of AUTH_FAILURE_CODES) this.authFailures.inc({ reason }, 0); // every series from the start
  }

  /** Every metric above, for a registry. */
  list(): Metric[] {
    return [this.joinSeconds, this.authFailures, this.refusedSockets];
  }

  /** A join took `seconds`: from the socket's `join` message to its `joined` reply. */
  joined(seconds: number): void {
    this.joinSeconds.observe(seconds);
  }

  /** An `error` reply was sent; counted when its code means wrong credentials. */
  refused(code: string): void {
    if (AUTH_FAILURE_CODES.has(code)) this.authFailures.inc({ reason: code });
  }
}

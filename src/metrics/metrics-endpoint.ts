// The metrics listener (config.metricsAddress, off by default): plain HTTP on its own address, apart from the
// public HTTPS port, serving
//   GET /metrics        Prometheus text format (prometheus-metrics.ts)
//   GET /healthz        200 while the process runs
//   GET /readyz         200 when ready to take meetings, else 503 (health.ts)
//   GET /about/health   the same as JSON, 200 or 503
//   GET /colibri/stats  Jitsi Videobridge-style stats (colibri-stats.ts)
// Protection: with config.metricsToken every request needs `Authorization: Bearer <token>` (else 401); without
// one, a listener on a loopback address answers only requests whose Host is a loopback name (no DNS rebinding
// from a web page), and one on another address is logged as readable by anyone who reaches it.
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.ts';
import { buildRegistry } from './prometheus-metrics.ts';
import { ColibriStats } from './colibri-stats.ts';
import { HealthWatch } from './health.ts';
import type { MetricsSources } from './metric-sources.ts';
import { answerClientErrors } from '../net/http-client-error.ts';

const LOOPBACK_HOST = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/i;

export interface MetricsEndpoint {
  /** host:port it listens on. */
  address: string;
  close(): Promise<void>;
}

/** host and port of `host:port` / `[v6]:port`. */
export function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(i + 1)) };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

const digest = (s: string) => createHash('sha256').update(s).digest();

export async function startMetricsEndpoint(opts: { address: string; token: string; sources: MetricsSources; log: Logger }): Promise<MetricsEndpoint> {
  const { host, port } = splitAddress(opts.address);
  const loopback = isLoopback(host);
  const registry = buildRegistry(opts.sources);
  const stats = new ColibriStats(opts.sources);
  const health = new HealthWatch(opts.sources.bus, opts.sources.parts, opts.sources.bridge);
  const tokenDigest = opts.token ? digest(opts.token) : undefined;
  const log = opts.log.child({ part: 'metrics' });

  const authorised = (req: http.IncomingMessage): boolean => {
    if (!tokenDigest) return !loopback || LOOPBACK_HOST.test(req.headers.host ?? '');
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    return m !== null && timingSafeEqual(digest(m[1]!), tokenDigest);
  };

  const server = http.createServer((req, res) => {
    const send = (status: number, body: string, type = 'application/json; charset=utf-8', extra: Record<string, string> = {}) => {
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', ...extra });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const json = (status: number, body: unknown) => send(status, JSON.stringify(body));
    if (!authorised(req)) {
      return tokenDigest
        ? json(401, { error: 'a Bearer token is required (metricsToken)' })
        : json(403, { error: 'only for this machine (Host must be a loopback name)' });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, JSON.stringify({ error: 'GET only' }), undefined, { Allow: 'GET, HEAD' });
    const pathname = (req.url ?? '/').split('?', 1)[0];
    const fail = (e: unknown) => {
      log.warn({ path: pathname, err: (e as Error).message }, 'metrics request failed');
      if (!res.headersSent) json(500, { error: 'could not read the metrics' });
    };
    switch (pathname) {
      case '/metrics':
        registry.metrics().then((text) => send(200, text, registry.contentType), fail);
        return;
      case '/healthz':
        return json(200, { status: 'ok' });
      case '/readyz':
      case '/about/health': {
        const report = health.report();
        return json(report.ready ? 200 : 503, pathname === '/readyz' ? { ready: report.ready, problems: report.problems } : report);
      }
      case '/colibri/stats':
        stats.document().then((doc) => json(200, doc), fail);
        return;
      default:
        return json(404, { error: 'not found: /metrics, /healthz, /readyz, /about/health, /colibri/stats' });
    }
  });
  answerClientErrors(server);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`cannot listen for the metrics on ${opts.address}: ${e.code ?? e.message}`)));
      server.listen(port, host, () => resolve());
    });
  } catch (e) {
    stats.close();
    health.close();
    throw e;
  }
  const bound = server.address() as AddressInfo;
  const address = `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`;
  // (not a field named token: the log masks those, and this one says only whether a token is asked for)
  log.info({ address, bearerTokenRequired: tokenDigest !== undefined }, 'metrics and health served');
  if (!tokenDigest && !loopback) log.warn({ address }, 'the metrics listener has no metricsToken: anyone who reaches this address reads the metrics');
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        stats.close();
        health.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

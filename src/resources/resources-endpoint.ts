// The resource counts of a running process, for its admin and for the soak and idle tests: an HTTP endpoint on
// the loopback address only (config.resourcesPort; 0, the default, leaves it off), GET /resources answers
// `{"counts": {...}}` with what every part of this process holds (see each part's resourceCounts) and what the
// process holds (memory, file descriptors, handles by type). `?gc=1` first forces a garbage collection, so
// memory figures compare. It is never reachable from another machine, and answers only requests whose Host is
// a loopback name (a web page cannot read it through DNS rebinding). Counts are no secret, and nothing else is served.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.ts';
import { forceGc } from './process-resources.ts';
import { answerClientErrors } from '../net/http-client-error.ts';

export const RESOURCES_PATH = '/resources';
const LOOPBACK_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/i;

export interface ResourcesEndpoint {
  port: number;
  close(): Promise<void>;
}

export async function startResourcesEndpoint(opts: { port: number; read: (gc: boolean) => Promise<Record<string, number>>; log: Logger }): Promise<ResourcesEndpoint> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'close' });
      res.end(JSON.stringify(body));
    };
    if (!LOOPBACK_HOST.test(req.headers.host ?? '')) return answer(403, { error: 'only for this machine (Host must be a loopback name)' });
    if (req.method !== 'GET' || url.pathname !== RESOURCES_PATH) return answer(404, { error: `GET ${RESOURCES_PATH} is all there is` });
    const gc = url.searchParams.get('gc') === '1' ? forceGc() : false;
    opts.read(gc).then(
      (counts) => answer(200, { gc, counts }),
      (e: Error) => {
        opts.log.warn({ err: e.message }, 'resource counts failed');
        answer(500, { error: 'could not read the counts' });
      },
    );
  });
  answerClientErrors(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`cannot listen for the resource counts on 127.0.0.1:${opts.port}: ${e.code ?? e.message}`)));
    server.listen(opts.port, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  opts.log.info({ url: `http://127.0.0.1:${port}${RESOURCES_PATH}` }, 'resource counts served on the loopback address');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

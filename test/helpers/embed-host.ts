// A host page on another origin for the IFrame API's end-to-end tests: an HTTPS server of the test (another port,
// the Tertulia server's certificate) serving the README's snippet, which loads /external_api.js from the Tertulia
// server and embeds `?room=` as `?name=` with JitsiMeetExternalAPI, recording every event in `window.__events`.
// `?config=` (JSON) is laid over the page's configOverwrite (e.g. `{"prejoinPageEnabled":true}`).
import https from 'node:https';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { waitUntil, type Participant } from './browser.ts';

export interface ApiEvent {
  name: string;
  data: Record<string, any>;
}

function hostPage(tertulia: string, events: readonly string[]): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Intranet</title></head>
<body>
<h1>Team meeting</h1>
<div id="meet"></div>
<script src="https://${tertulia}/external_api.js"></script>
<script>
  const params = new URLSearchParams(location.search);
  window.__events = [];
  window.__loaded = false;
  window.api = new JitsiMeetExternalAPI(${JSON.stringify(tertulia)}, {
    roomName: params.get('room'),
    width: 800,
    height: 480,
    parentNode: document.getElementById('meet'),
    configOverwrite: { prejoinPageEnabled: false, resolution: 180, someJitsiOnlyKey: { nested: true }, ...JSON.parse(params.get('config') || '{}') },
    interfaceConfigOverwrite: { SHOW_JITSI_WATERMARK: false },
    userInfo: { displayName: params.get('name'), email: 'someone@example.org' },
    onload: () => { window.__loaded = true; },
  });
  for (const name of ${JSON.stringify(events)}) window.api.addListener(name, (data) => window.__events.push({ name, data }));
</script>
</body></html>`;
}

export interface HostServer {
  server: https.Server;
  port: number;
  /** Uses the Tertulia server's certificate (made when it started) for localhost. */
  useCertificate(dataDir: string): void;
}

/** Serves the host page on 127.0.0.1 (reached as https://localhost:port); `tertulia()` is the server's host:port. */
export async function startHostServer(tertulia: () => string, events: readonly string[]): Promise<HostServer> {
  const server = https.createServer({}, (req, res) => {
    if (!req.url?.startsWith('/?')) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(hostPage(tertulia(), events));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    useCertificate(dataDir) {
      server.setSecureContext({ cert: readFileSync(path.join(dataDir, 'tls/cert.pem')), key: readFileSync(path.join(dataDir, 'tls/key.pem')) });
    },
  };
}

/** Every event the host page recorded so far. */
export async function apiEvents(p: Participant): Promise<ApiEvent[]> {
  return await p.page.evaluate(() => (window as any).__events);
}

/** The first recorded event that matches, waiting for it (waitUntil's generous timeout). */
export async function waitApiEvent(p: Participant, what: string, match: (e: ApiEvent) => boolean): Promise<ApiEvent> {
  const list = await waitUntil(what, () => apiEvents(p), (l) => l.some(match));
  return list.find(match)!;
}

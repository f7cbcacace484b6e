// sipp (Debian sip-tester) as the far end of the gateway's own calls: a UAS scenario of test/sip/ on a free UDP
// port, for one call, with `-key` values (the digest password, by default); and the gateway's SIP front that
// calls it.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../src/log.ts';
import { Dialogs } from '../../src/sip/dialogs.ts';
import type { LocalAddress } from '../../src/sip/requests.ts';
import { SipServer } from '../../src/sip/sip-server.ts';
import { freeUdpPort } from './ports.ts';

export const SIPP_SCENARIOS = fileURLToPath(new URL('../sip/', import.meta.url));
export const SIPP_PASSWORD = 'pa55-w0rd';
export const hasSipp = await new Promise<boolean>((r) => execFile('sipp', ['-v'], (e) => r(!(e && (e as NodeJS.ErrnoException).code === 'ENOENT'))));

/** Starts sipp as a UAS on a free port; `done` resolves when its scenario ended (code 0: as written). */
export async function sippUas(scenario: string, keys: Record<string, string> = {}): Promise<{ port: number; done: Promise<{ code: number; out: string }> }> {
  const port = await freeUdpPort();
  const file = path.isAbsolute(scenario) ? scenario : path.join(SIPP_SCENARIOS, scenario);
  const args = ['-sf', file, '-m', '1', '-t', 'u1', '-i', '127.0.0.1', '-p', String(port), '-timeout', '60s', '-timeout_error', '-nostdin'];
  for (const [k, v] of Object.entries({ password: SIPP_PASSWORD, ...keys })) args.push('-key', k, v);
  const done = new Promise<{ code: number; out: string }>((resolve) => {
    execFile('sipp', args, { timeout: 90_000, cwd: os.tmpdir() }, (e, stdout, stderr) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out: `${stdout}\n${stderr}`.slice(-3000) }),
    );
  });
  return { port, done };
}

/** An SDP offer for calls whose media no test looks at. */
export const TEST_OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

/** dial-out-refused.xml with `status` in place (sipp checks status codes as it reads a scenario), written in `dir`. */
export function refusedScenario(dir: string, status: string): string {
  const file = path.join(dir, `refused-${status}.xml`);
  writeFileSync(file, readFileSync(path.join(SIPP_SCENARIOS, 'dial-out-refused.xml'), 'utf8').replaceAll('[status]', status));
  return file;
}

/** The gateway's SIP front as the sip part wires it: a SipServer on 127.0.0.1 whose dialogs take in-dialog requests and responses. */
export async function startSipFront(): Promise<{ server: SipServer; dialogs: Dialogs; local: LocalAddress; close(): Promise<void> }> {
  const dialogs = new Dialogs('sip:gw@127.0.0.1:5060;transport=udp');
  const server = new SipServer({
    address: '127.0.0.1',
    port: 0,
    log: createLogger('silent'),
    onDialogRequest: (req, respond) => dialogs.handle(req, respond),
    onResponse: (res) => dialogs.handleResponse(res),
  });
  const local: LocalAddress = { transport: 'udp', host: '127.0.0.1', port: await server.listen() };
  return {
    server,
    dialogs,
    local,
    async close() {
      dialogs.closeAll();
      await server.close();
    },
  };
}

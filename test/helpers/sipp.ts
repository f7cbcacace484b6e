// sipp (Debian sip-tester) as the far end of the gateway's own calls: a UAS scenario of test/sip/ on a free UDP
// port, for one call, with `-key` values (the digest password, by default).
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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

// End to end: end-to-end encryption with two headless Chromium participants (and a third whose browser cannot
// encrypt), controls found by role and accessible name, in English and Spanish.
// - Before: a plain-RTP tap on the bridge (`tertulia tap`, real SRTP from the bridge, ffmpeg) decodes Ana's camera;
//   with E2EE off, nothing is attached: no transform on any sender or receiver, no worker, a plain connection.
// - Ana (moderator) turns it on; both see the meeting is encrypted; each decodes the other's video (not black) and
//   hears the other's audio through the decrypting worker, and the same tap now records frames ffmpeg cannot decode.
// - Beto reloads his page: he comes back into the encrypted meeting and both decode each other again.
// - Carla's browser has no encoded transforms: she is told, and Ana is told Carla is not encrypted.
// - Off again: Ana and Beto keep decoding each other, nothing is encrypted any more.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { joinThroughUi, newParticipant, remoteStats, waitUntil, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';
import { videoFrom } from '../helpers/video-stats.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

interface E2eeDiagnostics {
  enabled: boolean;
  keyed: string[];
  unsupported: string[];
  stats: { transforms: number; encrypted: number; decrypted: number; undecryptable: number; plainDropped: number };
  api: 'script' | 'streams' | null;
  attached: number;
}

const e2ee = (page: Page) => page.evaluate(() => ((window as any).__tertulia?.e2ee ?? null) as E2eeDiagnostics | null);
const selfId = (page: Page) => page.evaluate(() => (window as any).__tertulia?.selfId as string);

/** The mean brightness (0-255) of the video shown in `name`'s tile. */
async function brightness(page: Page, name: string): Promise<number> {
  return await page.getByRole('group', { name, exact: true }).locator('video').first().evaluate((v: HTMLVideoElement) => {
    const c = document.createElement('canvas');
    c.width = 64;
    c.height = 36;
    const g = c.getContext('2d')!;
    g.drawImage(v, 0, 0, c.width, c.height);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let sum = 0;
    for (let i = 0; i < d.length; i += 4) sum += (d[i]! + d[i + 1]! + d[i + 2]!) / 3;
    return sum / (d.length / 4);
  });
}

/** Records `who`'s camera and microphone as the bridge forwards them, for `seconds`, with `tertulia tap`. */
async function tap(dataDir: string, room: string, who: string, out: string, seconds = 4): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(repo, 'src/cli/main.ts'), 'tap', '--room', room, '--participant', who, '--seconds', String(seconds), '--out', out], {
    cwd: repo,
    env: { ...process.env, TERTULIA_CONFIG: '', TERTULIA_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  return { code, output };
}

/** What ffmpeg makes of a recording's video: frames it decoded, and the errors it reported. */
async function decodeVideo(file: string): Promise<{ packets: number; frames: number; errors: number }> {
  const probe = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_entries', 'stream=codec_name,nb_read_packets', '-of', 'json', file]);
  const stream = (JSON.parse(probe.stdout) as { streams: { codec_name: string; nb_read_packets: string }[] }).streams[0];
  assert.equal(stream?.codec_name, 'vp8');
  const decoded = await run('ffmpeg', ['-nostdin', '-v', 'error', '-i', file, '-map', '0:v:0', '-f', 'framemd5', '-'], { maxBuffer: 16 * 1024 * 1024 }).catch((e: { stdout: string; stderr: string }) => e);
  const frames = decoded.stdout.split('\n').filter((l) => /^\d+,/.test(l)).length;
  const errors = decoded.stderr.split('\n').filter((l) => l.trim()).length;
  return { packets: Number(stream.nb_read_packets), frames, errors };
}

describe('end-to-end encryption', () => {
  const suite = useServerAndBrowser();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-e2ee-'));
  const room = 'Cifrado';
  let ana: Participant;
  let beto: Participant;

  test('before: a plain-RTP tap on the bridge decodes Ana’s camera', { timeout: 120_000 }, async () => {
    ana = await newParticipant(suite.browser, 'Ana');
    beto = await newParticipant(suite.browser, 'Beto', 'es-ES');
    await joinThroughUi(ana, suite.server.baseUrl, room);
    await joinThroughUi(beto, suite.server.baseUrl, room, { lang: 'es' });
    await waitUntil('Beto to decode Ana', () => videoFrom(beto.page, 'Ana'), (v) => (v?.framesDecoded ?? 0) > 10, 45_000);
    const out = path.join(dir, 'plain.mkv');
    const { code, output } = await tap(suite.server.dataDir, room, 'Ana', out);
    assert.equal(code, 0, output);
    const v = await decodeVideo(out);
    assert.ok(v.packets > 20, `packets recorded: ${v.packets}`);
    assert.ok(v.frames > 20, `frames decoded: ${JSON.stringify(v)}`);
    assert.equal(v.errors, 0, `a plain recording decodes cleanly: ${JSON.stringify(v)}`);
    // off costs nothing: the standard script transforms are used where they exist, and none is attached while off
    for (const p of [ana, beto]) {
      const d = await e2ee(p.page);
      assert.equal(d?.enabled, false);
      assert.equal(d?.api, 'script', `${p.name}'s Chromium uses RTCRtpScriptTransform`);
      assert.equal(d?.attached, 0, `no transform attached to ${p.name}'s senders or receivers while off`);
      assert.equal(d?.stats.transforms, 0, `no frame of ${p.name}'s goes through the encryption worker while off`);
      const flagged = await p.page.evaluate(() => ((window as any).__tertulia.pc.getConfiguration() as { encodedInsertableStreams?: boolean }).encodedInsertableStreams === true);
      assert.equal(flagged, false, `${p.name}'s connection is not made for Chrome's encoded streams`);
      assert.ok(((await videoFrom(p.page, p === ana ? 'Beto' : 'Ana'))?.framesDecoded ?? 0) > 0, 'media flows with nothing attached');
    }
  });

  test('on: everyone sees it, each decodes the other, and the tap gets only ciphertext', { timeout: 150_000 }, async () => {
    await ana.page.getByRole('toolbar').getByRole('button', { name: 'Participants' }).click();
    await ana.page.getByRole('checkbox', { name: 'Enable end-to-end encryption' }).click();
    await ana.page.getByRole('checkbox', { name: 'Enable end-to-end encryption', checked: true }).waitFor({ timeout: 10_000 });
    await ana.page.getByRole('status', { name: 'End-to-end encrypted (turned on by Ana)' }).waitFor({ timeout: 10_000 });
    await beto.page.getByRole('status', { name: 'Cifrado de extremo a extremo (activado por Ana)' }).waitFor({ timeout: 10_000 });

    for (const [p, other] of [[ana, beto], [beto, ana]] as const) {
      const otherId = await selfId(other.page);
      const d = await waitUntil(`${p.name} to decrypt ${other.name}`, () => e2ee(p.page), (s) => !!s && s.keyed.includes(otherId) && s.stats.decrypted > 100 && s.stats.encrypted > 100, 45_000);
      const before = (await videoFrom(p.page, other.name))?.framesDecoded ?? 0;
      const energy = (await remoteStats(p.page))[other.name]?.audioEnergy ?? 0;
      await waitUntil(`${p.name} to keep decoding ${other.name}'s video`, () => videoFrom(p.page, other.name), (v) => (v?.framesDecoded ?? 0) > before + 30, 30_000);
      await waitUntil(`${p.name} to keep hearing ${other.name}`, () => remoteStats(p.page), (s) => (s[other.name]?.audioEnergy ?? 0) > energy, 30_000);
      const after = await e2ee(p.page);
      assert.ok(after!.stats.decrypted > d!.stats.decrypted, 'the frames shown went through decryption');
      // turned on in the running meeting: the script transforms are on every sender and receiver in use
      assert.ok(after!.attached >= 3 && after!.stats.transforms >= 3, `${p.name}'s transforms: ${JSON.stringify(after)}`);
      // a few plain frames may arrive while the other side switches on; none once both encrypt
      assert.equal(after!.stats.plainDropped, d!.stats.plainDropped, 'nothing arrives in the clear once on');
      const light = await brightness(p.page, other.name);
      assert.ok(light > 20, `${other.name}'s video is not black on ${p.name}'s screen: ${light}`);
    }

    // the tap's own ffmpeg gets Ana's VP8 (the bridge still forwards it) but cannot decode one frame of it: it finds
    // no picture size to write and gives up, having reported each frame it got as invalid
    const out = path.join(dir, 'encrypted.mkv');
    const { code, output } = await tap(suite.server.dataDir, room, 'Ana', out);
    if (code === 0) {
      const v = await decodeVideo(out);
      assert.ok(v.packets > 20, `the bridge still forwards Ana's video: ${v.packets} packets`);
      assert.ok(v.frames < v.packets / 2 || v.errors >= v.packets / 2, `ffmpeg cannot decode the ciphertext: ${JSON.stringify(v)}`);
    } else {
      assert.match(output, /\[vp8 @ [^\]]+\] Invalid partitions/, output);
      const repeated = Number(/Invalid partitions\s+Last message repeated (\d+) times/.exec(output)?.[1] ?? 0);
      assert.ok(repeated > 20, `every frame the tap got was undecodable: ${output}`);
      assert.match(output, /dimensions not set/, 'not one frame decoded to a picture');
    }
  });

  test('Beto reloads his page: back in the encrypted meeting, both decode each other again', { timeout: 120_000 }, async () => {
    await joinThroughUi(beto, suite.server.baseUrl, room, { lang: 'es', reload: true });
    await beto.page.getByRole('status', { name: 'Cifrado de extremo a extremo (activado por Ana)' }).waitFor({ timeout: 15_000 });
    const betoId = await selfId(beto.page);
    const anaId = await selfId(ana.page);
    await waitUntil('Ana to decrypt the new Beto', () => e2ee(ana.page), (s) => !!s && s.keyed.includes(betoId), 45_000);
    await waitUntil('the new Beto to decrypt Ana', () => e2ee(beto.page), (s) => !!s && s.keyed.includes(anaId) && s.stats.decrypted > 50, 45_000);
    await waitUntil('Beto to decode Ana', () => videoFrom(beto.page, 'Ana'), (v) => (v?.framesDecoded ?? 0) > 30, 45_000);
    await waitUntil('Ana to decode the new Beto', () => videoFrom(ana.page, 'Beto'), (v) => (v?.framesDecoded ?? 0) > 30, 45_000);
    assert.ok((await brightness(beto.page, 'Ana')) > 20, "Ana's video is not black");
  });

  test('Carla’s browser cannot encrypt: she is told, and so are the others', { timeout: 90_000 }, async () => {
    const carla = await newParticipant(suite.browser, 'Carla');
    await carla.page.addInitScript(() => {
      delete (window as any).RTCRtpScriptTransform;
      delete (RTCRtpSender.prototype as any).createEncodedStreams;
    });
    await joinThroughUi(carla, suite.server.baseUrl, room);
    await carla.page.getByRole('alert').getByText('your browser cannot encrypt media').waitFor({ timeout: 15_000 });
    await ana.page.getByRole('alert').getByText('Not encrypted: the browser of Carla cannot encrypt media').waitFor({ timeout: 15_000 });
    // and her plain media is never shown by those who encrypt
    const s = await waitUntil('Ana to drop Carla’s plain frames', () => e2ee(ana.page), (d) => (d?.stats.plainDropped ?? 0) > 0, 30_000);
    assert.ok(s!.stats.plainDropped > 0);
    assert.equal((await videoFrom(ana.page, 'Carla'))?.framesDecoded ?? 0, 0, 'no frame of Carla decoded');
    await carla.context.close();
  });

  test('off again: both keep decoding each other, frames pass unencrypted', { timeout: 90_000 }, async () => {
    await ana.page.getByRole('checkbox', { name: 'Enable end-to-end encryption', checked: true }).click();
    await ana.page.getByRole('checkbox', { name: 'Enable end-to-end encryption', checked: false }).waitFor({ timeout: 10_000 });
    await waitUntil('Beto to hear it is off', () => e2ee(beto.page), (d) => d?.enabled === false, 15_000);
    for (const [p, other] of [[ana, beto], [beto, ana]] as const) {
      const before = (await videoFrom(p.page, other.name))?.framesDecoded ?? 0;
      await waitUntil(`${p.name} to keep decoding ${other.name}`, () => videoFrom(p.page, other.name), (v) => (v?.framesDecoded ?? 0) > before + 30, 30_000);
    }
    const encrypted = (await e2ee(ana.page))!.stats.encrypted;
    const before = (await videoFrom(beto.page, 'Ana'))?.framesDecoded ?? 0;
    await waitUntil('Beto to decode more of Ana', () => videoFrom(beto.page, 'Ana'), (v) => (v?.framesDecoded ?? 0) > before + 30, 30_000);
    assert.equal((await e2ee(ana.page))!.stats.encrypted, encrypted, 'nothing is encrypted once off');
    for (const p of [ana, beto]) await p.context.close();
    rmSync(dir, { recursive: true, force: true });
  });
});

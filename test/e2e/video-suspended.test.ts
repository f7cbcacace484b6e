// A narrow downlink in a meeting of three (tc in network namespaces, as pacer-bandwidth.test.ts): Sol and Luna
// send their cameras and microphones; Estrecho, a receiver, is limited to 250 kbit/s, then (in a second meeting) to
// 300 kbit/s with 5 % random loss. The bridge takes the audio it
// sends Estrecho off Estrecho's estimate before the cameras share the rest, so one camera goes on and the other is
// suspended, and Estrecho's page shows that tile as "Video paused: not enough bandwidth" (its initials, not a frozen
// picture), but for the bridge's tries to send it again (backing off), while the camera it still gets keeps decoding. With the limit gone, both cameras come back and the
// notice goes. The kept camera's freezes while limited are printed (a figure, not a threshold).
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { joinThroughUi, newParticipant, waitUntil } from '../helpers/browser.ts';
import { netnsUnavailable, nftUnavailable } from '../helpers/netns.ts';
import { startShapedMeeting, type ShapedMeeting } from '../helpers/shaped-meeting.ts';
import { videoFrom } from '../helpers/video-stats.ts';

const skip = netnsUnavailable();
const PAUSED = 'Video paused: not enough bandwidth';
const SENDERS = ['Sol', 'Luna'] as const;

/** Which senders' tiles on `page` say their video is paused. */
async function pausedTiles(page: Page): Promise<string[]> {
  const out: string[] = [];
  for (const name of SENDERS) {
    if ((await page.getByRole('group', { name, exact: true }).getByText(PAUSED, { exact: true }).count()) > 0) out.push(name);
  }
  return out;
}

/** Frames decoded from each sender so far (0: none yet). */
async function frames(page: Page): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const name of SENDERS) out[name] = (await videoFrom(page, name))?.framesDecoded ?? 0;
  return out;
}

describe('a camera the receiver has no bandwidth for is shown paused', { skip: skip ?? false }, () => {
  // the second: the link of the trial that found it (the second camera ran at ~2 fps with freezes, shown as live)
  for (const [kbit, loss] of [[250, 0], [300, 5]] as const) {
    const link = `${kbit} kbit/s${loss > 0 ? ` with ${loss} % loss` : ''}`;
    // (random loss is nftables' numgen: this kernel has no netem)
    const noLoss = loss > 0 ? nftUnavailable() : null;
    test(`limited to ${link}: one camera decodes, the other tile says paused; unlimited: both again, no notice`, { skip: noLoss ?? false }, async (t) => {
      const m = await startShapedMeeting(3, `${process.pid % 10000}v${loss}`);
      try {
        await narrowLink(t, m, kbit, loss, link);
      } finally {
        await m.stop();
      }
    });
  }
});

async function narrowLink(t: TestContext, m: ShapedMeeting, kbit: number, loss: number, link: string): Promise<void> {
  const room = 'estrecho';
  const { net, server, browsers } = m;
  for (const [i, name] of SENDERS.entries()) await joinThroughUi(await newParticipant(browsers[i]!, name), server.baseUrl, room);
  const narrow = await newParticipant(browsers[2]!, 'Estrecho');
  await joinThroughUi(narrow, server.baseUrl, room, { stopCamera: true, muteMic: true });
  const both = async (what: string) => {
    const a = await frames(narrow.page);
    return await waitUntil(what, () => frames(narrow.page), (f) => SENDERS.every((n) => f[n]! > a[n]! + 20), 60_000);
  };
  await both('both cameras to decode at Estrecho');
  assert.deepEqual(await pausedTiles(narrow.page), [], 'nothing paused on a wide link');

  net.limit(2, kbit, 'down', loss);
  const limitedAt = Date.now();
  const paused = await waitUntil('one tile to say its video is paused', () => pausedTiles(narrow.page), (p) => p.length === 1, 60_000);
  const kept = SENDERS.find((n) => !paused.includes(n))!;
  t.diagnostic(`limited to ${link}: ${paused[0]} paused, ${kept} kept`);
  // the paused tile shows the initials, not the frozen picture
  await narrow.page.getByRole('group', { name: paused[0]!, exact: true }).locator('.avatar').waitFor({ timeout: 5000 });
  // the kept camera goes on decoding (over 10 s from 20 s after the limit), the notice stays on the other
  await new Promise((r) => setTimeout(r, Math.max(0, 20_000 - (Date.now() - limitedAt))));
  const start = await Promise.all(SENDERS.map((n) => videoFrom(narrow.page, n)));
  // which tiles say paused, every half second
  const seen: string[] = [];
  for (const until = Date.now() + 10_000; Date.now() < until; ) {
    seen.push((await pausedTiles(narrow.page)).join('+') || '-');
    await new Promise((r) => setTimeout(r, 500));
  }
  t.diagnostic(`paused tiles, every 0.5 s: ${seen.join(' ')}`);
  const end = await Promise.all(SENDERS.map((n) => videoFrom(narrow.page, n)));
  const line = SENDERS.map((n, i) => {
    const [a, b] = [start[i], end[i]];
    const d = (f: (v: NonNullable<typeof a>) => number) => (a && b ? f(b) - f(a) : 0);
    return `${n} (${n === kept ? 'kept' : 'paused'}): ${d((v) => v.framesDecoded)} frames, ${d((v) => v.freezeCount)} freezes, ${d((v) => v.packetsLost)} packets lost`;
  }).join('; ');
  t.diagnostic(`over 10 s at ${link}: ${line}`);
  console.log(`# over 10 s at ${link}: ${line}`);
  const k = SENDERS.indexOf(kept);
  assert.ok(end[k]!.framesDecoded > start[k]!.framesDecoded + 10, `${kept} keeps decoding`);
  // the other stays paused but for the bridge's tries to send it again (backing off while the link cannot carry it)
  assert.ok(seen.filter((p) => p === paused[0]).length >= seen.length / 2, `${paused[0]} paused most of the time`);
  assert.ok(seen.every((p) => !p.split('+').includes(kept)), `${kept} never paused`);

  net.unlimit(2);
  await waitUntil('the notice to go', () => pausedTiles(narrow.page), (p) => p.length === 0, 60_000);
  await both('both cameras to decode again');
}

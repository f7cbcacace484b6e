// End to end: the whole suite in one process, three (then a fourth, late) headless Chromium participants
// joining through the UI, real camera/microphone media through the bridge.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { joinThroughUi, newParticipant, remoteStats, sleep, waitUntil, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';

describe('a three-person meeting through the bridge', () => {
  const suite = useServerAndBrowser();
  const people: Participant[] = [];
  // Case-insensitive, Unicode room names: everyone types it differently and lands in one room.
  const roomSpellings = ['Sala-Ñandú', 'sala-ñandú', 'SALA-ÑANDÚ'];

  test('three participants join and see each other tile by tile', async () => {
    for (const [i, name] of ['Ana', 'Ben', 'Caro'].entries()) {
      const p = await newParticipant(suite.browser, name);
      people.push(p);
      await joinThroughUi(p, suite.server.baseUrl, roomSpellings[i]!);
    }
    for (const p of people) {
      for (const other of people) {
        if (other === p) continue;
        await p.page.getByRole('group', { name: other.name, exact: true }).waitFor({ timeout: 10_000 });
      }
    }
  });

  test('each participant decodes video and receives audio from both others', async () => {
    for (const p of people) {
      const others = people.filter((o) => o !== p).map((o) => o.name);
      const stats = await waitUntil(
        `${p.name} to get media from ${others.join(' and ')}`,
        () => remoteStats(p.page),
        (s) => others.every((n) => (s[n]?.framesDecoded ?? 0) > 5 && (s[n]?.audioPackets ?? 0) > 20),
        45_000,
      );
      for (const n of others) {
        assert.ok(stats[n]!.framesDecoded > 5, `${p.name} decoded frames from ${n}`);
        assert.ok(stats[n]!.audioPackets > 20, `${p.name} got audio from ${n}`);
      }
    }
  });

  test("a muted microphone stops that sender's audio reaching the others", async () => {
    const [ana, ben, caro] = people as [Participant, Participant, Participant];
    await ana.page.getByRole('button', { name: 'Mute microphone' }).click();
    await ana.page.getByRole('button', { name: 'Unmute microphone' }).waitFor();
    await sleep(1500); // packets already in flight drain
    const before = await remoteStats(ben.page);
    const beforeCaro = await remoteStats(caro.page);
    await sleep(3000);
    const afterStats = await remoteStats(ben.page);
    const afterCaro = await remoteStats(caro.page);
    assert.equal(afterStats.Ana!.audioPackets, before.Ana!.audioPackets, 'Ben gets no audio from muted Ana');
    assert.equal(afterCaro.Ana!.audioPackets, beforeCaro.Ana!.audioPackets, 'Caro gets no audio from muted Ana');
    assert.ok(afterStats.Caro!.audioPackets > before.Caro!.audioPackets, "Ben still hears Caro");
    assert.ok(afterStats.Ana!.framesDecoded > before.Ana!.framesDecoded, "Ana's video keeps flowing");
    // the others see her muted
    await ben.page.getByRole('group', { name: 'Ana', exact: true }).getByLabel('Microphone muted').waitFor({ timeout: 5000 });

    await ana.page.getByRole('button', { name: 'Unmute microphone' }).click();
    await waitUntil(
      "Ana's audio to come back at Ben",
      () => remoteStats(ben.page),
      (s) => s.Ana!.audioPackets > afterStats.Ana!.audioPackets + 10,
      15_000,
    );
  });

  test('leaving removes the tile for the rest', async () => {
    const caro = people.pop()!;
    await caro.page.getByRole('button', { name: 'Leave meeting' }).click();
    await caro.page.getByText('You left the meeting').waitFor({ timeout: 5000 });
    for (const p of people) {
      await p.page.getByRole('group', { name: 'Caro', exact: true }).waitFor({ state: 'detached', timeout: 5000 });
    }
    await caro.context.close();
  });

  test('a late joiner gets video from everyone at once', async () => {
    const dan = await newParticipant(suite.browser, 'Dan');
    await joinThroughUi(dan, suite.server.baseUrl, 'sala-ñandú');
    people.push(dan);
    const stats = await waitUntil(
      'Dan to decode video from Ana and Ben',
      () => remoteStats(dan.page),
      (s) => ['Ana', 'Ben'].every((n) => (s[n]?.framesDecoded ?? 0) > 0),
      20_000,
    );
    assert.ok(stats.Ana!.framesDecoded > 0 && stats.Ben!.framesDecoded > 0);
    for (const p of people) {
      if (p === dan) continue;
      await waitUntil(`${p.name} to decode Dan's video`, () => remoteStats(p.page), (s) => (s.Dan?.framesDecoded ?? 0) > 0, 20_000);
    }
  });

  test('a closed tab counts as leaving', async () => {
    const dan = people.pop()!;
    await dan.context.close();
    for (const p of people) {
      await p.page.getByRole('group', { name: 'Dan', exact: true }).waitFor({ state: 'detached', timeout: 15_000 });
    }
    assert.ok(suite.server.alive());
  });
});

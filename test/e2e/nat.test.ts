// A bridge behind NAT: the server runs in its own network namespace on a private address (10.200.0.2), reached
// only through a DNAT of the public address 198.18.0.7; Chromium runs in a client namespace that has a route to
// the public address and none to the private one. With publicAddress set, the announced candidate works: the
// participants get each other's media over a pair whose remote candidate is the public address.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, joinThroughUi, newParticipant, remoteStats, waitUntil, type Participant } from '../helpers/browser.ts';
import { createNatSetup, inNs, netnsUnavailable, type NatSetup } from '../helpers/netns.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

async function selectedRemote(page: Page): Promise<{ address: string; protocol: string } | null> {
  return await page.evaluate(async () => {
    const pc: RTCPeerConnection | undefined = (window as any).__tertulia?.pc;
    if (!pc) return null;
    const stats = await pc.getStats();
    let pairId: string | undefined;
    stats.forEach((s: any) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
    });
    const pair: any = pairId ? stats.get(pairId) : undefined;
    const remote: any = pair ? stats.get(pair.remoteCandidateId) : undefined;
    return remote ? { address: remote.address ?? remote.ip, protocol: remote.protocol } : null;
  });
}

const skip = netnsUnavailable();

describe('a bridge behind NAT announces its public address', { skip: skip ?? false }, () => {
  let nat: NatSetup | undefined;
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  const people: Participant[] = [];

  before(async () => {
    nat = createNatSetup();
    server = await startServer(
      { TERTULIA_LISTEN_ADDRESS: nat.privateAddress, TERTULIA_PUBLIC_ADDRESS: nat.publicAddress },
      { netns: nat.bridge, host: nat.publicAddress },
    );
    browser = await launchBrowser(nat.chromium);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    nat?.destroy();
  });

  test('the client namespace reaches the public address only', () => {
    const probe = (host: string) =>
      inNs(nat!.client, process.execPath, [
        '-e',
        `const s=require('net').connect(${server!.httpsPort},'${host}');s.setTimeout(2000,()=>{console.log('timeout');process.exit()});s.on('connect',()=>{console.log('open');process.exit()});s.on('error',(e)=>{console.log(e.code);process.exit()})`,
      ]).trim();
    assert.equal(probe(nat!.publicAddress), 'open');
    assert.notEqual(probe(nat!.privateAddress), 'open');
  });

  test('two participants get media through the announced address', async () => {
    for (const name of ['Xime', 'Yago']) {
      const p = await newParticipant(browser!, name);
      people.push(p);
      await joinThroughUi(p, server!.baseUrl, 'detras-del-nat');
    }
    for (const p of people) {
      const other = people.find((o) => o !== p)!.name;
      await waitUntil(
        `${p.name} to get media from ${other}`,
        () => remoteStats(p.page),
        (s) => (s[other]?.framesDecoded ?? 0) > 10 && (s[other]?.audioPackets ?? 0) > 20,
        60_000,
      );
      const remote = await waitUntil(`${p.name}'s selected pair`, () => selectedRemote(p.page), (v) => v !== null, 10_000);
      assert.deepEqual(remote, { address: nat!.publicAddress, protocol: 'udp' });
    }
  });
});

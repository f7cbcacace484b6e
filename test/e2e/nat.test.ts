// A bridge behind NAT: the server runs in its own network namespace on a private address (10.200.0.2), reached
// only through a DNAT of the public address 198.18.0.7; Chromium runs in a client namespace that has a route to
// the public address and none to the private one. With publicAddress set, the announced candidate works: the
// participants get each other's media over a pair whose remote candidate is the public address.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Browser } from 'playwright-core';
import { launchBrowser, joinThroughUi, mediaFrom, newParticipant, remoteStats, selectedPair, waitUntil, type Participant } from '../helpers/browser.ts';
import { createNatSetup, netnsUnavailable, tcpProbe, type NatSetup } from '../helpers/netns.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

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
    const probe = (host: string) => tcpProbe(nat!.client, host, server!.httpsPort);
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
      await mediaFrom(p, other, 60_000);
      const pair = await waitUntil(`${p.name}'s selected pair`, () => selectedPair(p.page), (v) => v !== null, 10_000);
      assert.deepEqual({ address: pair!.remoteAddress, protocol: pair!.remoteProtocol }, { address: nat!.publicAddress, protocol: 'udp' });
    }
  });
});

/** A minimal STUN server (Binding -> XOR-MAPPED-ADDRESS of the sender) on 10.201.0.1:3478 in namespace `ns`. */
async function startStunResponder(ns: string): Promise<ChildProcess> {
  const script = `const s=require('dgram').createSocket('udp4');
s.on('message',(m,r)=>{if(m.length<20||m.readUInt16BE(0)!==1)return;const b=Buffer.alloc(32);b.writeUInt16BE(0x0101,0);b.writeUInt16BE(12,2);m.copy(b,4,4,20);
b.writeUInt16BE(0x20,20);b.writeUInt16BE(8,22);b[25]=1;b.writeUInt16BE(r.port^0x2112,26);const ip=r.address.split('.').map(Number);const c=[0x21,0x12,0xa4,0x42];
for(let i=0;i<4;i++)b[28+i]=ip[i]^c[i];s.send(b,r.port,r.address)});
s.bind(3478,'10.201.0.1',()=>console.log('ready'));`;
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`the STUN responder exited with ${code}`)));
  });
  return child;
}

describe('a bridge behind NAT learns its public address from STUN', { skip: skip ?? false }, () => {
  let nat: NatSetup | undefined;
  let stun: ChildProcess | undefined;
  let server: RunningServer | undefined;
  let browser: Browser | undefined;

  before(async () => {
    nat = createNatSetup(`${process.pid}s`);
    stun = await startStunResponder(nat.client);
    server = await startServer(
      { TERTULIA_LISTEN_ADDRESS: nat.privateAddress, TERTULIA_STUN_SERVER: '10.201.0.1:3478' },
      { netns: nat.bridge, host: nat.publicAddress },
    );
    browser = await launchBrowser(nat.chromium);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    stun?.kill();
    nat?.destroy();
  });

  test('media flows through the discovered address', async () => {
    const people: Participant[] = [];
    for (const name of ['Zoe', 'Alba']) {
      const p = await newParticipant(browser!, name);
      people.push(p);
      await joinThroughUi(p, server!.baseUrl, 'stun-nat');
    }
    for (const p of people) {
      const other = people.find((o) => o !== p)!.name;
      await waitUntil(`${p.name} to get media from ${other}`, () => remoteStats(p.page), (s) => (s[other]?.framesDecoded ?? 0) > 10, 60_000);
      const pair = await waitUntil(`${p.name}'s selected pair`, () => selectedPair(p.page), (v) => v !== null, 10_000);
      assert.deepEqual({ address: pair!.remoteAddress, protocol: pair!.remoteProtocol }, { address: nat!.publicAddress, protocol: 'udp' });
    }
  });
});

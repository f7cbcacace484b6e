// The install guide's three machines behind a NAT router (issue 17), in network namespaces
// (helpers/netns-three-machines.ts): machine A runs the NATS server (with JetStream and a password), focus, two
// web/signal instances and HAProxy in front of them; machines B and C run one bridge each, told their public
// address; the router forwards 443/8443 to A's HAProxy, and 10000/udp and 4443/tcp of each bridge's public address
// to it, masquerades what goes out and lets nothing else in. Every part is started with `./tertulia start` and the
// options the README's "Several machines" section gives an admin. The browsers run outside the NAT, in two client
// networks: HAProxy sets the region header from the client's address (eu, the default: Ana and Ben; us: Cleo), so
// the meeting spans B (region eu) and C (region us) over the bridges' relay. Step by step, with every participant
// decoding every other's video (frames decoded; the picture moving, not black, on the receiver track and in the
// tile, see everyoneDecodesEveryone) and audio at each step:
// B's bridge is killed (Ana and Ben move to C); B starts again and C drains (everyone moves to B, C exits); the
// signal instance the browsers are on is killed (they reconnect through HAProxy to the other, as themselves). The
// times are printed, not asserted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { joinThroughUi, launchBrowser, newParticipant, remoteStats, selectedPair, sleep, waitUntil, type Participant } from '../helpers/browser.ts';
import { decodingAgain, markConnections } from '../helpers/bridge-failover.ts';
import { startHaProxy, type HaProxy } from '../helpers/haproxy.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats.ts';
import { netnsUnavailable } from '../helpers/netns.ts';
import { createThreeMachines, type Machine, type ThreeMachines } from '../helpers/netns-three-machines.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { everyoneSeesEveryone } from '../helpers/video-stats.ts';

const skip = netnsUnavailable();
const ROOM = 'Tres Maquinas';
const NATS_PASSWORD = 'a-long-random-password-for-the-test';
const REGION_HEADER = 'X-Tertulia-Region';

/** One read of what `p` gets from each other participant. */
interface Seen {
  frames: number;
  audioPackets: number;
}

async function seenBy(p: Participant, others: Participant[]): Promise<Map<string, Seen>> {
  const stats = await remoteStats(p.page);
  return new Map(others.map((o) => [o.name, { frames: stats[o.name]?.framesDecoded ?? 0, audioPackets: stats[o.name]?.audioPackets ?? 0 }]));
}

/**
 * Waits until every participant decodes every other: between two reads a moment apart, frames decoded and audio
 * packets grew; then that everyone sees everyone's picture, not black and moving, on the receiver track and in
 * the tile (everyoneSeesEveryone), on kept and on new peer connections alike. Throws naming the pairs that did not.
 */
async function everyoneDecodesEveryone(people: Participant[], what: string, timeoutMs = 60_000): Promise<void> {
  const pending = new Set(people.flatMap((p) => people.filter((o) => o !== p).map((o) => `${p.name}<-${o.name}`)));
  const deadline = Date.now() + timeoutMs;
  const last = new Map<string, string>();
  while (pending.size > 0) {
    if (Date.now() > deadline) throw new Error(`${what}: not decoding: ${[...pending].map((k) => `${k} (${last.get(k)})`).join(', ')}`);
    for (const p of people) {
      const others = people.filter((o) => o !== p && pending.has(`${p.name}<-${o.name}`));
      if (others.length === 0) continue;
      const first = await seenBy(p, others);
      await sleep(600);
      const second = await seenBy(p, others);
      for (const o of others) {
        const key = `${p.name}<-${o.name}`;
        const [a, b] = [first.get(o.name)!, second.get(o.name)!];
        last.set(key, `frames ${a.frames}->${b.frames}, audio packets ${a.audioPackets}->${b.audioPackets}`);
        if (b.frames > a.frames && b.audioPackets > a.audioPackets) pending.delete(key);
      }
    }
  }
  await everyoneSeesEveryone(people, what, Math.max(deadline - Date.now(), 20_000));
}

/** Each remote video's counters on `page` (getStats inbound-rtp): what a failure message needs to tell where media stops. */
async function videoReceived(page: Participant['page']): Promise<unknown[]> {
  return await page.evaluate(async () => {
    const t = (window as any).__tertulia;
    const names = new Map<string, string>();
    for (const p of t?.participants ?? []) names.set(p.id, p.displayName);
    const byMid = new Map<string, string>();
    for (const s of t?.sources ?? []) byMid.set(String(s.mid), names.get(s.participantId) ?? s.participantId);
    const out: unknown[] = [];
    if (!t?.pc) return out;
    (await (t.pc as RTCPeerConnection).getStats()).forEach((s: any) => {
      if (s.type !== 'inbound-rtp' || s.kind !== 'video') return;
      const { mid, ssrc, packetsReceived, framesReceived, framesDecoded, framesDropped, keyFramesDecoded, pliCount, firCount, nackCount, frameWidth } = s;
      out.push({ from: byMid.get(String(mid)), mid, ssrc, packetsReceived, framesReceived, framesDecoded, framesDropped, keyFramesDecoded, pliCount, firCount, nackCount, frameWidth });
    });
    return out;
  });
}

/** Runs `step`; when it throws, adds what each page's peer connection receives (video: packets, frames, keyframes, requests). */
async function explained<T>(people: Participant[], step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (e) {
    const detail = await Promise.all(people.map(async (p) => `${p.name}: ${JSON.stringify(await videoReceived(p.page).catch(() => 'closed'))}`));
    (e as Error).message += `\nreceived video:\n${detail.join('\n')}`;
    throw e;
  }
}

describe('the three-machine install behind a NAT router', { skip: skip ?? false }, () => {
  let net: ThreeMachines;
  let nats: NatsServer;
  let focus: RunningServer;
  const signals: RunningServer[] = [];
  const bridges = new Map<Machine, RunningServer>();
  let proxy: HaProxy;
  let euBrowser: Browser;
  let usBrowser: Browser;
  let ana: Participant;
  let ben: Participant;
  let cleo: Participant;
  let people: Participant[] = [];
  const stopped: RunningServer[] = [];

  const natsOptions = () => ['--nats-url', nats.url, '--nats-user', 'tertulia'];
  const common = () => ({ TERTULIA_NATS_PASSWORD: NATS_PASSWORD, TERTULIA_LOG_LEVEL: 'info' });

  /** A bridge machine's process, as the README starts it (B region eu, C region us; the HTTPS port it does not use names its log). */
  const startBridge = async (m: Machine, region: string, id: string, httpsPort: number) => {
    const b = await startServer(
      { ...common(), TERTULIA_MEDIA_PORT: '10000', TERTULIA_TCP_MEDIA_PORT: '4443', TERTULIA_HTTPS_PORT: String(httpsPort), TERTULIA_HTTP_PORT: '8080' },
      { netns: m.ns, args: ['--parts', 'bridge', ...natsOptions(), '--public-address', m.publicAddress, '--region', region, '--bridge-id', id] },
    );
    bridges.set(m, b);
    return b;
  };
  /** A web/signal instance on machine A, on its own ports behind HAProxy. */
  const startSignal = (https: number, http: number) =>
    startServer(
      { ...common(), TERTULIA_HTTPS_PORT: String(https), TERTULIA_HTTP_PORT: String(http) },
      { netns: net.a.ns, host: net.a.publicAddress, args: ['--parts', 'web', ...natsOptions(), '--region', 'eu', '--region-header', REGION_HEADER] },
    );
  /** Which machine's bridge `p` sends its media to: the public address of its selected candidate pair. */
  const bridgeOf = async (p: Participant) => {
    const pair = await selectedPair(p.page);
    return pair?.remoteAddress === net.b.publicAddress ? 'B' : pair?.remoteAddress === net.c.publicAddress ? 'C' : `? (${pair?.remoteAddress})`;
  };
  const placement = async () => Object.fromEntries(await Promise.all(people.map(async (p) => [p.name, await bridgeOf(p)] as const)));
  const bridgeAvailable = (id: string) => focus.output().split('\n').filter((l) => l.includes(`"bridge":"${id}"`) && l.includes('"msg":"bridge available"')).length;
  const joinsOn = (s: RunningServer) => (s.output().match(/"msg":"participant joined"/g) ?? []).length;

  before(async () => {
    net = createThreeMachines();
    nats = await startNatsServer({ netns: net.a.ns, address: net.a.privateAddress, user: 'tertulia', password: NATS_PASSWORD, jetstream: true });
    const started = await Promise.all([
      startBridge(net.b, 'eu', 'bridge-b', 8443),
      startBridge(net.c, 'us', 'bridge-c', 8444),
      startServer({ ...common(), TERTULIA_HTTPS_PORT: '9445', TERTULIA_HTTP_PORT: '9082' }, { netns: net.a.ns, args: ['--parts', 'focus', ...natsOptions()] }),
      startSignal(9443, 9080),
      startSignal(9444, 9081),
    ]);
    focus = started[2];
    signals.push(started[3], started[4]);
    proxy = await startHaProxy(['127.0.0.1:9443', '127.0.0.1:9444'], {
      netns: net.a.ns,
      bind: net.a.privateAddress,
      port: 8443,
      regions: { header: REGION_HEADER, map: { [`${net.us.address}/32`]: 'us' } },
    });
    euBrowser = await launchBrowser(net.eu.chromium);
    usBrowser = await launchBrowser(net.us.chromium);
  });

  after(async () => {
    await euBrowser?.close();
    await usBrowser?.close();
    await proxy?.stop();
    for (const s of [...signals, focus, ...bridges.values(), ...stopped]) await s?.stop();
    await nats?.stop();
    net?.destroy();
  });

  test('three participants through the NAT, spread over B and C, decode each other', { timeout: 120_000 }, async () => {
    // the public address on 443, as participants would open it
    const url = `https://${net.a.publicAddress}`;
    ana = await newParticipant(euBrowser, 'Ana');
    ben = await newParticipant(euBrowser, 'Ben');
    cleo = await newParticipant(usBrowser, 'Cleo');
    people = [ana, ben, cleo];
    const t0 = Date.now();
    for (const p of people) {
      await joinThroughUi(p, url, ROOM);
      await p.page.evaluate(() => ((window as any).__noReload = true));
    }
    console.log(`# joined ${Date.now() - t0} ms after the first page opened`);
    await explained(people, () => everyoneDecodesEveryone(people, 'at the start'));
    console.log(`# everyone decodes everyone ${Date.now() - t0} ms after the first page opened`);
    assert.deepEqual(await placement(), { Ana: 'B', Ben: 'B', Cleo: 'C' }, 'each on the bridge of their region, through its public address');
    assert.match(focus.output(), /the conference spans another bridge/);
  });

  test("B's bridge is killed: Ana and Ben move to C, everyone decodes everyone again", { timeout: 120_000 }, async () => {
    await markConnections(people);
    const killedAt = Date.now();
    bridges.get(net.b)!.process.kill('SIGKILL');
    const ms = await explained(people, () => decodingAgain(people, killedAt, 60_000, [ana, ben]));
    console.log(`# after B's bridge was killed: everyone decodes everyone again in ${ms} ms (from C)`);
    await everyoneDecodesEveryone(people, 'after the kill');
    assert.deepEqual(await placement(), { Ana: 'C', Ben: 'C', Cleo: 'C' });
    assert.match(focus.output(), /bridge dead: no heartbeat for too long/);
  });

  test('B starts again and C drains: everyone moves to B, C exits', { timeout: 120_000 }, async () => {
    stopped.push(bridges.get(net.b)!);
    const heard = bridgeAvailable('bridge-b');
    await startBridge(net.b, 'eu', 'bridge-b', 8443);
    await waitUntil('focus to hear B again', async () => bridgeAvailable('bridge-b'), (n) => n > heard, 20_000);
    const c = bridges.get(net.c)!;
    await markConnections(people);
    const exited = new Promise<number | null>((r) => c.process.once('exit', (code) => r(code)));
    const termAt = Date.now();
    c.process.kill('SIGTERM');
    const ms = await explained(people, () => decodingAgain(people, termAt, 60_000));
    console.log(`# after SIGTERM to C's bridge: everyone decodes everyone again in ${ms} ms (from B)`);
    await everyoneDecodesEveryone(people, 'after the drain');
    assert.equal(await exited, 0, 'the drained bridge exits by itself, with status 0');
    assert.deepEqual(await placement(), { Ana: 'B', Ben: 'B', Cleo: 'B' });
  });

  test('the signal instance the browsers are on is killed: they reconnect to the other, the meeting goes on', { timeout: 120_000 }, async () => {
    const holder = signals.find((s) => joinsOn(s) === 3);
    assert.ok(holder, `one instance has the meeting's three joins: ${signals.map(joinsOn).join(', ')}`);
    const other = signals.find((s) => s !== holder)!;
    const ids = await Promise.all(people.map((p) => p.page.evaluate(() => (window as any).__tertulia?.selfId as string)));
    await markConnections(people);
    const killedAt = Date.now();
    holder.process.kill('SIGKILL');
    const ms = await explained(people, () => decodingAgain(people, killedAt, 90_000));
    console.log(`# after the signal instance was killed: everyone decodes everyone again in ${ms} ms (through the other instance)`);
    await everyoneDecodesEveryone(people, 'after the signal instance died');
    assert.equal(joinsOn(other), 3, 'the three are back through the other instance');
    for (const [i, p] of people.entries()) {
      assert.equal(await p.page.evaluate(() => (window as any).__noReload), true, `${p.name}'s page was not reloaded`);
      assert.equal(await p.page.evaluate(() => (window as any).__tertulia?.selfId), ids[i], `${p.name} is the same participant`);
    }
    for (const p of people) await p.context.close();
  });
});

// TURN as the last resort: a participant on a network that lets through only 443/tcp (no UDP at all, no other TCP
// port: nftables in its network namespace) joins a meeting with a participant on an open network, through TURN
// over TLS on the server's HTTPS port 443 (the real coturn, started by tertulia; tls-demux.ts). Each decodes the
// other's video and hears the other's audio, and the restricted one's selected candidate pair is a relay reached
// over TLS.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { joinThroughUi, launchBrowser, mediaFrom, newParticipant, selectedPair, waitUntil, type Participant } from '../helpers/browser.ts';
import { createOnly443Setup, nftUnavailable, tcpProbe, type Only443Setup } from '../helpers/netns.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { findTurnserver } from '../../src/turn/turn-service.ts';

const skip = nftUnavailable() ?? (findTurnserver() ? null : 'coturn (turnserver) is not installed');

describe('a participant whose network allows only 443/tcp gets media through TURN over TLS', { skip: skip ?? false }, () => {
  let net: Only443Setup | undefined;
  let server: RunningServer | undefined;
  const browsers: Browser[] = [];
  const people: Participant[] = [];
  let baseUrl = '';

  before(async () => {
    net = createOnly443Setup();
    server = await startServer(
      { TERTULIA_HTTPS_PORT: '443', TERTULIA_HTTP_PORT: '0', TERTULIA_TCP_MEDIA_PORT: '4443', TERTULIA_TURN: 'on' },
      { netns: net.server, host: net.serverAddress },
    );
    baseUrl = `https://${net.serverAddress}`;
    browsers.push(await launchBrowser(net.serverChromium));
    // Chrome checks a TURN server's certificate against its trusted authorities (accepting the page's warning does
    // not cover it: without this flag it refuses the self-signed one); the flag stands in for a trusted certificate
    browsers.push(await launchBrowser(net.clientChromium, ['--ignore-certificate-errors']));
  });
  after(async () => {
    for (const b of browsers) await b.close();
    await server?.stop();
    net?.destroy();
  });

  test('the restricted namespace reaches 443/tcp and nothing else', () => {
    const probe = (port: number) => tcpProbe(net!.client, net!.serverAddress, port);
    assert.equal(probe(443), 'open');
    assert.notEqual(probe(4443), 'open');
    assert.notEqual(probe(3478), 'open');
  });

  test('both participants decode each other, the restricted one over a TLS relay', async () => {
    const open = await newParticipant(browsers[0]!, 'Abierta');
    const closed = await newParticipant(browsers[1]!, 'Cerrada');
    people.push(open, closed);
    await joinThroughUi(open, baseUrl, 'solo-443');
    await joinThroughUi(closed, baseUrl, 'solo-443');
    for (const p of people) {
      const other = people.find((o) => o !== p)!.name;
      await mediaFrom(p, other, 90_000);
    }
    const pair = await waitUntil("the restricted participant's selected pair", () => selectedPair(closed.page), (v) => v !== null, 10_000);
    assert.deepEqual({ type: pair!.localCandidateType, relay: pair!.localRelayProtocol }, { type: 'relay', relay: 'tls' }, JSON.stringify(pair));
    const openPair = await waitUntil("the open participant's selected pair", () => selectedPair(open.page), (v) => v !== null, 10_000);
    assert.equal(openPair!.localCandidateType === 'relay', false, JSON.stringify(openPair));
  });
});

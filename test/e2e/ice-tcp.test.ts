// ICE-TCP (RFC 6544): a browser whose UDP to the bridge is blocked reaches it over the bridge's TCP media port.
// UDP to the media port is dropped on the loopback interface by an nftables rule (a table of this test's own, an
// output hook, only that port; deleted afterwards); two participants must still get each other's audio and video,
// over a tcp pair.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { joinThroughUi, newParticipant, remoteStats, selectedPair, waitUntil, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';
import { freeTcpPort } from '../helpers/ports.ts';

function nftUsable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (nft)';
  try {
    execFileSync('nft', ['list', 'tables'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'nft is not usable here';
  }
}

const skip = nftUsable();

for (const workers of [1, 2]) {
  describe(`media over ICE-TCP when UDP is blocked (media workers: ${workers})`, { skip: skip ?? false }, () => {
    let tcpPort = 0;
    const table = `tt_icetcp_${process.pid}_${workers}`;
    let ruled = false;
    // with two workers one owns the TCP port and becomes the egress worker of whoever connects over TCP
    const env: Record<string, string> = { TERTULIA_MEDIA_WORKERS: String(workers) };
    before(async () => {
      tcpPort = await freeTcpPort();
      env.TERTULIA_TCP_MEDIA_PORT = String(tcpPort);
    });
    const suite = useServerAndBrowser(env);
    const people: Participant[] = [];

    before(() => {
      execFileSync('nft', ['-f', '-'], {
        input: `table inet ${table} {\n  chain out { type filter hook output priority 0; policy accept; oifname "lo" udp dport ${suite.server.mediaPort} drop; }\n}\n`,
      });
      ruled = true;
    });
    after(() => {
      if (ruled) execFileSync('nft', ['delete', 'table', 'inet', table]);
    });

    test('two participants see and hear each other over TCP', async () => {
      for (const name of ['Tomás', 'Tere']) {
        const p = await newParticipant(suite.browser, name);
        people.push(p);
        await joinThroughUi(p, suite.server.baseUrl, 'solo-tcp');
      }
      for (const p of people) {
        const other = people.find((o) => o !== p)!.name;
        const stats = await waitUntil(
          `${p.name} to get media from ${other}`,
          () => remoteStats(p.page),
          (s) => (s[other]?.framesDecoded ?? 0) > 10 && (s[other]?.audioPackets ?? 0) > 20,
          60_000,
        );
        assert.ok(stats[other]!.framesDecoded > 10);
      }
    });

    test('the selected candidate pair is TCP on both sides', async () => {
      for (const p of people) {
        const pair = await waitUntil(`${p.name}'s selected pair`, () => selectedPair(p.page), (v) => v !== null, 10_000);
        assert.deepEqual({ local: pair!.localProtocol, remote: pair!.remoteProtocol }, { local: 'tcp', remote: 'tcp' }, `${p.name}: ${JSON.stringify(pair)}`);
      }
    });
  });
}

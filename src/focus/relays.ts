// The relays of a conference that spans bridges: for every two of its bridges X and Y, one relay endpoint on
// each (on X the endpoint `relay~Y`, on Y `relay~X`), joined by one SRTP-over-UDP path between the bridges
// (the bridge's relay transport; focus makes both keys). The relay endpoint on Y sends into Y the sources of
// the participants on X (each source once, with the SSRCs every receiver knows it by), so the receivers on Y
// subscribe to them as if their senders were on Y; the one on X receives them (it subscribes to X's sources).
// Keyframe requests and NACKs of Y's receivers go back over the same path to X.
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import type { BusCallSpec } from '../bus/typed-calls.ts';
import type { Logger } from '../log.ts';
import { busCalls } from '../protocol/bus-calls.ts';
import type { MediaSource } from '../protocol/bus-messages.ts';

export const relayEndpointId = (farBridge: string) => `relay~${farBridge}`;

/** AES_CM_128_HMAC_SHA1_80 master key and salt (16 + 14 bytes), base64 as in SDES. */
const newSrtpKey = () => randomBytes(30).toString('base64');

export interface RelaysHost {
  conferenceId: string;
  log: Logger;
  /** A call to one of the conference's bridges. */
  call<C extends BusCallSpec>(bridgeId: string, spec: C, payload: z.input<C['request']>): Promise<z.output<C['reply']>>;
}

interface Pair {
  a: string;
  b: string;
  /** What each side's relay endpoint was last told: the sources it sends into its bridge, and what it receives. */
  told: Map<string, string>;
}

export class Relays {
  private readonly host: RelaysHost;
  private readonly pairs: Pair[] = [];

  constructor(host: RelaysHost) {
    this.host = host;
  }

  get size(): number {
    return this.pairs.length;
  }

  /** The bridge pairs relayed (conference-store.ts keeps them). */
  pairList(): [string, string][] {
    return this.pairs.map((p) => [p.a, p.b]);
  }

  /** A relay made by an earlier focus (restored from the store): its ends are told their sources again at the next sync. */
  restorePair(a: string, b: string): void {
    if (!this.pairs.some((p) => (p.a === a && p.b === b) || (p.a === b && p.b === a))) this.pairs.push({ a, b, told: new Map() });
  }

  /** Joins bridge `added` to each of `existing` with a relay (allocated on both bridges). */
  async addBridge(added: string, existing: readonly string[]): Promise<void> {
    for (const other of existing) {
      if (other === added || this.pairs.some((p) => (p.a === other && p.b === added) || (p.a === added && p.b === other))) continue;
      const keys = { fromA: newSrtpKey(), fromB: newSrtpKey() };
      const { conferenceId } = this.host;
      // A learns where B sends from (its first packet that authenticates); B is told where A listens
      const onA = await this.host.call(other, busCalls.bridgeAllocateRelay, { conferenceId, endpointId: relayEndpointId(added), sendKey: keys.fromA, receiveKey: keys.fromB });
      await this.host.call(added, busCalls.bridgeAllocateRelay, {
        conferenceId,
        endpointId: relayEndpointId(other),
        sendKey: keys.fromB,
        receiveKey: keys.fromA,
        peer: { address: onA.address, port: onA.port },
      });
      this.pairs.push({ a: other, b: added, told: new Map() });
      this.host.log.info({ bridges: [other, added] }, 'bridges relay this conference');
    }
  }

  /**
   * Tells every relay endpoint what it carries now: `sourcesOn` gives, per bridge, the sources of the
   * participants placed there. Only what changed is sent.
   */
  async sync(sourcesOn: (bridgeId: string) => MediaSource[]): Promise<void> {
    const { conferenceId } = this.host;
    for (const pair of this.pairs) {
      for (const [near, far] of [
        [pair.a, pair.b],
        [pair.b, pair.a],
      ] as const) {
        // on `near`, relay~far sends the far bridge's sources and receives the near bridge's own
        const endpointId = relayEndpointId(far);
        const sends = sourcesOn(far);
        const receives = sourcesOn(near).map((s) => s.ssrc);
        const key = `${near}\n${JSON.stringify(sends)}\n${receives.join(',')}`;
        if (pair.told.get(near) === key) continue;
        await this.host.call(near, busCalls.bridgeSetSources, { conferenceId, endpointId, sources: sends });
        await this.host.call(near, busCalls.bridgeSubscribe, { conferenceId, endpointId, ssrcs: receives });
        pair.told.set(near, key);
      }
    }
  }

  /**
   * Forgets the relays to bridge `lost` (it went away or drains): their ends on the other bridges are expired,
   * and the ends on `lost` too unless it is `dead`.
   */
  async dropBridge(lost: string, dead: boolean): Promise<void> {
    const { conferenceId } = this.host;
    const ends: [string, string][] = [];
    for (let i = this.pairs.length - 1; i >= 0; i--) {
      const p = this.pairs[i]!;
      if (p.a !== lost && p.b !== lost) continue;
      this.pairs.splice(i, 1);
      const other = p.a === lost ? p.b : p.a;
      ends.push([other, relayEndpointId(lost)]);
      if (!dead) ends.push([lost, relayEndpointId(other)]);
    }
    await Promise.allSettled(ends.map(([bridgeId, endpointId]) => this.host.call(bridgeId, busCalls.bridgeExpire, { conferenceId, endpointId })));
  }

  /** Expires every relay endpoint (the conference ended). */
  async close(): Promise<void> {
    const { conferenceId } = this.host;
    const all = this.pairs.splice(0).flatMap((p) => [
      [p.a, relayEndpointId(p.b)],
      [p.b, relayEndpointId(p.a)],
    ]);
    await Promise.allSettled(all.map(([bridgeId, endpointId]) => this.host.call(bridgeId!, busCalls.bridgeExpire, { conferenceId, endpointId: endpointId! })));
  }
}

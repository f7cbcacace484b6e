// Which bridge a participant goes to (pure: focus/index.ts keeps the bridges and calls these). A bridge has
// room while its load (the larger of the endpoints it announced and those focus placed on it) is below its
// cap (maxEndpointsPerBridge) and its announced stress (CPU use per core) is below maxBridgeStress. When no
// bridge has room so counted, the stress is let go (as Jicofo falls back to overloaded bridges): a busy bridge
// still takes people up to its cap rather than nobody being let in.
//  - A new conference starts on a bridge with room, of the participant's region when one has room, else the
//    least loaded (then the one with fewer conferences).
//  - A participant of a running conference goes to, in this order: one of the conference's bridges in its
//    region with room; another bridge in its region with room (the conference then spans it: people meet
//    over the relay, each near their own bridge); one of the conference's bridges with room (in the order
//    the conference took them); the least loaded other bridge with room.
// A participant without a region, or whose region has no bridge with room, is placed as if regions did not
// exist. Only the bridges in `known` take people: one focus no longer hears (dead) or that is draining is being
// left (failover.ts moves its participants), even when the conference spans it.

export interface BridgeState {
  id: string;
  /** max(announced endpoints, endpoints focus placed). */
  load: number;
  maxEndpoints: number;
  /** CPU use per core (0..1) in its last announcement; 0 when it did not say. */
  stress: number;
  region: string | undefined;
  conferences: number;
}

export const hasRoom = (b: BridgeState, maxStress: number): boolean => b.load < b.maxEndpoints && b.stress < maxStress;

/** Least loaded first, then fewer conferences, then less stress. */
function lighter(a: BridgeState, b: BridgeState): number {
  return a.load - b.load || a.conferences - b.conferences || a.stress - b.stress;
}

/** The bridge a new conference starts on, or undefined when none has room. */
export function chooseFirstBridge(bridges: readonly BridgeState[], region: string | undefined, maxStress: number): BridgeState | undefined {
  const pick = (stressLimit: number) => {
    const open = bridges.filter((b) => hasRoom(b, stressLimit)).sort(lighter);
    return (region !== undefined ? open.find((b) => b.region === region) : undefined) ?? open[0];
  };
  return pick(maxStress) ?? pick(Infinity);
}

/**
 * The bridge a participant of a running conference goes to: `spanned` are the conference's bridges (its first
 * first), `known` the bridges focus hears from. `homeOnly`: only the conference's first bridge (a plain-RTP
 * sender). Undefined when none has room.
 */
export function chooseBridgeFor(opts: {
  spanned: readonly string[];
  known: ReadonlyMap<string, BridgeState>;
  region: string | undefined;
  maxStress: number;
  homeOnly?: boolean;
}): string | undefined {
  return placeWithin(opts, opts.maxStress) ?? placeWithin(opts, Infinity);
}

function placeWithin(opts: { spanned: readonly string[]; known: ReadonlyMap<string, BridgeState>; region: string | undefined; homeOnly?: boolean }, maxStress: number): string | undefined {
  const { spanned, known, region } = opts;
  const roomy = (id: string) => {
    const b = known.get(id);
    return b !== undefined && hasRoom(b, maxStress);
  };
  if (opts.homeOnly) return spanned.slice(0, 1).find(roomy);
  const others = [...known.values()].filter((b) => !spanned.includes(b.id) && hasRoom(b, maxStress)).sort(lighter);
  if (region !== undefined) {
    const near = spanned.find((id) => known.get(id)?.region === region && roomy(id)) ?? others.find((b) => b.region === region)?.id;
    if (near !== undefined) return near;
  }
  return spanned.find(roomy) ?? others[0]?.id;
}

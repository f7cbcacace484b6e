// A thread's native routes (native/routes.c): the table the receive batches forward steady simulcast layers and plain
// sources with, without JavaScript, and the log of what they forwarded. Made by UdpTransport on the thread's send queue; filled and
// booked by the bridge (../native-forwarding.ts). Nothing here runs per packet.
import type { NativeSrtpContext } from './srtp.ts';
import type { UdpBatchModule } from './udp-batch.ts';

/**
 * Entries of the log (records of 9 + 3 per receiver) and bytes of the store (each packet's plain bytes): what the
 * module forwards between two JavaScript runs of the thread (its media clock runs every 50 ms) fits with room
 * (a meeting of five: ~1,000 packets and 1 MB a second); when either is full, packets take the JavaScript path.
 */
export const ROUTES_LOG_ENTRIES = 64 * 1024;
export const ROUTES_STORE_BYTES = 1024 * 1024;

/** What a transport's routes state holds (WebRtcTransport.nativeOut): mode, address, port, next transport-wide number. */
export const ROUTE_MODE = 0;
export const ROUTE_ADDRESS = 1;
export const ROUTE_PORT = 2;
export const ROUTE_TW_SEQ = 3;
/** Modes: not connected (its receivers skipped), sendable by the module, sent by JavaScript (its packets go there). */
export const ROUTE_SKIP = 0;
export const ROUTE_NATIVE = 1;
export const ROUTE_JS = 2;

/** The layer of an entry whose stream JavaScript forwards (its packets only mark their source for the batch). */
export const ROUTE_JS_ONLY = -2;

/** The module with its routes. */
export type RoutesModule = UdpBatchModule & Required<Pick<UdpBatchModule, 'createRoutes' | 'setRouteTransport' | 'setRoute' | 'clearRoutes' | 'setRoutesClock'>>;

export function routesModule(mod: UdpBatchModule | null): RoutesModule | null {
  return mod !== null && typeof mod.createRoutes === 'function' && typeof mod.setRoutesClock === 'function' ? (mod as RoutesModule) : null;
}

/** The extension ids and payload type the module reads packets with. */
export interface RouteIds {
  twcc: number;
  mid: number;
  repairedRid: number;
  hidden: number;
  vp8PayloadType: number;
  audioLevel: number;
}

export class NativeRoutes {
  readonly handle: unknown;
  /** [0] on, [1] log entries used, [2] store bytes used. */
  readonly state = new Int32Array(3);
  readonly log = new Float64Array(ROUTES_LOG_ENTRIES);
  /** The plain bytes of the packets logged (mid and rid hidden), back to back. */
  readonly store = Buffer.from(new ArrayBuffer(ROUTES_STORE_BYTES));
  private readonly mod: RoutesModule;

  constructor(mod: RoutesModule, queue: unknown, ids: RouteIds) {
    this.mod = mod;
    this.handle = mod.createRoutes(
      queue,
      this.state,
      this.log,
      this.store.buffer as ArrayBuffer,
      Int32Array.of(ids.twcc, ids.mid, ids.repairedRid, ids.hidden, ids.vp8PayloadType, ids.audioLevel),
    );
  }

  /** Whether the module forwards now (off the moment what the routes say may be stale). */
  get on(): boolean {
    return this.state[0] === 1;
  }
  set on(v: boolean) {
    this.state[0] = v ? 1 : 0;
  }

  /** Forgets every route and transport, and sets the rewriters' clock (performance.now() now). */
  clear(nowMs: number): void {
    this.mod.clearRoutes(this.handle);
    this.mod.setRoutesClock(this.handle, nowMs);
  }

  setTransport(id: number, ctx: NativeSrtpContext | null, state: Int32Array): boolean {
    return this.mod.setRouteTransport(this.handle, id, ctx, state);
  }

  /**
   * Routes stream `ssrc` (log id `streamId`) of source `group` from transport `sender` to `outs`' receivers: simulcast
   * layer `layer` (with the receivers' rewriters' states and histories), a plain source (layer -1, none), or a
   * stream JavaScript forwards (ROUTE_JS_ONLY, no outs). Throws on what the module refuses outright.
   */
  setRoute(sender: number, ssrc: number, layer: number, streamId: number, group: number, outs: Int32Array, states: ArrayBuffer[], histories: ArrayBuffer[]): boolean {
    return this.mod.setRoute(this.handle, sender, ssrc, layer, streamId, group, outs, states, histories);
  }
}

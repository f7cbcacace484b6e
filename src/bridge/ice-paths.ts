// The bridge's ICE bookkeeping: its WebRTC transports by the ufrag it gave them, and by every path whose check
// passed (a UDP address, or an ICE-TCP connection the check made theirs). A UDP address belongs to one transport
// at a time and is mapped to that transport's receiving SRTP keys for the native receive batches
// (`UdpTransport.setSrtpPeer`), set and cleared with the map's entries. Which path a transport sends on (its
// selected one) stays with the transport (`WebRtcTransport.select`); the bridge decides it (`Bridge.iceCheckPassed`).
import { randomBytes } from 'node:crypto';
import type { SrtpSession } from './packet/srtp.ts';
import type { TcpPath } from './tcp-transport.ts';
import type { WebRtcTransport } from './webrtc-transport.ts';

/** Remote addresses remembered per transport (ICE may check several before nominating one). */
const MAX_ADDRESSES_PER_TRANSPORT = 8;

const ICE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** A random string of ICE characters (RFC 8839 ice-char), `length` long. */
export function randomIceString(length: number): string {
  const bytes = randomBytes(length);
  let s = '';
  for (let i = 0; i < length; i++) s += ICE_CHARS[bytes[i] & 63];
  return s;
}

/** What the paths need of the UDP socket: its native receive's address -> keys map. */
export interface SrtpPeerMap {
  setSrtpPeer(address: string, port: number, session: SrtpSession | null, sender?: number): void;
}

export class IcePaths {
  private readonly byUfrag = new Map<string, WebRtcTransport>();
  /** port -> address -> WebRTC transport, for every UDP address that passed an ICE check. */
  private readonly byAddress = new Map<number, Map<string, WebRtcTransport>>();

  private readonly udp: SrtpPeerMap;

  constructor(udp: SrtpPeerMap) {
    this.udp = udp;
  }

  /** A ufrag for a new transport: `wanted` when given and not taken, else a fresh random one. */
  freeUfrag(wanted: string): string {
    let ufrag = wanted;
    if (ufrag === '' || this.byUfrag.has(ufrag)) {
      do ufrag = randomIceString(12);
      while (this.byUfrag.has(ufrag));
    }
    return ufrag;
  }

  /** `t` answers checks for its ufrag from now on. */
  add(t: WebRtcTransport): void {
    this.byUfrag.set(t.ufrag, t);
  }

  /** `t` no longer answers checks (its paths are forgotten with `forgetAll`). */
  remove(t: WebRtcTransport): void {
    if (this.byUfrag.get(t.ufrag) === t) this.byUfrag.delete(t.ufrag);
  }

  byLocalUfrag(ufrag: string): WebRtcTransport | undefined {
    return this.byUfrag.get(ufrag);
  }

  /** The transport whose check passed from this UDP address, if any. */
  at(address: string, port: number): WebRtcTransport | undefined {
    const m = this.byAddress.get(port);
    return m === undefined ? undefined : m.get(address);
  }

  /**
   * A check from address:port (on the ICE-TCP connection `tcp`, else UDP) passed for `t`: the path is `t`'s from
   * now, taken from whichever transport had it; past MAX_ADDRESSES_PER_TRANSPORT, a path `t` does not send on
   * makes room.
   */
  checked(t: WebRtcTransport, address: string, port: number, tcp: TcpPath | null): void {
    const known = tcp !== null ? tcp.owner : (this.at(address, port) ?? null);
    if (known === t) return;
    if (known !== null) this.forget(known, address, port, tcp);
    if (t.checkedAddresses.length >= MAX_ADDRESSES_PER_TRANSPORT) {
      const victim = t.checkedAddresses.find((a) => !t.selects(a.address, a.port, a.tcp));
      if (victim) this.forget(t, victim.address, victim.port, victim.tcp);
    }
    if (tcp !== null) tcp.owner = t;
    else {
      let m = this.byAddress.get(port);
      if (m === undefined) this.byAddress.set(port, (m = new Map()));
      m.set(address, t);
      this.udp.setSrtpPeer(address, port, t.srtpIn, t.nativeId);
    }
    t.checkedAddresses.push({ address, port, tcp });
  }

  /** One path of `t` forgotten (an ICE-TCP connection closed, another transport's check took it): not selected either. */
  forget(t: WebRtcTransport, address: string, port: number, tcp: TcpPath | null): void {
    if (tcp !== null) {
      if (tcp.owner === t) tcp.owner = null;
    } else {
      const m = this.byAddress.get(port);
      if (m !== undefined && m.get(address) === t) {
        m.delete(address);
        if (m.size === 0) this.byAddress.delete(port);
        this.udp.setSrtpPeer(address, port, null);
      }
    }
    const i = t.checkedAddresses.findIndex((a) => a.address === address && a.port === port && a.tcp === tcp);
    if (i >= 0) t.checkedAddresses.splice(i, 1);
    if (t.selects(address, port, tcp)) t.select(null, 0, null, false);
  }

  /** Every path of `t` forgotten (its session torn down). */
  forgetAll(t: WebRtcTransport): void {
    for (const a of [...t.checkedAddresses]) this.forget(t, a.address, a.port, a.tcp);
  }

  /** `t.srtpIn` changed: its UDP addresses' datagrams are unprotected with the new keys from now on. */
  keysChanged(t: WebRtcTransport): void {
    for (const a of t.checkedAddresses) {
      if (a.tcp === null && this.at(a.address, a.port) === t) this.udp.setSrtpPeer(a.address, a.port, t.srtpIn, t.nativeId);
    }
  }

  /** How many ufrags and UDP addresses are held (the resource counts). */
  counts(): { ufrags: number; addresses: number } {
    let addresses = 0;
    for (const m of this.byAddress.values()) addresses += m.size;
    return { ufrags: this.byUfrag.size, addresses };
  }

  clear(): void {
    this.byUfrag.clear();
    this.byAddress.clear();
  }
}

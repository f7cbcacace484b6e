// What bridges of a conference tell each other over a relay besides media and standard feedback. First, which
// simulcast layers the receivers on this side want of each camera that comes from the far side. An RTCP APP
// packet (RFC 3550 §6.7) named "TLAY": the sending bridge's media worker, then per camera its primary SSRC
// (the one receivers know it by) and a bit per layer (bit i: layer i, lowest first). Each media worker of the
// receiving side sends what its own receivers want when it changes and every second; the sending side takes
// the union of its workers' wishes (downtrack.ts `relayWant`).
import { RTCP_APP } from './rtcp.ts';

export const RELAY_LAYERS_NAME = 'TLAY';
/** Cameras per packet at most (12 + 8 x 128 bytes, well within one datagram). */
export const MAX_RELAY_LAYER_ENTRIES = 128;

export interface RelayLayerWish {
  ssrc: number;
  mask: number;
}

/** Writes the APP packet at out[offset..]; returns its length (0: no room, or too many entries). */
export function writeRelayLayers(out: Buffer, offset: number, senderSsrc: number, worker: number, wishes: readonly RelayLayerWish[]): number {
  const n = wishes.length;
  const len = 16 + 8 * n;
  if (n > MAX_RELAY_LAYER_ENTRIES || offset < 0 || offset + len > out.length) return 0;
  out[offset] = 0x80; // V=2, subtype 0
  out[offset + 1] = RTCP_APP;
  out.writeUInt16BE(len / 4 - 1, offset + 2);
  out.writeUInt32BE(senderSsrc >>> 0, offset + 4);
  out.write(RELAY_LAYERS_NAME, offset + 8, 'latin1');
  out[offset + 12] = worker & 0xff;
  out[offset + 13] = n;
  out[offset + 14] = 0;
  out[offset + 15] = 0;
  for (let i = 0; i < n; i++) {
    const o = offset + 16 + 8 * i;
    out.writeUInt32BE(wishes[i].ssrc >>> 0, o);
    out[o + 4] = wishes[i].mask & 0xff;
    out[o + 5] = 0;
    out[o + 6] = 0;
    out[o + 7] = 0;
  }
  return len;
}

/**
 * Reads the APP packet at buf[offset..offset+length) (as forEachRtcp gives it): calls cb per camera. false
 * when it is not a TLAY packet or is cut short (nothing is called then).
 */
export function readRelayLayers(buf: Buffer, offset: number, length: number, cb: (worker: number, ssrc: number, mask: number) => void): boolean {
  if (length < 16 || offset + length > buf.length || buf[offset + 1] !== RTCP_APP) return false;
  for (let i = 0; i < 4; i++) if (buf[offset + 8 + i] !== RELAY_LAYERS_NAME.charCodeAt(i)) return false;
  const n = buf[offset + 13];
  if (16 + 8 * n > length) return false;
  const worker = buf[offset + 12];
  for (let i = 0; i < n; i++) {
    const o = offset + 16 + 8 * i;
    cb(worker, buf.readUInt32BE(o), buf[o + 4]);
  }
  return true;
}

/**
 * The other direction, "TRAT": the sending bridge tells the far one what each camera's layers are (their
 * send rate and frame size as measured where the camera is), so that a receiver there can choose a layer it
 * does not get yet (a layer not crossing the relay measures 0 there). Per camera: its primary SSRC, then for
 * each of 4 layer slots the rate in kbit/s, the width and height (0: unknown or not sent).
 */
export const RELAY_RATES_NAME = 'TRAT';
export const RELAY_RATE_LAYERS = 4;
const RATE_ENTRY = 4 + 6 * RELAY_RATE_LAYERS;
/** Cameras per packet at most. */
export const MAX_RELAY_RATE_ENTRIES = 32;

export interface RelayLayerRates {
  ssrc: number;
  /** Per layer, lowest first (at most 4). */
  layers: readonly { kbps: number; width: number; height: number }[];
}

export function writeRelayRates(out: Buffer, offset: number, senderSsrc: number, entries: readonly RelayLayerRates[]): number {
  const n = entries.length;
  const len = 16 + RATE_ENTRY * n;
  if (n > MAX_RELAY_RATE_ENTRIES || offset < 0 || offset + len > out.length) return 0;
  out[offset] = 0x80;
  out[offset + 1] = RTCP_APP;
  out.writeUInt16BE(len / 4 - 1, offset + 2);
  out.writeUInt32BE(senderSsrc >>> 0, offset + 4);
  out.write(RELAY_RATES_NAME, offset + 8, 'latin1');
  out.writeUInt32BE(n, offset + 12);
  for (let i = 0; i < n; i++) {
    const o = offset + 16 + RATE_ENTRY * i;
    out.writeUInt32BE(entries[i].ssrc >>> 0, o);
    for (let l = 0; l < RELAY_RATE_LAYERS; l++) {
      const layer = entries[i].layers[l];
      const p = o + 4 + 6 * l;
      out.writeUInt16BE(Math.min(0xffff, Math.max(0, Math.round(layer?.kbps ?? 0))), p);
      out.writeUInt16BE(Math.min(0xffff, layer?.width ?? 0), p + 2);
      out.writeUInt16BE(Math.min(0xffff, layer?.height ?? 0), p + 4);
    }
  }
  return len;
}

/** Reads a TRAT packet: cb per camera and layer slot. false when it is not one or is cut short. */
export function readRelayRates(
  buf: Buffer,
  offset: number,
  length: number,
  cb: (ssrc: number, layer: number, kbps: number, width: number, height: number) => void,
): boolean {
  if (length < 16 || offset + length > buf.length || buf[offset + 1] !== RTCP_APP) return false;
  for (let i = 0; i < 4; i++) if (buf[offset + 8 + i] !== RELAY_RATES_NAME.charCodeAt(i)) return false;
  const n = buf.readUInt32BE(offset + 12);
  if (n > MAX_RELAY_RATE_ENTRIES || 16 + RATE_ENTRY * n > length) return false;
  for (let i = 0; i < n; i++) {
    const o = offset + 16 + RATE_ENTRY * i;
    const ssrc = buf.readUInt32BE(o);
    for (let l = 0; l < RELAY_RATE_LAYERS; l++) {
      const p = o + 4 + 6 * l;
      cb(ssrc, l, buf.readUInt16BE(p), buf.readUInt16BE(p + 2), buf.readUInt16BE(p + 4));
    }
  }
  return true;
}

/** Which of the two a relay's APP packet is: 'wishes' (TLAY), 'rates' (TRAT), or null. */
export function relayAppKind(buf: Buffer, offset: number, length: number): 'wishes' | 'rates' | null {
  if (length < 12) return null;
  const is = (name: string) => {
    for (let i = 0; i < 4; i++) if (buf[offset + 8 + i] !== name.charCodeAt(i)) return false;
    return true;
  };
  return is(RELAY_LAYERS_NAME) ? 'wishes' : is(RELAY_RATES_NAME) ? 'rates' : null;
}

/**
 * SRTP / SRTCP (RFC 3711) with AES_CM_128_HMAC_SHA1_80, and AEAD_AES_128_GCM / AEAD_AES_256_GCM (RFC 7714).
 *
 * One SrtpSession holds one direction's master key (DTLS-SRTP gives a client-write and a server-write key:
 * the bridge uses one session to unprotect what a browser sends and another to protect what it sends to
 * that browser). With the native module (below) each of its contexts keeps its per-SSRC state (ROC, highest index,
 * replay window: native/srtp-streams.c) and a packet is one call. Without it that state lives here in Maps of small
 * objects created once per SSRC; nothing else is allocated per packet except what Node's crypto API forces:
 *  - AES-CM: the keystream comes from one reused AES-ECB cipher fed with counter blocks built in a
 *    preallocated buffer (`update` returns a fresh Buffer, unavoidable in Node). The keystream depends only
 *    on the key, SSRC and index, so for RTP it is made ahead for the next packets of each stream, about
 *    KEYSTREAM_BATCH_BYTES per cipher call (a call costs ~1.9 µs for one 1100-byte packet and ~2.9 µs for
 *    eight): a stream moving forward pays a fraction of a call per packet.
 *  - HMAC-SHA1: Node cannot reset an Hmac, so one `createHmac` per packet. Measured on Node 22 for an
 *    1100-byte packet: createHmac ~2.8 µs, precomputed ipad/opad states with `Hash.copy()` ~5.8 µs,
 *    two one-shot `crypto.hash` calls ~3.7 µs; createHmac stays.
 *  - AES-GCM: one `createCipheriv('aes-128-gcm')` per packet (Node has no way to re-key the nonce).
 * That cost is why RTP's protect (done once per receiver of every forwarded packet) and unprotect, and SRTCP's
 * (every RTCP packet: the transport-cc feedback the bridge sends, the reports and feedback it receives), hand
 * their cipher and tag to the optional native module (native/srtp.c: the OpenSSL inside Node, with contexts made
 * once per session key, one for RTP's keys and one for RTCP's) when it is built, with their rollover counters and
 * replay windows. Key derivation and the SRTCP index sent stay here for both paths.
 *
 * All protect/unprotect methods return -1 on malformed input, authentication failure or replay, and never throw.
 */
import { createCipheriv, createDecipheriv, createHmac, type Cipheriv } from 'node:crypto';
import { rtpHeaderLength } from './rtp.ts';
import { nativeSrtp, type NativeSrtpContext, type SrtpNativeModule } from '../native/srtp.ts';

export type SrtpProfileName = 'AES_CM_128_HMAC_SHA1_80' | 'AEAD_AES_128_GCM' | 'AEAD_AES_256_GCM';

/** DTLS-SRTP protection profile ids (RFC 5764 §4.1.2, RFC 7714 §14.2). */
export const SRTP_PROFILE_IDS: Record<number, SrtpProfileName> = {
  0x0001: 'AES_CM_128_HMAC_SHA1_80',
  0x0007: 'AEAD_AES_128_GCM',
  0x0008: 'AEAD_AES_256_GCM',
};

/** Master key and salt lengths in bytes. */
export function srtpKeyLengths(profile: SrtpProfileName): { keyLength: number; saltLength: number } {
  switch (profile) {
    case 'AES_CM_128_HMAC_SHA1_80':
      return { keyLength: 16, saltLength: 14 };
    case 'AEAD_AES_128_GCM':
      return { keyLength: 16, saltLength: 12 };
    case 'AEAD_AES_256_GCM':
      return { keyLength: 32, saltLength: 12 };
  }
}

/** Bytes protectRtp adds (auth tag): 10 for AES-CM/HMAC-SHA1-80, 16 for GCM. */
export function srtpRtpOverhead(profile: SrtpProfileName): number {
  return profile === 'AES_CM_128_HMAC_SHA1_80' ? 10 : 16;
}
/** Bytes protectRtcp adds (E|index + tag): 14 for AES-CM/HMAC-SHA1-80, 20 for GCM. */
export function srtpRtcpOverhead(profile: SrtpProfileName): number {
  return profile === 'AES_CM_128_HMAC_SHA1_80' ? 14 : 20;
}
/** Upper bound of the bytes any profile adds to an RTP packet / an RTCP packet. */
export const SRTP_MAX_RTP_OVERHEAD = 16;
export const SRTCP_MAX_OVERHEAD = 20;

export interface SrtpSessionKeys {
  rtpKey: Buffer;
  rtpSalt: Buffer;
  /** 20 bytes for HMAC-SHA1; empty for GCM. */
  rtpAuthKey: Buffer;
  rtcpKey: Buffer;
  rtcpSalt: Buffer;
  rtcpAuthKey: Buffer;
}

function ecbFor(key: Buffer): Cipheriv {
  const alg = key.length === 32 ? 'aes-256-ecb' : key.length === 24 ? 'aes-192-ecb' : 'aes-128-ecb';
  const c = createCipheriv(alg, key, null);
  c.setAutoPadding(false);
  return c;
}

/**
 * The AES-CM keystream for a 16-byte initial counter block (block counter in the last 16 bits), as in
 * RFC 3711 §4.1.1. Allocates; used by the KDF and tests.
 */
export function aesCmKeystream(key: Buffer, iv: Buffer, length: number): Buffer {
  const blocks = Math.ceil(length / 16);
  const ctr = Buffer.alloc(blocks * 16);
  const base = (iv[14] << 8) | iv[15];
  for (let j = 0; j < blocks; j++) {
    iv.copy(ctr, j * 16, 0, 14);
    const c = (base + j) & 0xffff;
    ctr[j * 16 + 14] = c >>> 8;
    ctr[j * 16 + 15] = c;
  }
  return ecbFor(key).update(ctr).subarray(0, length);
}

/**
 * SRTP key derivation (RFC 3711 §4.3.1 with the AES-CM PRF, key_derivation_rate 0).
 * A 12-byte (GCM) master salt is right-padded with zeros to 14 bytes, as libsrtp does.
 */
export function srtpKdf(masterKey: Buffer, masterSalt: Buffer, label: number, length: number): Buffer {
  const iv = Buffer.alloc(16);
  masterSalt.copy(iv, 0, 0, Math.min(14, masterSalt.length));
  iv[7] ^= label;
  return aesCmKeystream(masterKey, iv, length);
}

/** Derives the six session keys (labels 0..5) for a profile. */
export function deriveSessionKeys(profile: SrtpProfileName, masterKey: Buffer, masterSalt: Buffer): SrtpSessionKeys {
  const { keyLength, saltLength } = srtpKeyLengths(profile);
  const authLength = profile === 'AES_CM_128_HMAC_SHA1_80' ? 20 : 0;
  return {
    rtpKey: srtpKdf(masterKey, masterSalt, 0, keyLength),
    rtpAuthKey: authLength ? srtpKdf(masterKey, masterSalt, 1, authLength) : Buffer.alloc(0),
    rtpSalt: srtpKdf(masterKey, masterSalt, 2, saltLength),
    rtcpKey: srtpKdf(masterKey, masterSalt, 3, keyLength),
    rtcpAuthKey: authLength ? srtpKdf(masterKey, masterSalt, 4, authLength) : Buffer.alloc(0),
    rtcpSalt: srtpKdf(masterKey, masterSalt, 5, saltLength),
  };
}

/** Per-SSRC state. RTP: index = roc * 65536 + seq (48 bits). RTCP: the 31-bit SRTCP index. */
class StreamState {
  init = false;
  /** Highest (s_l) sequence number seen / sent, RTP only. */
  sl = 0;
  roc = 0;
  /** Highest index accepted. */
  highest = 0;
  /** Replay bitmap (bit d = highest - d was accepted), 64 bits as two 32-bit halves. */
  winLo = 0;
  winHi = 0;
  /** AES-CM keystream made ahead (RTP): ksCount packets from index ksStart, ksBlocks 16-byte blocks each. */
  ks: Buffer | null = null;
  ksStart = 0;
  ksCount = 0;
  ksBlocks = 0;
}

/** true if `index` is not a replay and not older than the 64-packet window. */
function replayOk(st: StreamState, index: number): boolean {
  if (!st.init) return true;
  const delta = index - st.highest;
  if (delta > 0) return true;
  if (delta <= -64) return false;
  const bit = -delta;
  return (bit < 32 ? (st.winLo >>> bit) & 1 : (st.winHi >>> (bit - 32)) & 1) === 0;
}

/** Marks `index` as received (after successful authentication). */
function replayCommit(st: StreamState, index: number): void {
  if (!st.init) {
    st.init = true;
    st.highest = index;
    st.winLo = 1;
    st.winHi = 0;
    return;
  }
  const delta = index - st.highest;
  if (delta > 0) {
    if (delta >= 64) {
      st.winLo = 0;
      st.winHi = 0;
    } else if (delta >= 32) {
      st.winHi = delta === 32 ? st.winLo : st.winLo << (delta - 32);
      st.winLo = 0;
    } else {
      st.winHi = (st.winHi << delta) | (st.winLo >>> (32 - delta));
      st.winLo = st.winLo << delta;
    }
    st.winLo |= 1;
    st.highest = index;
  } else {
    const bit = -delta;
    if (bit < 32) st.winLo |= 1 << bit;
    else st.winHi |= 1 << (bit - 32);
  }
}

/**
 * ROC guess v for sequence number seq (RFC 3711 §3.3.1 / Appendix A); -1 if it would be negative.
 * For a stream with no state the ROC is 0.
 */
function estimateRoc(st: StreamState | undefined, seq: number): number {
  if (st === undefined || !st.init) return 0;
  const sl = st.sl;
  const roc = st.roc;
  if (sl < 32768) {
    if (seq - sl > 32768) return roc - 1;
    return roc;
  }
  if (sl - 32768 > seq) return roc === 0xffffffff ? -1 : roc + 1;
  return roc;
}

function u32(buf: Buffer, o: number): number {
  return ((buf[o] << 24) | (buf[o + 1] << 16) | (buf[o + 2] << 8) | buf[o + 3]) >>> 0;
}

function validLen(buf: Buffer, len: number): boolean {
  return Number.isInteger(len) && len >= 0 && len <= buf.length;
}

const CM_TAG = 10;
/** Bytes of RTP keystream made per cipher call (see the file comment). */
const KEYSTREAM_BATCH_BYTES = 8192;
const GCM_TAG = 16;
const MAX_REPLAY_STATES = 65536;

export class SrtpSession {
  readonly profile: SrtpProfileName;
  /** Bytes protectRtp adds. */
  readonly rtpOverhead: number;
  /** Bytes protectRtcp adds. */
  readonly rtcpOverhead: number;

  private readonly gcm: boolean;
  private readonly gcmAlg: 'aes-128-gcm' | 'aes-256-gcm';
  private readonly keys: SrtpSessionKeys;
  private readonly rtpEcb: Cipheriv | null;
  private readonly rtcpEcb: Cipheriv | null;
  /** RTP's and RTCP's cipher and tag in the native module, or null: Node's crypto API. */
  private readonly nativeModule: SrtpNativeModule | null;
  private readonly nativeRtp: NativeSrtpContext | null;
  private readonly nativeRtcp: NativeSrtpContext | null;

  private readonly txRtp = new Map<number, StreamState>();
  private readonly rxRtp = new Map<number, StreamState>();
  private readonly rxRtcp = new Map<number, StreamState>();
  private rtcpIndex = 1;

  // Scratch buffers.
  private ctr = Buffer.alloc(16 * 128);
  private readonly iv16 = Buffer.alloc(16);
  private readonly iv12 = Buffer.alloc(12);
  private readonly roc4 = Buffer.alloc(4);
  private readonly aad12 = Buffer.alloc(12);

  /**
   * @param sessionKeys test hook: use these session keys as they are (RFC 7714 vectors give session keys);
   *   masterKey/masterSalt are then ignored.
   * @param native RTP's and RTCP's crypto in the native module when it is built here (default); false: Node's API.
   * Throws on key/salt of the wrong length (a setup error, not a per-packet one).
   */
  constructor(
    profile: SrtpProfileName,
    masterKey: Buffer,
    masterSalt: Buffer,
    sessionKeys?: SrtpSessionKeys,
    native = true,
  ) {
    const lengths = srtpKeyLengths(profile);
    if (!lengths) throw new TypeError(`unknown SRTP profile ${String(profile)}`);
    this.profile = profile;
    this.gcm = profile !== 'AES_CM_128_HMAC_SHA1_80';
    this.gcmAlg = profile === 'AEAD_AES_256_GCM' ? 'aes-256-gcm' : 'aes-128-gcm';
    this.rtpOverhead = this.gcm ? GCM_TAG : CM_TAG;
    this.rtcpOverhead = this.rtpOverhead + 4;
    if (sessionKeys) {
      this.keys = sessionKeys;
    } else {
      if (masterKey.length !== lengths.keyLength || masterSalt.length !== lengths.saltLength) {
        throw new RangeError(
          `${profile} needs a ${lengths.keyLength}-byte master key and ${lengths.saltLength}-byte salt`,
        );
      }
      this.keys = deriveSessionKeys(profile, masterKey, masterSalt);
    }
    const k = this.keys;
    const m = native ? nativeSrtp() : null;
    let ctx: NativeSrtpContext | null = null;
    let rtcpCtx: NativeSrtpContext | null = null;
    try {
      if (m !== null) {
        ctx = this.gcm ? m.createGcm(k.rtpKey, k.rtpSalt) : m.createCm(k.rtpKey, k.rtpSalt, k.rtpAuthKey);
        rtcpCtx = this.gcm ? m.createGcm(k.rtcpKey, k.rtcpSalt) : m.createCm(k.rtcpKey, k.rtcpSalt, k.rtcpAuthKey);
      }
    } catch {
      ctx = rtcpCtx = null; // OpenSSL refused (it should not): Node's crypto API does it
    }
    this.nativeModule = ctx === null ? null : m;
    this.nativeRtp = ctx;
    this.nativeRtcp = rtcpCtx;
    // AES-CM's keystreams are the native module's when it is there
    this.rtpEcb = this.gcm || ctx !== null ? null : ecbFor(k.rtpKey);
    this.rtcpEcb = this.gcm || rtcpCtx !== null ? null : ecbFor(k.rtcpKey);
  }

  /** Same as the constructor with the session keys given directly (test vectors). */
  static fromSessionKeys(profile: SrtpProfileName, keys: SrtpSessionKeys, native = true): SrtpSession {
    return new SrtpSession(profile, Buffer.alloc(0), Buffer.alloc(0), keys, native);
  }

  /** The SRTCP index the next protectRtcp will use (31 bits). Starts at 1 (as libsrtp). */
  get nextRtcpIndex(): number {
    return this.rtcpIndex;
  }
  set nextRtcpIndex(v: number) {
    this.rtcpIndex = v & 0x7fffffff;
  }

  /** Whether RTP's crypto (protect and unprotect) runs in the native module. */
  get nativeProtect(): boolean {
    return this.nativeRtp !== null;
  }
  /** The native contexts of RTP's and RTCP's keys (a receive batch may unprotect with them), or null. */
  get nativeContexts(): { rtp: NativeSrtpContext; rtcp: NativeSrtpContext } | null {
    return this.nativeRtp !== null && this.nativeRtcp !== null ? { rtp: this.nativeRtp, rtcp: this.nativeRtcp } : null;
  }
  /** Whether SRTCP's crypto (protect and unprotect) runs in the native module. */
  get nativeRtcpProtect(): boolean {
    return this.nativeRtcp !== null;
  }

  /** Rollover counter the sender side currently has for ssrc (-1 if unknown). */
  sendRoc(ssrc: number): number {
    if (this.nativeRtp !== null) return this.nativeModule!.rtpRoc(this.nativeRtp, ssrc >>> 0, true);
    const st = this.txRtp.get(ssrc >>> 0);
    return st && st.init ? st.roc : -1;
  }
  /** Rollover counter the receiver side currently has for ssrc (-1 if unknown). */
  receiveRoc(ssrc: number): number {
    if (this.nativeRtp !== null) return this.nativeModule!.rtpRoc(this.nativeRtp, ssrc >>> 0, false);
    const st = this.rxRtp.get(ssrc >>> 0);
    return st && st.init ? st.roc : -1;
  }
  /** Drops the per-SSRC state of a source that went away. */
  forgetSsrc(ssrc: number): void {
    ssrc >>>= 0;
    if (this.nativeRtp !== null) this.nativeModule!.forgetSsrc(this.nativeRtp, ssrc);
    if (this.nativeRtcp !== null) this.nativeModule!.forgetSsrc(this.nativeRtcp, ssrc);
    this.txRtp.delete(ssrc);
    this.rxRtp.delete(ssrc);
    this.rxRtcp.delete(ssrc);
  }

  // ------------------------------------------------------------------------------------------
  // AES-CM

  /** XORs the AES-CM keystream for iv16 into src[from..to) -> out[from..to). */
  private cmXor(ecb: Cipheriv, src: Buffer, out: Buffer, from: number, to: number): void {
    const n = to - from;
    if (n <= 0) return;
    const blocks = (n + 15) >>> 4;
    const bytes = blocks << 4;
    if (this.ctr.length < bytes) this.ctr = Buffer.alloc(bytes);
    const ctr = this.ctr;
    ctr.fill(this.iv16, 0, bytes);
    for (let j = 1, o = 30; j < blocks; j++, o += 16) {
      ctr[o] = j >>> 8;
      ctr[o + 1] = j;
    }
    const ks = ecb.update(ctr.subarray(0, bytes));
    for (let i = 0; i < n; i++) out[from + i] = src[from + i] ^ ks[i];
  }

  /** iv16 = (salt || 0000) XOR (ssrc << 64) XOR (index << 16); index given as hi32 (ROC or 0) and lo16. */
  private cmIv(salt: Buffer, ssrc: number, hi32: number, lo16: number): void {
    const iv = this.iv16;
    salt.copy(iv, 0, 0, 14);
    iv[14] = 0;
    iv[15] = 0;
    iv[4] ^= ssrc >>> 24;
    iv[5] ^= ssrc >>> 16;
    iv[6] ^= ssrc >>> 8;
    iv[7] ^= ssrc;
    iv[8] ^= hi32 >>> 24;
    iv[9] ^= hi32 >>> 16;
    iv[10] ^= hi32 >>> 8;
    iv[11] ^= hi32;
    iv[12] ^= lo16 >>> 8;
    iv[13] ^= lo16;
  }

  /** HMAC over buf[0..len) || ROC, writing the ROC at buf[len..len+4) (room the tag takes afterwards). */
  /**
   * XORs the AES-CM keystream of RTP packet `index` (roc/seq) into src[from..to) -> out[from..to), from the
   * stream's keystream made ahead; an index before the batch (a retransmission) takes the one-packet path.
   */
  private cmXorRtp(st: StreamState, ssrc: number, roc: number, seq: number, index: number, src: Buffer, out: Buffer, from: number, to: number): void {
    const n = to - from;
    if (n <= 0) return;
    const blocks = (n + 15) >>> 4;
    let d = index - st.ksStart;
    if (st.ks === null || d < 0 || d >= st.ksCount || blocks > st.ksBlocks) {
      if (st.ks !== null && d < 0) {
        this.cmIv(this.keys.rtpSalt, ssrc, roc, seq);
        this.cmXor(this.rtpEcb!, src, out, from, to);
        return;
      }
      this.makeKeystream(st, ssrc, index, blocks > st.ksBlocks ? blocks : st.ksBlocks);
      d = 0;
    }
    const ks = st.ks!;
    let k = d * st.ksBlocks * 16 - from;
    for (let i = from; i < to; i++) out[i] = src[i] ^ ks[i + k];
  }

  /** Keystream for the packets index, index+1, ... of one SSRC, `blocks` blocks each, in one cipher call. */
  private makeKeystream(st: StreamState, ssrc: number, index: number, blocks: number): void {
    const size = blocks << 4;
    let count = (KEYSTREAM_BATCH_BYTES / size) | 0;
    if (count < 2) count = 2;
    else if (count > 32) count = 32;
    const bytes = count * size;
    if (this.ctr.length < bytes) this.ctr = Buffer.alloc(bytes);
    const ctr = this.ctr;
    for (let j = 0; j < count; j++) {
      const idx = index + j;
      this.cmIv(this.keys.rtpSalt, ssrc, Math.floor(idx / 65536) >>> 0, idx & 0xffff);
      const base = j * size;
      ctr.fill(this.iv16, base, base + size);
      for (let b = 1, o = base + 30; b < blocks; b++, o += 16) {
        ctr[o] = b >>> 8;
        ctr[o + 1] = b;
      }
    }
    st.ks = this.rtpEcb!.update(ctr.subarray(0, bytes));
    st.ksStart = index;
    st.ksCount = count;
    st.ksBlocks = blocks;
  }

  private rtpHmacInPlace(buf: Buffer, len: number, roc: number): Buffer {
    buf[len] = roc >>> 24;
    buf[len + 1] = roc >>> 16;
    buf[len + 2] = roc >>> 8;
    buf[len + 3] = roc;
    return createHmac('sha1', this.keys.rtpAuthKey).update(buf.subarray(0, len + 4)).digest();
  }

  private rtpHmac(buf: Buffer, len: number, roc: number): Buffer {
    const r = this.roc4;
    r[0] = roc >>> 24;
    r[1] = roc >>> 16;
    r[2] = roc >>> 8;
    r[3] = roc;
    return createHmac('sha1', this.keys.rtpAuthKey).update(buf.subarray(0, len)).update(r).digest();
  }

  // ------------------------------------------------------------------------------------------
  // GCM

  /** iv12 = salt XOR (00 00 || ssrc || a32 || b16). */
  private gcmIv(salt: Buffer, ssrc: number, a32: number, b16: number): Buffer {
    const iv = this.iv12;
    iv[0] = salt[0];
    iv[1] = salt[1];
    iv[2] = salt[2] ^ (ssrc >>> 24);
    iv[3] = salt[3] ^ ((ssrc >>> 16) & 0xff);
    iv[4] = salt[4] ^ ((ssrc >>> 8) & 0xff);
    iv[5] = salt[5] ^ (ssrc & 0xff);
    iv[6] = salt[6] ^ (a32 >>> 24);
    iv[7] = salt[7] ^ ((a32 >>> 16) & 0xff);
    iv[8] = salt[8] ^ ((a32 >>> 8) & 0xff);
    iv[9] = salt[9] ^ (a32 & 0xff);
    iv[10] = salt[10] ^ ((b16 >>> 8) & 0xff);
    iv[11] = salt[11] ^ (b16 & 0xff);
    return iv;
  }

  // ------------------------------------------------------------------------------------------
  // RTP

  /**
   * Encrypts the RTP packet in src[0..len) into out (out === src allowed; out needs room for
   * len + rtpOverhead). Returns bytes written, -1 on malformed input.
   * Retransmissions (an index already protected) are protected again with the same ROC.
   */
  protectRtp(src: Buffer, len: number, out: Buffer): number {
    if (!validLen(src, len)) return -1;
    const native = this.nativeRtp;
    if (native !== null) {
      // the module checks the header and the room, keeps the stream's ROC and protects in place
      if (out !== src) {
        if (out.length < len + this.rtpOverhead) return -1;
        src.copy(out, 0, 0, len);
      }
      return this.nativeModule!.protectRtp(native, out, len);
    }
    const hl = rtpHeaderLength(src, len);
    if (hl < 0 || out.length < len + this.rtpOverhead) return -1;
    const ssrc = u32(src, 8);
    const seq = (src[2] << 8) | src[3];
    let st = this.txRtp.get(ssrc);
    const roc = estimateRoc(st, seq);
    if (roc < 0) return -1;
    if (st === undefined) {
      st = new StreamState();
      this.txRtp.set(ssrc, st);
    }
    const index = roc * 65536 + seq;
    if (!st.init) {
      st.init = true;
      st.sl = seq;
      st.roc = roc;
      st.highest = index;
    } else if (index > st.highest) {
      st.sl = seq;
      st.roc = roc;
      st.highest = index;
    }
    try {
      if (this.gcm) {
        const iv = this.gcmIv(this.keys.rtpSalt, ssrc, roc, seq);
        const c = createCipheriv(this.gcmAlg, this.keys.rtpKey, iv, { authTagLength: GCM_TAG });
        c.setAAD(src.subarray(0, hl));
        const ct = c.update(src.subarray(hl, len));
        c.final();
        const tag = c.getAuthTag();
        if (out !== src) src.copy(out, 0, 0, hl);
        ct.copy(out, hl);
        tag.copy(out, len);
        return len + GCM_TAG;
      }
      if (out !== src) src.copy(out, 0, 0, hl);
      this.cmXorRtp(st, ssrc, roc, seq, index, src, out, hl, len);
      this.rtpHmacInPlace(out, len, roc).copy(out, len, 0, CM_TAG);
      return len + CM_TAG;
    } catch {
      return -1;
    }
  }

  /** Authenticates and decrypts in place. Returns the plaintext length, or -1 (auth failure, replay, malformed). */
  unprotectRtp(buf: Buffer, len: number): number {
    if (!validLen(buf, len)) return -1;
    if (this.nativeRtp !== null) return this.nativeModule!.unprotectRtp(this.nativeRtp, buf, len);
    const tagLen = this.rtpOverhead;
    const end = len - tagLen;
    const hl = rtpHeaderLength(buf, end);
    if (hl < 0) return -1;
    const ssrc = u32(buf, 8);
    const seq = (buf[2] << 8) | buf[3];
    let st = this.rxRtp.get(ssrc);
    const roc = estimateRoc(st, seq);
    if (roc < 0) return -1;
    const index = roc * 65536 + seq;
    if (st !== undefined && !replayOk(st, index)) return -1;
    try {
      if (this.gcm) {
        const iv = this.gcmIv(this.keys.rtpSalt, ssrc, roc, seq);
        const d = createDecipheriv(this.gcmAlg, this.keys.rtpKey, iv, { authTagLength: GCM_TAG });
        d.setAuthTag(buf.subarray(end, len));
        d.setAAD(buf.subarray(0, hl));
        const pt = d.update(buf.subarray(hl, end));
        d.final(); // throws on authentication failure
        pt.copy(buf, hl);
      } else {
        const mac = this.rtpHmac(buf, end, roc);
        let diff = 0;
        for (let i = 0; i < CM_TAG; i++) diff |= mac[i] ^ buf[end + i];
        if (diff !== 0) return -1;
        if (st !== undefined) {
          this.cmXorRtp(st, ssrc, roc, seq, index, buf, buf, hl, end);
        } else {
          this.cmIv(this.keys.rtpSalt, ssrc, roc, seq);
          this.cmXor(this.rtpEcb!, buf, buf, hl, end);
        }
      }
    } catch {
      return -1;
    }
    if (st === undefined) {
      if (this.rxRtp.size >= MAX_REPLAY_STATES) this.rxRtp.clear();
      st = new StreamState();
      this.rxRtp.set(ssrc, st);
    }
    if (!st.init || index > st.highest) {
      st.sl = seq;
      st.roc = roc;
    }
    replayCommit(st, index);
    return end;
  }

  // ------------------------------------------------------------------------------------------
  // RTCP

  /**
   * Encrypts the (compound) RTCP packet in src[0..len) into out (room for len + rtcpOverhead), appending
   * E=1|SRTCP index and the tag. The index comes from one per-session counter. Returns bytes written or -1.
   */
  protectRtcp(src: Buffer, len: number, out: Buffer): number {
    if (!validLen(src, len)) return -1;
    if (len < 8 || (src[0] & 0xc0) !== 0x80 || out.length < len + this.rtcpOverhead) return -1;
    const ssrc = u32(src, 4);
    const index = this.rtcpIndex;
    this.rtcpIndex = (index + 1) & 0x7fffffff;
    const eIndex = (0x80000000 | index) >>> 0;
    try {
      if (this.nativeRtcp !== null) {
        if (out !== src) src.copy(out, 0, 0, len);
        return this.nativeModule!.protectRtcp(this.nativeRtcp, out, len, index);
      }
      if (this.gcm) {
        const iv = this.gcmIv(this.keys.rtcpSalt, ssrc, index >>> 16, index & 0xffff);
        const aad = this.aad12;
        src.copy(aad, 0, 0, 8);
        aad.writeUInt32BE(eIndex, 8);
        const c = createCipheriv(this.gcmAlg, this.keys.rtcpKey, iv, { authTagLength: GCM_TAG });
        c.setAAD(aad);
        const ct = c.update(src.subarray(8, len));
        c.final();
        const tag = c.getAuthTag();
        if (out !== src) src.copy(out, 0, 0, 8);
        ct.copy(out, 8);
        tag.copy(out, len);
        out.writeUInt32BE(eIndex, len + GCM_TAG);
        return len + GCM_TAG + 4;
      }
      if (out !== src) src.copy(out, 0, 0, 8);
      this.cmIv(this.keys.rtcpSalt, ssrc, index >>> 16, index & 0xffff);
      this.cmXor(this.rtcpEcb!, src, out, 8, len);
      out.writeUInt32BE(eIndex, len);
      createHmac('sha1', this.keys.rtcpAuthKey)
        .update(out.subarray(0, len + 4))
        .digest()
        .copy(out, len + 4, 0, CM_TAG);
      return len + 4 + CM_TAG;
    } catch {
      return -1;
    }
  }

  /** Authenticates and decrypts an SRTCP packet in place. Returns the RTCP length, or -1. */
  unprotectRtcp(buf: Buffer, len: number): number {
    if (!validLen(buf, len)) return -1;
    if (this.nativeRtcp !== null) return this.nativeModule!.unprotectRtcp(this.nativeRtcp, buf, len);
    const overhead = this.rtcpOverhead;
    if (len < 8 + overhead || (buf[0] & 0xc0) !== 0x80) return -1;
    const ssrc = u32(buf, 4);
    let st = this.rxRtcp.get(ssrc);
    let end: number;
    let index: number;
    try {
      if (this.gcm) {
        end = len - overhead;
        const eIndex = u32(buf, len - 4);
        index = eIndex & 0x7fffffff;
        if (st !== undefined && !replayOk(st, index)) return -1;
        const iv = this.gcmIv(this.keys.rtcpSalt, ssrc, index >>> 16, index & 0xffff);
        const d = createDecipheriv(this.gcmAlg, this.keys.rtcpKey, iv, { authTagLength: GCM_TAG });
        d.setAuthTag(buf.subarray(end, end + GCM_TAG));
        if (eIndex & 0x80000000) {
          const aad = this.aad12;
          buf.copy(aad, 0, 0, 8);
          buf.copy(aad, 8, len - 4, len);
          d.setAAD(aad);
          const pt = d.update(buf.subarray(8, end));
          d.final();
          pt.copy(buf, 8);
        } else {
          // Authentication only: AAD = whole RTCP packet || E|index.
          d.setAAD(Buffer.concat([buf.subarray(0, end), buf.subarray(len - 4, len)]));
          d.final();
        }
      } else {
        const tagAt = len - CM_TAG;
        end = tagAt - 4;
        const eIndex = u32(buf, end);
        index = eIndex & 0x7fffffff;
        if (st !== undefined && !replayOk(st, index)) return -1;
        const mac = createHmac('sha1', this.keys.rtcpAuthKey).update(buf.subarray(0, tagAt)).digest();
        let diff = 0;
        for (let i = 0; i < CM_TAG; i++) diff |= mac[i] ^ buf[tagAt + i];
        if (diff !== 0) return -1;
        if (eIndex & 0x80000000) {
          this.cmIv(this.keys.rtcpSalt, ssrc, index >>> 16, index & 0xffff);
          this.cmXor(this.rtcpEcb!, buf, buf, 8, end);
        }
      }
    } catch {
      return -1;
    }
    if (st === undefined) {
      if (this.rxRtcp.size >= MAX_REPLAY_STATES) this.rxRtcp.clear();
      st = new StreamState();
      this.rxRtcp.set(ssrc, st);
    }
    replayCommit(st, index);
    return end;
  }
}

// The bridge's optional native SRTP crypto (native/srtp.c, built by scripts/build-native.sh with the OpenSSL
// inside Node). SrtpSession (packet/srtp.ts) uses it for the cipher and tag of RTP (protect, the per-receiver
// work of every forwarded packet, and unprotect) and of SRTCP (every RTCP packet sent and received), with the
// streams' rollover counters and replay windows (one call per packet); without it,
// or with TERTULIA_NATIVE_SRTP=0 in the environment, Node's crypto API does that work.
import { createRequire } from 'node:module';

/** One session key's cipher (and HMAC) contexts (RTP's or RTCP's keys), freed when dropped. */
export type NativeSrtpContext = { readonly __brand: 'NativeSrtpContext' };

/** The version of the module's functions this file calls (native/srtp.c's SRTP_MODULE_API): 2, the ROC and replay state in the contexts. */
export const SRTP_MODULE_API = 2;

export interface SrtpNativeModule {
  /** Its functions' version (absent before 2). */
  readonly api?: number;
  createCm(rtpKey: Uint8Array, rtpSalt: Uint8Array, rtpAuthKey: Uint8Array): NativeSrtpContext;
  createGcm(rtpKey: Uint8Array, rtpSalt: Uint8Array): NativeSrtpContext;
  /**
   * Encrypts the RTP packet buf[0..len)'s payload in place and appends the tag (the ROC is the context's for its
   * SSRC): the new length, or -1 (not RTP, no room, a ROC below 0).
   */
  protectRtp(ctx: NativeSrtpContext, buf: Uint8Array, len: number): number;
  /**
   * Checks the tag at the end of buf[0..len) and decrypts in place (the ROC guess and the 64-packet replay window
   * are the context's for its SSRC): the plaintext length, or -1 (a bad tag, a replay, too old, not RTP).
   */
  unprotectRtp(ctx: NativeSrtpContext, buf: Uint8Array, len: number): number;
  /**
   * With a context of the RTCP keys: encrypts buf[8..len) in place with SRTCP index `index` (31 bits, E=1) and
   * appends E|index and the tag (GCM: the tag, then E|index): the new length, or -1.
   */
  protectRtcp(ctx: NativeSrtpContext, buf: Uint8Array, len: number, index: number): number;
  /**
   * Checks the tag of the SRTCP packet buf[0..len) and, if E=1, decrypts in place (the replay window is the
   * context's for its sender SSRC): the RTCP length, or -1.
   */
  unprotectRtcp(ctx: NativeSrtpContext, buf: Uint8Array, len: number): number;
  /** The rollover counter of ssrc's RTP stream, sent (`sending`) or received, or -1 when it has none yet. */
  rtpRoc(ctx: NativeSrtpContext, ssrc: number, sending: boolean): number;
  /** Drops ssrc's stream states (sent and received). */
  forgetSsrc(ctx: NativeSrtpContext, ssrc: number): void;
}

let loaded: SrtpNativeModule | null | undefined;

/** The native module (loaded once per thread), or null when it is not built here or is turned off. */
export function nativeSrtp(): SrtpNativeModule | null {
  if (loaded === undefined) {
    loaded = null;
    if (process.env.TERTULIA_NATIVE_SRTP !== '0') {
      try {
        const m = createRequire(import.meta.url)('../../../native/build/srtp.node') as SrtpNativeModule;
        // a module built from older sources (kept where its rebuild could not run) is not called with other arguments
        loaded = m.api === SRTP_MODULE_API ? m : null;
      } catch {
        loaded = null;
      }
    }
  }
  return loaded;
}

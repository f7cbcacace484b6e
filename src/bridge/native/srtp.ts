// The bridge's optional native SRTP crypto (native/srtp.c, built by scripts/build-native.sh with the OpenSSL
// inside Node). SrtpSession (packet/srtp.ts) uses it for the cipher and tag of RTP (protect, the per-receiver
// work of every forwarded packet, and unprotect); without it, or with TERTULIA_NATIVE_SRTP=0 in the environment, Node's crypto API
// does that work.
import { createRequire } from 'node:module';

/** One RTP session key's cipher (and HMAC) contexts, freed when dropped. */
export type NativeSrtpContext = { readonly __brand: 'NativeSrtpContext' };

export interface SrtpNativeModule {
  createCm(rtpKey: Uint8Array, rtpSalt: Uint8Array, rtpAuthKey: Uint8Array): NativeSrtpContext;
  createGcm(rtpKey: Uint8Array, rtpSalt: Uint8Array): NativeSrtpContext;
  /** Encrypts buf[headerLength..len) in place and appends the tag: the new length, or -1. */
  protectRtp(ctx: NativeSrtpContext, buf: Uint8Array, headerLength: number, len: number, roc: number): number;
  /** Checks the tag at the end of buf[0..len) and decrypts in place: the plaintext length, or -1. */
  unprotectRtp(ctx: NativeSrtpContext, buf: Uint8Array, headerLength: number, len: number, roc: number): number;
}

let loaded: SrtpNativeModule | null | undefined;

/** The native module (loaded once per thread), or null when it is not built here or is turned off. */
export function nativeSrtp(): SrtpNativeModule | null {
  if (loaded === undefined) {
    loaded = null;
    if (process.env.TERTULIA_NATIVE_SRTP !== '0') {
      try {
        loaded = createRequire(import.meta.url)('../../../native/build/srtp.node') as SrtpNativeModule;
      } catch {
        loaded = null;
      }
    }
  }
  return loaded;
}

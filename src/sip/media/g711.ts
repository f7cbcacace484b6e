// G.711 (ITU-T G.711), the phone network's audio: 8 kHz, one byte per sample, μ-law (PCMU, North America and
// Japan) or A-law (PCMA, everywhere else). Decoding is a 256-entry table (the reference decoder's values);
// encoding a 16-bit sample is a 65536-entry table built once (64 KiB each) that picks the nearest level, so the
// per-sample work on a call is one lookup either way.

function muLawDecode(u: number): number {
  u = ~u & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return u & 0x80 ? 0x84 - t : t - 0x84;
}

function aLawDecode(a: number): number {
  a ^= 0x55;
  let t = (a & 0x0f) << 4;
  const seg = (a & 0x70) >> 4;
  if (seg === 0) t += 8;
  else if (seg === 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return a & 0x80 ? t : -t;
}

export type G711Law = 'pcmu' | 'pcma';

const decodeTables: Record<G711Law, Int16Array> = { pcmu: new Int16Array(256), pcma: new Int16Array(256) };
for (let i = 0; i < 256; i++) {
  decodeTables.pcmu[i] = muLawDecode(i);
  decodeTables.pcma[i] = aLawDecode(i);
}
let encodeTables: Record<G711Law, Uint8Array> | null = null;

/**
 * The encoding tables: each 16-bit value to the code whose decoded value is nearest (ties away from zero, as
 * ffmpeg's encoder rounds); for μ-law's two zeros, 0xff.
 */
function encoders(): Record<G711Law, Uint8Array> {
  if (encodeTables === null) {
    const build = (law: G711Law): Uint8Array => {
      const decoded = decodeTables[law];
      const codes = [...Array(256).keys()].filter((c) => !(law === 'pcmu' && c === 0x7f)).sort((x, y) => decoded[x]! - decoded[y]!);
      const table = new Uint8Array(65536);
      let j = 0;
      for (let i = 0; i < 65536; i++) {
        const x = i - 32768;
        while (j + 1 < codes.length) {
          const here = Math.abs(decoded[codes[j]!]! - x);
          const next = Math.abs(decoded[codes[j + 1]!]! - x);
          if (next < here || (next === here && x >= 0)) j++;
          else break;
        }
        table[i] = codes[j]!;
      }
      return table;
    };
    encodeTables = { pcmu: build('pcmu'), pcma: build('pcma') };
  }
  return encodeTables;
}

/** Decodes `bytes` into `out` (at least as long); returns the number of samples. */
export function g711Decode(law: G711Law, bytes: Uint8Array, out: Int16Array): number {
  const table = decodeTables[law];
  const n = Math.min(bytes.length, out.length);
  for (let i = 0; i < n; i++) out[i] = table[bytes[i]!]!;
  return n;
}

/** Encodes `pcm` (16-bit) into `out` (at least as long); returns the number of bytes. */
export function g711Encode(law: G711Law, pcm: Int16Array, out: Uint8Array): number {
  const table = encoders()[law];
  const n = Math.min(pcm.length, out.length);
  for (let i = 0; i < n; i++) out[i] = table[pcm[i]! + 32768]!;
  return n;
}

/** The RTP payload types (RFC 3551). */
export const G711_PAYLOAD_TYPE: Record<G711Law, number> = { pcmu: 0, pcma: 8 };

// Byte-level pieces of the fuzz inputs: byte strings (as hex, so inputs stay plain JSON), and mutations of a
// well-formed packet the way a broken or hostile peer damages one (changed bytes, near the end too, cut short,
// extended, a slice repeated or removed, 16-bit fields set to edge values). Positions are fractions of the length
// (0..0xffff), so one mutation applies to a packet of any size and shrinks towards its start.
import fc from 'fast-check';

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const bytes = (h: string): Buffer => Buffer.from(h, 'hex');

/** A byte string of minLength..maxLength bytes, as hex; lengths spread over the whole range. */
export function hexBytes(minLength: number, maxLength: number): fc.Arbitrary<string> {
  return fc.uint8Array({ minLength, maxLength, size: 'max' }).map(hex);
}

/** Mostly short byte strings (where parsers branch), sometimes up to maxLength. */
export function hexBytesMostlyShort(maxLength: number): fc.Arbitrary<string> {
  return fc.oneof({ arbitrary: hexBytes(0, Math.min(24, maxLength)), weight: 3 }, { arbitrary: hexBytes(0, maxLength), weight: 1 });
}

/** 0..2^32-1 with the edges (0, 1, 2^31, 2^32-1) likely. */
export const u32 = fc.oneof(fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff), fc.nat({ max: 0xffffffff }).map((n) => n >>> 0));
export const u16 = fc.oneof(fc.constantFrom(0, 1, 0x7fff, 0x8000, 0xfffe, 0xffff), fc.nat({ max: 0xffff }));
export const u8 = fc.oneof(fc.constantFrom(0, 1, 0x7f, 0x80, 0xff), fc.nat({ max: 0xff }));

export type Mutation =
  | { op: 'set'; at: number; value: number }
  /** Sets the byte `back` bytes before the end (trailers: padding counts, auth tags, FINGERPRINT). */
  | { op: 'setEnd'; back: number; value: number }
  | { op: 'u16'; at: number; value: number }
  | { op: 'cut'; at: number }
  | { op: 'append'; hex: string }
  | { op: 'repeat'; at: number; length: number }
  | { op: 'remove'; at: number; length: number };

const at = fc.nat({ max: 0xffff });

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('set' as const), at, value: u8 }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('setEnd' as const), back: fc.integer({ min: 1, max: 24 }), value: u8 }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('u16' as const), at, value: u16 }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('cut' as const), at }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('append' as const), hex: hexBytesMostlyShort(64) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('repeat' as const), at, length: fc.integer({ min: 1, max: 32 }) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('remove' as const), at, length: fc.integer({ min: 1, max: 32 }) }), weight: 1 },
);

/** No mutation half the time (the well-formed packet itself), else one to four. */
export const mutations: fc.Arbitrary<Mutation[]> = fc.oneof(fc.constant<Mutation[]>([]), fc.array(mutation, { minLength: 1, maxLength: 4 }));

const place = (fraction: number, length: number): number => Math.floor((fraction * length) / 0x10000);

/** Applies the mutations in order to a copy of buf. */
export function mutate(buf: Buffer, ops: readonly Mutation[]): Buffer {
  let b = Buffer.from(buf);
  for (const m of ops) {
    switch (m.op) {
      case 'set':
        if (b.length > 0) b[place(m.at, b.length)] = m.value;
        break;
      case 'setEnd':
        if (b.length >= m.back) b[b.length - m.back] = m.value;
        break;
      case 'u16':
        if (b.length >= 2) b.writeUInt16BE(m.value, place(m.at, b.length - 1));
        break;
      case 'cut':
        b = b.subarray(0, place(m.at, b.length + 1));
        break;
      case 'append':
        b = Buffer.concat([b, bytes(m.hex)]);
        break;
      case 'repeat': {
        const p = place(m.at, b.length + 1);
        b = Buffer.concat([b.subarray(0, p + m.length), b.subarray(p)]);
        break;
      }
      case 'remove': {
        const p = place(m.at, b.length + 1);
        b = Buffer.concat([b.subarray(0, p), b.subarray(p + m.length)]);
        break;
      }
    }
  }
  return Buffer.from(b);
}

/**
 * buf followed by `tail` garbage bytes of each fill: a parser given (padded, buf.length) must answer as it does
 * for buf alone (it never reads past the length it is given).
 */
export function withTails(buf: Buffer, tail = 64): Buffer[] {
  return [0x00, 0xff, 0x80].map((fill) => Buffer.concat([buf, Buffer.alloc(tail, fill)]));
}

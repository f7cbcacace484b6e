// Display names as everyone in a room sees them. Unicode control, format and other default-ignorable characters
// (Cc and Cf: the right-to-left override U+202E and the other bidirectional controls U+202A..202E, U+2066..2069, zero-width
// spaces U+200B/U+FEFF, soft hyphens, tag characters) and line/paragraph separators are taken out: they let a
// name reorder the text around it, hide inside another name, or look like someone else's. One exception: a
// zero-width joiner between two emoji stays, since it makes one emoji of them (a family, a profession).
import { z } from 'zod';

export const MAX_DISPLAY_NAME = 64;

/**
 * Cc, Cf, Zl and Zp characters and the other default-ignorable ones (the Hangul fillers U+115F, U+1160, U+3164,
 * U+FFA0, the combining grapheme joiner U+034F: blank in a browser), except U+200D between two pictographs (an
 * emoji modifier or VS16 may follow the first) and the variation selectors (they pick an emoji's presentation).
 */
const INVISIBLE =
  /(?<!\p{Extended_Pictographic}[\u{1F3FB}-\u{1F3FF}\u{FE0F}]?)\u200D|\u200D(?!\p{Extended_Pictographic})|(?!\u200D)[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]|(?![\u200D\uFE00-\uFE0F\u{E0100}-\u{E01EF}])\p{Default_Ignorable_Code_Point}/gu;

/** `s` without control, format and separator characters (see above); linear in the length of `s`. */
export function stripInvisible(s: string): string {
  return s.replace(INVISIBLE, '');
}

/** A name as it will be shown: invisible characters out, trimmed, at most 64 characters ('' when nothing is left). */
export function visibleDisplayName(s: string): string {
  return stripInvisible(s).trim().slice(0, MAX_DISPLAY_NAME);
}

/** A display name from the network: invisible characters out, trimmed, then 1..64 characters. */
export const displayNameSchema = z
  .string()
  .transform((s) => stripInvisible(s).trim())
  .pipe(z.string().min(1, 'the name is empty (or only invisible characters)').max(MAX_DISPLAY_NAME));

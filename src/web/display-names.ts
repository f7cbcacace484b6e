// Initials and a stable avatar colour for a display name.

export function initials(name: string): string {
  // Words made of letters or digits; punctuation and symbols ("<b>", emoji) do not make initials.
  const words = name.match(/[\p{L}\p{N}][\p{L}\p{N}\p{M}]*/gu) ?? [];
  const first = (w: string | undefined) => (w ? (Array.from(w)[0] ?? '') : '');
  const letters = words.length > 1 ? first(words[0]) + first(words[words.length - 1]) : first(words[0]);
  return letters.toLocaleUpperCase();
}

const AVATAR_COLORS = ['#3d6fb6', '#7a4fb0', '#2f8a6e', '#b0623a', '#a3476b', '#4b7f2f', '#38808f', '#8a6d2a'];

export function avatarColor(name: string): string {
  let h = 0;
  for (const ch of name) h = (h * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return AVATAR_COLORS[h % AVATAR_COLORS.length]!;
}

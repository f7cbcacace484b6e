// Readable random room names ("BraveOwlsSingLoudly") and room-name validation.
import { roomNameFault, type RoomNameFault } from '../protocol/room-name.ts';

const ADJECTIVES = [
  'Brave', 'Calm', 'Clever', 'Curious', 'Eager', 'Gentle', 'Happy', 'Jolly', 'Kind', 'Lively',
  'Lucky', 'Merry', 'Nimble', 'Patient', 'Proud', 'Quiet', 'Sunny', 'Swift', 'Witty', 'Bright',
];
const NOUNS = [
  'Owls', 'Foxes', 'Otters', 'Herons', 'Badgers', 'Dolphins', 'Falcons', 'Pandas', 'Lynxes', 'Robins',
  'Whales', 'Tigers', 'Beavers', 'Ravens', 'Koalas', 'Parrots', 'Wolves', 'Bison', 'Cranes', 'Geckos',
];
const VERBS = [
  'Sing', 'Dance', 'Wander', 'Chat', 'Gather', 'Laugh', 'Travel', 'Dream', 'Explore', 'Paint',
  'Whisper', 'Read', 'Cook', 'Play', 'Swim', 'Build', 'Think', 'Listen', 'Write', 'Fly',
];
const ADVERBS = [
  'Loudly', 'Softly', 'Happily', 'Together', 'Quickly', 'Slowly', 'Gladly', 'Boldly', 'Freely', 'Kindly',
  'Daily', 'Often', 'Calmly', 'Wisely', 'Gently', 'Brightly', 'Warmly', 'Openly', 'Quietly', 'Lightly',
];

function pick(list: readonly string[]): string {
  const buf = new Uint32Array(1);
  crypto.getRandomValues(buf);
  return list[buf[0]! % list.length]!;
}

export function randomRoomName(): string {
  return pick(ADJECTIVES) + pick(NOUNS) + pick(VERBS) + pick(ADVERBS);
}

export type RoomNameProblem = RoomNameFault;

/** Undefined when the name is a valid room name (the server's rules, room-name.ts); spaces around it do not count. */
export function roomNameProblem(name: string): RoomNameProblem | undefined {
  if (name.trim().length === 0) return 'empty';
  return roomNameFault(name);
}

/** `name` as it can be shown safely: each control or invisible formatting character (a bidi override, a zero-width
 * space) written out as ⟨U+XXXX⟩, so that it neither reorders the text around it nor hides. */
export function visibleRoomName(name: string): string {
  return name.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu, (c) => `⟨U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}⟩`);
}

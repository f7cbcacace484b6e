// Readable random room names ("BraveOwlsSingLoudly") and room-name validation.
import { roomNameRefusal } from '../protocol/room-name.ts';

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

export type RoomNameProblem = 'empty' | 'invalid';

/** Undefined when the name is a valid room name (the server's rules, room-name.ts); spaces around it do not count. */
export function roomNameProblem(name: string): RoomNameProblem | undefined {
  if (name.trim().length === 0) return 'empty';
  return roomNameRefusal(name) === undefined ? undefined : 'invalid';
}

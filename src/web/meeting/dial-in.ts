// What the invite dialog shows about joining by phone: the server's dial-in numbers (/phoneNumberList) and the
// room's PIN (/conferenceMapper, which makes one for a room that has none), as jitsi-meet asks for them with
// its dialInNumbersUrl and dialInConfCodeUrl. Null when the server has no numbers or did not answer.
import { conferenceMappingSchema, formatPin, phoneNumberListSchema } from '../../protocol/dial-in-messages.ts';

export interface DialInInfo {
  /** Country or label -> numbers, as the admin configured them. */
  numbers: Record<string, string[]>;
  /** The first number (what "Dial in: ..." names). */
  first: string;
  /** The room's PIN grouped for reading: "123 456 789". */
  pin: string;
}

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

export async function fetchDialIn(room: string): Promise<DialInInfo | null> {
  try {
    const list = phoneNumberListSchema.parse(await getJson('/phoneNumberList'));
    const first = Object.values(list.numbers).flat()[0];
    if (!list.numbersEnabled || first === undefined) return null;
    // <room>@conference.<host>, as jitsi-meet names it; an IPv6 address is no such domain: the room alone
    const host = window.location.hostname;
    const conference = host.includes(':') ? room : `${room}@conference.${host}`;
    const mapping = conferenceMappingSchema.parse(await getJson(`/conferenceMapper?conference=${encodeURIComponent(conference)}`));
    if (mapping.id === false || mapping.conference === false) return null;
    return { numbers: list.numbers, first, pin: formatPin(mapping.id) };
  } catch (e) {
    console.warn('dial-in numbers unavailable:', (e as Error).message);
    return null;
  }
}

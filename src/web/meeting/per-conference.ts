// One object per conference, made on first use and kept as long as the conference (a WeakMap).
import type { Conference } from '../media/conference.ts';

export function perConference<T>(make: (conference: Conference) => T): (conference: Conference) => T {
  const made = new WeakMap<Conference, T>();
  return (conference) => {
    let t = made.get(conference);
    if (t === undefined) made.set(conference, (t = make(conference)));
    return t;
  };
}

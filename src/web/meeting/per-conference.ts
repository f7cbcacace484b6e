// One object per conference, made on first use and living as long as the conference (its chat, notices,
// recordings list, phone invitations): `const chatStoreFor = perConference((c) => new ChatStore(c))`.
import type { Conference } from '../media/conference.ts';

export function perConference<T extends object>(make: (conference: Conference) => T): (conference: Conference) => T {
  const made = new WeakMap<Conference, T>();
  return (conference) => {
    let x = made.get(conference);
    if (!x) {
      x = make(conference);
      made.set(conference, x);
    }
    return x;
  };
}

// The name of a media file inside a recording's folder: <room>-<UTC time>[-part<N>].mkv. The room's name is
// reduced to ASCII letters (accents dropped), digits, - and _ (at most 48), so a downloaded file says which
// meeting it is ("Reunión de equipo" -> Reunion_de_equipo) and no name can reach outside the folder.

/** Matroska: a crash or power loss leaves every cluster written so far playable. */
export const RECORDING_EXTENSION = '.mkv';

export function safeRoomName(room: string): string {
  return room.normalize('NFKD').replace(/\p{M}+/gu, '').replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 48) || 'room';
}

/** Segment 1 is <room>-<time>.mkv; a segment after a restart of the media process adds -part<N>. */
export function recordingFileName(room: string, now: Date = new Date(), segment = 1, extension = RECORDING_EXTENSION): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${safeRoomName(room)}-${stamp}${segment > 1 ? `-part${segment}` : ''}${extension}`;
}

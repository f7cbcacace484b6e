// Just what the web app's stores (the access client, the notices) use of a Conference: its messages in, ours
// out, the error banner, and the local microphone and camera (whose changes they watch). For unit tests of those
// stores without a browser.
import type { ServerMessage } from '../../src/protocol/signal-messages.ts';

export function fakeConference() {
  const listeners = new Set<(m: ServerMessage) => void>();
  const localListeners = new Set<() => void>();
  const fake = {
    sent: [] as unknown[],
    state: { status: 'joined', selfId: 'me', self: null, error: null as { code: string; message: string } | null },
    local: {
      state: { audioMuted: true, videoMuted: true },
      subscribe(l: () => void) {
        localListeners.add(l);
        return () => localListeners.delete(l);
      },
    },
    onMessage(l: (m: ServerMessage) => void) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    sendMessage(m: unknown) {
      fake.sent.push(m);
    },
    dismissError() {
      fake.state.error = null;
    },
    /** Force-mute answers call these, as the conference's own do. */
    async setAudioMuted(muted: boolean) {
      fake.setLocal({ audioMuted: muted });
    },
    async setVideoMuted(muted: boolean) {
      fake.setLocal({ videoMuted: muted });
    },
    /** Our microphone or camera changed (the person's own button, or an answer to a moderator). */
    setLocal(change: Partial<{ audioMuted: boolean; videoMuted: boolean }>) {
      fake.local.state = { ...fake.local.state, ...change };
      for (const l of localListeners) l();
    },
    /** As the conference does: an error is its banner first, then its listeners hear it. */
    receive(m: ServerMessage) {
      if (m.type === 'error') fake.state.error = { code: m.code, message: m.message };
      for (const l of listeners) l(m);
    },
  };
  return fake;
}

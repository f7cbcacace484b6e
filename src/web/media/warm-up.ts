// Tells the server someone is about to join (the room page opened, join screen or not): a bridge whose media workers start on
// demand starts them now rather than with the join (src/signal/media-warm-up.ts). Fire and forget: a server
// that does not know the path, or a failure, costs nothing.
export const WARM_UP_URL = '/media/warm-up';

export function warmUpMedia(): void {
  fetch(WARM_UP_URL, { method: 'POST', cache: 'no-store' }).catch(() => undefined);
}

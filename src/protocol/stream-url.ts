// The address a live stream is pushed to: an RTMP or RTMPS server URL (rtmp://a.rtmp.youtube.com/live2) and a
// stream key, joined as <url>/<key>. Checked by signal (a moderator gets a clear error) and again by the
// recorder. The key (and so the joined URL) is a secret: it is never shown back, logged or sent to anyone else
// (log.ts redacts `rtmpUrl` and `streamKey`).

export const MAX_RTMP_URL = 1024;
export const MAX_STREAM_KEY = 512;

export type StreamUrlCheck = { ok: true; rtmpUrl: string } | { ok: false; message: string };

/** Printable ASCII without spaces: what RTMP servers' URLs and keys are made of. */
const PRINTABLE = /^[\x21-\x7e]+$/;

export function checkStreamUrl(url: string, key: string): StreamUrlCheck {
  const u = url.trim();
  const k = key.trim();
  if (!u) return { ok: false, message: 'give the RTMP server address (rtmp:// or rtmps://)' };
  if (u.length > MAX_RTMP_URL) return { ok: false, message: `the server address is longer than ${MAX_RTMP_URL} characters` };
  if (k.length > MAX_STREAM_KEY) return { ok: false, message: `the stream key is longer than ${MAX_STREAM_KEY} characters` };
  if (!PRINTABLE.test(u) || (k && !PRINTABLE.test(k))) return { ok: false, message: 'the server address and the stream key may not hold spaces or control characters' };
  let parsed: URL;
  try {
    parsed = new URL(u);
  } catch {
    return { ok: false, message: 'the server address is not a URL (e.g. rtmp://a.rtmp.youtube.com/live2)' };
  }
  if (parsed.protocol !== 'rtmp:' && parsed.protocol !== 'rtmps:') return { ok: false, message: 'the server address must start with rtmp:// or rtmps://' };
  if (!parsed.hostname) return { ok: false, message: 'the server address has no host name' };
  if (parsed.username || parsed.password) return { ok: false, message: 'put no user name or password in the server address' };
  if (parsed.hash) return { ok: false, message: 'the server address may not hold #' };
  if (parsed.pathname.replace(/\//g, '') === '') return { ok: false, message: 'the server address needs its application path (e.g. /live2)' };
  const rtmpUrl = k ? `${u.replace(/\/+$/, '')}/${k.replace(/^\/+/, '')}` : u;
  return { ok: true, rtmpUrl };
}

/** Whether a joined URL (what the recorder gets) is one checkStreamUrl would give. */
export function isRtmpUrl(rtmpUrl: string): boolean {
  return rtmpUrl.length <= MAX_RTMP_URL + MAX_STREAM_KEY + 1 && checkStreamUrl(rtmpUrl, '').ok;
}

// The address a live stream is pushed to: an RTMP or RTMPS server URL (rtmp://a.rtmp.youtube.com/live2) and a
// stream key, joined as <url>/<key>. Checked by signal (a moderator gets a clear error) and again by the
// recorder, and in the moderator's page before sending (each refusal has a `problem` the page words in its
// language). The key (and so the joined URL) is a secret: it is never shown back, logged or sent to anyone else
// (log.ts redacts `rtmpUrl` and `streamKey`).

export const MAX_RTMP_URL = 1024;
export const MAX_STREAM_KEY = 512;

/** What is wrong with an address and key, one word each: the page's own sentence for it (i18n-access.ts). */
export type StreamUrlProblem = 'no-url' | 'url-too-long' | 'key-too-long' | 'spaces' | 'not-url' | 'not-rtmp' | 'no-host' | 'credentials' | 'hash' | 'no-path';

export type StreamUrlCheck = { ok: true; rtmpUrl: string } | { ok: false; problem: StreamUrlProblem; message: string };

function refuse(problem: StreamUrlProblem, message: string): StreamUrlCheck {
  return { ok: false, problem, message };
}

const NOT_URL = 'the server address is not a URL (e.g. rtmp://a.rtmp.youtube.com/live2)';
const NO_HOST = 'the server address has no host name';

/** Printable ASCII without spaces: what RTMP servers' URLs and keys are made of. */
const PRINTABLE = /^[\x21-\x7e]+$/;

export function checkStreamUrl(url: string, key: string): StreamUrlCheck {
  const u = url.trim();
  const k = key.trim();
  if (!u) return refuse('no-url', 'give the RTMP server address (rtmp:// or rtmps://)');
  if (u.length > MAX_RTMP_URL) return refuse('url-too-long', `the server address is longer than ${MAX_RTMP_URL} characters`);
  if (k.length > MAX_STREAM_KEY) return refuse('key-too-long', `the stream key is longer than ${MAX_STREAM_KEY} characters`);
  if (!PRINTABLE.test(u) || (k && !PRINTABLE.test(k))) return refuse('spaces', 'the server address and the stream key may not hold spaces or control characters');
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(u)?.[1]?.toLowerCase();
  if (scheme === undefined) return refuse('not-url', NOT_URL);
  if ((scheme !== 'rtmp' && scheme !== 'rtmps') || !/^rtmps?:\/\//i.test(u)) return refuse('not-rtmp', 'the server address must start with rtmp:// or rtmps://');
  if (/^rtmps?:\/\/(\/|$)/i.test(u)) return refuse('no-host', NO_HOST);
  // read as http: every browser parses its host and path alike (some read those of an unknown scheme as opaque)
  let parsed: URL;
  try {
    parsed = new URL(`http${u.slice(scheme.length)}`);
  } catch {
    return refuse('not-url', NOT_URL);
  }
  if (!parsed.hostname) return refuse('no-host', NO_HOST);
  if (parsed.username || parsed.password) return refuse('credentials', 'put no user name or password in the server address');
  if (parsed.hash) return refuse('hash', 'the server address may not hold #');
  if (parsed.pathname.replace(/\//g, '') === '') return refuse('no-path', 'the server address needs its application path (e.g. /live2)');
  const rtmpUrl = k ? `${u.replace(/\/+$/, '')}/${k.replace(/^\/+/, '')}` : u;
  return { ok: true, rtmpUrl };
}

/** Whether a joined URL (what the recorder gets) is one checkStreamUrl would give. */
export function isRtmpUrl(rtmpUrl: string): boolean {
  return rtmpUrl.length <= MAX_RTMP_URL + MAX_STREAM_KEY + 1 && checkStreamUrl(rtmpUrl, '').ok;
}

// A browser-like SDP answer to focus's offer, the way Chrome answers one: the participant's own m-lines (mids
// 0/1/2: audio, camera, screen) sendonly when it sends on them, else inactive; recvonly on the remote sources'
// m-lines the offer sends; inactive elsewhere; BUNDLE, rtcp-mux, DTLS client. Used by the synthetic participants
// (meeting-client.ts) and by tests that answer for a browser.
import sdpTransform from 'sdp-transform';

export interface AnswerIdentity {
  ufrag: string;
  pwd: string;
  /** sha-256 fingerprint of the answerer's DTLS certificate (AA:BB:...). */
  fingerprint: string;
  /** The o= line's session id. */
  sessionId: string;
}

/**
 * `own(mid)` gives what the answerer sends on its own m-line `mid` ('0', '1' or '2'): the SDP attributes to add
 * (ssrcs, rids, simulcast), or null when it does not send there.
 */
export function browserAnswer(offerSdp: string, id: AnswerIdentity, own: (mid: string) => Record<string, unknown> | null): string {
  const offer = sdpTransform.parse(offerSdp);
  const media = offer.media.map((m) => {
    const mid = String(m.mid);
    const isOwn = mid === '0' || mid === '1' || mid === '2';
    const sends = isOwn ? own(mid) : null;
    const direction = isOwn ? (sends !== null ? 'sendonly' : 'inactive') : m.direction === 'sendonly' ? 'recvonly' : 'inactive';
    return {
      type: m.type,
      port: 9,
      protocol: m.protocol,
      payloads: m.payloads,
      rtp: m.rtp,
      fmtp: m.fmtp,
      rtcpFb: m.rtcpFb,
      ext: m.ext,
      connection: { version: 4, ip: '0.0.0.0' },
      iceUfrag: id.ufrag,
      icePwd: id.pwd,
      fingerprint: { type: 'sha-256', hash: id.fingerprint },
      setup: 'active',
      mid,
      direction,
      rtcpMux: 'rtcp-mux',
      ...(sends ?? {}),
    };
  });
  return sdpTransform.write({
    version: 0,
    origin: { username: '-', sessionId: id.sessionId, sessionVersion: 2, netType: 'IN', ipVer: 4, address: '127.0.0.1' },
    name: '-',
    timing: { start: 0, stop: 0 },
    groups: [{ type: 'BUNDLE', mids: media.map((m) => m.mid).join(' ') }],
    media: media as never,
  });
}

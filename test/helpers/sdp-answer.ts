// A browser's SDP answer to focus's offer, the way Chrome answers: sendonly with one SSRC each on mids 0/1/2
// (audio, camera, screen) when it sends them, recvonly on the remote sources' m-lines, inactive elsewhere.
import sdpTransform from 'sdp-transform';

export type OwnSsrcs = { audio?: number; video?: number; screen?: number };

export const ANSWER_ICE_PWD = 'browserpasswordbrowserpass';
export const ANSWER_FINGERPRINT = Array(32).fill('CD').join(':');

export function answerFor(offerSdp: string, own: OwnSsrcs, ufrag = 'brwsr'): string {
  const offer = sdpTransform.parse(offerSdp);
  const media = offer.media.map((m) => {
    const mid = String(m.mid);
    const ownSsrc = mid === '0' ? own.audio : mid === '1' ? own.video : mid === '2' ? own.screen : undefined;
    const direction = mid === '0' || mid === '1' || mid === '2' ? (ownSsrc ? 'sendonly' : 'inactive') : m.direction === 'sendonly' ? 'recvonly' : 'inactive';
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
      iceUfrag: ufrag,
      icePwd: ANSWER_ICE_PWD,
      fingerprint: { type: 'sha-256', hash: ANSWER_FINGERPRINT },
      setup: 'active',
      mid,
      direction,
      rtcpMux: 'rtcp-mux',
      ...(ownSsrc ? { ssrcs: [{ id: ownSsrc, attribute: 'cname', value: 'browsercname' }] } : {}),
    };
  });
  return sdpTransform.write({
    version: 0,
    origin: { username: '-', sessionId: '99', sessionVersion: 2, netType: 'IN', ipVer: 4, address: '127.0.0.1' },
    name: '-',
    timing: { start: 0, stop: 0 },
    groups: [{ type: 'BUNDLE', mids: media.map((m) => m.mid).join(' ') }],
    media: media as any,
  });
}

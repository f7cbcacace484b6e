// A browser's SDP answer to focus's offer, the way Chrome answers: sendonly with one SSRC each on mids 0/1/2
// (audio, camera, screen) when it sends them, recvonly on the remote sources' m-lines, inactive elsewhere.
import { browserAnswer } from '../../src/loadtest/sdp-answer.ts';

export type OwnSsrcs = { audio?: number; video?: number; screen?: number };

export const ANSWER_ICE_PWD = 'browserpasswordbrowserpass';
export const ANSWER_FINGERPRINT = Array(32).fill('CD').join(':');

export function answerFor(offerSdp: string, own: OwnSsrcs, ufrag = 'brwsr'): string {
  const ssrcOf = (mid: string) => (mid === '0' ? own.audio : mid === '1' ? own.video : mid === '2' ? own.screen : undefined);
  return browserAnswer(offerSdp, { ufrag, pwd: ANSWER_ICE_PWD, fingerprint: ANSWER_FINGERPRINT, sessionId: '99' }, (mid) => {
    const ssrc = ssrcOf(mid);
    return ssrc ? { ssrcs: [{ id: ssrc, attribute: 'cname', value: 'browsercname' }] } : null;
  });
}

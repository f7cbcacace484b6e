// A WebRTC transport's DTLS handshake (RFC 5763/5764) up to its SRTP sessions: the session made at the first
// ClientHello, the peer's certificate checked against the fingerprint of its answer (which may come after the
// handshake: the check then waits for it, `dtlsPendingVerify`), the keys exported into the transport's SRTP
// sessions. A failed handshake drops that DTLS session only (the next ClientHello starts a new one); a wrong
// certificate, keys that cannot be made, or the peer's close disconnect the endpoint. What a connected endpoint
// starts (its events, keyframes, estimates) is the bridge's (`DtlsHost.srtpReady`).
import type { Logger } from '../log.ts';
import { certificateMatches, type BridgeCertificate } from './certificate.ts';
import { DtlsEndpoint, type DtlsSrtpKeys } from './dtls.ts';
import type { Endpoint } from './endpoint.ts';
import { SrtpSession } from './packet/srtp.ts';
import type { WebRtcTransport } from './webrtc-transport.ts';

/** Handshake failures logged per transport (a peer retrying a broken handshake is not a log flood). */
const LOGGED_FAILURES = 3;

export interface DtlsHost {
  readonly certificate: BridgeCertificate;
  disconnect(ep: Endpoint, reason: string): void;
  /** `t.srtpIn` and `t.srtpOut` are made from `keys`: the endpoint is connected (a throw: SRTP setup failed). */
  srtpReady(t: WebRtcTransport, keys: DtlsSrtpKeys): void;
  /** After `srtpReady`: the endpoint's connection is told, and what it receives starts with a keyframe. */
  announceConnected(t: WebRtcTransport): void;
}

/** The DTLS session of `t`, made at its first handshake datagram; its datagrams go out on `t`'s selected path. */
export function startDtls(t: WebRtcTransport, host: DtlsHost, log: Logger): DtlsEndpoint {
  const ep = t.endpoint;
  const dtls: DtlsEndpoint = new DtlsEndpoint(host.certificate, {
    send: (buf) => {
      if (t.dtls === dtls) t.sendRaw(buf);
    },
    onConnect: () => {
      if (t.dtls !== dtls || ep.closed) return;
      if (t.remoteFingerprint === null) {
        t.dtlsPendingVerify = true;
        return;
      }
      completeDtls(t, host, log);
    },
    onError: (error) => {
      if (t.dtls !== dtls || ep.closed) return;
      if (++t.dtlsFailures <= LOGGED_FAILURES) log.warn(
        { conferenceId: ep.conference.id, endpointId: ep.id, err: error instanceof Error ? error.message : String(error) },
        'DTLS handshake failed',
      );
      // drop this DTLS session; a new ClientHello starts a fresh one
      dtls.close();
      t.dtls = null;
      if (ep.connected) host.disconnect(ep, 'DTLS error');
    },
    onClose: () => {
      if (t.dtls !== dtls || ep.closed) return;
      log.info({ conferenceId: ep.conference.id, endpointId: ep.id }, 'DTLS closed by the peer');
      host.disconnect(ep, 'DTLS closed');
    },
  });
  return dtls;
}

/** The handshake finished and the remote fingerprint is known: verify it and start SRTP. */
export function completeDtls(t: WebRtcTransport, host: DtlsHost, log: Logger): void {
  const ep = t.endpoint;
  t.dtlsPendingVerify = false;
  const dtls = t.dtls;
  if (dtls === null || t.remoteFingerprint === null) return;
  const der = dtls.remoteCertificate;
  if (der === undefined || !certificateMatches(der, t.remoteFingerprint)) {
    log.warn({ conferenceId: ep.conference.id, endpointId: ep.id }, 'DTLS certificate does not match the fingerprint of the answer; closing the transport');
    host.disconnect(ep, 'fingerprint mismatch');
    return;
  }
  try {
    const keys = dtls.srtpKeys();
    if (keys === null) throw new Error('no SRTP protection profile was negotiated');
    t.srtpIn = new SrtpSession(keys.profile, keys.remoteKey, keys.remoteSalt);
    t.srtpOut = new SrtpSession(keys.profile, keys.localKey, keys.localSalt);
    host.srtpReady(t, keys);
  } catch (e) {
    log.warn({ conferenceId: ep.conference.id, endpointId: ep.id, err: (e as Error).message }, 'SRTP setup failed');
    host.disconnect(ep, 'SRTP setup failed');
    return;
  }
  host.announceConnected(t);
}

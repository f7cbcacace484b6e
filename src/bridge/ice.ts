// ICE-lite (RFC 8445 §2.5): the bridge only answers connectivity checks. A Binding request is answered when
// its USERNAME is `<localUfrag>:<remoteUfrag>` of a known endpoint and its MESSAGE-INTEGRITY (local pwd) and
// FINGERPRINT verify; the source address then becomes a valid address of that endpoint. Every other STUN
// message is dropped and counted (dropStun), never answered: an error response to an unauthenticated request
// would make the bridge a reflector toward forged source addresses (a 401 is 1.7 times the size of a small
// request), and a browser learns nothing from it that its own check timeout does not tell it.
import {
  STUN_CLASS_INDICATION,
  STUN_CLASS_REQUEST,
  STUN_METHOD_BINDING,
  buildBindingSuccess,
  parseStun,
  verifyFingerprint,
  verifyIntegrity,
} from './packet/stun.ts';
import type { TcpPath } from './tcp-transport.ts';
import type { WebRtcTransport } from './webrtc-transport.ts';
import type { BridgeCounters } from './counters.ts';

export interface IceHost {
  readonly counters: BridgeCounters;
  transportByUfrag(ufrag: string): WebRtcTransport | undefined;
  /** A check from address:port (over the ICE-TCP connection `tcp`, else UDP) for `transport` passed. */
  iceCheckPassed(transport: WebRtcTransport, address: string, port: number, useCandidate: boolean, tcp: TcpPath | null): void;
  sendStun(buf: Buffer, address: string, port: number, tcp: TcpPath | null): void;
}

/** A STUN message from address:port; `tcp`: the ICE-TCP connection it came on (null: the UDP port). */
export function handleStun(host: IceHost, buf: Buffer, address: string, port: number, tcp: TcpPath | null = null): void {
  const c = host.counters;
  c.stunIn++;
  const msg = parseStun(buf);
  if (msg === null || msg.method !== STUN_METHOD_BINDING) {
    c.dropStun++;
    return;
  }
  if (msg.cls === STUN_CLASS_INDICATION) {
    // keepalive (RFC 8445 §11): unauthenticated, so it does not count as consent; nothing to answer
    return;
  }
  if (msg.cls !== STUN_CLASS_REQUEST) {
    // an ICE-lite agent sends no requests, so responses are unexpected
    c.dropStun++;
    return;
  }
  if (!msg.hasFingerprint || !verifyFingerprint(buf)) {
    // RFC 8445 §7.3: without a valid FINGERPRINT it is not ICE traffic; discard silently
    c.dropStun++;
    return;
  }
  if (msg.username === null || !msg.hasIntegrity) {
    c.dropStun++;
    return;
  }
  const colon = msg.username.indexOf(':');
  const localUfrag = colon < 0 ? msg.username : msg.username.slice(0, colon);
  const remoteUfrag = colon < 0 ? '' : msg.username.slice(colon + 1);
  const transport = host.transportByUfrag(localUfrag);
  if (transport === undefined || transport.endpoint.closed || colon < 0 || remoteUfrag === '') {
    c.dropStun++;
    return;
  }
  if (!verifyIntegrity(buf, transport.pwd)) {
    c.dropStun++;
    return;
  }
  if (transport.remoteUfrag !== null && transport.remoteUfrag !== remoteUfrag) {
    // a check for an old (or not yet configured) remote session: authenticated, but not ours to accept (and
    // a replayed request with a forged source must not be reflected either)
    c.dropStun++;
    return;
  }
  let response: Buffer;
  try {
    response = buildBindingSuccess(msg.transactionId, address, port, transport.pwd);
  } catch {
    c.dropStun++;
    return;
  }
  host.sendStun(response, address, port, tcp);
  host.iceCheckPassed(transport, address, port, msg.useCandidate, tcp);
}

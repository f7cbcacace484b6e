// Every fuzz target, one per parser reachable from the network (see harness.ts for what a target is).
// test/unit/fuzz.test.ts runs each briefly and replays its corpus; `npm run fuzz` runs them for longer.
import type { FuzzTarget } from './harness.ts';
import { bridgeMediaTarget } from './targets/bridge-media.ts';
import { busWireTarget } from './targets/bus-wire.ts';
import { dtlsEndpointTarget, dtlsRecordsTarget } from './targets/dtls.ts';
import { httpTarget } from './targets/http.ts';
import { iceTcpTarget } from './targets/ice-tcp.ts';
import { phoneRtpTarget, sdpOfferTarget } from './targets/phone-media.ts';
import { plainTransportTarget } from './targets/plain-transport.ts';
import { rtcpTarget, twccRecorderTarget } from './targets/rtcp.ts';
import { rtpTarget } from './targets/rtp.ts';
import { sdpAnswerTarget } from './targets/sdp-answer.ts';
import { sipMessageTarget } from './targets/sip-message.ts';
import { srtpTarget } from './targets/srtp.ts';
import { stunTarget } from './targets/stun.ts';
import { vp8Target } from './targets/vp8.ts';
import { wsMessageTarget } from './targets/ws-message.ts';
import { wsSessionTarget } from './targets/ws-session.ts';

export const TARGETS: readonly FuzzTarget<any>[] = [
  stunTarget,
  rtpTarget,
  rtcpTarget,
  twccRecorderTarget,
  vp8Target,
  srtpTarget,
  dtlsRecordsTarget,
  dtlsEndpointTarget,
  iceTcpTarget,
  plainTransportTarget,
  bridgeMediaTarget,
  wsMessageTarget,
  sdpAnswerTarget,
  busWireTarget,
  httpTarget,
  wsSessionTarget,
  sipMessageTarget,
  sdpOfferTarget,
  phoneRtpTarget,
];

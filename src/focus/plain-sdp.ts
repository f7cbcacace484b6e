// The session description of a plain-RTP transport, as ffmpeg, ffplay and GStreamer open it from a file:
// one m-line per leg (audio: Opus, video: VP8, the payload types of the one media profile), the address
// and ports media goes to, and with SDES the key the packets are encrypted with (a=crypto, RFC 4568).
// For a recorder the ports are the recorder's own (the bridge sends there); for a publisher they are the
// bridge's (the SDP says where to send).
import { AUDIO_CODEC, AUDIO_PT, VIDEO_CODEC, VIDEO_PT } from '../protocol/media-profile.ts';
import type { MediaKind } from '../protocol/signal-messages.ts';

export interface PlainSdpLeg {
  kind: MediaKind;
  port: number;
  /** Without rtcp-mux: where RTCP goes (port + 1 when omitted, as RFC 3550 has it). */
  rtcpPort?: number;
}

export interface PlainSdpOptions {
  /** The session name (s=): the room, for a person reading it. */
  name: string;
  /** The IPv4 address the media is sent to. */
  address: string;
  legs: PlainSdpLeg[];
  rtcpMux: boolean;
  /** SDES: base64 of the master key || salt the media is encrypted with (AES_CM_128_HMAC_SHA1_80). */
  srtpKey?: string;
}

/** The SDP text (CRLF line ends). The name is reduced to printable ASCII: it is a label, not a field to inject into. */
export function buildPlainSdp(o: PlainSdpOptions): string {
  const name = o.name.replace(/[^\x20-\x7e]/g, '?').slice(0, 128) || '-';
  const lines = ['v=0', `o=- 0 0 IN IP4 ${o.address}`, `s=${name}`, `c=IN IP4 ${o.address}`, 't=0 0'];
  const profile = o.srtpKey === undefined ? 'RTP/AVP' : 'RTP/SAVP';
  for (const leg of o.legs) {
    if (leg.kind === 'audio') {
      lines.push(`m=audio ${leg.port} ${profile} ${AUDIO_PT}`);
      lines.push(`a=rtpmap:${AUDIO_PT} ${AUDIO_CODEC.name}/${AUDIO_CODEC.clockRate}/${AUDIO_CODEC.channels}`);
      lines.push(`a=fmtp:${AUDIO_PT} ${AUDIO_CODEC.fmtp}`);
    } else {
      lines.push(`m=video ${leg.port} ${profile} ${VIDEO_PT}`);
      lines.push(`a=rtpmap:${VIDEO_PT} ${VIDEO_CODEC.name}/${VIDEO_CODEC.clockRate}`);
    }
    if (o.rtcpMux) lines.push('a=rtcp-mux');
    else if (leg.rtcpPort !== undefined && leg.rtcpPort !== leg.port + 1) lines.push(`a=rtcp:${leg.rtcpPort}`);
    if (o.srtpKey !== undefined) lines.push(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${o.srtpKey}`);
  }
  return lines.join('\r\n') + '\r\n';
}

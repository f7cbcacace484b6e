// The one media profile of every Tertulia session: payload types, codecs and header-extension ids. Focus
// writes them into every offer (and into the SDP of plain-RTP transports), the bridge reads packets by them
// without ever rewriting them, and the benchmark and tests build packets with them. Change them here only.

/** Opus, 48 kHz stereo (RFC 7587), with in-band FEC. */
export const AUDIO_PT = 111;
export const AUDIO_CODEC = { name: 'opus', clockRate: 48000, channels: 2, fmtp: 'minptime=10;useinbandfec=1' } as const;
/** VP8 (RFC 7741). */
export const VIDEO_PT = 96;
export const VIDEO_CODEC = { name: 'VP8', clockRate: 90000 } as const;
/** Retransmissions of VIDEO_PT (RFC 4588, `apt=96`). */
export const RTX_PT = 97;
/**
 * Most each layer of a browser's simulcast camera may use (bit/s), lowest first: the web app caps its encodings with
 * them (the top one applies to any 720p-or-larger camera).
 */
export const CAMERA_LAYER_MAX_BPS = [150_000, 500_000, 1_200_000] as const;
/** What the camera's layers may use together (bit/s). */
export const CAMERA_LAYERS_BPS = CAMERA_LAYER_MAX_BPS.reduce((a, b) => a + b, 0);
/**
 * Where a browser's estimate of its uplink starts (kbit/s), offered on its camera's m-line as Chrome's
 * `x-google-start-bitrate` (VP8's fmtp; Firefox ignores it): what the camera's layers use together
 * (CAMERA_LAYERS_BPS, 1.85 Mbit/s) and a little more, so they are all on from the first frame. Chrome's own start,
 * 300 kbit/s, relies on its first two probes to find the link at once; on a busy machine they stall, and from there
 * the estimate grows ~8 % a second (docs/BENCHMARKS.md "A publisher's first probes" and "Where the uplink estimate
 * starts"). A slower uplink is found within a second by Chrome's delay-based estimate (measured down to 250 kbit/s,
 * with no loss), as with Jitsi Meet's and mediasoup's own start rates. Only on the camera's m-line, which every
 * session has from its first offer: Chrome restarts its estimate at a start rate it has not had before.
 */
export const CAMERA_START_KBPS = 2000;

/** RFC 6464 audio level, on what browsers send. */
export const AUDIO_LEVEL_EXT_ID = 1;
export const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';
/** Transport-wide sequence numbers (draft-holmer-rmcat-transport-wide-cc-extensions-01), on every m-line. */
export const TWCC_EXT_ID = 3;
export const TWCC_URI = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';
/** The camera's simulcast: mid, rid and repaired rid (RFC 8852/8843). */
export const MID_EXT_ID = 4;
export const MID_URI = 'urn:ietf:params:rtp-hdrext:sdes:mid';
export const RID_EXT_ID = 5;
export const RID_URI = 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id';
export const REPAIRED_RID_EXT_ID = 6;
export const REPAIRED_RID_URI = 'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id';
/** mid/rid elements of a simulcast layer are renamed to this id (negotiated by nobody) before forwarding. */
export const HIDDEN_EXT_ID = 14;
/** The camera's simulcast layers, lowest first (Chrome scales them 4:2:1). */
export const SIMULCAST_RIDS = ['q', 'h', 'f'] as const;

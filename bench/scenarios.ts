// The benchmark's scenarios. Every participant receives every source of the other participants of its room;
// video publishers send their camera as rid simulcast (bench/media.ts).

export interface Scenario {
  name: string;
  description: string;
  rooms: number;
  perRoom: number;
  /** The first `videoPublishers` participants of each room send VP8 simulcast (and Opus). */
  videoPublishers: number;
  /** The first `audioPublishers` participants of each room send Opus. */
  audioPublishers: number;
  /** Measured seconds at nominal load. */
  seconds: number;
  /** The tile every receiver shows each camera in (bridge video constraints); default DEFAULT_TILE. */
  tile?: { width: number; height: number };
}

/** Receivers show every camera at 1280x720 (device pixels): the simulcast top layer is what they need. */
export const DEFAULT_TILE = { width: 1280, height: 720 };

export const SCENARIOS: Scenario[] = [
  { name: 'meeting-3', description: 'one meeting of 3, everyone sends video and audio', rooms: 1, perRoom: 3, videoPublishers: 3, audioPublishers: 3, seconds: 8 },
  { name: 'webinar-50', description: 'one room of 50: 3 video publishers, 47 receivers', rooms: 1, perRoom: 50, videoPublishers: 3, audioPublishers: 3, seconds: 8 },
  { name: 'rooms-20x5', description: '20 rooms of 5, everyone sends video and audio', rooms: 20, perRoom: 5, videoPublishers: 5, audioPublishers: 5, seconds: 8 },
  { name: 'audio-200', description: 'one audio-only room of 200: 3 talkers, 197 muted listeners', rooms: 1, perRoom: 200, videoPublishers: 0, audioPublishers: 3, seconds: 8 },
];

/** The CI sanity check: light load, a few seconds. */
export const SHORT_SCENARIOS: Scenario[] = [
  { name: 'meeting-3', description: 'one meeting of 3, everyone sends video and audio', rooms: 1, perRoom: 3, videoPublishers: 3, audioPublishers: 3, seconds: 3 },
  { name: 'webinar-10', description: 'one room of 10: 3 video publishers, 7 receivers', rooms: 1, perRoom: 10, videoPublishers: 3, audioPublishers: 3, seconds: 3 },
];

/** Run only when named (--scenario): 30 participants in everyday meetings, for the bridge's memory per participant. */
export const EXTRA_SCENARIOS: Scenario[] = [
  { name: 'meetings-6x5', description: '6 meetings of 5 (30 participants), everyone sends video and audio', rooms: 6, perRoom: 5, videoPublishers: 5, audioPublishers: 5, seconds: 8 },
];

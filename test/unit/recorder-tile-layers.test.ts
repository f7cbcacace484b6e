// A composed recording asks the bridge for the simulcast layer each tile needs: the recorder part with its real
// GStreamer child, real focus, and a bridge that only records what it is asked (bus handlers). Six people with
// cameras in the grid: every camera is asked for at its small tile's size (426x239 in 1280x720: the bridge sends
// its 360p layer, not 720p); the moderator's switch to the speaker layout (recorder.<id>.layout, as signal sends
// it) reaches the child, which says so, and the speaker's camera is asked for at the stage's size, the others at
// the strip's. Sizes of SSRCs the recorder does not receive are never passed on.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { callBus } from '../../src/bus/typed-calls.ts';
import { loadConfig } from '../../src/config/config.ts';
import { startFocus } from '../../src/focus/index.ts';
import { createLogger } from '../../src/log.ts';
import { busCalls } from '../../src/protocol/bus-calls.ts';
import { subjects, type SignalOffer } from '../../src/protocol/bus-messages.ts';
import { startRecorder, type RecorderPart } from '../../src/recorder/index.ts';
import { answerFor } from '../helpers/sdp-answer.ts';

const log = createLogger(process.env.TERTULIA_TEST_LOG_LEVEL ?? 'silent');
const CONF = 'tiles';
const PEOPLE = ['P1', 'P2', 'P3', 'P4', 'P5', 'P6'];
const cameraOf = (i: number) => 1002 + 10 * i;

async function waitFor<T>(get: () => T | undefined, what: () => string, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('simulcast layers per tile', () => {
  const bus = new MemoryBus();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-tiles-'));
  const config = loadConfig({ env: { TERTULIA_CONFIG: '' }, overrides: { logLevel: 'silent', renegotiationBurst: 1000, dataDir, recordingFps: 10, recordingLayout: 'grid' } });
  const constraints: { endpointId: string; constraints: { ssrc: number; width: number; height: number }[] }[] = [];
  let focus: { close(): Promise<void> };
  let recorder: RecorderPart;

  before(async () => {
    const ok = { ok: true };
    bus.handle(subjects.bridgeAllocate('B1'), (p: any) => ({
      ufrag: `u-${p.endpointId}`,
      pwd: 'bridgepasswordbridgepassword',
      fingerprint: { algorithm: 'sha-256', value: Array(32).fill('AB').join(':') },
      candidates: [{ foundation: '1', ip: '127.0.0.1', port: 10000, protocol: 'udp', priority: 2130706431, type: 'host' }],
    }));
    for (const s of [subjects.bridgeConfigure, subjects.bridgeSubscribe, subjects.bridgeMute, subjects.bridgeExpire]) bus.handle(s('B1'), () => ok);
    bus.handle(subjects.bridgeConstraints('B1'), (p: any) => {
      constraints.push(p);
      return ok;
    });
    bus.handle(subjects.bridgeAllocatePlain('B1'), (p: any) => ({
      address: '127.0.0.1',
      legs: p.legs.map((l: any, i: number) => ({ kind: l.kind, port: 40000 + 2 * i, rtcpPort: 40001 + 2 * i })),
      rtcpMux: false,
      srtp: { suite: 'AES_CM_128_HMAC_SHA1_80', localKey: randomBytes(30).toString('base64'), remoteKey: randomBytes(30).toString('base64') },
    }));
    // the fake bridge announces once: focus must not drop it while a loaded machine runs the test
    focus = startFocus({ bus, config, log, bridgeWaitMs: 300, bridgeExpiryMs: 600_000 });
    bus.publish(subjects.bridgeAnnounce, { bridgeId: 'B1', endpoints: 0 });
    const offers: SignalOffer[] = [];
    bus.subscribe(subjects.signalOffer, (o) => offers.push(o as SignalOffer));
    for (const [i, id] of PEOPLE.entries()) {
      await bus.request(subjects.focusJoin, { conferenceId: CONF, participantId: id });
      const offer = await waitFor(() => offers.findLast((o) => o.participantId === id), () => `an offer for ${id}`);
      await bus.request(subjects.focusAnswer, { conferenceId: CONF, participantId: id, version: offer.version, sdp: answerFor(offer.sdp, { audio: 1001 + 10 * i, video: cameraOf(i) }) });
    }
    recorder = startRecorder({ bus, config, log, recorderId: 'rt' });
  });
  after(async () => {
    await recorder?.close();
    await focus?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The latest size the bridge was asked for, per SSRC, for the recorder's endpoint. */
  const asked = (endpointId: string) => {
    const out = new Map<number, { width: number; height: number }>();
    for (const c of constraints.filter((x) => x.endpointId === endpointId)) for (const s of c.constraints) out.set(s.ssrc, { width: s.width, height: s.height });
    return out;
  };

  test('six cameras in the grid are asked for small; the speaker layout asks the stage large and the strip small', { timeout: 120_000 }, async () => {
    const recordingId = 'rec-00000000000000aa';
    const participants = PEOPLE.map((id) => ({ participantId: id, name: `Person ${id}` }));
    await callBus(bus, busCalls.recorderStart, 'rt', { recordingId, conferenceId: CONF, room: 'Tiles', participants, speaker: 'P3' }, 30_000);
    try {
      const grid = await waitFor(
        () => {
          const a = asked(recordingId);
          return PEOPLE.every((_, i) => a.get(cameraOf(i))?.height === 239) ? a : undefined;
        },
        () => `grid sizes: ${JSON.stringify([...asked(recordingId)])}`,
      );
      for (const [i] of PEOPLE.entries()) assert.deepEqual(grid.get(cameraOf(i)), { width: 426, height: 239 });
      // only the cameras it receives: never a microphone's SSRC or another endpoint's
      assert.ok([...grid.keys()].every((ssrc) => PEOPLE.some((_, i) => ssrc === cameraOf(i))), JSON.stringify([...grid.keys()]));

      await callBus(bus, busCalls.recorderLayout, 'rt', { recordingId, layout: 'speaker' });
      const speaker = await waitFor(
        () => {
          const a = asked(recordingId);
          return a.get(cameraOf(2))?.height === 576 ? a : undefined;
        },
        () => `speaker sizes: ${JSON.stringify([...asked(recordingId)])}`,
      );
      assert.deepEqual(speaker.get(cameraOf(2)), { width: 1024, height: 576 }, 'the speaker (P3) on the stage');
      for (const i of [0, 1, 3, 4, 5]) assert.deepEqual(speaker.get(cameraOf(i)), { width: 256, height: 144 }, `P${i + 1} in the strip`);
      // an unknown recording is not found
      await assert.rejects(callBus(bus, busCalls.recorderLayout, 'rt', { recordingId: 'rec-00000000000000ab', layout: 'grid' }), /no recording/);
    } finally {
      await callBus(bus, busCalls.recorderStop, 'rt', { recordingId }, 30_000);
    }
  });

  test('focus passes on only the sizes of SSRCs the endpoint receives', async () => {
    const before = constraints.length;
    await callBus(bus, busCalls.focusAttachPlain, '', {
      conferenceId: CONF,
      endpointId: 'rec-00000000000000ac',
      legs: [{ kind: 'video', address: '127.0.0.1', port: 50002 }],
      rtcpMux: false,
      comedia: false,
      srtp: false,
      sources: [],
      receiveAll: {},
    });
    await callBus(bus, busCalls.focusPlainConstraints, '', {
      conferenceId: CONF,
      endpointId: 'rec-00000000000000ac',
      constraints: [
        { ssrc: 9999, width: 1280, height: 720 },
        { ssrc: cameraOf(0), width: 320, height: 180 },
      ],
    });
    assert.deepEqual(constraints.slice(before), [{ conferenceId: CONF, endpointId: 'rec-00000000000000ac', constraints: [{ ssrc: cameraOf(0), width: 320, height: 180 }] }]);
    await assert.rejects(
      callBus(bus, busCalls.focusPlainConstraints, '', { conferenceId: CONF, endpointId: 'nobody', constraints: [] }),
      /no plain-RTP endpoint/,
    );
  });
});

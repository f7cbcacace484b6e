// Receive slots through the Bridge's own calls (no network): what plays on a receiver's slots follows the mutes of
// the others (an unmuted camera before one the server has off) and the receiver's stage (its largest tile), even
// with last-N off, not only the speaker order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { configSchema } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { Bridge } from '../../src/bridge/bridge.ts';
import { createBridgeCertificate } from '../../src/bridge/certificate.ts';

const CONF = 'slots';

test('bridge: a mute, an unmute or a new stage changes what plays on a receiver\'s slots', { timeout: 30_000 }, async (t) => {
  const bus = new MemoryBus();
  const config = configSchema.parse({ listenAddress: '127.0.0.1', mediaPort: 0, tcpMediaPort: 0, mediaWorkers: 1 });
  const bridge = new Bridge({ bus, config, log: createLogger('silent'), bridgeId: 'slots', certificate: await createBridgeCertificate() });
  await bridge.udp.bind('127.0.0.1', 0);
  t.after(async () => {
    await bridge.close();
    await bus.close();
  });
  for (const id of ['rx', 'a', 'b', 'c']) bridge.allocate(CONF, id);
  const video = { a: 12, b: 22, c: 32 } as const;
  for (const [id, ssrc] of Object.entries(video)) {
    bridge.configure({
      conferenceId: CONF,
      endpointId: id,
      remoteUfrag: `${id}u`,
      remotePwd: 'p'.repeat(24),
      remoteFingerprint: { algorithm: 'sha-256', value: 'AB:'.repeat(31) + 'AB' },
      sources: [
        { ssrc: ssrc - 1, kind: 'audio' },
        { ssrc, kind: 'video', rtxSsrc: ssrc + 1 },
      ],
    });
  }
  bridge.subscribe(
    CONF,
    'rx',
    [11, 12, 21, 22, 31, 32],
    [
      { mid: '3', kind: 'audio', ssrc: 9001 },
      { mid: '4', kind: 'video', ssrc: 9101, rtxSsrc: 9102 },
    ],
    '777',
  );
  const rx = bridge.conferences.get(CONF)!.endpoints.get('rx')!;
  assert.equal(rx.mediaSession, '777', 'the media session its slot maps and layers to send name');
  const onVideoSlot = () => rx.slots!.entries().find((e) => e.kind === 'video')?.participantId;
  const onAudioSlot = () => rx.slots!.entries().find((e) => e.kind === 'audio')?.participantId;
  assert.equal(onVideoSlot(), 'a', 'join order while nobody spoke');
  assert.equal(onAudioSlot(), 'a');

  bridge.mute(CONF, 'a', 'video', true);
  assert.equal(onVideoSlot(), 'b', "a's camera is off: the next one takes the slot");
  bridge.mute(CONF, 'a', 'audio', true);
  assert.equal(onAudioSlot(), 'b', 'an unmuted microphone before a muted one');

  bridge.setVideoConstraints(CONF, 'rx', [
    { ssrc: video.c, width: 1280, height: 720 },
    { ssrc: video.b, width: 320, height: 180 },
  ]);
  assert.equal(onVideoSlot(), 'c', 'the stage takes the video slot with last-N off');
  bridge.mute(CONF, 'a', 'video', false);
  assert.equal(onVideoSlot(), 'c', 'an unmute does not displace the stage');
});

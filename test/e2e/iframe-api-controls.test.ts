// End to end: the IFrame API's device, config, view and moderator controls (iframe-api.test.ts has the joining,
// media, chat, password and removal ones). Three people embed the same meeting from a host page on another origin,
// in one Chromium whose fake microphone talks and which has two fake cameras (`device-count=2`; the fake audio
// devices are Chromium's own three inputs and three outputs): devices are listed and switched by label and by id;
// overwriteConfig changes the language and the camera's resolution at run time and skips a pre-join page; the
// views, pins, screen share and dominant speaker give their events; a moderator grants moderator, runs the lobby
// (a knocker's knockingParticipant, answerKnockingParticipant), mutes everyone, records and streams (the real
// recorder: GStreamer; an RTMP server: ffmpeg), and endConference ends it for everyone.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { FrameLocator } from 'playwright-core';
import { newParticipant, waitUntil, type Participant } from '../helpers/browser.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { useTalkingBrowser } from '../helpers/e2e.ts';
import { freeTcpPort } from '../helpers/ports.ts';
import { rtmpServer } from '../helpers/rtmp.ts';
import { apiEvents, startHostServer, waitApiEvent, type HostServer } from '../helpers/embed-host.ts';

const EVENTS = [
  'videoConferenceJoined', 'videoConferenceLeft', 'readyToClose', 'participantJoined', 'participantLeft',
  'participantRoleChanged', 'audioMuteStatusChanged', 'screenSharingStatusChanged', 'dominantSpeakerChanged',
  'tileViewChanged', 'knockingParticipant', 'recordingStatusChanged', 'deviceListChanged', 'errorOccurred',
];

/** The api object of the host page (runs in the page). */
type Api = any;

describe('the IFrame API: devices, overwriteConfig, views, lobby, recording, endConference', () => {
  let server: RunningServer;
  let host: HostServer;
  let tertulia = '';
  const talking = useTalkingBrowser(['--use-fake-device-for-media-stream=device-count=2']);
  let ana: Participant;
  let ben: Participant;
  let cy: Participant;
  let anaId = '';
  let benId = '';
  let cyId = '';
  const room = 'Mandos';

  /** Runs `f(api, arg)` in the host page (api: its JitsiMeetExternalAPI). */
  const call = async <T,>(p: Participant, f: (api: Api, arg: any) => T | Promise<T>, arg?: unknown): Promise<T> => {
    const api = await p.page.evaluateHandle(() => (window as any).api);
    try {
      return (await api.evaluate(f as any, arg)) as T;
    } finally {
      await api.dispose();
    }
  };
  const frame = (p: Participant): FrameLocator => p.page.frameLocator('iframe');
  const open = async (p: Participant, config: Record<string, unknown> = {}) => {
    await p.page.goto(`https://localhost:${host.port}/?room=${room}&name=${p.name}&config=${encodeURIComponent(JSON.stringify(config))}`);
  };
  /**
   * The height the camera is asked for (its track's constraints, read in the meeting's frame from the track it
   * sends); what it delivers may be less, as WebRTC scales down a busy machine's video.
   */
  const askedVideoHeight = async (p: Participant): Promise<unknown> => {
    const meeting = p.page.frames().find((f) => f !== p.page.mainFrame());
    return await meeting?.evaluate(() => {
      const pc = (window as any).__tertulia?.pc as RTCPeerConnection | undefined;
      const height = pc?.getSenders().find((s) => s.track?.kind === 'video')?.track?.getConstraints().height;
      return typeof height === 'object' ? height.ideal : height;
    });
  };

  before(async () => {
    host = await startHostServer(() => tertulia, EVENTS);
    server = await startServer({ TERTULIA_EMBED_ALLOWED_ORIGINS: `https://localhost:${host.port}` });
    tertulia = `127.0.0.1:${server.httpsPort}`;
    host.useCertificate(server.dataDir);
  });

  after(async () => {
    await server?.stop();
    host?.server.close();
  });

  test('getAvailableDevices lists the fake devices; set*Device switches by label or id; getCurrentDevices follows; deviceListChanged', async () => {
    ana = await newParticipant(talking.browser, 'Ana');
    ben = await newParticipant(talking.browser, 'Ben');
    await open(ana);
    anaId = (await waitApiEvent(ana, 'Ana joined', (e) => e.name === 'videoConferenceJoined')).data.id;
    await open(ben);
    benId = (await waitApiEvent(ben, 'Ben joined', (e) => e.name === 'videoConferenceJoined')).data.id;

    const devices = await call(ana, (api) => api.getAvailableDevices());
    const labels = (list: Array<{ label: string }>) => list.map((d) => d.label);
    assert.deepEqual(labels(devices.videoInput), ['fake_device_0', 'fake_device_1']);
    assert.ok(labels(devices.audioInput).includes('Fake Audio Input 1'), JSON.stringify(devices.audioInput));
    assert.ok(labels(devices.audioOutput).includes('Fake Audio Output 1'), JSON.stringify(devices.audioOutput));
    for (const d of [...devices.audioInput, ...devices.audioOutput, ...devices.videoInput]) assert.equal(typeof d.deviceId, 'string');
    const current = () => call(ana, (api) => api.getCurrentDevices());
    assert.equal((await current()).videoInput.label, 'fake_device_0');

    // the function form answers whether it switched; the command form just does it
    assert.equal(await call(ana, (api) => api.setVideoInputDevice('fake_device_1')), true);
    assert.equal((await current()).videoInput.label, 'fake_device_1');
    assert.equal(await call(ana, (api) => api.setVideoInputDevice('no such camera')), false);
    await call(ana, (api, id) => api.executeCommand('setVideoInputDevice', undefined, id), devices.videoInput[0].deviceId);
    await waitUntil('the first camera again', current, (c) => c.videoInput.label === 'fake_device_0');
    await call(ana, (api) => api.executeCommand('setAudioInputDevice', 'Fake Audio Input 1'));
    await waitUntil('the other microphone', current, (c) => c.audioInput.label === 'Fake Audio Input 1');
    assert.equal(await call(ana, (api) => api.setAudioOutputDevice('Fake Audio Output 2')), true);
    assert.equal((await current()).audioOutput.label, 'Fake Audio Output 2');
    // the meeting goes on with the switched devices: Ben still gets Ana's picture
    await frame(ben).getByRole('group', { name: 'Ana', exact: true }).locator('video').waitFor({ timeout: 15_000 });

    // Chromium's fake devices never come or go, so the browser never fires devicechange by itself: the test fires
    // one in the meeting's frame, and the host gets the real list
    const meeting = ana.page.frames().find((f) => f !== ana.page.mainFrame())!;
    await meeting.evaluate(() => navigator.mediaDevices.dispatchEvent(new Event('devicechange')));
    const changed = await waitApiEvent(ana, 'deviceListChanged', (e) => e.name === 'deviceListChanged');
    assert.deepEqual(changed.data.devices, devices);
  });

  test('overwriteConfig: the language and the camera resolution change at run time; unknown keys are ignored', async () => {
    assert.equal(await askedVideoHeight(ana), 180, 'configOverwrite resolution 180 at the start');
    await call(ana, (api) => api.executeCommand('overwriteConfig', { defaultLanguage: 'es', resolution: 360, toolbarButtons: ['microphone'], someJitsiOnlyKey: { x: 1 } }));
    await frame(ana).getByRole('button', { name: 'Salir de la reunión' }).waitFor({ timeout: 10_000 });
    await waitUntil('the camera asked for 360 lines', () => askedVideoHeight(ana), (h) => h === 360);
    await call(ana, (api) => api.executeCommand('overwriteConfig', { defaultLanguage: 'en' }));
    await frame(ana).getByRole('button', { name: 'Leave meeting' }).waitFor({ timeout: 10_000 });
    await call(ana, (api) => api.executeCommand('overwriteConfig', 'not a config'));
    const bad = await waitApiEvent(ana, 'a bad overwriteConfig', (e) => e.name === 'errorOccurred');
    assert.equal(bad.data.name, 'command.bad-arguments', 'the only error: unknown keys were not one');
    assert.match(bad.data.message, /^overwriteConfig/);
  });

  test('views and pins; toggleShareScreen; dominantSpeakerChanged', async () => {
    const stage = frame(ana).locator('.speaker-view .stage');
    await call(ana, (api) => api.executeCommand('setTileView', false));
    await waitApiEvent(ana, 'speaker view', (e) => e.name === 'tileViewChanged' && e.data.enabled === false);
    await call(ana, (api, id) => api.pinParticipant(id), benId);
    await stage.getByRole('group', { name: 'Ben', exact: true }).waitFor({ timeout: 10_000 });
    await call(ana, (api) => api.executeCommand('setTileView', true));
    await waitApiEvent(ana, 'tile view', (e) => e.name === 'tileViewChanged' && e.data.enabled === true);
    // setLargeVideoParticipant also leaves the tile view for the speaker view
    await call(ana, (api, id) => api.setLargeVideoParticipant(id), anaId);
    await stage.getByRole('group', { name: 'Ana (you)' }).waitFor({ timeout: 10_000 });

    await call(ben, (api) => api.executeCommand('toggleShareScreen'));
    const on = await waitApiEvent(ben, 'Ben shares', (e) => e.name === 'screenSharingStatusChanged' && e.data.on === true);
    assert.deepEqual(on.data.details, { sourceType: 'screen' });
    await call(ana, (api, id) => api.executeCommand('setLargeVideoParticipant', id, 'desktop'), benId);
    await stage.getByRole('group', { name: "Ben's screen" }).waitFor({ timeout: 15_000 });
    await call(ben, (api) => api.executeCommand('toggleShareScreen'));
    await waitApiEvent(ben, 'Ben stopped sharing', (e) => e.name === 'screenSharingStatusChanged' && e.data.on === false);

    // Ana is quiet (muted), Ben's microphone talks
    await call(ana, (api) => api.executeCommand('toggleAudio'));
    await waitApiEvent(ana, 'Ana muted', (e) => e.name === 'audioMuteStatusChanged' && e.data.muted === true);
    await waitApiEvent(ana, 'Ben the dominant speaker', (e) => e.name === 'dominantSpeakerChanged' && e.data.id === benId);
  });

  test('grantModerator; the lobby: knockingParticipant, answerKnockingParticipant admits and denies; a pre-join page skipped by overwriteConfig', async () => {
    await call(ana, (api, id) => api.executeCommand('grantModerator', id), benId);
    await waitApiEvent(ben, 'Ben a moderator', (e) => e.name === 'participantRoleChanged' && e.data.id === benId && e.data.role === 'moderator');
    await waitApiEvent(ana, 'Ana told', (e) => e.name === 'participantRoleChanged' && e.data.id === benId && e.data.role === 'moderator');

    await call(ana, (api) => api.executeCommand('toggleLobby', true));

    // Cy's page shows the pre-join page; overwriteConfig mutes the microphone there, then skips it
    cy = await newParticipant(talking.browser, 'Cy');
    await open(cy, { prejoinPageEnabled: true });
    await frame(cy).getByRole('button', { name: 'Join meeting' }).waitFor({ timeout: 20_000 });
    await frame(cy).getByRole('button', { name: 'Mute microphone' }).waitFor({ timeout: 20_000 });
    await call(cy, (api) => api.executeCommand('overwriteConfig', { startWithAudioMuted: true }));
    await frame(cy).getByRole('button', { name: 'Unmute microphone' }).waitFor({ timeout: 10_000 });
    await call(cy, (api) => api.executeCommand('overwriteConfig', { prejoinConfig: { enabled: false } }));
    await frame(cy).getByRole('heading', { name: 'Waiting for a moderator to let you in' }).waitFor({ timeout: 20_000 });

    const knock = await waitApiEvent(ana, 'Cy knocks', (e) => e.name === 'knockingParticipant');
    assert.equal(knock.data.participant.name, 'Cy');
    await waitApiEvent(ben, 'the other moderator hears it too', (e) => e.name === 'knockingParticipant' && e.data.participant.name === 'Cy');
    await call(ana, (api, id) => api.executeCommand('answerKnockingParticipant', id, true), knock.data.participant.id);
    cyId = (await waitApiEvent(cy, 'Cy in', (e) => e.name === 'videoConferenceJoined')).data.id;
    await waitApiEvent(ana, 'Ana sees Cy', (e) => e.name === 'participantJoined' && e.data.id === cyId);
    assert.equal(await call(cy, (api) => api.isAudioMuted()), true, 'started muted, as overwritten');

    // the other moderator turns a knocker away
    const dee = await newParticipant(talking.browser, 'Dee');
    await open(dee);
    const deeKnock = await waitApiEvent(ben, 'Dee knocks', (e) => e.name === 'knockingParticipant' && e.data.participant.name === 'Dee');
    await call(ben, (api, id) => api.executeCommand('answerKnockingParticipant', id, false), deeKnock.data.participant.id);
    await frame(dee).getByRole('heading', { name: 'You were not let in' }).waitFor({ timeout: 10_000 });
    const denied = await waitApiEvent(dee, 'Dee told', (e) => e.name === 'errorOccurred');
    assert.equal(denied.data.isFatal, true);
    assert.equal((await apiEvents(dee)).filter((e) => e.name === 'videoConferenceJoined').length, 0);
    await dee.context.close();
    await call(ana, (api) => api.executeCommand('toggleLobby', false));
    await frame(ana).getByRole('button', { name: 'Moderator tools' }).click();
    await frame(ana).getByRole('button', { name: 'Enable lobby' }).waitFor({ timeout: 10_000 });
    await frame(ana).getByRole('button', { name: 'Moderator tools' }).click();

    // muteEveryone (audio): Ben's microphone, which talked, goes off
    await call(ana, (api) => api.executeCommand('muteEveryone', 'audio'));
    await waitApiEvent(ben, 'Ben muted by the moderator', (e) => e.name === 'audioMuteStatusChanged' && e.data.muted === true);
    assert.equal(await call(ben, (api) => api.isAudioMuted()), true);
  });

  test('startRecording and stopRecording, to a file and as a live stream: recordingStatusChanged for everyone; a participant is refused', async () => {
    await call(cy, (api) => api.startRecording({ mode: 'file' }));
    const refused = await waitApiEvent(cy, 'Cy refused', (e) => e.name === 'errorOccurred');
    assert.deepEqual([refused.data.name, refused.data.isFatal], ['not-moderator', false]);

    await call(ana, (api) => api.startRecording({ mode: 'file' }));
    for (const p of [ana, ben, cy]) await waitApiEvent(p, `${p.name} told of the recording`, (e) => e.name === 'recordingStatusChanged' && e.data.on === true);
    const on = (await apiEvents(ben)).find((e) => e.name === 'recordingStatusChanged')!;
    assert.deepEqual(on.data, { on: true, mode: 'file', transcription: false });
    await frame(cy).getByRole('status', { name: 'Recording', exact: true }).waitFor({ timeout: 10_000 });
    await call(ben, (api) => api.stopRecording('file'));
    for (const p of [ana, ben, cy]) await waitApiEvent(p, `${p.name} told it stopped`, (e) => e.name === 'recordingStatusChanged' && e.data.on === false);

    // a live stream to a real RTMP server (ffmpeg listening): Jitsi's rtmpStreamKey as the full address with the key
    const port = await freeTcpPort();
    const flv = path.join(server.dataDir, 'stream.flv');
    const rtmp = rtmpServer(`rtmp://127.0.0.1:${port}/live/e2e-key`, flv);
    try {
      await call(ana, (api, key) => api.startRecording({ mode: 'stream', rtmpStreamKey: key }), `rtmp://127.0.0.1:${port}/live/e2e-key`);
      const live = await waitApiEvent(ben, 'Ben told of the stream', (e) => e.name === 'recordingStatusChanged' && e.data.mode === 'stream' && e.data.on === true);
      assert.deepEqual(live.data, { on: true, mode: 'stream', transcription: false });
      await waitUntil('the RTMP server to receive the stream', async () => (existsSync(flv) ? statSync(flv).size : 0), (size) => size > 0);
      await call(ana, (api) => api.stopRecording('stream'));
      await waitApiEvent(ben, 'Ben told the stream ended', (e) => e.name === 'recordingStatusChanged' && e.data.mode === 'stream' && e.data.on === false);
    } finally {
      if (rtmp.process.exitCode === null && rtmp.process.signalCode === null) rtmp.process.kill('SIGKILL');
      await rtmp.exited;
    }

    // the recorder wrote a file (recording.test.ts checks what is in one)
    const files = () => readdirSync(path.join(server.dataDir, 'recordings'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.mkv'));
    await waitUntil('the recording\'s file', async () => files().map((f) => statSync(path.join(server.dataDir, 'recordings', f)).size), (sizes) => sizes.length === 1 && sizes[0]! > 0);
  });

  test('dispose leaves the meeting and removes the frame; endConference ends it for everyone', async () => {
    await call(cy, (api) => api.dispose());
    assert.equal(await cy.page.locator('iframe').count(), 0);
    await waitApiEvent(ana, 'Cy gone', (e) => e.name === 'participantLeft' && e.data.id === cyId);

    await call(ana, (api) => api.executeCommand('endConference'));
    for (const p of [ana, ben]) {
      await waitApiEvent(p, `${p.name} left`, (e) => e.name === 'videoConferenceLeft' && e.data.roomName === room);
      await waitApiEvent(p, `${p.name} ready to close`, (e) => e.name === 'readyToClose');
    }
    await frame(ben).getByRole('heading', { name: 'The meeting has ended' }).waitFor({ timeout: 10_000 });
    for (const p of [ana, ben, cy]) await p.context.close();
  });
});

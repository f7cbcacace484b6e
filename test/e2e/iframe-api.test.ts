// End to end: Jitsi's IFrame API. A host page on another origin (a second HTTPS server of this test, on another
// port, with the server's certificate) loads /external_api.js from the Tertulia server and embeds a meeting with
// JitsiMeetExternalAPI; two such pages meet. Events arrive with Jitsi's names and fields, commands act (media,
// chat, view, hand, name, room password, removing someone), functions answer, a forged message from another window
// is ignored, and a host origin not in embedAllowedOrigins cannot frame the app at all (the API then refuses its
// requests and says so with errorOccurred, rather than leave them waiting).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { launchBrowser, newParticipant, waitUntil, type Participant } from '../helpers/browser.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { apiEvents, startHostServer, waitApiEvent, type HostServer } from '../helpers/embed-host.ts';

const EVENTS = [
  'videoConferenceJoined', 'videoConferenceLeft', 'readyToClose', 'participantJoined', 'participantLeft',
  'audioMuteStatusChanged', 'videoMuteStatusChanged', 'participantMuted', 'incomingMessage', 'outgoingMessage',
  'displayNameChange', 'tileViewChanged', 'raiseHandUpdated', 'errorOccurred', 'participantRoleChanged',
  'passwordRequired', 'participantKickedOut', 'chatUpdated', 'subjectChange',
];

describe('the IFrame API (JitsiMeetExternalAPI) on another origin', () => {
  let server: RunningServer;
  let browser: Browser;
  let allowedHost: HostServer;
  let otherHost: HostServer;
  let tertulia = '';
  let ana: Participant;
  let ben: Participant;
  let anaId = '';
  let benId = '';
  const room = 'Embebida';

  const events = apiEvents;
  const waitEvent = waitApiEvent;
  const openHost = async (p: Participant, port: number) => {
    await p.page.goto(`https://localhost:${port}/?room=${room}&name=${encodeURIComponent(p.name)}`);
  };

  before(async () => {
    allowedHost = await startHostServer(() => tertulia, EVENTS);
    otherHost = await startHostServer(() => tertulia, EVENTS);
    server = await startServer({ TERTULIA_EMBED_ALLOWED_ORIGINS: `https://localhost:${allowedHost.port}` });
    tertulia = `127.0.0.1:${server.httpsPort}`;
    allowedHost.useCertificate(server.dataDir);
    otherHost.useCertificate(server.dataDir);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    allowedHost?.server.close();
    otherHost?.server.close();
  });

  test('two embedded participants join: videoConferenceJoined and participantJoined with Jitsi\'s fields', async () => {
    ana = await newParticipant(browser, 'Ana');
    ben = await newParticipant(browser, 'Ben');
    await openHost(ana, allowedHost.port);
    const joined = await waitEvent(ana, 'Ana joined', (e) => e.name === 'videoConferenceJoined');
    assert.equal(joined.data.roomName, room);
    assert.equal(joined.data.displayName, 'Ana', 'userInfo.displayName is the name');
    assert.equal(typeof joined.data.id, 'string');
    anaId = joined.data.id;
    assert.equal(await ana.page.evaluate(() => (window as any).__loaded), true, 'onload ran');
    const frame = await ana.page.evaluate(() => {
      const f = (window as any).api.getIFrame() as HTMLIFrameElement;
      return { allow: f.allow, src: f.src, width: f.style.width, id: f.id };
    });
    assert.equal(frame.allow, 'camera; microphone; display-capture; autoplay; clipboard-write; fullscreen');
    assert.equal(frame.width, '800px');
    assert.match(frame.id, /^jitsiConferenceFrame\d+$/);
    assert.match(frame.src, new RegExp(`^https://${tertulia.replace(/\./g, '\\.')}/${room}#jitsi_meet_external_api_id=\\d+&config\\.prejoinPageEnabled=false&`));
    assert.match(frame.src, /interfaceConfig\.SHOW_JITSI_WATERMARK=false/);
    assert.equal(await ana.page.frameLocator('iframe').locator('#root').count(), 1, 'the app runs in the frame');

    await openHost(ben, allowedHost.port);
    const benJoined = await waitEvent(ben, 'Ben joined', (e) => e.name === 'videoConferenceJoined');
    benId = benJoined.data.id;
    const seenByAna = await waitEvent(ana, 'Ana sees Ben join', (e) => e.name === 'participantJoined' && e.data.id === benId);
    assert.equal(seenByAna.data.displayName, 'Ben');
    const seenByBen = await waitEvent(ben, 'Ben is told Ana is there', (e) => e.name === 'participantJoined' && e.data.id === anaId);
    assert.equal(seenByBen.data.displayName, 'Ana');
    // the first to join an open room is its moderator
    await waitEvent(ana, 'Ana is moderator', (e) => e.name === 'participantRoleChanged' && e.data.id === anaId && e.data.role === 'moderator');
    await waitEvent(ben, 'Ben is told Ana is moderator', (e) => e.name === 'participantRoleChanged' && e.data.id === anaId && e.data.role === 'moderator');
  });

  test('getParticipantsInfo, getNumberOfParticipants and getRoomsInfo list both', async () => {
    for (const p of [ana, ben]) {
      const info = await p.page.evaluate(() => (window as any).api.getParticipantsInfo());
      assert.deepEqual(info.map((i: any) => [i.participantId, i.displayName]).sort(), [[anaId, 'Ana'], [benId, 'Ben']].sort());
      assert.equal(await p.page.evaluate(() => (window as any).api.getNumberOfParticipants()), 2);
      const rooms = await p.page.evaluate(() => (window as any).api.getRoomsInfo());
      assert.equal(rooms.rooms[0].isMainRoom, true);
      assert.deepEqual(rooms.rooms[0].participants.map((x: any) => x.displayName).sort(), ['Ana', 'Ben']);
    }
    assert.equal(await ana.page.evaluate(() => (window as any).api.getDisplayName((window as any).api.getParticipantsInfo().find((i: any) => i.displayName === 'Ben').participantId)), 'Ben');

    const devices = await ana.page.evaluate(() => (window as any).api.getAvailableDevices());
    assert.ok(devices.audioInput.length > 0 && devices.videoInput.length > 0, JSON.stringify(devices));
    const current = await ana.page.evaluate(() => (window as any).api.getCurrentDevices());
    assert.equal(current.videoInput.kind, 'videoinput');
    assert.equal(current.audioInput.kind, 'audioinput');
    const shot = await waitUntil('a screenshot of the large video', () => ana.page.evaluate(() => (window as any).api.captureLargeVideoScreenshot().catch((e: Error) => ({ error: e.message }))), (v) => typeof v.dataURL === 'string');
    assert.match(shot.dataURL, /^data:image\/png;base64,/);
  });

  test('toggleAudio flips audioMuteStatusChanged and isAudioMuted, and the other side sees the mute', async () => {
    assert.equal(await ana.page.evaluate(() => (window as any).api.isAudioMuted()), false);
    await ana.page.evaluate(() => (window as any).api.executeCommand('toggleAudio'));
    await waitEvent(ana, 'Ana muted', (e) => e.name === 'audioMuteStatusChanged' && e.data.muted === true);
    assert.equal(await ana.page.evaluate(() => (window as any).api.isAudioMuted()), true);
    const muted = await waitEvent(ben, 'Ben told of Ana\'s mute', (e) => e.name === 'participantMuted' && e.data.id === anaId);
    assert.deepEqual(muted.data, { id: anaId, isMuted: true, mediaType: 'audio' });
    // and Ben's meeting shows it on Ana's tile
    await ben.page.frameLocator('iframe').getByRole('group', { name: 'Ana', exact: true }).getByRole('img', { name: 'Microphone muted' }).waitFor({ timeout: 15_000 });
    await ana.page.evaluate(() => (window as any).api.executeCommand('toggleAudio'));
    await waitEvent(ana, 'Ana unmuted', (e) => e.name === 'audioMuteStatusChanged' && e.data.muted === false);

    await ana.page.evaluate(() => (window as any).api.executeCommand('toggleVideo'));
    await waitEvent(ana, 'Ana\'s camera off', (e) => e.name === 'videoMuteStatusChanged' && e.data.muted === true);
    assert.equal(await ana.page.evaluate(() => (window as any).api.isVideoMuted()), true);
    await waitEvent(ben, 'Ben told of Ana\'s camera', (e) => e.name === 'participantMuted' && e.data.id === anaId && e.data.mediaType === 'video' && e.data.isMuted === true);

    await ben.page.evaluate(() => (window as any).api.executeCommand('toggleRaiseHand'));
    const hand = await waitEvent(ana, 'Ben\'s hand', (e) => e.name === 'raiseHandUpdated' && e.data.id === benId);
    assert.ok(hand.data.handRaised > 0, 'raised: a time');
    await ben.page.evaluate(() => (window as any).api.executeCommand('toggleChat'));
    await waitEvent(ben, 'the chat opened', (e) => e.name === 'chatUpdated' && e.data.isOpen === true);
    await ben.page.frameLocator('iframe').getByRole('log', { name: 'Chat' }).waitFor({ state: 'attached', timeout: 10_000 });

    // the moderator's muteEveryone('video'): Ben's camera goes off, and he may turn it on again
    await ana.page.evaluate(() => (window as any).api.executeCommand('muteEveryone', 'video'));
    await waitEvent(ben, 'Ben\'s camera off', (e) => e.name === 'videoMuteStatusChanged' && e.data.muted === true);
    await waitEvent(ana, 'Ana told of Ben\'s camera', (e) => e.name === 'participantMuted' && e.data.id === benId && e.data.mediaType === 'video' && e.data.isMuted === true);
    assert.equal(await ben.page.evaluate(() => (window as any).api.isVideoMuted()), true);
    await ben.page.evaluate(() => (window as any).api.executeCommand('toggleVideo'));
    await waitEvent(ben, 'Ben\'s camera on again', (e) => e.name === 'videoMuteStatusChanged' && e.data.muted === false);
  });

  test('sendChatMessage arrives as incomingMessage (room and private); outgoingMessage on the sender', async () => {
    await ana.page.evaluate(() => (window as any).api.executeCommand('sendChatMessage', 'hola <b>Ben</b>'));
    const incoming = await waitEvent(ben, 'the room message', (e) => e.name === 'incomingMessage' && e.data.message === 'hola <b>Ben</b>');
    assert.equal(incoming.data.from, anaId);
    assert.equal(incoming.data.nick, 'Ana');
    assert.equal(incoming.data.privateMessage, false);
    assert.equal(typeof incoming.data.stamp, 'number');
    await waitEvent(ana, 'Ana\'s outgoing message', (e) => e.name === 'outgoingMessage' && e.data.message === 'hola <b>Ben</b>' && e.data.privateMessage === false);

    await ben.page.evaluate((to) => (window as any).api.executeCommand('sendChatMessage', 'solo para ti', to), anaId);
    const secret = await waitEvent(ana, 'the private message', (e) => e.name === 'incomingMessage' && e.data.message === 'solo para ti');
    assert.equal(secret.data.privateMessage, true);
    assert.equal(secret.data.from, benId);
  });

  test('tile view and display name commands; an unknown command or a bad argument is an errorOccurred', async () => {
    await ana.page.evaluate(() => (window as any).api.executeCommands({ toggleTileView: [], displayName: ['Ana María'] }));
    await waitEvent(ana, 'tile view off', (e) => e.name === 'tileViewChanged' && e.data.enabled === false);
    const renamed = await waitEvent(ben, 'Ana\'s new name', (e) => e.name === 'displayNameChange' && e.data.id === anaId);
    assert.equal(renamed.data.displayname, 'Ana María');
    await waitUntil('the new name in Ben\'s list', () => ben.page.evaluate((id) => (window as any).api.getDisplayName(id), anaId), (n) => n === 'Ana María');
    // Ana's own page hears her new name once, never the old one back in between
    await waitEvent(ana, 'her own new name', (e) => e.name === 'displayNameChange' && e.data.id === anaId);
    await ana.page.evaluate(() => (window as any).api.executeCommand('toggleRaiseHand'));
    await waitEvent(ana, 'her own hand', (e) => e.name === 'raiseHandUpdated' && e.data.id === anaId && e.data.handRaised > 0);
    const own = (await apiEvents(ana)).filter((e) => e.name === 'displayNameChange' && e.data.id === anaId).map((e) => e.data.displayname);
    assert.deepEqual(own, ['Ana María']);
    await ana.page.evaluate(() => (window as any).api.executeCommand('toggleRaiseHand'));

    // the moderator's subject reaches everyone as subjectChange; anyone else's changes nothing
    await ana.page.evaluate(() => (window as any).api.executeCommand('subject', 'Budget'));
    await waitEvent(ben, 'the subject', (e) => e.name === 'subjectChange' && e.data.subject === 'Budget');
    await ben.page.evaluate(() => (window as any).api.executeCommand('subject', 'Hijack'));
    await waitEvent(ben, 'a refused subject', (e) => e.name === 'errorOccurred' && e.data.name === 'subject.not-moderator');
    // localSubject: shown in this browser only, instead of the meeting's ('' shows the meeting's again)
    await ben.page.evaluate(() => (window as any).api.executeCommand('localSubject', 'Mine'));
    await waitEvent(ben, 'the local subject', (e) => e.name === 'subjectChange' && e.data.subject === 'Mine');
    await ben.page.frameLocator('iframe').getByRole('status', { name: 'Subject: Mine' }).waitFor({ timeout: 10_000 });
    await ben.page.evaluate(() => (window as any).api.executeCommand('localSubject', ''));
    await waitUntil('the meeting subject again', async () => (await events(ben)).filter((e) => e.name === 'subjectChange').map((e) => e.data.subject), (l) => l.at(-1) === 'Budget');
    await ana.page.evaluate(() => (window as any).api.executeCommand('avatarUrl', 'https://example.org/a.png'));
    const notSupported = await waitEvent(ana, 'avatars not supported', (e) => e.name === 'errorOccurred' && e.data.type === 'NOT_SUPPORTED');
    assert.match(notSupported.data.message, /avatar/);
    assert.deepEqual((await events(ana)).filter((e) => e.name === 'subjectChange').map((e) => e.data.subject), ['Budget'], 'neither Hijack nor Ben\'s local subject');
    await ana.page.evaluate(() => (window as any).api.executeCommand('kickParticipant', { not: 'an id' }));
    await waitEvent(ana, 'a bad argument', (e) => e.name === 'errorOccurred' && e.data.name === 'command.bad-arguments');
    assert.equal(await ana.page.frameLocator('iframe').getByRole('group', { name: 'Ana María (you)' }).count(), 1, 'the meeting goes on');
  });

  test('messages from another window or with another API id are ignored on both sides', async () => {
    // a frame of the host page (its origin, not the meeting's parent) posts a hangup with the right id; the page
    // itself posts one with another id, and posts itself a forged event
    await ben.page.evaluate(() => {
      const intruder = document.createElement('iframe');
      document.body.append(intruder);
      (intruder.contentWindow as any).eval(
        "parent.document.querySelector('#meet iframe').contentWindow.postMessage({ ns: 'tertulia-iframe-api', apiId: 0, kind: 'command', name: 'hangup', args: [] }, '*')",
      );
      const meeting = (window as any).api.getIFrame().contentWindow as Window;
      meeting.postMessage({ ns: 'tertulia-iframe-api', apiId: 99, kind: 'command', name: 'hangup', args: [] }, '*');
      window.postMessage({ ns: 'tertulia-iframe-api', apiId: 0, kind: 'event', name: 'videoConferenceLeft', data: { roomName: 'forged' } }, '*');
    });
    // a real request after them is answered, and nothing ended
    assert.equal(await ben.page.evaluate(() => (window as any).api.isVideoMuted()), false);
    const list = await events(ben);
    assert.equal(list.filter((e) => e.name === 'videoConferenceLeft').length, 0);
    assert.equal(await ben.page.frameLocator('iframe').getByRole('group', { name: 'Ben (you)' }).count(), 1);
  });

  test('hangup gives videoConferenceLeft and readyToClose; the other side sees participantLeft', async () => {
    await ben.page.evaluate(() => (window as any).api.executeCommand('hangup'));
    const left = await waitEvent(ben, 'Ben left', (e) => e.name === 'videoConferenceLeft');
    assert.equal(left.data.roomName, room);
    await waitEvent(ben, 'ready to close', (e) => e.name === 'readyToClose');
    const names = (await events(ben)).map((e) => e.name);
    assert.ok(names.indexOf('videoConferenceLeft') < names.indexOf('readyToClose'), 'left, then ready to close');
    await waitEvent(ana, 'Ben gone', (e) => e.name === 'participantLeft' && e.data.id === benId);
    assert.equal(await ana.page.evaluate(() => (window as any).api.getNumberOfParticipants()), 1);
    assert.equal(await ben.page.evaluate(() => (window as any).api.getNumberOfParticipants()), 0);
  });

  test('a locked room: passwordRequired, then the password command joins; a moderator\'s kickParticipant', async () => {
    await ana.page.evaluate(() => (window as any).api.executeCommand('password', 'secreto'));
    // the room is locked (Ana's moderator tools say so) before Ben comes back
    const anaFrame = ana.page.frameLocator('iframe');
    await anaFrame.getByRole('button', { name: 'Moderator tools' }).click();
    await anaFrame.getByRole('button', { name: 'Unlock room' }).waitFor({ timeout: 15_000 });
    await openHost(ben, allowedHost.port);
    await waitEvent(ben, 'the room asks for its password', (e) => e.name === 'passwordRequired');
    // a wrong one: asked again (as Jitsi), so the host page knows it failed
    await ben.page.evaluate(() => (window as any).api.executeCommand('password', 'wrong'));
    await waitUntil('passwordRequired again after the wrong password', async () => (await events(ben)).filter((e) => e.name === 'passwordRequired').length, (n) => n === 2);
    await ben.page.evaluate(() => (window as any).api.executeCommand('password', 'secreto'));
    const joined = await waitEvent(ben, 'Ben in again', (e) => e.name === 'videoConferenceJoined');
    benId = joined.data.id;
    await waitEvent(ana, 'Ana sees Ben again', (e) => e.name === 'participantJoined' && e.data.id === benId);

    await ana.page.evaluate((id) => (window as any).api.executeCommand('kickParticipant', id), benId);
    const kicked = await waitEvent(ben, 'Ben removed', (e) => e.name === 'participantKickedOut');
    assert.deepEqual(kicked.data.kicked, { id: benId, local: true });
    assert.equal(kicked.data.kicker.id, anaId);
    await waitEvent(ben, 'Ben out', (e) => e.name === 'videoConferenceLeft');
    await waitEvent(ana, 'Ben gone again', (e) => e.name === 'participantLeft' && e.data.id === benId);
  });

  test('a host origin not in embedAllowedOrigins cannot frame the app', async () => {
    const response = await ben.page.request.get(`https://${tertulia}/${room}`);
    const csp = response.headers()['content-security-policy']!;
    assert.match(csp, new RegExp(`frame-ancestors https://localhost:${allowedHost.port}$`));
    assert.equal(response.headers()['x-frame-options'], undefined, 'no X-Frame-Options when framing is allowed');
    assert.equal((await ben.page.request.get(`https://${tertulia}/external_api.js`)).status(), 200);

    await openHost(ben, otherHost.port);
    await waitUntil('the frame to finish loading', () => ben.page.evaluate(() => (window as any).__loaded), (v) => v === true);
    const meetingFrame = ben.page.frames().find((f) => f !== ben.page.mainFrame());
    assert.ok(meetingFrame);
    assert.doesNotMatch(meetingFrame.url(), new RegExp(`^https://${tertulia.replace(/\./g, '\\.')}/${room}`), 'the frame shows no meeting');
    assert.equal(await ben.page.frameLocator('iframe').locator('#root').count(), 0, 'the app did not load in the frame');
    assert.deepEqual((await events(ben)).map((e) => e.name), [], 'no event came from the blocked frame');
    // the API does not wait for it forever: a request is refused, with why, once the frame has not answered for 15 s
    const refused = await ben.page.evaluate(() => (window as any).api.isAudioMuted().then(() => 'answered', (e: Error) => e.message));
    assert.match(refused, new RegExp(`the frame at https://${tertulia.replace(/\./g, '\\.')} did not answer`));
    const error = (await events(ben)).find((e) => e.name === 'errorOccurred');
    assert.equal((error?.data as { name?: string } | undefined)?.name, 'embed.frameNotAnswering', 'errorOccurred tells the page');
    assert.match(await ben.page.evaluate(() => (window as any).api.isVideoMuted().then(() => 'answered', (e: Error) => e.message)), /did not answer/, 'and later ones at once');
    await ana.context.close();
    await ben.context.close();
  });
});

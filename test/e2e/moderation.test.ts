// End to end: moderation in an open room. Ana (first, so moderator) mutes Ben (his audio stops reaching her),
// turns off self-unmute, mutes everyone, stops everyone's video (his video stops reaching her), asks Ben to stop
// his camera, makes Ben moderator, locks the room (Caro needs the password), removes Caro, and ends the meeting
// for all.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { joinThroughUi, newParticipant, remoteStats, sleep, waitUntil, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';
import { inMeeting, openModeratorTools, startJoin } from '../helpers/access-ui.ts';

describe('moderation', () => {
  const suite = useServerAndBrowser();
  let ana: Participant;
  let ben: Participant;
  const room = 'Moderated';

  before(async () => {
    ana = await newParticipant(suite.browser, 'Ana');
    ben = await newParticipant(suite.browser, 'Ben');
    await joinThroughUi(ana, suite.server.baseUrl, room);
    await joinThroughUi(ben, suite.server.baseUrl, room);
  });

  test('only the moderator has moderator tools', async () => {
    await openModeratorTools(ana.page);
    await ana.page.getByRole('group', { name: 'Ben', exact: true }).waitFor({ timeout: 10_000 });
    assert.equal(await ben.page.getByRole('button', { name: 'Moderator tools' }).count(), 0);
  });

  test("mute one participant: Ben is told, his microphone is off, and his audio stops reaching Ana", async () => {
    await waitUntil("Ana to hear Ben", () => remoteStats(ana.page), (s) => (s.Ben?.audioPackets ?? 0) > 20, 45_000);
    await ana.page.getByRole('button', { name: 'Mute Ben' }).click();
    await ben.page.getByText('Ana muted your microphone').waitFor({ timeout: 10_000 });
    await ben.page.getByRole('button', { name: 'Unmute microphone' }).waitFor();
    await ana.page.getByRole('group', { name: 'Ben', exact: true }).getByLabel('Microphone muted').waitFor({ timeout: 5000 });
    await sleep(1500); // packets in flight drain
    const before = await remoteStats(ana.page);
    await sleep(3000);
    const afterStats = await remoteStats(ana.page);
    assert.equal(afterStats.Ben!.audioPackets, before.Ben!.audioPackets, 'no audio from muted Ben');
    // not disabled: Ben may unmute himself
    await ben.page.getByRole('button', { name: 'Unmute microphone' }).click();
    await ben.page.getByRole('button', { name: 'Mute microphone' }).waitFor();
    // unmuted again: the notice has done its job
    await ben.page.getByText('Ana muted your microphone').waitFor({ state: 'detached', timeout: 5000 });
    await waitUntil("Ben's audio to come back", () => remoteStats(ana.page), (s) => s.Ben!.audioPackets > afterStats.Ben!.audioPackets + 10, 15_000);
  });

  test('with self-unmute off, Mute everyone keeps Ben muted when he tries to unmute', async () => {
    // the box shows the room's setting as the server confirms it, so it changes a moment after the click
    await ana.page.getByRole('checkbox', { name: 'Participants may unmute themselves' }).click();
    await ana.page.getByRole('checkbox', { name: 'Participants may unmute themselves', checked: false }).waitFor({ timeout: 10_000 });
    await ana.page.getByRole('button', { name: 'Mute everyone' }).click();
    await ben.page.getByRole('button', { name: 'Unmute microphone' }).waitFor({ timeout: 10_000 });
    await ben.page.getByRole('status').filter({ hasText: 'Ana muted your microphone' }).getByText('A moderator has turned off unmuting.').waitFor({ timeout: 10_000 });
    await ben.page.getByRole('button', { name: 'Unmute microphone' }).click();
    // the page says why (the notice above) rather than asking the server to refuse it
    await sleep(1000);
    await ben.page.getByRole('button', { name: 'Unmute microphone' }).waitFor();
    assert.equal(await ben.page.getByRole('alert').count(), 0, 'no error from the server');
    // Ana stayed unmuted
    await ana.page.getByRole('button', { name: 'Mute microphone' }).waitFor();
    // a newcomer joins muted and is told why, not that someone muted them; trying to unmute says it again
    const cai = await newParticipant(suite.browser, 'Cai');
    await joinThroughUi(cai, suite.server.baseUrl, room);
    await cai.page.getByRole('status').filter({ hasText: 'You joined muted: a moderator has turned off unmuting for participants.' }).waitFor({ timeout: 10_000 });
    assert.equal(await cai.page.getByText(/muted your microphone/).count(), 0);
    await cai.page.getByRole('button', { name: 'Unmute microphone' }).click();
    await cai.page.getByRole('status').filter({ hasText: 'A moderator has turned off unmuting.' }).waitFor({ timeout: 10_000 });
    assert.equal(await cai.page.getByRole('alert').count(), 0);
    await cai.context.close();
    await ana.page.getByRole('checkbox', { name: 'Participants may unmute themselves' }).click();
    await ana.page.getByRole('checkbox', { name: 'Participants may unmute themselves', checked: true }).waitFor({ timeout: 10_000 });
  });

  test("stop everyone's video: Ben's camera goes off and he is told; he may turn it on unless self-unmute is off", async () => {
    await waitUntil("Ana to see Ben's video", () => remoteStats(ana.page), (s) => (s.Ben?.framesDecoded ?? 0) > 10, 45_000);
    await ana.page.getByRole('button', { name: "Stop everyone's video" }).click();
    await ben.page.getByRole('status').getByText('Ana turned your camera off').waitFor({ timeout: 10_000 });
    await ben.page.getByRole('toolbar').getByRole('button', { name: 'Start camera' }).waitFor({ timeout: 10_000 });
    await ana.page.getByRole('toolbar').getByRole('button', { name: 'Stop camera' }).waitFor(); // the moderator's stays on
    await sleep(1500); // frames in flight drain
    const stopped = await remoteStats(ana.page);
    await sleep(3000);
    assert.equal((await remoteStats(ana.page)).Ben!.framesDecoded, stopped.Ben!.framesDecoded, 'no video from Ben');
    // self-unmute allowed: Ben turns it on again and Ana sees him
    await ben.page.getByRole('toolbar').getByRole('button', { name: 'Start camera' }).click();
    await ben.page.getByRole('toolbar').getByRole('button', { name: 'Stop camera' }).waitFor({ timeout: 10_000 });
    await ben.page.getByText('Ana turned your camera off').waitFor({ state: 'detached', timeout: 5000 });
    await waitUntil("Ben's video to come back", () => remoteStats(ana.page), (s) => s.Ben!.framesDecoded > stopped.Ben!.framesDecoded + 10, 20_000);
    // self-unmute off: the server keeps his camera off
    await ana.page.getByRole('checkbox', { name: 'Participants may unmute themselves' }).click();
    await ana.page.getByRole('checkbox', { name: 'Participants may unmute themselves', checked: false }).waitFor({ timeout: 10_000 });
    await ana.page.getByRole('button', { name: "Stop everyone's video" }).click();
    await ben.page.getByRole('toolbar').getByRole('button', { name: 'Start camera' }).waitFor({ timeout: 10_000 });
    await ben.page.getByRole('status').getByText('A moderator has turned off turning it back on.').waitFor();
    await ben.page.getByRole('toolbar').getByRole('button', { name: 'Start camera' }).click();
    await ben.page.getByRole('alert').getByText(/stopped your camera and has turned off unmuting/).waitFor({ timeout: 10_000 });
    await ben.page.getByRole('toolbar').getByRole('button', { name: 'Start camera' }).waitFor({ timeout: 10_000 });
    await ana.page.getByRole('group', { name: 'Ben', exact: true }).getByRole('button', { name: 'Pin' }).waitFor();
    assert.equal(await ana.page.getByRole('button', { name: 'Ask Ben to stop camera' }).isDisabled(), true, 'Ana sees his camera off');
    // allowed again: Ben's camera goes on (the next test asks him to stop it)
    await ana.page.getByRole('checkbox', { name: 'Participants may unmute themselves' }).click();
    await ana.page.getByRole('checkbox', { name: 'Participants may unmute themselves', checked: true }).waitFor({ timeout: 10_000 });
    await ben.page.getByRole('alert').getByRole('button', { name: 'Dismiss' }).click();
    await ben.page.getByRole('toolbar').getByRole('button', { name: 'Start camera' }).click();
    await ben.page.getByRole('toolbar').getByRole('button', { name: 'Stop camera' }).waitFor({ timeout: 10_000 });
    await ana.page.getByRole('button', { name: 'Ask Ben to stop camera' }).and(ana.page.locator(':enabled')).waitFor({ timeout: 10_000 });
  });

  test('ask to stop the camera: Ben sees the request and stops it', async () => {
    await ana.page.getByRole('button', { name: 'Ask Ben to stop camera' }).click();
    const dialog = ben.page.getByRole('alertdialog', { name: 'Ana asks you to stop your camera' });
    await dialog.waitFor({ timeout: 10_000 });
    await dialog.getByRole('button', { name: 'Stop my camera' }).click();
    await ben.page.getByRole('button', { name: 'Start camera' }).waitFor();
    await ana.page.getByRole('button', { name: 'Ask Ben to stop camera' }).and(ana.page.locator(':disabled')).waitFor({ timeout: 10_000 });
  });

  test('lock room: Caro needs the password; a wrong one is refused', async () => {
    await ana.page.getByRole('textbox', { name: 'New meeting password' }).fill('tertulia-42');
    await ana.page.getByRole('button', { name: 'Lock room' }).click();
    await ana.page.getByRole('button', { name: 'Unlock room' }).waitFor();
    const caro = await newParticipant(suite.browser, 'Caro');
    await startJoin(caro, suite.server.baseUrl, room);
    await caro.page.getByRole('heading', { name: 'This meeting is locked' }).waitFor({ timeout: 20_000 });
    await caro.page.getByLabel('Meeting password').fill('guess');
    await caro.page.getByRole('button', { name: 'Enter meeting' }).click();
    await caro.page.getByRole('alert').getByText('Wrong password.').waitFor({ timeout: 10_000 });
    await caro.page.getByLabel('Meeting password').fill('tertulia-42');
    await caro.page.getByRole('button', { name: 'Enter meeting' }).click();
    await inMeeting(caro);

    // remove Caro: asked first, then done (Cancel keeps her)
    await ana.page.getByRole('button', { name: 'Remove Caro' }).click();
    await ana.page.getByRole('group', { name: 'Remove Caro from the meeting?' }).getByRole('button', { name: 'Cancel' }).click();
    await ana.page.getByRole('button', { name: 'Remove Caro' }).click();
    await ana.page.getByRole('group', { name: 'Remove Caro from the meeting?' }).getByRole('button', { name: 'Remove', exact: true }).click();
    await caro.page.getByRole('heading', { name: 'You were removed from the meeting' }).waitFor({ timeout: 10_000 });
    await ana.page.getByRole('group', { name: 'Caro', exact: true }).waitFor({ state: 'detached', timeout: 10_000 });
    await caro.context.close();
  });

  test("lower hands: Ana lowers Ben's raised hand from the participants pane; Ben is told; Ben has no such button", async () => {
    await ben.page.getByRole('toolbar').getByRole('button', { name: 'Raise hand' }).click();
    await ben.page.getByRole('toolbar').getByRole('button', { name: 'Lower hand' }).waitFor();
    await ana.page.getByRole('toolbar').getByRole('button', { name: 'Participants' }).click();
    const pane = ana.page.getByRole('complementary', { name: 'Participants' });
    await pane.getByRole('button', { name: "Lower Ben's hand" }).click();
    await ben.page.getByRole('status').filter({ hasText: 'Ana lowered your hand' }).waitFor({ timeout: 10_000 });
    await ben.page.getByRole('toolbar').getByRole('button', { name: 'Raise hand' }).waitFor({ timeout: 10_000 });
    await pane.getByRole('button', { name: "Lower Ben's hand" }).waitFor({ state: 'detached' });
    await ben.page.getByRole('toolbar').getByRole('button', { name: 'Participants' }).click();
    assert.equal(await ben.page.getByRole('complementary', { name: 'Participants' }).getByRole('button', { name: /Lower .* hand/ }).count(), 0);
    await ben.page.getByRole('toolbar').getByRole('button', { name: 'Participants' }).click();
    await ana.page.getByRole('toolbar').getByRole('button', { name: 'Participants' }).click();
    await openModeratorTools(ana.page); // the pane took its place (one side panel at a time)
  });

  test('grant moderator: Ben gets moderator tools', async () => {
    await ana.page.getByRole('button', { name: 'Make Ben moderator' }).click();
    await ben.page.getByRole('button', { name: 'Moderator tools', exact: true }).waitFor({ timeout: 10_000 });
    await ana.page.getByText('Ben (moderator)').waitFor();
  });

  test('end meeting for all', async () => {
    await ana.page.getByRole('button', { name: 'End meeting for all' }).click();
    await ana.page.getByRole('group', { name: 'End the meeting for everyone?' }).getByRole('button', { name: 'End meeting', exact: true }).click();
    await ben.page.getByRole('heading', { name: 'The meeting has ended' }).waitFor({ timeout: 10_000 });
    await ben.page.getByText('Ana ended the meeting for everyone.').waitFor();
    await ana.page.getByRole('heading', { name: 'The meeting has ended' }).waitFor({ timeout: 10_000 });
    await ana.page.getByText('You ended the meeting for everyone.').waitFor();
    assert.ok(suite.server.alive());
  });
});

// End to end: the moderator's switch of a composed recording's layout, in the web app (English and Spanish).
// While the meeting is recorded, Ana (moderator) sees "Recording layout: Grid / Speaker" with the running layout
// pressed; Ben (not a moderator) does not see it. Ana presses "Speaker": the recorder takes it (the server logs
// the switch only after the recorder's GStreamer child was told) and her app shows it pressed. Stopping the
// recording hides the switch. The server's refusal for non-moderators: test/unit/signal-recording.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { joinThroughUi, newParticipant, waitUntil } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';

describe('recording layout switch', () => {
  const suite = useServerAndBrowser({ TERTULIA_LOG_LEVEL: 'info' });

  test('a moderator switches grid to speaker while recording; a participant sees no switch', { timeout: 180_000 }, async () => {
    const ana = await newParticipant(suite.browser, 'Ana');
    const ben = await newParticipant(suite.browser, 'Ben', 'es-ES');
    await joinThroughUi(ana, suite.server.baseUrl, 'Layouts');
    await joinThroughUi(ben, suite.server.baseUrl, 'Layouts');
    const group = ana.page.getByRole('group', { name: 'Recording layout' });
    assert.equal(await group.count(), 0, 'no switch before recording');

    await ana.page.getByRole('button', { name: 'Start recording' }).click();
    await ana.page.getByRole('status', { name: 'Recording', exact: true }).waitFor({ timeout: 30_000 });
    await group.waitFor();
    assert.equal(await group.getByRole('button', { name: 'Grid' }).getAttribute('aria-pressed'), 'true');
    assert.equal(await group.getByRole('button', { name: 'Speaker' }).getAttribute('aria-pressed'), 'false');
    await ben.page.getByRole('status', { name: 'Grabando', exact: true }).waitFor();
    assert.equal(await ben.page.getByRole('group', { name: 'Diseño de la grabación' }).count(), 0, 'only moderators get the switch');

    await group.getByRole('button', { name: 'Speaker' }).click();
    await waitUntil('the Speaker layout pressed', async () => group.getByRole('button', { name: 'Speaker' }).getAttribute('aria-pressed'), (v) => v === 'true');
    assert.equal(await group.getByRole('button', { name: 'Grid' }).getAttribute('aria-pressed'), 'false');
    assert.ok(suite.server.output().includes('"msg":"recording layout switched"'), 'signal heard back from the recorder');

    await ana.page.getByRole('button', { name: 'Stop recording' }).click();
    await group.waitFor({ state: 'detached' });
    await ben.context.close();
    await ana.context.close();
  });
});

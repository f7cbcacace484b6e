// The admin API with a person in the web app (one Chromium page) and a WebSocket participant: the admin turns
// her camera off (the page says who and shows the camera off; the other participant sees it), mutes her
// microphone (the page says so), and removes her (the page says she was removed, by whom).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { joinThroughUi, newParticipant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';
import { adminRequest } from '../helpers/admin-api.ts';
import { WsClient } from '../helpers/signal-client.ts';

const TOKEN = 'admin-api-token-for-the-browser-test';

describe('the admin API and the web app', () => {
  const suite = useServerAndBrowser({ TERTULIA_ADMIN_API_TOKEN: TOKEN });
  const ben = { client: undefined as WsClient | undefined };
  after(() => ben.client?.close());

  test('camera off, microphone muted, removed: the page shows each, by "Admin"', async () => {
    const ana = await newParticipant(suite.browser, 'Ana');
    await joinThroughUi(ana, suite.server.baseUrl, 'Admin-Page');
    const client = new WsClient(suite.server.httpsPort);
    ben.client = client;
    const joined = await client.join('Admin-Page', 'Ben');
    // the page shows the meeting a moment before the server has her in the room: then she comes as a join
    const anaId: string =
      joined.participants.find((p: any) => p.displayName === 'Ana')?.id ??
      (await client.next((m) => m.type === 'participant-joined' && m.participant.displayName === 'Ana', 20_000)).participant.id;
    const api = (method: string, path: string, body?: unknown) => adminRequest(suite.server.httpsPort, method, path, { token: TOKEN, body });

    await ana.page.getByRole('button', { name: 'Stop camera' }).waitFor({ timeout: 20_000 });
    assert.equal((await api('POST', `/api/v1/rooms/Admin-Page/participants/${anaId}/mute`, { kind: 'video' })).status, 200);
    await ana.page.getByText('Admin turned your camera off').waitFor({ timeout: 10_000 });
    await ana.page.getByRole('button', { name: 'Start camera' }).waitFor({ timeout: 10_000 });
    await client.next((m) => m.type === 'participant-updated' && m.participant.id === anaId && m.participant.videoMuted, 10_000);

    assert.equal((await api('POST', `/api/v1/rooms/Admin-Page/participants/${anaId}/mute`, { kind: 'audio' })).status, 200);
    await ana.page.getByText('Admin muted your microphone').waitFor({ timeout: 10_000 });
    await ana.page.getByRole('button', { name: 'Unmute microphone' }).waitFor({ timeout: 10_000 });

    assert.equal((await api('DELETE', `/api/v1/rooms/Admin-Page/participants/${anaId}`)).status, 200);
    await ana.page.getByText('You were removed from the meeting').waitFor({ timeout: 10_000 });
    await ana.page.getByText('Admin removed you.').waitFor();
    assert.deepEqual(await client.next((m) => m.type === 'participant-left'), { type: 'participant-left', id: anaId });
    await ana.context.close();
  });
});

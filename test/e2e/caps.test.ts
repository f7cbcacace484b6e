// End to end: a person refused by a cap is told why, in their language. The server allows 2 connections per
// address and 1 meeting at once; the browser (127.0.0.1) meets the address cap while two other sockets from
// its address are open, and the server cap while another address (127.0.0.2) holds the one meeting.
import { describe, test } from 'node:test';
import { newParticipant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';
import { inMeeting, startJoin } from '../helpers/access-ui.ts';
import { WsClient } from '../helpers/signal-client.ts';

describe('caps in the web app', () => {
  const suite = useServerAndBrowser({ TERTULIA_MAX_CONNECTIONS_PER_ADDRESS: '2', TERTULIA_MAX_ROOMS: '1' });

  test('too many connections from the address: the refusal is shown (English, then Spanish)', async () => {
    const held = [new WsClient(suite.server.httpsPort), new WsClient(suite.server.httpsPort)];
    await Promise.all(held.map((c) => c.open()));
    try {
      const ana = await newParticipant(suite.browser, 'Ana');
      await startJoin(ana, suite.server.baseUrl, 'Capped');
      await ana.page.getByRole('heading', { name: 'Could not join the meeting' }).waitFor({ timeout: 20_000 });
      await ana.page.getByText('Too many connections or new meetings come from your network right now.').waitFor();
      await ana.context.close();

      const bea = await newParticipant(suite.browser, 'Bea', 'es-ES');
      await bea.page.goto(`${suite.server.baseUrl}/Capped?lang=es#config.resolution=180`);
      await bea.page.getByRole('textbox', { name: 'Tu nombre' }).fill('Bea');
      await bea.page.getByRole('button', { name: 'Unirse a la reunión' }).click();
      await bea.page.getByRole('heading', { name: 'No se pudo entrar en la reunión' }).waitFor({ timeout: 20_000 });
      await bea.page.getByText('Ahora mismo llegan demasiadas conexiones o reuniones nuevas desde tu red.').waitFor();
      await bea.context.close();
    } finally {
      for (const c of held) c.ws.terminate();
    }
  });

  test('the server holds its cap of meetings: the refusal is shown, and Rejoin works once there is room', async () => {
    const other = new WsClient(suite.server.httpsPort, { localAddress: '127.0.0.2' });
    await other.join('Elsewhere', 'Other');
    const cai = await newParticipant(suite.browser, 'Cai');
    await startJoin(cai, suite.server.baseUrl, 'Second-Meeting');
    await cai.page.getByRole('heading', { name: 'Could not join the meeting' }).waitFor({ timeout: 20_000 });
    await cai.page.getByText('This server is at its limit of meetings or participants.').waitFor();
    other.close();
    await other.closed;
    await cai.page.getByRole('button', { name: 'Rejoin' }).click();
    await inMeeting(cai);
    await cai.context.close();
  });
});

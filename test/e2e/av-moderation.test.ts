// End to end: "Ask to unmute" (audio moderation). Ana (first, so moderator, English) turns on "Moderate
// microphones"; Beto (Spanish) is muted and cannot unmute: the toolbar's unmute asks instead, and a forged unmute
// over his own WebSocket is refused by the server, and audio his browser sends anyway does not reach Ana (the
// bridge drops it). He asks; Ana sees the request and allows him; then he unmutes and Ana hears him. After a page
// reload he joins muted again and sees that microphones are moderated. Then cameras: Ana moderates them, Beto's
// camera goes off, and a camera his browser puts back on the wire with a forged unmute is not forwarded by the
// bridge (Ana decodes no frame of it); once allowed, his camera reaches Ana again.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { joinThroughUi, newParticipant, remoteStats, sleep, waitUntil, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';

/** Keeps the app's WebSocket reachable from the test (to forge a message on the participant's own connection). */
async function captureSocket(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (this: WebSocket, ...args: Parameters<WebSocket['send']>) {
      (window as any).__testSocket = this;
      return send.apply(this, args);
    };
  });
}

/** Audio packets Ana received from Beto over `ms` (after letting packets in flight drain). */
async function audioFromBetoOver(ana: Page, ms: number): Promise<number> {
  await sleep(1500);
  const before = (await remoteStats(ana)).Beto?.audioPackets ?? 0;
  await sleep(ms);
  return ((await remoteStats(ana)).Beto?.audioPackets ?? 0) - before;
}

/** Video bytes and frames Ana received from Beto over `ms` (after letting packets in flight drain). */
async function videoFromBetoOver(ana: Page, ms: number): Promise<{ bytes: number; frames: number }> {
  const read = () =>
    ana.evaluate(async () => {
      const t = (window as any).__tertulia;
      const betoId = (t.participants as { id: string; displayName: string }[]).find((p) => p.displayName === 'Beto')?.id;
      const mids = new Set((t.sources as { mid: string; participantId: string; kind: string }[]).filter((s) => s.participantId === betoId && s.kind === 'video').map((s) => s.mid));
      let bytes = 0;
      let frames = 0;
      (await (t.pc as RTCPeerConnection).getStats()).forEach((s: any) => {
        if (s.type !== 'inbound-rtp' || s.kind !== 'video' || !mids.has(String(s.mid))) return;
        bytes += s.bytesReceived ?? 0;
        frames += s.framesDecoded ?? 0;
      });
      return { bytes, frames };
    });
  await sleep(1500);
  const before = await read();
  await sleep(ms);
  const after = await read();
  return { bytes: after.bytes - before.bytes, frames: after.frames - before.frames };
}

/** Video bytes Beto's browser has sent on its camera (mid 1). */
async function cameraBytesSent(beto: Page): Promise<number> {
  return await beto.evaluate(async () => {
    let bytes = 0;
    (await ((window as any).__tertulia.pc as RTCPeerConnection).getStats()).forEach((s: any) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video' && String(s.mid) === '1') bytes += s.bytesSent ?? 0;
    });
    return bytes;
  });
}

describe('audio and video moderation: ask to unmute', () => {
  const suite = useServerAndBrowser();
  let ana: Participant;
  let beto: Participant;
  const room = 'Pedir la palabra';

  before(async () => {
    ana = await newParticipant(suite.browser, 'Ana');
    beto = await newParticipant(suite.browser, 'Beto', 'es-ES');
    await captureSocket(beto.page);
    await joinThroughUi(ana, suite.server.baseUrl, room);
    await joinThroughUi(beto, suite.server.baseUrl, room, { lang: 'es' });
  });

  test('moderated: Beto is muted and cannot unmute, not even by forging it or sending audio anyway', async () => {
    await waitUntil('Ana to hear Beto', () => remoteStats(ana.page), (s) => (s.Beto?.audioPackets ?? 0) > 20, 45_000);
    await ana.page.getByRole('toolbar').getByRole('button', { name: 'Participants' }).click();
    // the box shows the room's state as the server confirms it, so it changes a moment after the click
    await ana.page.getByRole('checkbox', { name: 'Moderate microphones' }).click();
    await ana.page.getByRole('checkbox', { name: 'Moderate microphones', checked: true }).waitFor({ timeout: 10_000 });
    await beto.page.getByRole('toolbar').getByRole('button', { name: 'Activar micrófono' }).waitFor({ timeout: 10_000 });
    await beto.page.getByText('Un moderador modera los micrófonos').waitFor({ timeout: 10_000 });
    await ana.page.getByRole('toolbar').getByRole('button', { name: 'Mute microphone' }).waitFor(); // the moderator is not muted
    assert.equal(await audioFromBetoOver(ana.page, 3000), 0, 'no audio from Beto');

    // the toolbar's unmute asks instead (as in Jitsi Meet), and he stays muted; he withdraws the request
    await beto.page.getByRole('toolbar').getByRole('button', { name: 'Activar micrófono' }).click();
    await beto.page.getByText('Petición enviada').waitFor({ timeout: 10_000 });
    await ana.page.getByRole('region', { name: 'Asking to unmute' }).getByText('Beto asks to unmute').waitFor({ timeout: 10_000 });
    assert.equal(await beto.page.getByRole('toolbar').getByRole('button', { name: 'Silenciar micrófono' }).count(), 0);
    await beto.page.getByRole('button', { name: 'Cancelar la petición de activar el micrófono' }).click();
    await ana.page.getByRole('region', { name: 'Asking to unmute' }).waitFor({ state: 'detached', timeout: 10_000 });

    // forged on his own connection, with his microphone put back on the wire by hand: the server refuses, and
    // the bridge forwards nothing
    await beto.page.evaluate(async () => {
      const pc: RTCPeerConnection = (window as any).__tertulia.pc;
      const mic = (await navigator.mediaDevices.getUserMedia({ audio: true })).getAudioTracks()[0]!;
      const sender = pc.getTransceivers().find((t) => t.mid === '0')!.sender;
      await sender.replaceTrack(mic);
      (window as any).__testSocket.send(JSON.stringify({ type: 'mute', kind: 'audio', muted: false }));
    });
    const sent = await waitUntil(
      "Beto's browser to send audio",
      () => beto.page.evaluate(async () => {
        let packets = 0;
        (await ((window as any).__tertulia.pc as RTCPeerConnection).getStats()).forEach((s: any) => {
          if (s.type === 'outbound-rtp' && s.kind === 'audio') packets += s.packetsSent ?? 0;
        });
        return packets;
      }),
      (n) => n > 50,
      20_000,
    );
    assert.ok(sent > 50);
    assert.equal(await audioFromBetoOver(ana.page, 3000), 0, 'the bridge drops the audio of a moderated participant');
    await ana.page.getByRole('group', { name: 'Beto', exact: true }).getByLabel('Microphone muted').waitFor({ timeout: 5000 });
  });

  test('Beto asks, Ana allows, then he may unmute and Ana hears him', async () => {
    await beto.page.getByRole('button', { name: 'Pedir activar el micrófono' }).click();
    await beto.page.getByText('Petición enviada').waitFor({ timeout: 10_000 });
    const requests = ana.page.getByRole('region', { name: 'Asking to unmute' });
    await requests.getByText('Beto asks to unmute').waitFor({ timeout: 10_000 });
    await requests.getByRole('button', { name: 'Allow Beto to unmute' }).click();
    await requests.waitFor({ state: 'detached', timeout: 10_000 });
    await beto.page.getByText('Un moderador te permite activar el micrófono.').waitFor({ timeout: 10_000 });
    await beto.page.getByRole('toolbar').getByRole('button', { name: 'Activar micrófono' }).click();
    await beto.page.getByRole('toolbar').getByRole('button', { name: 'Silenciar micrófono' }).waitFor({ timeout: 10_000 });
    await waitUntil("Beto's audio at Ana", () => audioFromBetoOver(ana.page, 2000), (n) => n > 10, 30_000);
  });

  test('after a page reload Beto joins muted, and microphones are still moderated', async () => {
    await joinThroughUi(beto, suite.server.baseUrl, room, { lang: 'es', reload: true });
    await beto.page.getByRole('toolbar').getByRole('button', { name: 'Activar micrófono' }).waitFor({ timeout: 10_000 });
    await beto.page.getByText('Un moderador modera los micrófonos').waitFor({ timeout: 10_000 });
    await beto.page.getByRole('button', { name: 'Pedir activar el micrófono' }).waitFor();
    // the moderator stops moderating: he may unmute by himself
    await ana.page.getByRole('checkbox', { name: 'Moderate microphones' }).click();
    await ana.page.getByRole('checkbox', { name: 'Moderate microphones', checked: false }).waitFor({ timeout: 10_000 });
    await beto.page.getByText('Un moderador modera los micrófonos').waitFor({ state: 'detached', timeout: 10_000 });
    await beto.page.getByRole('toolbar').getByRole('button', { name: 'Activar micrófono' }).click();
    await beto.page.getByRole('toolbar').getByRole('button', { name: 'Silenciar micrófono' }).waitFor({ timeout: 10_000 });
  });

  test('cameras moderated: Beto\'s camera is off, and video his browser forges does not reach Ana', async () => {
    await waitUntil("Ana to see Beto's camera", () => videoFromBetoOver(ana.page, 1000), (v) => v.frames > 5, 45_000);
    await ana.page.getByRole('checkbox', { name: 'Moderate cameras' }).click();
    await ana.page.getByRole('checkbox', { name: 'Moderate cameras', checked: true }).waitFor({ timeout: 10_000 });
    await beto.page.getByRole('toolbar').getByRole('button', { name: 'Iniciar cámara' }).waitFor({ timeout: 10_000 });
    await beto.page.getByText('Un moderador modera las cámaras').waitFor({ timeout: 10_000 });

    // his camera put back on the wire by hand and an unmute forged on his own connection: the server refuses it,
    // the bridge drops every layer (and RTX) of it
    await beto.page.evaluate(async () => {
      const pc: RTCPeerConnection = (window as any).__tertulia.pc;
      const cam = (await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 360 } })).getVideoTracks()[0]!;
      const sender = pc.getTransceivers().find((t) => t.mid === '1')!.sender;
      await sender.replaceTrack(cam);
      (window as any).__testSocket.send(JSON.stringify({ type: 'mute', kind: 'video', muted: false }));
    });
    const start = await cameraBytesSent(beto.page);
    await waitUntil("Beto's browser to send video", () => cameraBytesSent(beto.page), (n) => n > start + 50_000, 20_000);
    const forged = await videoFromBetoOver(ana.page, 3000);
    assert.equal(forged.frames, 0, 'no frame of Beto decoded at Ana');
    assert.ok(forged.bytes < 2000, `the bridge drops the camera of a moderated participant (Ana got ${forged.bytes} bytes)`);
    // the forgery is undone by hand: the app's own state still has the camera off
    await beto.page.evaluate(async () => {
      const sender = ((window as any).__tertulia.pc as RTCPeerConnection).getTransceivers().find((t) => t.mid === '1')!.sender;
      sender.track?.stop();
      await sender.replaceTrack(null);
    });
  });

  test('Beto asks to start video, Ana allows, then his camera reaches Ana', async () => {
    await beto.page.getByRole('button', { name: 'Pedir iniciar el vídeo' }).click();
    await beto.page.getByText('Petición enviada').waitFor({ timeout: 10_000 });
    const requests = ana.page.getByRole('region', { name: 'Asking to unmute' });
    await requests.getByText('Beto asks to start video').waitFor({ timeout: 10_000 });
    await requests.getByRole('button', { name: 'Allow Beto to start video' }).click();
    await requests.waitFor({ state: 'detached', timeout: 10_000 });
    await beto.page.getByText('Un moderador te permite iniciar tu vídeo.').waitFor({ timeout: 10_000 });
    await beto.page.getByRole('toolbar').getByRole('button', { name: 'Iniciar cámara' }).click();
    await beto.page.getByRole('toolbar').getByRole('button', { name: 'Detener cámara' }).waitFor({ timeout: 10_000 });
    await waitUntil("Beto's camera decoded at Ana", () => videoFromBetoOver(ana.page, 2000), (v) => v.frames > 10, 30_000);
  });
});

// `npm run bench -- effects [--seconds 20 --resolution 360]`: what noise suppression, background blur and a virtual
// background cost the browser that uses them. A real server and two headless Chromium processes (one per participant, so that each
// process's CPU is its participant's); Ana's camera at --resolution lines. For each state (no effect, noise
// suppression, background blur, both) Ana's whole Chromium process tree (browser, renderer, GPU and utility
// processes; a virtual background: the bundled "Sea" picture) is sampled from /proc over --seconds, and the frame rate Ben decodes of Ana is read from his stats.
// Headless Chromium here has no GPU: MediaPipe's WebGL runs in software, which a real machine with a GPU does not
// pay, so the blur and virtual background figures are upper bounds.
import { parseArgs } from 'node:util';
import { joinThroughUi, launchBrowser, newParticipant, remoteStats, sleep, waitUntil, type Participant } from '../../test/helpers/browser.ts';
import { startServer } from '../../test/helpers/server.ts';
import { treeCpuSeconds } from '../process-cpu.ts';
import { table } from '../stats.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '20' }, resolution: { type: 'string', default: '360' } } });
const seconds = Number(values.seconds);
const resolution = Number(values.resolution);
if (!(seconds >= 3) || ![180, 360, 720].includes(resolution)) {
  console.error('usage: npm run bench -- effects [--seconds N (>= 3)] [--resolution 180|360|720]');
  process.exit(2);
}

/** Sets noise suppression and the camera's background (a radio button's name) in Ana's settings. */
async function setEffects(p: Participant, noiseSuppression: boolean, background: string): Promise<void> {
  await p.page.getByRole('button', { name: 'Settings' }).click();
  const dialog = p.page.getByRole('dialog', { name: 'Settings' });
  const box = dialog.getByRole('checkbox', { name: /^Noise suppression/ });
  if ((await box.isChecked()) !== noiseSuppression) await box.click();
  await dialog.getByRole('group', { name: 'Background' }).getByRole('radio', { name: new RegExp(`^${background}`) }).check();
  await dialog.getByRole('button', { name: 'Close' }).click();
}

const server = await startServer();
const marker = `--user-agent=tertulia-bench-effects-${process.pid}`;
const anaBrowser = await launchBrowser(undefined, [marker]);
const benBrowser = await launchBrowser();
const rows: string[][] = [];
try {
  const ana = await newParticipant(anaBrowser, 'Ana');
  const ben = await newParticipant(benBrowser, 'Ben');
  await joinThroughUi(ana, server.baseUrl, 'Effects', { hash: `#config.resolution=${resolution}` });
  await joinThroughUi(ben, server.baseUrl, 'Effects', { muteMic: true, stopCamera: true });
  await waitUntil('Ben to see Ana', () => remoteStats(ben.page), (s) => (s.Ana?.framesDecoded ?? 0) > 30, 60_000);
  const states: Array<[string, boolean, string]> = [
    ['no effect', false, 'No effect'],
    ['noise suppression', true, 'No effect'],
    ['background blur', false, 'Blur my background'],
    ['both', true, 'Blur my background'],
    ['virtual background (a picture)', false, 'Sea'],
  ];
  let baseline = 0;
  for (const [label, ns, background] of states) {
    await setEffects(ana, ns, background);
    await sleep(5000); // the pipes start (the segmentation model loads) and settle
    const cpu0 = treeCpuSeconds(marker);
    const frames0 = (await remoteStats(ben.page)).Ana?.framesDecoded ?? 0;
    await sleep(seconds * 1000);
    const cpu = (treeCpuSeconds(marker) - cpu0) / seconds;
    const fps = (((await remoteStats(ben.page)).Ana?.framesDecoded ?? 0) - frames0) / seconds;
    if (label === 'no effect') baseline = cpu;
    rows.push([label, `${(cpu * 100).toFixed(0)} %`, label === 'no effect' ? '-' : `${((cpu - baseline) * 100).toFixed(0)} %`, fps.toFixed(1)]);
    console.log(`${label}: ${(cpu * 100).toFixed(1)} % of a core, Ben decodes ${fps.toFixed(1)} fps`);
  }
} finally {
  await anaBrowser.close();
  await benBrowser.close();
  await server.stop();
}
console.log(`\nAna's Chromium (all its processes), camera ${resolution} lines, ${seconds} s per state:\n`);
console.log(table(['state', 'CPU (of one core)', 'added by the effect', 'frames/s Ben decodes'], rows));

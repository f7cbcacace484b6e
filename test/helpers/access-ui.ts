// Shared steps of the access end-to-end tests: open a room URL (with a query such as ?jwt=), type a name and
// press "Join meeting" — without waiting for the meeting (a sign-in, password, lobby or refusal may come first).
import type { Page } from 'playwright-core';
import type { Participant } from './browser.ts';

export async function startJoin(p: Participant, baseUrl: string, room: string, query = ''): Promise<void> {
  await p.page.goto(`${baseUrl}/${encodeURIComponent(room)}${query}#config.resolution=180`);
  await p.page.getByRole('textbox', { name: 'Your name' }).fill(p.name);
  await p.page.getByRole('button', { name: 'Join meeting' }).click();
}

/** Waits until `p` is in the meeting (its own tile is there). */
export async function inMeeting(p: Participant, name = p.name): Promise<void> {
  await p.page.getByRole('group', { name: `${name} (you)` }).waitFor({ timeout: 20_000 });
}

export async function openModeratorTools(page: Page): Promise<void> {
  // open already, its toggle says "Close moderator tools"
  const toggle = page.getByRole('banner').getByRole('button', { name: /^(Close m|M)oderator tools$/ });
  await toggle.waitFor({ timeout: 10_000 });
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
  await page.getByRole('complementary', { name: 'Moderator tools' }).waitFor();
}

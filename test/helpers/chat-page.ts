/// <reference lib="dom" />
/** @module Drives the /chat/ page in Chromium as a person would: fill the form, press Enter, read the log and member list. */
import type { Browser, Page } from 'playwright-core';


/** Opens /chat/ under `base` (http://host:port/), joins `room` as `name` and waits for the welcome. */
export async function joinPage(browser: Browser, base: string, name: string, room: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${base}chat/`);
  await page.fill('#name', name);
  await page.fill('#room', room);
  await page.press('#room', 'Enter');
  await page.waitForSelector('#state.ok');
  await waitForMembers(page, (m) => m.includes(`${name} (you)`));
  return page;
}

/** Types a message and sends it with Enter. */
export async function say(page: Page, text: string): Promise<void> {
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
}

/** Waits until the log has a message line from `name` whose text is exactly `text`. */
export async function waitForMessage(page: Page, name: string, text: string): Promise<void> {
  await page.waitForFunction(
    ([n, t]) => Array.from(document.querySelectorAll('#log li.msg')).some((li) => li.querySelector('.name')?.textContent === n && li.querySelector('.text')?.textContent === t),
    [name, text] as const,
  );
}

/** Waits until the log has an event line containing `what` ("ben left"). */
export async function waitForEvent(page: Page, what: string): Promise<void> {
  await page.waitForFunction((w) => Array.from(document.querySelectorAll('#log li.event')).some((li) => li.textContent?.includes(w)), what);
}

export async function members(page: Page): Promise<string[]> {
  return page.$$eval('#members li', (lis) => lis.map((li) => li.textContent ?? ''));
}

/** Waits until the member list satisfies `pred` (names as shown, the page's own with " (you)"). */
export async function waitForMembers(page: Page, pred: (names: string[]) => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const now = await members(page);
    if (pred(now)) return;
    if (Date.now() > deadline) throw new Error(`member list never became as expected; it is ${JSON.stringify(now)}`);
    await page.waitForTimeout(25);
  }
}

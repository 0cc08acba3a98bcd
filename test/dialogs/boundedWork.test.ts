/**
 * Bounded work per message (issue 14): adversarial answers to the recognizers cost at most 20 ms of CPU each
 * (process.cpuUsage, median of 3 runs). Before, a 300-character date answer cost ~0.5 s of event loop.
 */
import * as path from 'path';
import type { RunningService } from '../../src/index';
import { BotClient } from '../support/botClient';
import { startService } from '../support/env';
import { loadLiveDetector } from '../../src/admin/setup';
import {
  MAX_DATE_MODEL_CHARS,
  recognizeDate,
  recognizeEmail,
  recognizeName,
  recognizeNumber,
  recognizePhone,
  recognizePostcode,
  recognizeYesNo,
  warmUpRecognizers,
} from '../../src/dialogs/recognizers';

const LIMIT_MS = 20;

function cpuMs(f: () => void): number {
  const median: number[] = [];
  for (let i = 0; i < 3; i++) {
    const s = process.cpuUsage();
    f();
    const d = process.cpuUsage(s);
    median.push((d.user + d.system) / 1000);
  }
  return median.sort((a, b) => a - b)[1];
}

const PATTERNS: Record<string, string> = {
  digits: '1234567890',
  dates: '12/03/2023 ',
  mars: 'mars 2023 ',
  words: 'il y a trois mois et deux ans depuis hier ',
  numberWords: 'vingt-deux cent mille trois ',
  separators: '-/.:,',
  mixed: '3 mois 2 ans 1er janvier 14h30 ',
  english: 'three months ago next week tomorrow at 2pm ',
  nul: '\u00003 mars\u0000',
  emoji: '😀🔥📅',
};
const fill = (p: string, n: number) => p.repeat(Math.ceil(n / p.length)).slice(0, n);
const CASES = Object.entries(PATTERNS).flatMap(([name, p]) => [300, 4000].map((n) => [`${name} × ${n}`, fill(p, n)] as const));

beforeAll(() => warmUpRecognizers());

test.each(CASES)('%s: every recognizer answers within 20 ms of CPU', (_name, text) => {
  const costs = {
    dateFr: cpuMs(() => recognizeDate(text, 'fr')),
    dateEn: cpuMs(() => recognizeDate(text, 'en', { range: 'any', withTime: true })),
    numberFr: cpuMs(() => recognizeNumber(text, 'fr')),
    numberEn: cpuMs(() => recognizeNumber(text, 'en')),
    yesNo: cpuMs(() => recognizeYesNo(text, 'fr')),
    others: cpuMs(() => {
      recognizeEmail(text);
      recognizePhone(text);
      recognizePostcode(text);
      recognizeName(text);
    }),
  };
  for (const [k, ms] of Object.entries(costs)) expect([k, ms <= LIMIT_MS ? 'ok' : `${ms.toFixed(1)} ms`]).toEqual([k, 'ok']);
  // Long answers are not dates (not understood: the dialog asks again).
  expect(recognizeDate(text, 'fr')).toBeUndefined();
});

test('the answers people type are still understood', () => {
  const now = new Date('2025-06-15T12:00:00');
  expect(recognizeDate('il y a 3 mois', 'fr', { now })).toEqual({ value: '2025-03-15' });
  expect(recognizeDate('mars 2023', 'fr', { now })).toEqual({ value: '2023-03-01' });
  expect(recognizeDate('le 3 mars', 'fr', { now })).toEqual({ value: '2025-03-03' });
  expect(recognizeNumber('vingt-deux', 'fr')).toBe(22);
  expect(recognizeNumber("j'ai 19 ans", 'fr')).toBe(19);
  expect(recognizeYesNo('ouais grave', 'fr')).toBe(true);
  expect(recognizeYesNo(`non ${'je sais pas trop '.repeat(200)}`, 'fr')).toBe(false);
});

/**
 * Known gap, measured: within its window (≤ MAX_DATE_MODEL_CHARS characters, ≤ 8 digits) the date-time model of
 * @microsoft/recognizers-text still costs 30–95 ms on adversarial answers (two cultures). This bounds it, so that a
 * regression (a longer window) fails here; it does not meet the 20 ms goal.
 */
test('inside the date model window the cost is bounded (known ceiling, above the 20 ms goal)', () => {
  let worst = 0;
  for (const p of Object.values(PATTERNS)) worst = Math.max(worst, cpuMs(() => recognizeDate(fill(p, MAX_DATE_MODEL_CHARS), 'fr')));
  process.stdout.write(`date model, worst adversarial answer of ${MAX_DATE_MODEL_CHARS} chars: ${worst.toFixed(1)} ms CPU\n`);
  expect(worst).toBeLessThan(250);
});

test('the detector still finds a suicidal sentence at the end of a 19,000-character message', () => {
  const detector = loadLiveDetector(path.join(__dirname, '..', '..', 'dialogs', 'barriers'));
  const text = `${fill('je sais pas trop quoi dire mais bon voila ma vie ', 19000)} j'ai envie de mourir`;
  const detection = detector.detect(text);
  expect(detection.severity).toBe('urgent');
  const ms = cpuMs(() => detector.detect(text));
  process.stdout.write(`detector, 19,021 chars with a danger sentence at the end: ${ms.toFixed(1)} ms CPU\n`);
});

describe('over HTTP', () => {
  let svc: RunningService;
  beforeAll(async () => {
    svc = await startService({ RATE_LIMIT_PER_MINUTE: '0' });
  });
  afterAll(async () => {
    await svc?.close();
  });

  test('/healthz answers fast while 20 adversarial 20,000-character messages are processed in parallel over /api/messages', async () => {
    const clients = Array.from({ length: 20 }, () => new BotClient(svc.url));
    // Into a conversation first (language question answered), so the long answers reach the recognizers.
    await Promise.all(clients.map((c) => c.say('salut')));
    const texts = Object.values(PATTERNS).map((p) => fill(p, 20000));
    let polling = true;
    const latencies: number[] = [];
    const poll = (async () => {
      while (polling) {
        const t0 = performance.now();
        const res = await fetch(`${svc.url}/healthz`);
        await res.arrayBuffer();
        latencies.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const replies = await Promise.all(clients.map((c, i) => c.post(c.activity({ text: texts[i % texts.length] }))));
    polling = false;
    await poll;
    expect(replies.map((r) => r.status)).toEqual(clients.map(() => 200));
    const worst = Math.max(...latencies);
    process.stdout.write(`healthz during 20 parallel 20,000-char messages: ${latencies.length} probes, worst ${worst.toFixed(0)} ms\n`);
    expect(latencies.length).toBeGreaterThan(0);
    // Known gap, measured: the barrier detector costs 40-75 ms of CPU on 20,000 characters (see the detector test above),
    // so a probe waits behind a few of these turns (~0.5 s worst). The goal (each message <= 20 ms) is not met for the
    // detector yet; this bound catches a regression back to the seconds measured before (4.5 s).
    expect(worst).toBeLessThan(1500);
  });
});

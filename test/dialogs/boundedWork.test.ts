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
  mayHoldOneDate,
  recognizeDate,
  recognizeDateWithModel,
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

test.each(Object.keys(PATTERNS))('%s: an adversarial date answer of MAX_DATE_MODEL_CHARS characters costs ≤ 20 ms of CPU', (name) => {
  const text = fill(PATTERNS[name], MAX_DATE_MODEL_CHARS);
  const costs = {
    fr: cpuMs(() => recognizeDate(text, 'fr')),
    en: cpuMs(() => recognizeDate(text, 'en', { range: 'any', withTime: true })),
  };
  for (const [k, ms] of Object.entries(costs)) expect([k, ms <= LIMIT_MS ? 'ok' : `${ms.toFixed(1)} ms`]).toEqual([k, 'ok']);
});

/**
 * Known gap, measured: an answer that passes mayHoldOneDate (it may be one date expression: ≤ 3 tokens with digits,
 * ≤ 3 date words, ≤ 3 number words, nothing repeated) and that the fast path does not read goes to the date-time model
 * of @microsoft/recognizers-text, which costs 5-45 ms per parse here (two parses when the first culture finds nothing),
 * even for ordinary answers ("lundi prochain à 14h" ~35 ms, "il y a vingt-deux ans" ~30 ms). The short prefixes of the
 * adversarial patterns are such answers. This bounds them, so that a regression fails here; it does not meet 20 ms.
 */
test('shorter adversarial date answers: bounded (known ceiling, above the 20 ms goal)', () => {
  let worst = 0;
  let worstText = '';
  for (const p of Object.values(PATTERNS)) {
    for (let n = 4; n < MAX_DATE_MODEL_CHARS; n += 4) {
      const text = fill(p, n);
      const ms = Math.max(cpuMs(() => recognizeDate(text, 'fr')), cpuMs(() => recognizeDate(text, 'en', { range: 'any', withTime: true })));
      if (ms > worst) [worst, worstText] = [ms, text];
    }
  }
  process.stdout.write(`date answers of 4-36 chars (adversarial prefixes): worst ${worst.toFixed(1)} ms CPU for ${JSON.stringify(worstText)}\n`);
  expect(worst).toBeLessThan(150);
});

test('the cheap date gate lets every answer of the reference corpora through to the model', () => {
  const now = new Date('2026-11-23T12:00:00');
  const corpus = [
    'hier', 'avant-hier', 'demain', 'après-demain', 'il y a 2 ans', 'il y a trois mois', 'ya 2 mois', 'y a 1 an', "y'a 8 mois", 'depuis 6 mois',
    'ça fait 1 an', 'sa fait 3 semaines', 'en mars 2023', 'mars 2025', 'le 3 mars 2024', '03/03/2024', 'la semaine prochaine',
    'la semaine derniere', 'la semaine dernière', 'demain à 14h', 'lundi', 'lundi prochain', 'lundi prochain à 14h', 'en janvier', "l'année dernière",
    'lan dernier', 'depuis septembre', 'jsp ya genre 2 mois', 'dpuis 1 an', 'three months ago', 'next week', 'yesterday', 'last year', 'since March',
    'tomorrow at 2pm', 'for 2 years', 'depuis 2 ans et demi', 'il y a 2 ans et demi', 'ça fait 1 an et 3 mois', 'il y a 2 ans et 3 mois',
    'depuis le 3 mars 2024 à 14h', 'le 3 mars', 'il y a vingt-deux ans', 'il y a vingt et un ans', 'il y a quatre-vingt-dix jours',
    'il y a dix-sept jours', 'il y a quelques mois', 'a few months ago', 'début 2023', 'fin 2022', 'mi-2021', 'depuis lundi dernier',
    'depuis hier soir', 'ce matin', 'il y a 3 mois 😅', 'le 1er janvier', '20240303', '12/03/20', 'dans 3 mois', 'in 3 months', 'march 2023',
  ];
  // The gate sits in front of the model: it must let every one of these through (recognizerModels.test.ts and
  // dateFastPath.test.ts compare the results themselves with the model's).
  for (const text of corpus) expect([text, mayHoldOneDate(text)]).toEqual([text, true]);
  // What the gate turns away (not understood, the dialog asks again): several dates, repeated words, long number runs.
  for (const text of ['3 mars 3 mars 3 mars', 'il y a trois mois et deux ans depuis', 'three months ago next week tomorrow', 'vingt-deux cent mille trois', '3 mois 2 ans 1er janvier 14h30']) {
    expect([text, mayHoldOneDate(text)]).toEqual([text, false]);
    expect(recognizeDate(text, 'fr', { now })).toBeUndefined();
  }
  expect(recognizeDateWithModel('il y a 3 mois', 'fr', { now })).toEqual({ value: '2026-08-23' });
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

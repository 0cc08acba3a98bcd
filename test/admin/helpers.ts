import type { RunningService } from '../../src/index';
import { ConsoleClient } from '../console/helpers';

export const PASSWORD = 'correct horse battery staple';
export const A = '/api/console/admin';

/** Creates an account with the console's account service and signs it in. */
export async function signedIn(svc: RunningService, email: string, role: 'admin' | 'mediator', displayName = email.split('@')[0]): Promise<ConsoleClient> {
  await svc.console.accounts.create({ email, displayName, role, password: PASSWORD });
  const c = new ConsoleClient(svc.url);
  const res = await c.login(email, PASSWORD);
  if (res.status !== 200) throw new Error(`login of ${email} answered ${res.status}`);
  return c;
}

export interface DraftView {
  draft: { revision: number; baseVersion: number };
  files: Record<string, string>;
  flows: Array<{ id: string; file: string; steps: Array<Record<string, any>> }>;
  texts: Record<'fr' | 'en', Record<string, string>>;
}

export async function getDraft(c: ConsoleClient): Promise<DraftView> {
  const res = await c.get(`${A}/draft`);
  if (res.status !== 200) throw new Error(`GET draft answered ${res.status}: ${JSON.stringify(res.json)}`);
  return res.json as DraftView;
}

export function step(d: DraftView, flow: string, id: string): Record<string, any> {
  const s = d.flows.find((f) => f.id === flow)?.steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step ${flow}/${id}`);
  return JSON.parse(JSON.stringify(s)) as Record<string, any>;
}

/** Edits the French (and optionally English) texts of the draft through the step endpoint, keeping the step as it is. */
export async function editTexts(c: ConsoleClient, flow: string, stepId: string, texts: { fr?: Record<string, string>; en?: Record<string, string> }) {
  const d = await getDraft(c);
  return c.put(`${A}/draft/flows/${flow}/steps/${stepId}`, { revision: d.draft.revision, step: step(d, flow, stepId), texts });
}

export async function publish(c: ConsoleClient, message = 'test') {
  const d = await getDraft(c);
  return c.post(`${A}/draft/publish`, { revision: d.draft.revision, message });
}

import * as fs from 'fs';
import YAML from 'yaml';

/** A common job (dialogs/data/cv-jobs.yaml): French title, recognising words, suggested tasks. */
export interface Job {
  id: string;
  fr: string;
  en: string;
  match: string[];
  tasks: Array<{ fr: string; en: string }>;
}

const fold = (s: string) =>
  ` ${s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim()} `;

export class JobCatalog {
  constructor(readonly jobs: Job[]) {
    for (const j of jobs) {
      if (!j.id || !j.fr || !j.en || !Array.isArray(j.match) || !Array.isArray(j.tasks)) throw new Error(`cv-jobs.yaml: job ${JSON.stringify(j.id)} needs id, fr, en, match and tasks`);
      for (const t of j.tasks) if (!t.fr || !t.en) throw new Error(`cv-jobs.yaml: job "${j.id}" has a task without fr or en`);
    }
  }

  static load(file: string): JobCatalog {
    const data = YAML.parse(fs.readFileSync(file, 'utf8')) as { jobs: Job[] };
    return new JobCatalog(data.jobs ?? []);
  }

  /** The job a title (or a company: "Lidl", "McDo") is about: the longest matching word wins. */
  find(...texts: Array<string | undefined>): Job | undefined {
    let best: { job: Job; len: number } | undefined;
    for (const text of texts) {
      if (!text) continue;
      const f = fold(text);
      for (const job of this.jobs)
        for (const m of job.match) {
          const w = fold(m);
          if (f.includes(w) && (!best || w.length > best.len)) best = { job, len: w.length };
        }
      if (best) return best.job;
    }
    return undefined;
  }
}

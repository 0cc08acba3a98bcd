import { Connection, Model, Schema } from 'mongoose';
import { z } from 'zod';
import { ensureCollection } from '../db/collections';
import type { StructureDirectory } from '../dialogs/data';
import type { Locale, Texts } from '../i18n';

/**
 * Canned responses: the mediators' ready-made messages (greeting, crisis scripts, a safety-plan template,
 * referrals, follow-up, closing). A default set ships in locales/ (canned.items); admins edit, add and
 * remove responses without a deploy (collection canned_responses: a stored response overrides the default
 * of the same id; a removed default is kept as a tombstone). Variables are filled per conversation.
 */

export const CANNED_CATEGORIES = ['accueil', 'crise', 'plan_securite', 'orientation', 'relance', 'cloture'] as const;
export type CannedCategory = (typeof CANNED_CATEGORIES)[number];

/** The variables a response may use, and what fills them. */
export const CANNED_VARIABLES = ['prenom', 'mediateur', 'structure', 'structure_nom', 'structure_tel'] as const;
type CannedVariable = (typeof CANNED_VARIABLES)[number];

export interface CannedResponseDoc {
  _id: string;
  category: CannedCategory;
  title: string;
  text: { fr: string; en?: string };
  /** A default of locales/ removed by an admin. */
  removed?: boolean;
  updatedAt: Date;
  updatedBy: { id: string; name: string };
}

export interface CannedResponse {
  id: string;
  category: CannedCategory;
  title: string;
  text: { fr: string; en: string | null };
  /** Shipped with the product (locales/) and not edited, edited by an admin, or added by one. */
  origin: 'default' | 'edited' | 'added';
}

const MAX_TEXT = 2000;
const idSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{1,39}$/, 'id');

/** Variables used in `text` that are not known ({prénom} typed with an accent, a typo…). */
export function unknownVariables(text: string): string[] {
  return [...text.matchAll(/\{([^{}]{0,40})\}/g)].map((m) => m[1]).filter((v) => !(CANNED_VARIABLES as readonly string[]).includes(v));
}

export const cannedInputSchema = z
  .object({
    category: z.enum(CANNED_CATEGORIES),
    title: z.string().trim().min(1).max(80),
    text: z.object({ fr: z.string().trim().min(1).max(MAX_TEXT), en: z.string().trim().max(MAX_TEXT).optional() }).strict(),
  })
  .strict();
export type CannedInput = z.infer<typeof cannedInputSchema>;

export class CannedResponseStore {
  readonly model: Model<CannedResponseDoc>;

  constructor(
    connection: Connection,
    private readonly texts: Texts,
  ) {
    const schema = new Schema<CannedResponseDoc>(
      {
        _id: { type: String, required: true },
        category: { type: String, required: true },
        title: { type: String, required: true },
        text: { fr: { type: String, required: true }, en: String },
        removed: Boolean,
        updatedAt: { type: Date, required: true },
        updatedBy: { _id: false, id: String, name: String },
      },
      { versionKey: false, collection: 'canned_responses' },
    );
    this.model = (connection.models.CannedResponse as Model<CannedResponseDoc>) ?? connection.model<CannedResponseDoc>('CannedResponse', schema);
  }

  async init(): Promise<void> {
    await ensureCollection(this.model);
  }

  static validId(id: string): boolean {
    return idSchema.safeParse(id).success;
  }

  /** The ids of the shipped responses (locales/fr.json canned.items), in their order. */
  private defaultIds(): string[] {
    return this.texts
      .keys('fr')
      .filter((k) => k.startsWith('canned.items.') && k.endsWith('.text'))
      .map((k) => k.slice('canned.items.'.length, -'.text'.length));
  }

  private defaultOf(id: string): CannedResponse | undefined {
    if (!this.texts.has('fr', `canned.items.${id}.text`)) return undefined;
    const t = (l: Locale, k: string) => (this.texts.has(l, `canned.items.${id}.${k}`) ? this.texts.t(l, `canned.items.${id}.${k}`) : null);
    return { id, category: t('fr', 'category') as CannedCategory, title: t('fr', 'title') ?? id, text: { fr: t('fr', 'text')!, en: t('en', 'text') }, origin: 'default' };
  }

  /** Every response, defaults first in their order then those added, grouped by the page by category. */
  async list(): Promise<CannedResponse[]> {
    const stored = new Map(((await this.model.find({}).lean().exec()) as CannedResponseDoc[]).map((d) => [d._id, d]));
    const out: CannedResponse[] = [];
    const ids = this.defaultIds();
    for (const id of ids) {
      const s = stored.get(id);
      if (s?.removed) continue;
      out.push(s ? fromDoc(s, 'edited') : this.defaultOf(id)!);
    }
    const added = [...stored.values()].filter((d) => !ids.includes(d._id) && !d.removed).sort((a, b) => a.title.localeCompare(b.title, 'fr'));
    return out.concat(added.map((d) => fromDoc(d, 'added')));
  }

  async save(id: string, input: CannedInput, by: { id: string; name: string }): Promise<CannedResponse> {
    const doc: CannedResponseDoc = { _id: id, category: input.category, title: input.title, text: { fr: input.text.fr, ...(input.text.en ? { en: input.text.en } : {}) }, updatedAt: new Date(), updatedBy: by };
    // A whole-document replace by _id: the one write FerretDB v1 runs as one statement.
    await this.model.replaceOne({ _id: id }, doc, { upsert: true }).exec();
    return fromDoc(doc, this.defaultOf(id) ? 'edited' : 'added');
  }

  /** Removes a response: an added one is deleted, a default one hidden (a tombstone), so it does not come back. */
  async remove(id: string, by: { id: string; name: string }): Promise<boolean> {
    const def = this.defaultOf(id);
    if (!def) return (await this.model.deleteOne({ _id: id }).exec()).deletedCount > 0;
    await this.model.replaceOne({ _id: id }, { _id: id, category: def.category, title: def.title, text: { fr: def.text.fr }, removed: true, updatedAt: new Date(), updatedBy: by }, { upsert: true }).exec();
    return true;
  }

  /** Back to the shipped text (an edited or removed default). */
  async restore(id: string): Promise<boolean> {
    if (!this.defaultOf(id)) return false;
    await this.model.deleteOne({ _id: id }).exec();
    return true;
  }
}

function fromDoc(d: CannedResponseDoc, origin: CannedResponse['origin']): CannedResponse {
  return { id: d._id, category: d.category, title: d.title, text: { fr: d.text.fr, en: d.text.en ?? null }, origin };
}

/** The values of the variables for one conversation: the young person's first name, the mediator, the nearest structure. */
export function cannedValues(input: { name?: string | null; mediator: string; profile: Record<string, unknown>; structures?: StructureDirectory }): Partial<Record<CannedVariable, string>> {
  const first = input.name?.trim().split(/\s+/)[0];
  const values: Partial<Record<CannedVariable, string>> = { mediateur: input.mediator };
  if (first) values.prenom = first.slice(0, 30);
  const p = input.profile;
  const text = (k: string) => (typeof p[k] === 'string' ? (p[k] as string) : undefined);
  if (input.structures && (text('postcode') || text('departement'))) {
    const referral = input.structures.refer({ postcode: text('postcode'), commune: text('commune'), departement: text('departement'), age: typeof p.age === 'number' ? p.age : undefined });
    const s = referral.local[0];
    if (s) {
      values.structure_nom = s.name;
      if (s.phone) values.structure_tel = s.phone;
      const place = [s.address, [s.postcode, s.city].filter(Boolean).join(' ')].filter(Boolean).join(', ');
      values.structure = [s.name, place, s.phone].filter(Boolean).join(', ');
    }
  }
  return values;
}

/** The text with its variables filled; those without a value are listed (the mediator completes them). */
export function fillCanned(text: string, values: Partial<Record<CannedVariable, string>>): { text: string; missing: string[] } {
  const missing = new Set<string>();
  const filled = text.replace(/\{(\w+)\}/g, (m, name: string) => {
    const v = values[name as CannedVariable];
    if (v !== undefined) return v;
    missing.add(name);
    return m;
  });
  return { text: filled, missing: [...missing] };
}

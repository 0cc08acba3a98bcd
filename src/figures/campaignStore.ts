import { Connection, Model, Schema } from 'mongoose';
import { ensureCollection } from '../db/collections';
import type { Origin } from './origin';

/**
 * Campaigns as admins name them: a code (typed "DECLIC TK12", or an m.me
 * `ref`) and/or the ad ids of a Click-to-WhatsApp / Messenger campaign.
 * Young people are matched to them when the figures are computed, so a
 * campaign named afterwards still gets its young people.
 */
export interface Campaign {
  /** The campaign code, upper case without separators ("TK12"). */
  _id: string;
  name: string;
  /** Where it ran: TikTok, Instagram, Facebook, a flyer… (free text). */
  medium?: string;
  adIds: string[];
  createdAt: Date;
  updatedAt: Date;
}

export class CampaignStore {
  readonly model: Model<Campaign>;

  constructor(connection: Connection) {
    const schema = new Schema<Campaign>(
      {
        _id: { type: String, required: true },
        name: { type: String, required: true },
        medium: String,
        adIds: { type: [String], default: [] },
        createdAt: { type: Date, required: true },
        updatedAt: { type: Date, required: true },
      },
      { versionKey: false, collection: 'campaigns' },
    );
    this.model = (connection.models.Campaign as Model<Campaign>) ?? connection.model<Campaign>('Campaign', schema);
  }

  async init(): Promise<void> {
    await ensureCollection(this.model);
  }

  async list(): Promise<Campaign[]> {
    return (await this.model.find({}).sort({ _id: 1 }).lean().exec()) as Campaign[];
  }

  /** Creates or renames a campaign (one document, its code as id). */
  async save(code: string, input: { name: string; medium?: string; adIds: string[] }): Promise<Campaign> {
    const now = new Date();
    const existing = (await this.model.findById(code).lean().exec()) as Campaign | null;
    const doc: Campaign = { _id: code, name: input.name, ...(input.medium ? { medium: input.medium } : {}), adIds: input.adIds, createdAt: existing?.createdAt ?? now, updatedAt: now };
    await this.model.replaceOne({ _id: code }, doc, { upsert: true }).exec();
    return doc;
  }

  async remove(code: string): Promise<boolean> {
    return ((await this.model.deleteOne({ _id: code }).exec()).deletedCount ?? 0) > 0;
  }
}

/** The campaign a young person's origin belongs to: by code first, then by ad id. */
export function campaignOf(origin: Origin | undefined, campaigns: Campaign[]): Campaign | undefined {
  if (!origin) return undefined;
  if (origin.code) {
    const byCode = campaigns.find((c) => c._id === origin.code);
    if (byCode) return byCode;
  }
  if (origin.adId) return campaigns.find((c) => c.adIds.includes(origin.adId!));
  return undefined;
}

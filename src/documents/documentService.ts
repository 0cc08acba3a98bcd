import { createHmac, randomBytes, timingSafeEqual } from 'crypto';
import { Connection, Model, Schema } from 'mongoose';
import type { Locale, Texts } from '../i18n';
import * as path from 'path';
import { REPO_ROOT } from '../dialogs/paths';
import { JobCatalog } from './jobs';
import { CvData, LetterData, renderCvPdf, renderLetterPdf } from './pdf';

/** A generated PDF (CV, cover letter) of one young person. */
export interface StoredDocument {
  _id: string;
  contactKey: string;
  kind: 'cv' | 'letter';
  name: string;
  contentType: string;
  size: number;
  data: Buffer;
  createdAt: Date;
}

export interface PdfAttachment {
  contentType: 'application/pdf';
  contentUrl: string;
  name: string;
}

/** Generated files are small (one page); anything larger is refused. */
export const MAX_DOCUMENT_BYTES = 1024 * 1024;
/** How many versions of each kind of document are kept per young person. */
export const KEPT_VERSIONS = 3;

export class DocumentTooLargeError extends Error {
  constructor(size: number) {
    super(`Document of ${size} bytes exceeds ${MAX_DOCUMENT_BYTES} bytes`);
    this.name = 'DocumentTooLargeError';
  }
}

export interface DocumentServiceOptions {
  /** HMAC secret of the download tokens (config FILES_SECRET). */
  secret: string;
  /** Public base URL of the service (PUBLIC_BASE_URL or the service's own URL), read when an attachment is built. */
  baseUrl: () => string;
  /** pdfkit compression (tests turn it off to read the PDF text). */
  compressPdf?: boolean;
  /** How long a download link works (config FILES_LINK_DAYS); default 7 days. The young person asks the bot for a new one. */
  linkTtlMs?: number;
  /** The clock (tests). */
  now?: () => number;
  /** Common jobs and their suggested tasks (default: dialogs/data/cv-jobs.yaml of the repository). */
  jobs?: JobCatalog;
}

/** What a download link is worth: `ok`, `expired` (a genuine link past its expiry), or `invalid` (forged, tampered, unknown). */
export type LinkCheck = 'ok' | 'expired' | 'invalid';

export const DEFAULT_LINK_TTL_MS = 7 * 86400000;

/**
 * Stores generated PDFs per contact and builds their download links:
 * `${baseUrl}/files/<id>/<expiry>.<mac>` where expiry is the link's end (unix seconds, base 36) and
 * mac = HMAC-SHA256("<id>.<expiry>", secret), so a link works on every channel without authentication,
 * cannot be guessed nor extended, and stops working after `linkTtlMs` (410: ask the bot for a new one).
 */
export class DocumentService {
  readonly model: Model<StoredDocument>;
  readonly jobs: JobCatalog;

  constructor(connection: Connection, private readonly opts: DocumentServiceOptions) {
    this.jobs = opts.jobs ?? JobCatalog.load(path.join(REPO_ROOT, 'dialogs', 'data', 'cv-jobs.yaml'));
    if (!opts.secret || opts.secret.length < 16) throw new Error('DocumentService needs a secret of at least 16 characters');
    const schema = new Schema<StoredDocument>(
      {
        _id: { type: String, required: true },
        contactKey: { type: String, required: true },
        kind: { type: String, required: true },
        name: { type: String, required: true },
        contentType: { type: String, required: true },
        size: { type: Number, required: true },
        data: { type: Buffer, required: true },
        createdAt: { type: Date, required: true },
      },
      { versionKey: false, collection: 'documents' },
    );
    schema.index({ contactKey: 1, kind: 1, createdAt: -1 });
    this.model = (connection.models.GeneratedDocument as Model<StoredDocument>) ?? connection.model<StoredDocument>('GeneratedDocument', schema);
  }

  /** How many days a link works (rounded up), for the message that comes with it. */
  get linkDays(): number {
    return Math.max(1, Math.ceil((this.opts.linkTtlMs ?? DEFAULT_LINK_TTL_MS) / 86400000));
  }

  get compressPdf(): boolean {
    return this.opts.compressPdf ?? true;
  }

  /** Renders a CV with the section titles of the locale. */
  renderCv(cv: CvData, locale: Locale, texts: Texts): Promise<Buffer> {
    const l = (k: string) => texts.t(locale, `cv.pdf.${k}`);
    const labels = { experience: l('experience'), education: l('education'), skills: l('skills'), languages: l('languages'), interests: l('interests'), contact: l('contact'), mobility: l('mobility'), profile: l('profile') };
    return renderCvPdf(cv, labels, { compress: this.compressPdf });
  }

  renderLetter(letter: LetterData): Promise<Buffer> {
    return renderLetterPdf(letter, { compress: this.compressPdf });
  }

  /** A download token for `id`, valid until `expiresAtMs` (default: now + the link lifetime). */
  token(id: string, expiresAtMs = this.now() + (this.opts.linkTtlMs ?? DEFAULT_LINK_TTL_MS)): string {
    const exp = Math.ceil(expiresAtMs / 1000).toString(36);
    return `${exp}.${this.mac(`${id}.${exp}`)}`;
  }

  /** Whether `token` is a genuine link to `id`, and still valid. Links of before expiries (HMAC of the id alone) count as expired. */
  check(id: string, token: string): LinkCheck {
    const t = String(token ?? '');
    const dot = t.indexOf('.');
    if (dot < 0) return this.sameMac(t, this.mac(id)) ? 'expired' : 'invalid';
    const exp = t.slice(0, dot);
    if (!/^[0-9a-z]{1,10}$/.test(exp) || !this.sameMac(t.slice(dot + 1), this.mac(`${id}.${exp}`))) return 'invalid';
    return parseInt(exp, 36) * 1000 > this.now() ? 'ok' : 'expired';
  }

  verify(id: string, token: string): boolean {
    return this.check(id, token) === 'ok';
  }

  url(id: string): string {
    return `${this.opts.baseUrl().replace(/\/+$/, '')}/files/${id}/${this.token(id)}`;
  }

  private now(): number {
    return this.opts.now ? this.opts.now() : Date.now();
  }

  private mac(text: string): string {
    return createHmac('sha256', this.opts.secret).update(text).digest('base64url');
  }

  private sameMac(given: string, expected: string): boolean {
    const g = Buffer.from(given);
    const e = Buffer.from(expected);
    return g.length === e.length && timingSafeEqual(g, e);
  }

  /** Stores a PDF for a contact, keeps the last versions of that kind, and returns the attachment to send. */
  async save(contactKey: string, kind: StoredDocument['kind'], name: string, data: Buffer): Promise<PdfAttachment & { id: string }> {
    if (data.length > MAX_DOCUMENT_BYTES) throw new DocumentTooLargeError(data.length);
    const id = randomBytes(12).toString('hex');
    await this.model.create({ _id: id, contactKey, kind, name, contentType: 'application/pdf', size: data.length, data, createdAt: new Date() });
    const old = await this.model.find({ contactKey, kind }, { _id: 1 }).sort({ createdAt: -1 }).skip(KEPT_VERSIONS).lean().exec();
    if (old.length) await this.model.deleteMany({ _id: { $in: old.map((d) => d._id) } }).exec();
    return { id, contentType: 'application/pdf', contentUrl: this.url(id), name };
  }

  /** The document if the token matches and has not expired, else null. */
  async find(id: string, token: string): Promise<StoredDocument | null> {
    if (!/^[0-9a-f]{24}$/.test(id) || !this.verify(id, token)) return null;
    const doc = await this.model.findById(id).lean().exec();
    if (!doc) return null;
    const data = doc.data as unknown;
    const buf = Buffer.isBuffer(data) ? data : Buffer.from((data as { buffer: ArrayBuffer | Uint8Array }).buffer as Uint8Array);
    return { ...doc, data: buf } as StoredDocument;
  }

  /** A fresh link to the newest document of that kind of the contact (the young person asked again), or undefined. */
  async latest(contactKey: string, kind: StoredDocument['kind']): Promise<(PdfAttachment & { id: string }) | undefined> {
    const [doc] = await this.model.find({ contactKey, kind }, { data: 0 }).sort({ createdAt: -1 }).limit(1).lean().exec();
    if (!doc) return undefined;
    return { id: doc._id, contentType: 'application/pdf', contentUrl: this.url(doc._id), name: doc.name };
  }

  /** The young people who have a document of this kind (opportunities aimed at those with a CV). */
  async contactsWith(kind: StoredDocument['kind']): Promise<Set<string>> {
    return new Set((await this.model.distinct('contactKey', { kind }).exec()) as string[]);
  }

  async listFor(contactKey: string): Promise<Array<Omit<StoredDocument, 'data'>>> {
    return this.model.find({ contactKey }, { data: 0 }).sort({ createdAt: -1 }).lean().exec() as Promise<Array<Omit<StoredDocument, 'data'>>>;
  }

  /** Erasure: removes every document of a contact. */
  async deleteForContact(contactKey: string): Promise<number> {
    const res = await this.model.deleteMany({ contactKey }).exec();
    return res.deletedCount ?? 0;
  }
}

import PDFDocument from 'pdfkit';

/**
 * PDF rendering with pdfkit's built-in Helvetica (WinAnsi encoding, no
 * external font): every text goes through `toWinAnsi`, which keeps French
 * accents, maps typographic characters and drops emoji and anything the
 * encoding cannot show. Labels come from the caller (locale texts).
 */

/** Characters of Windows-1252 above 0x7F outside Latin-1 that the standard fonts can show. */
const CP1252_EXTRA = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');
const REPLACE: Record<string, string> = { '\u2010': '-', '\u2011': '-', '\u2012': '-', '\u2032': "'", '\u2033': '"', '\u00a0': ' ', '\u202f': ' ', '\u2009': ' ', '\t': ' ', 'Ł': 'L', 'ł': 'l', 'Đ': 'D', 'đ': 'd', 'ı': 'i', 'Ħ': 'H', 'ħ': 'h' };

function showable(ch: string): boolean {
  const c = ch.codePointAt(0)!;
  return ch === '\n' || (c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xff) || CP1252_EXTRA.has(ch);
}

/** Text the built-in fonts can render: accents kept, emoji and unsupported characters removed. */
export function toWinAnsi(text: string): string {
  let out = '';
  for (const ch of text.normalize('NFC')) {
    const mapped = REPLACE[ch] ?? ch;
    if (showable(mapped)) out += mapped;
    else {
      const base = mapped.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
      if (base && [...base].every(showable)) out += base;
    }
  }
  return out.replace(/[ ]{2,}/g, ' ').replace(/ +\n/g, '\n').trim();
}

export interface CvExperience {
  title: string;
  company?: string;
  period?: string;
  tasks?: string;
}

export interface CvEducation {
  title: string;
  school?: string;
  year?: string;
}

export interface CvData {
  firstName: string;
  lastName: string;
  email?: string;
  phone?: string;
  city?: string;
  target?: string;
  experiences: CvExperience[];
  education: CvEducation[];
  skills: string[];
  languages: string[];
  interests: string[];
}

export interface CvLabels {
  experience: string;
  education: string;
  skills: string;
  languages: string;
  interests: string;
  contact: string;
}

export interface LetterData {
  firstName: string;
  lastName: string;
  email?: string;
  phone?: string;
  city?: string;
  company: string;
  /** Already composed paragraphs (from locale templates). */
  date: string;
  subject: string;
  greeting: string;
  paragraphs: string[];
  closing: string;
}

export interface RenderOptions {
  /** pdfkit stream compression (false in tests to read the text). Default true. */
  compress?: boolean;
}

const LIMITS = { experiences: 4, education: 3, items: 10, field: 120, tasks: 260, paragraph: 1200 };

const clip = (s: string | undefined, n: number): string => {
  const t = toWinAnsi(s ?? '');
  return t.length > n ? `${t.slice(0, n - 1).trimEnd()}…` : t;
};

function collect(doc: PDFKit.PDFDocument): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
}

const ACCENT = '#1f4e79';
const GREY = '#555555';

/** A clean one-page CV. Content is capped so it always fits on one A4 page. */
export async function renderCvPdf(cv: CvData, labels: CvLabels, opts: RenderOptions = {}): Promise<Buffer> {
  const fullName = clip(`${cv.firstName} ${cv.lastName}`.trim(), 60);
  const doc = new PDFDocument({ size: 'A4', margin: 48, compress: opts.compress ?? true, info: { Title: `CV - ${fullName}`, Author: fullName, Creator: 'Declic' } });
  const done = collect(doc);
  const width = doc.page.width - 96;
  const bottom = doc.page.height - 56;
  const fits = (h: number) => doc.y + h < bottom;

  doc.font('Helvetica-Bold').fontSize(22).fillColor(ACCENT).text(fullName, { width });
  if (cv.target) doc.moveDown(0.2).font('Helvetica').fontSize(13).fillColor('#222222').text(clip(cv.target, LIMITS.field), { width });
  const contact = [cv.phone, cv.email, cv.city].filter(Boolean).map((s) => clip(s, 80)).join('  |  ');
  if (contact) doc.moveDown(0.3).fontSize(10).fillColor(GREY).text(contact, { width });
  doc.moveDown(0.6);

  const section = (title: string) => {
    if (!fits(40)) return false;
    doc.moveDown(0.5).font('Helvetica-Bold').fontSize(12).fillColor(ACCENT).text(toWinAnsi(title).toUpperCase(), { width });
    const y = doc.y + 2;
    doc.moveTo(48, y).lineTo(48 + width, y).lineWidth(0.7).strokeColor(ACCENT).stroke();
    doc.moveDown(0.4).fillColor('#222222');
    return true;
  };

  if (cv.experiences.length && section(labels.experience)) {
    for (const e of cv.experiences.slice(0, LIMITS.experiences)) {
      if (!fits(36)) break;
      const head = [clip(e.title, LIMITS.field), clip(e.company, LIMITS.field)].filter(Boolean).join(' - ');
      doc.font('Helvetica-Bold').fontSize(10.5).text(head, { width, continued: Boolean(e.period) });
      if (e.period) doc.font('Helvetica').fillColor(GREY).text(`   ${clip(e.period, 40)}`).fillColor('#222222');
      if (e.tasks) doc.font('Helvetica').fontSize(10).text(clip(e.tasks, LIMITS.tasks), { width });
      doc.moveDown(0.35);
    }
  }
  if (cv.education.length && section(labels.education)) {
    for (const e of cv.education.slice(0, LIMITS.education)) {
      if (!fits(24)) break;
      const head = [clip(e.title, LIMITS.field), clip(e.school, LIMITS.field)].filter(Boolean).join(' - ');
      doc.font('Helvetica-Bold').fontSize(10.5).text(head, { width, continued: Boolean(e.year) });
      if (e.year) doc.font('Helvetica').fillColor(GREY).text(`   ${clip(e.year, 20)}`).fillColor('#222222');
      doc.moveDown(0.3);
    }
  }
  const list = (title: string, items: string[]) => {
    const clean = items.map((s) => clip(s, 60)).filter(Boolean).slice(0, LIMITS.items);
    if (!clean.length || !section(title)) return;
    doc.font('Helvetica').fontSize(10).text(clean.join('  •  '), { width });
  };
  list(labels.skills, cv.skills);
  list(labels.languages, cv.languages);
  list(labels.interests, cv.interests);
  doc.end();
  return done;
}

/** A one-page cover letter in the French layout (sender, recipient, date, subject, body). */
export async function renderLetterPdf(letter: LetterData, opts: RenderOptions = {}): Promise<Buffer> {
  const fullName = clip(`${letter.firstName} ${letter.lastName}`.trim(), 60);
  const doc = new PDFDocument({ size: 'A4', margin: 56, compress: opts.compress ?? true, info: { Title: `Lettre - ${fullName}`, Author: fullName, Creator: 'Declic' } });
  const done = collect(doc);
  const width = doc.page.width - 112;
  doc.font('Helvetica-Bold').fontSize(11).fillColor('#222222').text(fullName, { width });
  doc.font('Helvetica').fontSize(10);
  for (const line of [letter.city, letter.phone, letter.email]) if (line) doc.text(clip(line, 80), { width });
  doc.moveDown(1.2).font('Helvetica-Bold').text(clip(letter.company, 80), { width, align: 'right' });
  doc.font('Helvetica').moveDown(0.8).text(clip(letter.date, 60), { width, align: 'right' });
  doc.moveDown(1.2).font('Helvetica-Bold').text(clip(letter.subject, 160), { width });
  doc.moveDown(1).font('Helvetica').fontSize(10.5).text(clip(letter.greeting, 80), { width });
  const bodyBudget = doc.page.height - 56 - 80;
  for (const p of letter.paragraphs) {
    const text = clip(p, LIMITS.paragraph);
    if (!text) continue;
    doc.moveDown(0.8);
    const h = doc.heightOfString(text, { width, align: 'justify' });
    if (doc.y + h > bodyBudget) break;
    doc.text(text, { width, align: 'justify' });
  }
  doc.moveDown(0.8).text(clip(letter.closing, 400), { width, align: 'justify' });
  doc.moveDown(1.5).font('Helvetica-Bold').text(fullName, { width, align: 'right' });
  doc.end();
  return done;
}

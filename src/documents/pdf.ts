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
  /** Normalised period ("mars 2024 – juin 2024"). */
  period?: string;
  /** Bullet points, each starting with a verb. */
  tasks: string[];
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
  /** The job sought, as the CV's title (capitalised). */
  target?: string;
  /** A short profile paragraph written from the answers (templates). */
  accroche?: string;
  experiences: CvExperience[];
  education: CvEducation[];
  skills: string[];
  /** One item per language, with its level ("Anglais : scolaire"). */
  languages: string[];
  /** Driving licence and mobility ("Permis B", "Mobile en transports en commun"). */
  mobility: string[];
  interests: string[];
}

export interface CvLabels {
  experience: string;
  education: string;
  skills: string;
  languages: string;
  interests: string;
  contact: string;
  mobility: string;
  profile: string;
}

export interface LetterData {
  firstName: string;
  lastName: string;
  email?: string;
  phone?: string;
  city?: string;
  company: string;
  /** The line under the company ("Service recrutement"). */
  recipient?: string;
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

const SIDEBAR = '#eaf0f6';
const MARGIN = 40;
const SIDE_W = 178;

/**
 * A one-page CV in two columns: a coloured sidebar (contact, skills, languages, licence and mobility, interests)
 * and the main column (name, title, profile, experiences, formation). Spacing grows when there is little to say,
 * so a first CV fills the page without looking empty; content is capped so it always fits on one A4 page.
 */
export async function renderCvPdf(cv: CvData, labels: CvLabels, opts: RenderOptions = {}): Promise<Buffer> {
  const fullName = clip(`${cv.firstName} ${cv.lastName}`.trim(), 60);
  const doc = new PDFDocument({ size: 'A4', margin: 0, compress: opts.compress ?? true, info: { Title: `CV - ${fullName}`, Author: fullName, Creator: 'Declic' } });
  const done = collect(doc);
  const H = doc.page.height;
  const W = doc.page.width;
  const sideX = MARGIN - 12;
  const sideInner = SIDE_W - 24;
  const mainX = sideX + SIDE_W + 24;
  const mainW = W - mainX - MARGIN;
  const bottom = H - MARGIN;

  // ---- sidebar
  const sparse = cv.experiences.length <= 1;
  doc.rect(0, 0, sideX + SIDE_W, H).fill(SIDEBAR);
  let y = MARGIN + 4;
  const sideTitle = (t: string) => {
    doc.font('Helvetica-Bold').fontSize(10.5).fillColor(ACCENT).text(toWinAnsi(t).toUpperCase(), sideX + 12, y, { width: sideInner, characterSpacing: 0.6 });
    y = doc.y + 3;
    doc.moveTo(sideX + 12, y).lineTo(sideX + 12 + 36, y).lineWidth(1.4).strokeColor(ACCENT).stroke();
    y += 8;
  };
  const sideText = (t: string, o: { bold?: boolean; grey?: boolean; size?: number } = {}) => {
    const text = clip(t, 90);
    if (!text) return;
    doc.font(o.bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(o.size ?? (sparse ? 10.5 : 9.5)).fillColor(o.grey ? GREY : '#222222');
    if (y + doc.heightOfString(text, { width: sideInner }) > bottom) return;
    doc.text(text, sideX + 12, y, { width: sideInner });
    y = doc.y + (sparse ? 6 : 4);
  };
  const sideList = (title: string, items: string[], max: number) => {
    const clean = items.map((s) => clip(s, 70)).filter(Boolean).slice(0, max);
    if (!clean.length || y > bottom - 50) return;
    y += sparse ? 22 : 10;
    sideTitle(title);
    for (const item of clean) sideText(`•  ${item}`);
  };
  const contact = [cv.phone, cv.email, cv.city].filter((x): x is string => Boolean(x));
  if (contact.length) {
    sideTitle(labels.contact);
    for (const c of contact) sideText(c);
  }
  // A first CV (at most one experience): the skills go in the main column, where they carry the page.
  const skillsInMain = sparse && cv.skills.length > 0;
  if (!skillsInMain) sideList(labels.skills, cv.skills, LIMITS.items);
  sideList(labels.languages, cv.languages, 6);
  sideList(labels.mobility, cv.mobility, 4);
  sideList(labels.interests, cv.interests, 6);

  // ---- main column, measured first so that the spacing fills the page
  type Block = { h: number; w: number; draw: (y: number, gap: number) => number };
  const layout = (k: number): Block[] => {
  const blocks: Block[] = [];
  const measure = (text: string, font: string, size: number, width = mainW) => {
    doc.font(font).fontSize(size);
    return doc.heightOfString(text, { width });
  };
  const section = (title: string) =>
    blocks.push({
      h: 26,
      w: 5,
      draw: (y0, gap) => {
        const yy = y0 + 5 * gap;
        doc.font('Helvetica-Bold').fontSize(12 * k).fillColor(ACCENT).text(toWinAnsi(title).toUpperCase(), mainX, yy, { width: mainW, characterSpacing: 0.6 });
        const ly = doc.y + 2;
        doc.moveTo(mainX, ly).lineTo(mainX + mainW, ly).lineWidth(0.8).strokeColor(ACCENT).stroke();
        return ly + 8;
      },
    });
  const name = fullName || ' ';
  blocks.push({
    h: measure(name, 'Helvetica-Bold', 24 * k) + (cv.target ? measure(clip(cv.target, LIMITS.field), 'Helvetica', 14 * k) + 4 : 0),
    w: 0,
    draw: (y0) => {
      doc.font('Helvetica-Bold').fontSize(24 * k).fillColor(ACCENT).text(name, mainX, y0, { width: mainW });
      if (cv.target) doc.moveDown(0.15).font('Helvetica').fontSize(14 * k).fillColor('#333333').text(clip(cv.target, LIMITS.field), mainX, doc.y, { width: mainW });
      return doc.y;
    },
  });
  if (cv.accroche) {
    const t = clip(cv.accroche, 520);
    blocks.push({
      h: measure(t, 'Helvetica', 10.5 * k) + 12,
      w: 2,
      draw: (y0, gap) => {
        doc.font('Helvetica').fontSize(10.5 * k).fillColor('#333333').text(t, mainX, y0 + 10 + 2 * gap, { width: mainW, align: 'justify', lineGap: 1.5 });
        return doc.y;
      },
    });
  }
  if (cv.experiences.length) {
    section(labels.experience);
    for (const e of cv.experiences.slice(0, LIMITS.experiences)) {
      const head = [clip(e.title, LIMITS.field), clip(e.company, LIMITS.field)].filter(Boolean).join(' - ');
      const period = clip(e.period, 60);
      const tasks = e.tasks.map((t) => clip(t, 140)).filter(Boolean).slice(0, 4);
      const h = measure(head, 'Helvetica-Bold', 11 * k) + (period ? 13 * k : 0) + tasks.reduce((n, t) => n + measure(t, 'Helvetica', 10, mainW - 14) + 2, 0) + 6;
      blocks.push({
        h,
        w: 1.5 + tasks.length * 0.4,
        draw: (y0, gap) => {
          doc.font('Helvetica-Bold').fontSize(11 * k).fillColor('#222222').text(head, mainX, y0 + 1.5 * gap, { width: mainW });
          if (period) doc.font('Helvetica-Oblique').fontSize(9.5 * k).fillColor(GREY).text(period, mainX, doc.y + 1, { width: mainW });
          let yy = doc.y + 3;
          for (const t of tasks) {
            doc.font('Helvetica').fontSize(10 * k).fillColor('#222222').text('•', mainX + 2, yy, { width: 10 });
            doc.text(t, mainX + 14, yy, { width: mainW - 14 });
            yy = doc.y + 2 + gap * 0.4;
          }
          return yy + 4;
        },
      });
    }
  }
  if (cv.education.length) {
    section(labels.education);
    for (const e of cv.education.slice(0, LIMITS.education)) {
      const head = clip(e.title, LIMITS.field);
      const sub = [clip(e.school, LIMITS.field), clip(e.year, 20)].filter(Boolean).join('  |  ');
      blocks.push({
        h: measure(head, 'Helvetica-Bold', 11 * k) + (sub ? 13 * k : 0) + 6,
        w: 1.5,
        draw: (y0, gap) => {
          doc.font('Helvetica-Bold').fontSize(11 * k).fillColor('#222222').text(head, mainX, y0 + 1.5 * gap, { width: mainW });
          if (sub) doc.font('Helvetica').fontSize(9.5 * k).fillColor(GREY).text(sub, mainX, doc.y + 1, { width: mainW });
          return doc.y + 4;
        },
      });
    }
  }
  if (skillsInMain) {
    section(labels.skills);
    const skills = cv.skills.map((x) => clip(x, 90)).filter(Boolean).slice(0, LIMITS.items);
    const h = skills.reduce((n, x) => n + measure(x, 'Helvetica', 10.5 * k, mainW - 14) + 3, 0);
    blocks.push({
      h,
      w: 1 + skills.length * 0.4,
      draw: (y0, gap) => {
        let yy = y0 + gap;
        for (const x of skills) {
          doc.font('Helvetica').fontSize(10.5 * k).fillColor('#222222').text('•', mainX + 2, yy, { width: 10 });
          doc.text(x, mainX + 14, yy, { width: mainW - 14 });
          yy = doc.y + 3 + gap * 0.4;
        }
        return yy;
      },
    });
  }
  return blocks;
  };
  const top = MARGIN;
  // Little to say: slightly larger type (up to 118 %), so that a first CV reads as a full page, not a crowded one.
  const heightOf = (bs: Block[]) => bs.reduce((n, b) => n + b.h, 0);
  const scale = [1.18, 1.1, 1].find((k) => heightOf(layout(k)) <= (bottom - top) * 0.55) ?? 1;
  const blocks = layout(scale);
  const natural = heightOf(blocks);
  const target = (bottom - top) * 0.8;
  // Gap units: headings take the most, items less; little content → larger gaps (capped so it never looks stretched).
  const units = blocks.reduce((n, b) => n + b.w, 0) || 1;
  const gap = Math.max(1, Math.min(9, (target - natural) / units));
  let yy = top;
  for (const b of blocks) {
    if (yy + b.h > bottom) break;
    yy = b.draw(yy, gap);
  }
  doc.end();
  return done;
}

/** A one-page cover letter in the French layout (sender, recipient, date, subject, body). */
export async function renderLetterPdf(letter: LetterData, opts: RenderOptions = {}): Promise<Buffer> {
  const fullName = clip(`${letter.firstName} ${letter.lastName}`.trim(), 60);
  const doc = new PDFDocument({ size: 'A4', margins: { top: 72, bottom: 56, left: 64, right: 64 }, compress: opts.compress ?? true, info: { Title: `Lettre - ${fullName}`, Author: fullName, Creator: 'Declic' } });
  const done = collect(doc);
  const width = doc.page.width - 128;
  doc.font('Helvetica-Bold').fontSize(12).fillColor('#222222').text(fullName, { width });
  doc.font('Helvetica').fontSize(10.5);
  for (const line of [letter.city, letter.phone, letter.email]) if (line) doc.text(clip(line, 80), { width });
  doc.moveDown(1.2).font('Helvetica-Bold').text(clip(letter.company, 80), { width, align: 'right' });
  if (letter.recipient) doc.font('Helvetica').text(clip(letter.recipient, 80), { width, align: 'right' });
  doc.font('Helvetica').moveDown(0.8).text(clip(letter.date, 60), { width, align: 'right' });
  doc.moveDown(1.2).font('Helvetica-Bold').text(clip(letter.subject, 160), { width });
  doc.moveDown(1.4).font('Helvetica').fontSize(11.5).text(clip(letter.greeting, 80), { width });
  const bodyBudget = doc.page.height - 56 - 80;
  for (const p of letter.paragraphs) {
    const text = clip(p, LIMITS.paragraph);
    if (!text) continue;
    doc.moveDown(1);
    const h = doc.heightOfString(text, { width, align: 'justify', lineGap: 3.5 });
    if (doc.y + h > bodyBudget) break;
    doc.text(text, { width, align: 'justify', lineGap: 3.5 });
  }
  doc.moveDown(1).text(clip(letter.closing, 400), { width, align: 'justify', lineGap: 3.5 });
  doc.moveDown(2.5).font('Helvetica-Bold').text(fullName, { width, align: 'right' });
  doc.end();
  return done;
}

import * as fs from 'fs';
import * as path from 'path';
import YAML from 'yaml';
import { LOCALES, Texts } from '../i18n';
import { Commune, CommuneIndex } from '../referral/communes';
import { unsafeKeys } from './scripts/validate';

/** A place a young person can go to (dialogs/data/missions-locales.json). */
export interface Structure {
  id: string;
  kind: StructureKind;
  name: string;
  departement?: string;
  address?: string;
  postcode?: string;
  city?: string;
  phone?: string;
  website?: string;
  /** Communes served, by name as on the source (resolved to INSEE codes at load). */
  communes?: string[];
  /** SIREN codes of the intercommunalités / EPT served. */
  epci?: string[];
  source: string;
  sourceDate?: string;
  verified?: boolean;
}

export type StructureKind = 'mission_locale' | 'france_travail' | 'cap_emploi' | 'plie' | 'info_jeunes' | 'cimade' | 'national';
const KINDS: readonly StructureKind[] = ['mission_locale', 'france_travail', 'cap_emploi', 'plie', 'info_jeunes', 'cimade', 'national'];

interface StructuresFile {
  locator: { name: string; website: string; source: string };
  updated?: string;
  departements: Record<string, { name: string }>;
  structures: Structure[];
}

/** What the referral is computed from (script variables). */
export interface ReferralQuery {
  postcode?: string;
  /** INSEE code of the commune, when the young person chose one among those of the postcode. */
  commune?: string;
  departement?: string;
  age?: number;
  /** A disability (RQTH) was mentioned: Cap emploi, and the Mission Locale up to 29. */
  disability?: boolean;
  /** Papers / foreigner's rights: the Cimade. */
  papers?: boolean;
}

export interface Referral {
  /** The commune the referral is for (undefined: unknown postcode, or several communes and none chosen). */
  commune?: Commune;
  departement?: string;
  /** Structures for this person, most relevant first: the one covering the commune, or the département's entry. */
  local: Structure[];
  /** A sourced structure covers the commune itself (not only the département's "find yours" entry). */
  covered: boolean;
  /** Whom the young person should see first ("mission_locale" for 16–25, "france_travail" for 26 and over). */
  main: 'mission_locale' | 'france_travail' | 'info_jeunes';
  /** National directory of the Missions Locales, when no sourced Mission Locale covers the commune. */
  locator?: { name: string; website: string };
  /** Info Jeunes, Cimade, national sites. */
  general: Structure[];
}

/** Age limits of the Missions Locales (16–25; up to 29 with a disability). */
export const ML_MIN_AGE = 16;
export const ML_MAX_AGE = 25;
export const ML_MAX_AGE_DISABILITY = 29;

/**
 * Structures by commune: the postcode gives the commune(s) (CommuneIndex, open data); a structure covers the
 * communes of its `communes` list and the members of its `epci`; a commune no sourced entry covers gets its
 * département's entry (a "find yours" link), any other the national locator. Age decides the kind.
 */
export class StructureDirectory {
  private readonly coverage = new Map<string, Structure[]>();

  constructor(private readonly data: StructuresFile, readonly communes: CommuneIndex) {
    const errors: string[] = [];
    for (const s of data.structures) {
      if (!s.id || !s.name || !s.kind || !s.source) throw new Error(`missions-locales.json: structure ${JSON.stringify(s.id ?? s.name)} needs id, name, kind and source`);
      if (!KINDS.includes(s.kind)) errors.push(`structure "${s.id}": unknown kind "${s.kind}"`);
      if (s.phone && !/^(0\d( \d{2}){4}|\d{4}|3\d{3})$/.test(s.phone)) throw new Error(`missions-locales.json: structure "${s.id}" has a malformed phone`);
      const codes = new Set<string>();
      for (const name of s.communes ?? []) {
        const found = communes.named(name, s.departement);
        if (found.length !== 1) errors.push(`structure "${s.id}": commune "${name}" ${found.length ? 'is ambiguous' : 'is unknown'} in département ${s.departement ?? '?'}`);
        else codes.add(found[0].code);
      }
      for (const group of s.epci ?? []) {
        const members = communes.members(group);
        if (!members) errors.push(`structure "${s.id}": unknown EPCI/EPT "${group}"`);
        else members.forEach((m) => codes.add(m));
      }
      for (const code of codes) this.coverage.set(code, [...(this.coverage.get(code) ?? []), s]);
    }
    if (errors.length) throw new Error(`missions-locales.json:\n${errors.join('\n')}`);
  }

  static load(file: string, communes: CommuneIndex = CommuneIndex.load()): StructureDirectory {
    const data = JSON.parse(fs.readFileSync(file, 'utf8')) as StructuresFile;
    const bad = unsafeKeys(data);
    if (bad.length) throw new Error(`${file}#${bad[0].path}: key "${bad[0].key}" must not start with "$" nor contain "."`);
    return new StructureDirectory(data, communes);
  }

  departementName(dep: string | undefined): string | undefined {
    return dep ? this.data.departements[dep]?.name : undefined;
  }

  get locator(): { name: string; website: string } {
    return this.data.locator;
  }

  get updated(): string | undefined {
    return this.data.updated;
  }

  /** The communes of a postcode (several: the young person is asked which one). */
  communesOf(postcode: string | undefined): Commune[] {
    return postcode ? this.communes.forPostcode(postcode) : [];
  }

  /** Sourced structures of that kind covering the commune (INSEE code). */
  covering(code: string, kind: StructureKind): Structure[] {
    return (this.coverage.get(code) ?? []).filter((s) => s.kind === kind);
  }

  /** The département's own entry of that kind (a "find yours by commune" link), if we list one. */
  departementEntry(dep: string | undefined, kind: StructureKind): Structure | undefined {
    if (!dep) return undefined;
    const own = this.data.structures.filter((s) => s.kind === kind && s.departement === dep);
    return own.find((s) => !s.communes?.length && !s.epci?.length && !s.city) ?? (kind === 'mission_locale' ? undefined : own[0]);
  }

  private national(kind: StructureKind): Structure | undefined {
    return this.data.structures.find((s) => s.kind === kind && !s.departement);
  }

  /** The Missions Locales of the département (kept for the previews and older callers). */
  local(dep: string | undefined): Structure[] {
    if (!dep) return [];
    return this.data.structures.filter((s) => s.kind === 'mission_locale' && s.departement === dep);
  }

  /** Whom to see, for this commune and age. */
  refer(q: ReferralQuery): Referral {
    const candidates = this.communesOf(q.postcode);
    const commune = (q.commune ? this.communes.commune(q.commune) : undefined) ?? (candidates.length === 1 ? candidates[0] : undefined);
    const deps = new Set(candidates.map((c) => c.departement));
    const departement = commune?.departement ?? q.departement ?? (deps.size === 1 ? [...deps][0] : undefined);
    const age = q.age;
    const young = age === undefined || age <= ML_MAX_AGE || (q.disability === true && age <= ML_MAX_AGE_DISABILITY);
    const main: Referral['main'] = age !== undefined && age < ML_MIN_AGE ? 'info_jeunes' : age !== undefined && age > ML_MAX_AGE ? 'france_travail' : 'mission_locale';
    const local: Structure[] = [];
    let covered = false;
    let locator: Referral['locator'];
    const add = (s: Structure | undefined) => {
      if (s && !local.includes(s)) local.push(s);
    };
    if (main === 'france_travail') add(this.national('france_travail'));
    if (main !== 'info_jeunes' && young) {
      const ml = commune ? this.covering(commune.code, 'mission_locale') : [];
      if (ml.length) {
        covered = true;
        ml.forEach(add);
      } else {
        add(this.departementEntry(departement, 'mission_locale'));
        locator = this.data.locator;
      }
    }
    if (main === 'france_travail') {
      if (commune) this.covering(commune.code, 'plie').forEach(add);
      if (!young) locator = undefined;
    }
    if (q.disability) add((commune && this.covering(commune.code, 'cap_emploi')[0]) ?? this.departementEntry(departement, 'cap_emploi') ?? this.national('cap_emploi'));
    const general: Structure[] = [];
    const infoJeunes = (departement && this.data.structures.find((s) => s.kind === 'info_jeunes' && s.departement === departement)) || this.national('info_jeunes');
    if (infoJeunes && (age === undefined || age <= 30)) general.push(infoJeunes);
    // The Cimade when papers are the matter, or when we know nothing of the person (general information).
    if (q.papers || (!q.postcode && q.age === undefined)) {
      const cimade = this.national('cimade');
      if (cimade) general.push(cimade);
    }
    const national = this.national('national');
    if (national && (age === undefined || age <= 30)) general.push(national);
    return { commune, departement, local, covered, main, locator, general };
  }

  /** General entries (Info Jeunes, Cimade, national sites), shown to everyone (kept for the previews). */
  general(): Structure[] {
    return this.data.structures.filter((s) => ['info_jeunes', 'cimade', 'national'].includes(s.kind) && !s.departement);
  }
}

export interface Sector {
  id: string;
  tags: string[];
  title: string;
  why: string;
  next: string;
}

/** Orientation: data-driven mapping from interest/strength tags to sectors (dialogs/data/sectors.yaml). */
export class SectorCatalog {
  constructor(readonly sectors: Sector[]) {}

  static load(file: string, texts: Texts): SectorCatalog {
    const data = YAML.parse(fs.readFileSync(file, 'utf8')) as { sectors: Sector[] };
    const errors: string[] = [];
    data.sectors.forEach((s, i) => {
      for (const field of ['title', 'why', 'next'] as const) {
        for (const l of LOCALES) if (!texts.has(l, s[field])) errors.push(`${path.basename(file)}#/sectors/${i}/${field}: text key "${s[field]}" is missing in locales/${l}.json`);
      }
    });
    if (errors.length) throw new Error(`Invalid sectors data:\n${errors.join('\n')}`);
    return new SectorCatalog(data.sectors);
  }

  /** The best 2–3 sectors for these tags (ties keep the file order); at least 2 are always returned. */
  suggest(tags: string[], max = 3): Sector[] {
    const set = new Set(tags);
    const scored = this.sectors
      .map((s, i) => ({ s, i, score: s.tags.filter((t) => set.has(t)).length }))
      .sort((a, b) => b.score - a.score || a.i - b.i);
    const matched = scored.filter((x) => x.score > 0).slice(0, max).map((x) => x.s);
    for (const x of scored) {
      if (matched.length >= 2) break;
      if (!matched.includes(x.s)) matched.push(x.s);
    }
    return matched;
  }
}

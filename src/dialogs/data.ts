import * as fs from 'fs';
import * as path from 'path';
import YAML from 'yaml';
import { LOCALES, Texts } from '../i18n';
import { unsafeKeys } from './scripts/validate';

/** A place a young person can go to (dialogs/data/missions-locales.json). */
export interface Structure {
  id: string;
  kind: 'mission_locale' | 'info_jeunes' | 'cimade' | 'national';
  name: string;
  departement?: string;
  address?: string;
  postcode?: string;
  city?: string;
  phone?: string;
  website?: string;
  source: string;
  verified?: boolean;
}

interface StructuresFile {
  locator: { name: string; website: string; source: string };
  departements: Record<string, { name: string }>;
  structures: Structure[];
}

/** Missions Locales by département, general entries, and the national locator as fallback. */
export class StructureDirectory {
  constructor(private readonly data: StructuresFile) {
    for (const s of data.structures) {
      if (!s.id || !s.name || !s.kind || !s.source) throw new Error(`missions-locales.json: structure ${JSON.stringify(s.id ?? s.name)} needs id, name, kind and source`);
      if (s.phone && !/^(0\d( \d{2}){4}|\d{4}|3\d{3})$/.test(s.phone)) throw new Error(`missions-locales.json: structure "${s.id}" has a malformed phone`);
    }
  }

  static load(file: string): StructureDirectory {
    const data = JSON.parse(fs.readFileSync(file, 'utf8')) as StructuresFile;
    const bad = unsafeKeys(data);
    if (bad.length) throw new Error(`${file}#${bad[0].path}: key "${bad[0].key}" must not start with "$" nor contain "."`);
    return new StructureDirectory(data);
  }

  departementName(dep: string | undefined): string | undefined {
    return dep ? this.data.departements[dep]?.name : undefined;
  }

  get locator(): { name: string; website: string } {
    return this.data.locator;
  }

  /** The local Missions Locales of the département (empty when we do not list that département). */
  local(dep: string | undefined): Structure[] {
    if (!dep) return [];
    return this.data.structures.filter((s) => s.kind === 'mission_locale' && s.departement === dep);
  }

  /** General entries (Info Jeunes, Cimade, national sites), shown to everyone. */
  general(): Structure[] {
    return this.data.structures.filter((s) => s.kind !== 'mission_locale' && (!s.departement || s.kind === 'info_jeunes'));
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

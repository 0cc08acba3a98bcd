import * as fs from 'fs';

/**
 * The communes of France and their postcodes, from the open data of @etalab/decoupage-administratif
 * (INSEE code officiel géographique + La Poste's base of postcodes, MIT licence). Loaded once at start
 * and passed to whoever needs it (no module-level state).
 */
export interface Commune {
  /** INSEE code ("93048"). */
  code: string;
  name: string;
  departement: string;
  region?: string;
  postcodes: string[];
  population?: number;
}

interface RawCommune {
  code: string;
  nom: string;
  type: string;
  departement?: string;
  region?: string;
  codesPostaux?: string[];
  population?: number;
}

interface RawGroup {
  code: string;
  nom: string;
  membres: Array<{ code: string }>;
}

/** "Saint-Ouen-l’Aumône" → "saint ouen l aumone": names compared without accents, case, hyphens or apostrophes. */
export function communeKey(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/œ/g, 'oe')
    .replace(/\bst\b/g, 'saint')
    .replace(/\bste\b/g, 'sainte')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

export class CommuneIndex {
  private readonly byCode = new Map<string, Commune>();
  private readonly byPostcode = new Map<string, Commune[]>();
  private readonly byKey = new Map<string, Commune[]>();
  private readonly groups = new Map<string, { name: string; members: string[] }>();

  constructor(communes: Commune[], groups: Array<{ code: string; name: string; members: string[] }> = []) {
    for (const c of communes) {
      this.byCode.set(c.code, c);
      for (const pc of c.postcodes) {
        const list = this.byPostcode.get(pc) ?? [];
        list.push(c);
        this.byPostcode.set(pc, list);
      }
      const k = communeKey(c.name);
      this.byKey.set(k, [...(this.byKey.get(k) ?? []), c]);
    }
    for (const list of this.byPostcode.values()) list.sort((a, b) => (b.population ?? 0) - (a.population ?? 0) || a.name.localeCompare(b.name, 'fr'));
    for (const g of groups) this.groups.set(g.code, { name: g.name, members: g.members });
  }

  /** Reads the package's data files (communes, EPCI and EPT). */
  static load(): CommuneIndex {
    const dir = require.resolve('@etalab/decoupage-administratif/package.json').replace(/package\.json$/, 'data/');
    const read = <T>(f: string): T => JSON.parse(fs.readFileSync(dir + f, 'utf8')) as T;
    const communes = read<RawCommune[]>('communes.json')
      .filter((c) => c.type === 'commune-actuelle' && c.departement)
      .map((c) => ({ code: c.code, name: c.nom, departement: c.departement!, region: c.region, postcodes: c.codesPostaux ?? [], population: c.population }));
    const groups = [...read<RawGroup[]>('epci.json'), ...read<RawGroup[]>('ept.json')].map((g) => ({ code: g.code, name: g.nom, members: g.membres.map((m) => m.code) }));
    return new CommuneIndex(communes, groups);
  }

  get size(): number {
    return this.byCode.size;
  }

  commune(code: string): Commune | undefined {
    return this.byCode.get(code);
  }

  /** The communes of a postcode, the most populated first (empty for an unknown postcode). */
  forPostcode(postcode: string): Commune[] {
    return [...(this.byPostcode.get(postcode) ?? [])];
  }

  /** Communes of that name (optionally within a département). */
  named(name: string, departement?: string): Commune[] {
    return (this.byKey.get(communeKey(name)) ?? []).filter((c) => !departement || c.departement === departement);
  }

  /** Member communes (INSEE codes) of an EPCI or EPT (SIREN code), undefined when unknown. */
  members(group: string): string[] | undefined {
    return this.groups.get(group)?.members;
  }

  /** Every commune of a region ("11" = Île-de-France). */
  inRegion(region: string): Commune[] {
    return [...this.byCode.values()].filter((c) => c.region === region);
  }

  /** The most populated communes of France. */
  largest(n: number): Commune[] {
    return [...this.byCode.values()].sort((a, b) => (b.population ?? 0) - (a.population ?? 0)).slice(0, n);
  }
}

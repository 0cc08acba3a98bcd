import { fileKind, ScriptSet } from './scriptFiles';
import type { ScriptVersionStore } from './scriptVersions';

/** The files of a version (the newest when `version` is not given). */
export async function exportVersion(store: ScriptVersionStore, version?: number): Promise<{ version: number; files: ScriptSet }> {
  const n = version ?? (await store.latestVersion());
  if (n === undefined) throw new Error('no script version in this database (the service seeds version 1 at its first start)');
  const v = await store.get(n);
  if (!v) throw new Error(`no script version ${n}`);
  return { version: n, files: v.files };
}

/** Reads an export file (GET /api/admin/versions/:n/export, or the admin page's "Exporter"). */
export function parseExportFile(text: string): { version: number; files: ScriptSet } {
  const data = JSON.parse(text) as { version?: unknown; files?: unknown };
  if (typeof data.version !== 'number' || !data.files || typeof data.files !== 'object') throw new Error('not a script export: expected { version, files }');
  const files: ScriptSet = {};
  for (const [name, content] of Object.entries(data.files as Record<string, unknown>)) {
    if (!fileKind(name)) throw new Error(`the export contains "${name}", which is not a script file`);
    if (typeof content !== 'string') throw new Error(`the export's "${name}" is not text`);
    files[name] = content;
  }
  return { version: data.version, files };
}

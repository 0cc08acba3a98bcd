/**
 * Creates a model's collection unless it exists (code 48, NamespaceExists: another process or an earlier start
 * created it). Every store calls it from its init().
 */
export async function ensureCollection(model: { createCollection(): Promise<unknown> }): Promise<void> {
  await model.createCollection().catch((err: { code?: number; codeName?: string }) => {
    if (err.code !== 48 && err.codeName !== 'NamespaceExists') throw err;
  });
}

import type { Logger } from 'pino';
import type { Request, Response, Server } from 'restify';
import type { Texts } from '../i18n';
import { sendError } from '../http/server';
import type { DocumentService } from './documentService';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * GET /files/:id/:token — downloads a generated PDF. The token carries its
 * expiry and an HMAC of the id and expiry: a wrong token answers 404, exactly
 * like an unknown id; a genuine link past its expiry answers 410 with a short
 * page (French, then English) telling to ask the bot again for the document.
 */
export function registerFileRoutes(server: Server, deps: { documents: DocumentService; texts: Texts; logger: Logger }): void {
  server.get('/files/:id/:token', async (req: Request, res: Response) => {
    const { id, token } = req.params as { id?: string; token?: string };
    try {
      const validity = id && token && /^[0-9a-f]{24}$/.test(id) ? deps.documents.check(id, token) : 'invalid';
      if (validity === 'expired') {
        const fr = deps.texts.t('fr', 'files.expired');
        const en = deps.texts.t('en', 'files.expired');
        const html = `<!doctype html><html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(deps.texts.t('fr', 'files.expired_title'))}</title></head><body><p>${escapeHtml(fr)}</p><p lang="en">${escapeHtml(en)}</p></body></html>`;
        res.sendRaw(410, Buffer.from(html, 'utf8'), {
          'content-type': 'text/html; charset=utf-8',
          'cache-control': 'no-store',
          'x-content-type-options': 'nosniff',
          'content-security-policy': "default-src 'none'",
        });
        return;
      }
      const doc = validity === 'ok' ? await deps.documents.find(id!, token!) : null;
      if (!doc) return sendError(res, 404, 'not_found', 'No such file');
      const ascii = doc.name.replace(/[^A-Za-z0-9._-]/g, '_');
      res.sendRaw(200, doc.data, {
        'content-type': doc.contentType,
        'content-length': String(doc.data.length),
        'content-disposition': `inline; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(doc.name)}`,
        'cache-control': 'private, max-age=3600',
        'x-content-type-options': 'nosniff',
      });
    } catch (err) {
      deps.logger.error({ err: { name: (err as Error).name, message: (err as Error).message } }, 'file download failed');
      return sendError(res, 500, 'internal', 'The file could not be read');
    }
  });
}

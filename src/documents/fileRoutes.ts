import type { Logger } from 'pino';
import type { Request, Response, Server } from 'restify';
import { sendError } from '../http/server';
import type { DocumentService } from './documentService';

/**
 * GET /files/:id/:token — downloads a generated PDF. The token is the HMAC of
 * the id: a wrong token answers 404, exactly like an unknown id.
 */
export function registerFileRoutes(server: Server, deps: { documents: DocumentService; logger: Logger }): void {
  server.get('/files/:id/:token', async (req: Request, res: Response) => {
    const { id, token } = req.params as { id?: string; token?: string };
    try {
      const doc = id && token ? await deps.documents.find(id, token) : null;
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

/** The page's static files, read once from `static/` beside this module. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface Asset {
  contentType: string;
  body: Buffer;
}

const FILES: Record<string, { file: string; contentType: string }> = {
  '/': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', contentType: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', contentType: 'text/css; charset=utf-8' },
};

/**
 * Loads the assets. The page links its script and style with `?t=<token>` (the placeholder
 * `__TOKEN__` in index.html) because a `<script src>` cannot send a header and every path needs the token.
 */
export async function loadAssets(token: string, dir = join(__dirname, 'static')): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  for (const [path, { file, contentType }] of Object.entries(FILES)) {
    let text = await readFile(join(dir, file), 'utf8');
    if (file === 'index.html') text = text.split('__TOKEN__').join(encodeURIComponent(token));
    assets.set(path, { contentType, body: Buffer.from(text, 'utf8') });
  }
  return assets;
}

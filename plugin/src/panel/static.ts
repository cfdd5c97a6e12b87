/** The panel's static files (ui-panel/): plain HTML, ES modules and CSS, served without a token because the page reads its token only once loaded. */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

export const PANEL_DIR = path.resolve(__dirname, '../../../ui-panel');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The file for a URL path, or undefined: only known types, no dotfiles, never outside the panel's folder. */
export async function staticFile(pathname: string, dir = PANEL_DIR): Promise<{ body: Buffer; type: string } | undefined> {
  let rel: string;
  try {
    rel = decodeURIComponent(pathname === '/' ? '/index.html' : pathname);
  } catch {
    return undefined;
  }
  const type = TYPES[path.extname(rel)];
  if (!type || rel.includes('\0') || rel.split('/').some((part) => part.startsWith('.'))) return undefined;
  const file = path.resolve(dir, '.' + rel);
  if (!file.startsWith(dir + path.sep)) return undefined;
  try {
    return { body: await fs.readFile(file), type };
  } catch {
    return undefined;
  }
}

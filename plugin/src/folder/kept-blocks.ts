/**
 * Blocks from kept versions. Apply keeps a replaced file under `.kinfolder/versions/` before it
 * renames the new one over it, and then forgets the old file's block locations. The engine
 * files those locations again under the version (folder `keptFolder(folder)`, path = version
 * name), so the bytes stay findable: the local version that lost a conflict is replaced at the
 * path first, and its conflict copy, here and at every peer, is built from these blocks.
 */
import * as path from 'node:path';
import { LocalBlockSource, VERSIONS_REL } from '../apply';
import type { BlockIndex } from '../store';

/** The block-index folder under which a folder's kept versions are filed. */
export const keptFolder = (folder: string): string => `${folder}:kept`;

/** A LocalBlockSource rooted in the versions folder: same checks (no links followed, every block hashed). */
export class KeptBlockSource extends LocalBlockSource {
  constructor(root: string, folder: string, index: Pick<BlockIndex, 'findBlock'>) {
    const kept = keptFolder(folder);
    const versionsRoot = path.join(root, ...VERSIONS_REL.split('/'));
    super(index, (f) => (f === kept ? versionsRoot : undefined));
  }
}

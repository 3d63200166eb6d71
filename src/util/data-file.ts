/**
 * Finds a data file shipped in the source tree (generated schemas, protobuf tables) from compiled
 * code anywhere below the project: next to the module first, then `<ancestor>/<srcPath>` for each
 * ancestor directory (dist/src/… and .build-*\/src/… both find src/…).
 */
import { dirname, join } from 'node:path';

export function dataFileCandidates(fromFile: string, nearby: string, srcPath: string): string[] {
  let dir = dirname(fromFile);
  const out = [join(dir, nearby)];
  for (let i = 0; i < 8; i++) {
    out.push(join(dir, srcPath));
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return out;
}

/** @module How file paths appear in messages: relative to the working directory when inside it. */
import path from 'node:path';

/**
 * "conf.d/site" when the file is under the working directory, else the
 * absolute path. Started from "/" (a container's or systemd's default)
 * every path is "under" it: shortening would only drop the leading "/".
 */
export function displayPath(file: string, cwd: string = process.cwd()): string {
  if (path.parse(cwd).root === cwd) return file;
  const rel = path.relative(cwd, file);
  return rel && !rel.startsWith(`..${path.sep}`) && rel !== '..' && !path.isAbsolute(rel) ? rel : file;
}

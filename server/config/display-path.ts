/** @module How file paths appear in messages: relative to the working directory when inside it. */
import path from 'node:path';

export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

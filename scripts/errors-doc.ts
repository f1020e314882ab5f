/** @module Renders docs/reference/errors.md from the error registry (npm run docs); a test keeps the file in step. */
import { REGISTRY } from '../server/base/errors.ts';

/** Each message rendered with <param> placeholders instead of values. */
const placeholders = new Proxy({}, { get: (_t, key) => `<${String(key)}>` });

export function renderErrorsDoc(): string {
  const rows = Object.entries(REGISTRY).map(([code, e]) => {
    const entry = e as { severity: string; message: (p: unknown) => string; hint: string; closeCode?: number; httpStatus?: number };
    const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
    return `| \`${code}\` | ${entry.severity} | ${cell(entry.message(placeholders))} | ${cell(entry.hint)} | ${entry.closeCode ?? ''} | ${entry.httpStatus ?? ''} |`;
  });
  return [
    '# Error and warning codes',
    '',
    'Generated from `server/base/errors.ts` by `npm run docs`; a test fails when the two differ.',
    'Every message tsws logs or prints carries one of these codes. Codes are never renamed or reused.',
    '',
    '| code | severity | message | what to do | ws close | HTTP |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

if (process.argv[1]?.endsWith('errors-doc.ts')) process.stdout.write(renderErrorsDoc());

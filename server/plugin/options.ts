/** @module Types a vhost's ws-protocols options against the plugin's declared option specs. */
import path from 'node:path';
import type { Diagnostics } from '../config/coerce.ts';
import { where, type ProtocolEnable } from '../config/model.ts';
import { nearest } from '../config/suggest.ts';
import { tswsError } from '../base/errors.ts';
import { RESERVED_OPTIONS, type OptionSpec, type OptionSpecs } from './api.ts';

function convert(spec: OptionSpec, raw: string, configDir: string): { value: unknown } | { expected: string } {
  switch (spec.type) {
    case 'string':
      return { value: raw };
    case 'path':
      // Never the working directory: two servers started from one place must not share a file by accident.
      return raw.trim() === '' ? { expected: 'a path' } : { value: path.resolve(configDir, raw) };
    case 'int': {
      if (!/^\s*[+-]?\d+\s*$/.test(raw)) return { expected: 'an integer' };
      const n = Number.parseInt(raw, 10);
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        return { expected: `an integer from ${spec.min ?? '-∞'} to ${spec.max ?? '∞'}` };
      }
      return { value: n };
    }
    case 'bool': {
      const w = raw.trim().toLowerCase();
      if (['1', 'on', 'yes', 'true'].includes(w)) return { value: true };
      if (['0', 'off', 'no', 'false'].includes(w)) return { value: false };
      return { expected: 'a boolean ("1"/"0", "on"/"off")' };
    }
  }
}

/**
 * Values the vhost gives are typed by the spec; missing ones take the spec's
 * default (a relative `path` resolved against `configDir`). Options the plugin does not declare are warned about (lwsws would
 * ignore them silently) and passed through as strings.
 */
export function resolveOptions(specs: OptionSpecs, enable: ProtocolEnable, diag: Diagnostics, configDir: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, spec] of Object.entries(specs)) if (spec.default !== undefined) out[k] = spec.type === 'path' ? path.resolve(configDir, spec.default) : spec.default;
  for (const [k, raw] of Object.entries(enable.options)) {
    const src = enable.optionSources[k] ?? enable.source;
    if (k in RESERVED_OPTIONS) continue;
    const spec = specs[k];
    if (!spec) {
      const suggestion = nearest(k, Object.keys(specs));
      diag.add(tswsError('TSWS_WARN_PROTOCOL_OPTION_UNKNOWN', { where: where(src), protocol: enable.name, option: k, ...(suggestion ? { suggestion } : {}) }));
      out[k] = raw;
      continue;
    }
    const r = convert(spec, raw, configDir);
    if ('expected' in r) {
      diag.add(tswsError('TSWS_ERR_PROTOCOL_OPTION_TYPE', { where: where(src), protocol: enable.name, option: k, expected: r.expected, got: JSON.stringify(raw) }));
      continue;
    }
    out[k] = r.value;
  }
  return out;
}

import { describe, expect, it } from 'vitest';
import type { MountConfig } from '../config/model.ts';
import type { HttpRes } from '../transport/types.ts';
import type { Vhost } from '../vhost/vhost.ts';
import { HttpExchange, renderHead, type HeaderList } from './exchange.ts';

/** The bytes uWS.js puts on the wire for writeStatus and writeHeader (HttpResponse.h). */
function recorder(): { res: HttpRes; wire: () => string } {
  let out = '';
  const res = {
    writeStatus(s: string | Uint8Array) {
      out += `HTTP/1.1 ${typeof s === 'string' ? s : Buffer.from(s).toString()}\r\n`;
      return res;
    },
    writeHeader(k: string, v: string) {
      out += `${k}: ${v}\r\n`;
      return res;
    },
  } as unknown as HttpRes;
  return { res, wire: () => out };
}

function exchange(res: HttpRes, vhostHeaders: HeaderList): HttpExchange {
  const vhost = { config: { headers: vhostHeaders } } as unknown as Vhost;
  return new HttpExchange(res, vhost, 'GET', '/', '127.0.0.1', '', '', 'tsws/é');
}

const FILE: HeaderList = [['Content-Type', 'text/html; charset=utf-8'], ['Cache-Control', 'no-store'], ['ETag', '"0000000D6B0FD146"']];

describe('renderHead', () => {
  it.each<[string, HeaderList, HeaderList | undefined]>([
    ['no configured headers', [], undefined],
    ['vhost headers', [['X-Vhost', 'v'], ['Content-Security-Policy', "default-src 'self'"]], undefined],
    ['a mount header replacing the handler\'s, in any case', [['X-Vhost', 'v']], [['cache-control', 'no-transform'], ['X-Vhost', 'mount wins']]],
  ])('writes the bytes writeHead writes: %s', (_name, vhostHeaders, mountHeaders) => {
    for (const status of [200, 304, 404]) {
      const one = recorder();
      const ex = exchange(one.res, vhostHeaders);
      if (mountHeaders) ex.useMount({ headers: mountHeaders } as unknown as MountConfig);
      ex.writeHead(status, FILE);
      const two = recorder();
      two.res.writeStatus(renderHead(status, ex.serverString, ex.configuredHeaders, FILE));
      expect(two.wire()).toBe(one.wire());
    }
  });

  it('adds the Content-Length line endWithoutBody(length) would write, last', () => {
    const head = renderHead(200, 'tsws', [], FILE, 4096).toString();
    expect(head.split('\r\n').at(-1)).toBe('Content-Length: 4096');
    expect(head.startsWith('200 OK\r\nServer: tsws\r\nContent-Type: text/html')).toBe(true);
  });
});

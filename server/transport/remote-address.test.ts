/** @module remoteAddress: the peer as text from uWS.js's binary address, the text form only for what is not IPv4. */
import { describe, expect, it } from 'vitest';
import { remoteAddress, type HttpRes } from './types.ts';

function res(binary: number[], text: string): HttpRes {
  return {
    getRemoteAddress: () => new Uint8Array(binary).buffer,
    getRemoteAddressAsText: () => new TextEncoder().encode(text).buffer,
  } as unknown as HttpRes;
}

const MAPPED = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

describe('remoteAddress', () => {
  it('prints an IPv4 peer from its 4 bytes', () => {
    expect(remoteAddress(res([10, 1, 200, 255], 'unused'))).toBe('10.1.200.255');
  });
  it('prints a mapped IPv4 peer of a dual-stack socket in its IPv4 form', () => {
    expect(remoteAddress(res([...MAPPED, 127, 0, 0, 1], 'unused'))).toBe('127.0.0.1');
  });
  it('prints IPv6 peers in their short form, from the text uWS.js writes out in full', () => {
    const loopback = [...Array(15).fill(0), 1];
    expect(remoteAddress(res(loopback, '0000:0000:0000:0000:0000:0000:0000:0001'))).toBe('::1');
    const almostMapped = [...MAPPED.slice(0, 10), 0xff, 0xfe, 1, 2, 3, 4];
    expect(remoteAddress(res(almostMapped, '0000:0000:0000:0000:0000:fffe:0102:0304'))).toBe('::fffe:102:304');
  });
  it('falls back to the text when the socket has no IP peer', () => {
    expect(remoteAddress(res([], 'unix'))).toBe('unix');
  });
});

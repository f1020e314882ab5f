/** @module `tsws/plugin/runtime`: plugin helpers that run on tsws's transport (uWebSockets.js), kept out of `tsws/plugin` so that one loads nothing native. */
export { HOP_BY_HOP, connectionListed } from '../base/http-header.ts';
export { parseFormBody, type FormField } from './form-body.ts';
export { channelFrames, messageFrame, type ChannelFrames, type ChannelFramesOptions } from './channel-serve.ts';
export { jwtFilter, type JwtFilter, type JwtFilterOptions, type RefreshResult, type TokenRejection, type TokenSource } from './jwt-filter.ts';
export type { JwtKeyOptions } from './jwt-keys.ts';

/**
 * @module The one rule for channel names, shared by vhost.channels (which throws TSWS_ERR_CHANNEL_NAME) and the
 * frame reader (which answers a bad frame before any work): names become Redis keys, log fields and echoed frames.
 */

/** Longest channel name, in UTF-16 code units. */
export const MAX_CHANNEL_NAME = 200;
/** How much of a refused name an error repeats: enough to recognise it, never the megabytes a client sent. */
const ECHOED = 64;
/** A surrogate without its pair (String.prototype.isWellFormed is not in our ES2023 lib). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Why `name` cannot name a channel, or undefined when it can. C0 and C1
 * controls and DEL would forge lines in logs and terminals; a lone surrogate
 * has no UTF-8 form, so it cannot be a Redis key or a frame's text as it is.
 */
export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'the name is empty';
  if (name.length > MAX_CHANNEL_NAME) return `the name is ${name.length} characters long, more than ${MAX_CHANNEL_NAME}`;
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return 'the name holds a control character';
  if (name.search(LONE_SURROGATE) >= 0) return 'the name holds a lone surrogate (not valid UTF-16)';
  return undefined;
}

/** A name as an error may repeat it: cut to its first characters (and well-formed, so the error can be sent as text). */
export function echoedName(name: string): string {
  const cut = name.length > ECHOED ? `${name.slice(0, ECHOED)}…` : name;
  return cut.replace(LONE_SURROGATE, '\uFFFD');
}

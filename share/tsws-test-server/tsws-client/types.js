// Generated from server/client-lib by scripts/client-js.ts: edit the TypeScript, then run it.
export {};

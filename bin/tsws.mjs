#!/usr/bin/env -S node --max-semi-space-size=4
// tsws command: runs the server (bin/entry.mjs: from the TypeScript sources, or the package's compiled dist/).
//
// --max-semi-space-size=4 keeps V8's young generation at its starting size.
// A wave of websocket upgrades creates long-lived objects in a burst; V8 then
// grows the young generation to 32 MB and keeps it while the server stays
// busy: ~1 KB of RSS per connection at 19000 idle connections, for no gain
// measured in bench/ (docs/guides/operating.md, "Memory"). V8 reads it only at start-up, so it
// is a command-line flag: npm start passes it too, and the container and the
// systemd unit set it in NODE_OPTIONS.
import { run } from './entry.mjs';

await run('server/main.ts');

#!/usr/bin/env node
// A minimal broker client for trying the example by hand (run from the repository, which
// provides the "ws" package). It logs in, then sends each line typed on stdin and prints
// each message received as one JSON line.
//
//   node plugins/broker/examples/client.mjs <url> <username> <password>
//   url: ws://127.0.0.1:7701/  ws://[::1]:7702/  ws+unix:///tmp/tsws-broker-a.sock:/
//
// A line is either a whole message ({"type": "echo", "id": 1, "payload": ...}) or the short
// form "<type> <payload as JSON>", given an id of its own: post {"to":"bob@b","text":"hi"}
import readline from 'node:readline';
import WebSocket from 'ws';

const [url, username, password] = process.argv.slice(2);
if (!url || !username || password === undefined) {
  process.stderr.write('usage: client.mjs <url> <username> <password>\n');
  process.exit(2);
}

const ws = new WebSocket(url, 'broker');
let nextId = 1;
let loggedIn = false;
let inputDone = false;
/** Lines typed before the welcome, sent once logged in. */
const waiting = [];
/** Ids sent and not yet answered: at the end of the input the client waits for them, then leaves. */
const unanswered = new Set();

function send(text) {
  try {
    const m = JSON.parse(text);
    if (m && m.id !== undefined) unanswered.add(m.id);
  } catch {
    // the server will say what is wrong with it
  }
  ws.send(text);
}

function maybeLeave() {
  if (inputDone && loggedIn && unanswered.size === 0) ws.close(1000);
}

ws.on('open', () => ws.send(JSON.stringify({ type: 'login', username, password })));
ws.on('message', (data) => {
  const text = data.toString();
  process.stdout.write(`${text}\n`);
  const m = JSON.parse(text);
  if (m.type === 'welcome') {
    loggedIn = true;
    for (const line of waiting.splice(0)) send(line);
  } else if (m.id !== undefined && ['reply', 'sent', 'error'].includes(m.type)) unanswered.delete(m.id);
  maybeLeave();
});
ws.on('close', (code, reason) => {
  process.stderr.write(`closed: ${code} ${reason.toString()}\n`);
  process.exit(code === 1000 ? 0 : 1);
});
ws.on('error', (err) => process.stderr.write(`error: ${err.message}\n`));

/** "<type> <payload>" becomes a whole message with an id of its own. */
function expand(text) {
  if (text.startsWith('{')) return text;
  const space = text.indexOf(' ');
  const type = space < 0 ? text : text.slice(0, space);
  let payload = null;
  if (space >= 0) {
    try {
      payload = JSON.parse(text.slice(space + 1));
    } catch {
      payload = text.slice(space + 1); // a bare word or sentence goes as a string
    }
  }
  return JSON.stringify({ type, id: nextId++, payload });
}

readline
  .createInterface({ input: process.stdin })
  .on('line', (line) => {
    const text = line.trim();
    if (text === '') return;
    if (loggedIn) send(expand(text));
    else waiting.push(expand(text));
  })
  .on('close', () => {
    inputDone = true;
    maybeLeave();
  });

// Chat page for the `chat` protocol (plugins/chat/README.md). User text is only ever inserted with textContent.
'use strict';

const $ = (id) => document.getElementById(id);
const joinForm = $('join-form');
const chat = $('chat');
const log = $('log');
const members = $('members');
const stateEl = $('state');
const text = $('text');

/** The current chat: who we are, where, and the socket that carries it; null on the join form. */
let session = null;

function wsUrl() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/`;
}

function setState(label, cls) {
  stateEl.textContent = label;
  stateEl.className = `state ${cls}`;
}

function showError(el, message) {
  el.textContent = message;
}

const timeOf = (ms) => new Date(ms).toLocaleTimeString();

/** Appends one line to the log, keeping it scrolled to the end when the reader was there. */
function append(li) {
  const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
  log.append(li);
  if (atEnd) log.scrollTop = log.scrollHeight;
}

function line(time, cls) {
  const li = document.createElement('li');
  li.className = cls;
  const t = document.createElement('time');
  t.textContent = timeOf(time);
  li.append(t);
  return li;
}

function addMessage(m, fromHistory) {
  const li = line(m.time, `msg${m.name === session.name ? ' mine' : ''}${fromHistory ? ' history' : ''}`);
  const name = document.createElement('span');
  name.className = 'name';
  name.textContent = m.name;
  const body = document.createElement('span');
  body.className = 'text';
  body.textContent = m.text;
  li.append(name, body);
  append(li);
}

function addEvent(time, what, cls) {
  const li = line(time, cls ? `event ${cls}` : 'event');
  li.append(document.createTextNode(what));
  append(li);
}

// ---- the room's message sequence: plugins/chat/console/sequence.ts, the same rules in plain JS ----
// Ids are compared within an epoch only: a server whose store lost its data numbers messages from
// 1 again in a new epoch, and comparing ids alone would skip every new message in silence. A new
// epoch is said out loud, and so is an id that skips ahead. A server older than the epoch sends
// none: "" throughout, and the plain id rule.

const RESTARTED = "the server's message sequence restarted; messages sent while it was down may be missing";
const missed = (from, to) => (from === to ? `message #${from} of this room did not arrive` : `messages #${from} to #${to} of this room did not arrive`);

function newSequence() {
  return { epoch: '', lastId: 0, known: false };
}

function restart(q, epoch, out) {
  if (q.epoch !== '') out.push(RESTARTED);
  q.epoch = epoch;
  q.lastId = 0;
  q.known = true;
}

/** Pushes onto `out` what to show of message `m`: notices (strings) about what came before it, then itself unless already seen. */
function accept(q, m, out) {
  const epoch = m.epoch || '';
  if (epoch !== q.epoch) restart(q, epoch, out);
  if (m.id <= q.lastId) return;
  if (q.known && m.id > q.lastId + 1) out.push(missed(q.lastId + 1, m.id - 1));
  q.lastId = m.id;
  q.known = true;
  out.push(m);
}

/** What to show of a welcome: all of its history for a new join; after a reconnect only what is new, and what went missing. */
function acceptWelcome(q, w, rejoin) {
  const epoch = w.epoch || '';
  const lastId = typeof w.lastId === 'number' ? w.lastId : undefined;
  const newest = w.history.length ? w.history[w.history.length - 1].id : 0;
  if (!rejoin) {
    Object.assign(q, { epoch, lastId: Math.max(lastId || 0, newest), known: lastId !== undefined || w.history.length > 0 });
    return w.history.slice();
  }
  const out = [];
  if (epoch !== q.epoch) restart(q, epoch, out);
  for (const m of w.history) accept(q, m, out);
  if (lastId !== undefined && lastId > q.lastId) {
    if (q.known) out.push(missed(q.lastId + 1, lastId));
    q.lastId = lastId;
  }
  q.known = true;
  return out;
}

function showAll(items, time, fromHistory) {
  for (const item of items) {
    if (typeof item === 'string') addEvent(time, item, 'notice');
    else addMessage(item, fromHistory);
  }
}

function renderMembers() {
  members.replaceChildren(...session.members.map((n) => {
    const li = document.createElement('li');
    li.textContent = n === session.name ? `${n} (you)` : n;
    return li;
  }));
  $('member-count').textContent = String(session.members.length);
}

function handle(s, msg) {
  switch (msg.type) {
    case 'welcome': {
      s.room = msg.room;
      s.name = msg.name;
      s.delay = 500;
      s.joined = true;
      setState('connected', 'ok');
      $('room-name').textContent = msg.room;
      $('me').textContent = msg.name;
      // A re-join after a reconnect keeps the log, and adds what it does not show yet.
      const rejoin = s.reconnects > 0 && s.everJoined;
      showAll(acceptWelcome(s.sequence, msg, rejoin), msg.time, true);
      s.everJoined = true;
      addEvent(msg.time, rejoin ? `reconnected to ${msg.room}` : `you joined ${msg.room}`);
      s.members = [...msg.members];
      renderMembers();
      // The server's limit, not a guess: a longer text would be refused after typing it.
      if (msg.limits && msg.limits.maxText) text.maxLength = msg.limits.maxText;
      text.focus();
      return;
    }
    case 'joined':
      if (msg.room !== s.room || s.members.includes(msg.name)) return;
      s.members.push(msg.name);
      renderMembers();
      addEvent(msg.time, `${msg.name} joined`);
      return;
    case 'left':
      if (msg.room !== s.room || msg.name === s.name) return;
      s.members = s.members.filter((n) => n !== msg.name);
      renderMembers();
      addEvent(msg.time, msg.reason === 'disconnect' ? `${msg.name} disconnected` : `${msg.name} left`);
      return;
    case 'members':
      if (msg.room !== s.room) return;
      s.members = [...msg.members];
      renderMembers();
      return;
    case 'message': {
      if (msg.room !== s.room) return;
      const items = [];
      accept(s.sequence, msg, items);
      if (items.includes(msg) && msg.name === s.name && s.unconfirmed.length > 0 && s.unconfirmed[0] === msg.text) s.unconfirmed.shift();
      showAll(items, msg.time, false);
      return;
    }
    case 'error':
      if (msg.request === 'join' && !s.joined) {
        stop(msg.message);
        return;
      }
      // A refused send gives its text back to the box, unless something new was typed there.
      if (msg.request === 'send' && s.unconfirmed.length > 0) {
        const refused = s.unconfirmed.shift();
        if (!text.value) text.value = refused;
      }
      showError($('error'), msg.message);
      return;
    default:
      return;
  }
}

/** Keeps the socket of session `s` open, re-joining after every reconnect, with capped exponential backoff. */
function connect(s) {
  const ws = new WebSocket(wsUrl(), 'chat');
  s.ws = ws;
  s.joined = false;
  ws.onopen = () => ws.send(JSON.stringify({ type: 'join', room: s.room, name: s.name }));
  ws.onmessage = (ev) => {
    if (session === s) handle(s, JSON.parse(ev.data));
  };
  ws.onclose = () => {
    if (session !== s) return;
    setState(`disconnected, reconnecting in ${Math.max(1, Math.round(s.delay / 1000))} s`, 'down');
    s.reconnects++;
    s.timer = setTimeout(() => connect(s), s.delay);
    s.delay = Math.min(s.delay * 2, 10000);
  };
}

function start(name, room) {
  session = { name, room, ws: null, joined: false, everJoined: false, delay: 500, reconnects: 0, timer: 0, sequence: newSequence(), members: [], unconfirmed: [] };
  showError($('join-error'), '');
  showError($('error'), '');
  log.replaceChildren();
  members.replaceChildren();
  $('room-name').textContent = room;
  $('me').textContent = name;
  setState('connecting…', '');
  joinForm.hidden = true;
  chat.hidden = false;
  connect(session);
}

/** Back to the join form, closing the socket for good. */
function stop(error) {
  const s = session;
  session = null;
  if (s) {
    clearTimeout(s.timer);
    if (s.ws && s.ws.readyState === WebSocket.OPEN) {
      if (s.joined) s.ws.send(JSON.stringify({ type: 'leave' }));
      s.ws.close(1000);
    } else if (s.ws) {
      s.ws.close();
    }
  }
  chat.hidden = true;
  joinForm.hidden = false;
  showError($('join-error'), error || '');
}

joinForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  start($('name').value.trim(), $('room').value.trim());
});

$('send-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const s = session;
  if (!s || !text.value.trim()) return;
  if (!s.joined || s.ws.readyState !== WebSocket.OPEN) {
    showError($('error'), 'not connected: the message was not sent');
    return;
  }
  showError($('error'), '');
  // Sent texts wait for their echo (or a refusal) in order: the server answers each send with one or the other.
  s.unconfirmed.push(text.value);
  s.ws.send(JSON.stringify({ type: 'send', text: text.value }));
  text.value = '';
});

$('leave').addEventListener('click', () => stop(''));

// ?name=...&room=... fill the form, for links into a room.
const params = new URLSearchParams(location.search);
if (params.get('name')) $('name').value = params.get('name');
if (params.get('room')) $('room').value = params.get('room');

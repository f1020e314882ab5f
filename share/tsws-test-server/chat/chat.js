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

function addEvent(time, what) {
  const li = line(time, 'event');
  li.append(document.createTextNode(what));
  append(li);
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
      // A re-join after a reconnect replays the history: start the log afresh from it.
      log.replaceChildren();
      for (const m of msg.history) addMessage(m, true);
      s.lastId = msg.history.length ? msg.history[msg.history.length - 1].id : 0;
      addEvent(msg.time, s.reconnects ? `reconnected to ${msg.room}` : `you joined ${msg.room}`);
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
    case 'message':
      // History and live messages may overlap around a join: ids tell them apart.
      if (msg.room !== s.room || msg.id <= s.lastId) return;
      s.lastId = msg.id;
      if (msg.name === s.name && s.unconfirmed.length > 0 && s.unconfirmed[0] === msg.text) s.unconfirmed.shift();
      addMessage(msg, false);
      return;
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
  session = { name, room, ws: null, joined: false, delay: 500, reconnects: 0, timer: 0, lastId: 0, members: [], unconfirmed: [] };
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

// Chat page for the `chat` protocol (plugins/chat/README.md), on tsws/client: the room is a channel, and the
// client resumes it from its last position after every reconnect. User text is only ever inserted with textContent.
import { connect } from '../tsws-client/index.js';

const $ = (id) => document.getElementById(id);
const joinForm = $('join-form');
const chat = $('chat');
const log = $('log');
const members = $('members');
const stateEl = $('state');
const text = $('text');

/** The current chat: who we are, where, and the client that carries it; null on the join form. */
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
  li.dataset.offset = String(m.offset);
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

// ---- gaps: tsws/client reports every one (docs/reference/client.md, "Gaps"); none passes unsaid ----
const RESTARTED = "the server's message sequence restarted; messages sent while it was down may be missing";
const missed = (from, to) => (from === to ? `message #${from} of this room did not arrive` : `messages #${from} to #${to} of this room did not arrive`);

function gapNotice(gap) {
  if (gap.reason === 'epoch-changed' || gap.from.epoch !== gap.to.epoch) return RESTARTED;
  return missed(gap.from.offset + 1, gap.to.offset);
}

function namesOf(list) {
  const seen = new Map();
  for (const m of list) {
    const n = m.info && typeof m.info.name === 'string' ? m.info.name : undefined;
    if (n !== undefined && !seen.has(n.toLowerCase())) seen.set(n.toLowerCase(), n);
  }
  return [...seen.values()];
}

function renderMembers(s) {
  members.replaceChildren(...s.members.map((n) => {
    const li = document.createElement('li');
    li.textContent = n === s.name ? `${n} (you)` : n;
    return li;
  }));
  $('member-count').textContent = String(s.members.length);
}

/** A line of the room (a channel message): the echo of our own oldest unconfirmed send confirms it. */
function onMessage(s, m) {
  if (session !== s) return;
  const d = m.data || {};
  if (typeof d.name !== 'string' || typeof d.text !== 'string') return;
  if (d.name === s.name && s.unconfirmed[0] === d.text) s.unconfirmed.shift();
  addMessage({ name: d.name, text: d.text, time: m.time, offset: m.offset }, false);
}

/** Subscribes to the room's channel from the welcome's position: the history shown, live messages after it, no gap between. */
function follow(s, welcome) {
  if (s.sub) s.sub.unsubscribe();
  s.sub = s.client.subscribe(welcome.channel, {
    since: { epoch: welcome.epoch, offset: welcome.offset },
    presence: true,
    onMessage: (m) => onMessage(s, m),
    onGap: (gap) => {
      if (session !== s) return;
      addEvent(Date.now(), gapNotice(gap), 'notice');
      if (s.resuming) fillFromWelcome(s, gap, null);
    },
    onSubscribed: (info) => {
      if (session !== s) return;
      // The resubscribe's gap, if any, came before this: later gaps are live ones, not the resume's.
      s.resuming = false;
      s.members = namesOf(info.members);
      renderMembers(s);
    },
    onPresence: (change) => {
      if (session !== s) return;
      s.members = namesOf(change.members);
      renderMembers(s);
      const n = change.member.info && change.member.info.name;
      // Our own comings and goings (a reconnect's old connection leaving) are not news.
      if (typeof n === 'string' && n !== s.name) addEvent(Date.now(), `${n} ${change.event === 'join' ? 'joined' : 'left'}`);
    },
    onError: (err) => session === s && showError($('error'), err.message),
  });
}

/**
 * A resume into a new epoch (the store lost its state) cannot say which of the new sequence we saw: none.
 * The re-join's welcome holds the new sequence's history: shown after the notice, and what came between
 * its read and the subscribe is said missing rather than skipped.
 */
function fillFromWelcome(s, gap, welcome) {
  // The welcome and the resubscribe's answer come in either order (the join waits on presence, the subscribe does not).
  if (welcome) s.rejoined = welcome;
  if (gap) s.restartGap = gap.reason === 'epoch-changed' ? gap : null;
  const w = s.rejoined;
  const g = s.restartGap;
  if (!w || !g) return;
  s.rejoined = s.restartGap = null;
  if (w.epoch !== g.to.epoch) return;
  for (const m of w.history) if (m.offset <= g.to.offset) addMessage(m, true);
  if (w.offset < g.to.offset) addEvent(Date.now(), missed(w.offset + 1, g.to.offset), 'notice');
}

function handle(s, msg) {
  switch (msg.type) {
    case 'welcome': {
      const rejoin = s.everJoined && msg.room === s.room && s.sub !== null;
      s.room = msg.room;
      s.name = msg.name;
      s.joined = true;
      setState('connected', 'ok');
      $('room-name').textContent = msg.room;
      $('me').textContent = msg.name;
      if (!rejoin) {
        for (const m of msg.history) addMessage(m, true);
        follow(s, msg);
      } else fillFromWelcome(s, null, msg);
      // After a reconnect the client resubscribed from its last position by itself: what was missed follows, or a gap notice.
      s.everJoined = true;
      addEvent(msg.time, rejoin ? `reconnected to ${msg.room}` : `you joined ${msg.room}`);
      s.members = [...msg.members];
      renderMembers(s);
      // The server's limit, not a guess: a longer text would be refused after typing it.
      if (msg.limits && msg.limits.maxText) text.maxLength = msg.limits.maxText;
      text.focus();
      return;
    }
    case 'members':
      if (msg.room !== s.room) return;
      s.members = [...msg.members];
      renderMembers(s);
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

/** A secret for this page's session: a re-join with it takes back our name while the lost connection still holds it. */
function sessionKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function start(name, room) {
  const s = { name, room, key: sessionKey(), client: null, sub: null, rejoined: null, restartGap: null, resuming: false, joined: false, everJoined: false, members: [], unconfirmed: [] };
  session = s;
  showError($('join-error'), '');
  showError($('error'), '');
  log.replaceChildren();
  members.replaceChildren();
  $('room-name').textContent = room;
  $('me').textContent = name;
  setState('connecting…', '');
  joinForm.hidden = true;
  chat.hidden = false;
  // Reconnects with capped exponential backoff and jitter; the join goes first on every new connection,
  // ahead of the resubscribe the client sends by itself.
  s.client = connect(wsUrl(), { protocol: 'chat', backoff: { initialMs: 500, maxMs: 10000 } });
  s.client.on('state', (st) => {
    if (session !== s) return;
    if (st.state === 'open') {
      // A new connection: the welcome and the resubscribe's answer to pair are this connection's.
      s.rejoined = s.restartGap = null;
      s.resuming = s.sub !== null;
      s.client.send(JSON.stringify({ type: 'join', room: s.room, name: s.name, key: s.key }));
    }
    else if (st.state === 'reconnecting') {
      s.joined = false;
      setState(`disconnected, reconnecting in ${Math.max(1, Math.round(st.delayMs / 1000))} s`, 'down');
    }
  });
  s.client.on('message', (data) => {
    if (session !== s || typeof data !== 'string') return;
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    handle(s, msg);
  });
}

/** Back to the join form, closing the client for good. */
function stop(error) {
  const s = session;
  session = null;
  if (s && s.client) {
    if (s.joined) s.client.send(JSON.stringify({ type: 'leave' }));
    s.client.close(1000);
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
  if (!s.joined || !s.client.send(JSON.stringify({ type: 'send', text: text.value }))) {
    showError($('error'), 'not connected: the message was not sent');
    return;
  }
  showError($('error'), '');
  // Sent texts wait for their echo (or a refusal) in order: the server answers each send with one or the other.
  s.unconfirmed.push(text.value);
  text.value = '';
});

$('leave').addEventListener('click', () => stop(''));

// ?name=...&room=... fill the form, for links into a room.
const params = new URLSearchParams(location.search);
if (params.get('name')) $('name').value = params.get('name');
if (params.get('room')) $('room').value = params.get('room');

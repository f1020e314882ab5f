// Demo page: one websocket per shipped protocol, reconnecting with backoff. User text is only ever set as text.
'use strict';

function wsUrl(query) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/${query ? `?${query}` : ''}`;
}

/** Keeps one websocket of `protocol` open, reconnecting with capped exponential backoff. */
function keepOpen(protocol, stateEl, handlers, query = () => '') {
  let delay = 500;
  let ws;
  const connect = () => {
    ws = new WebSocket(wsUrl(query()), protocol);
    ws.onopen = () => {
      delay = 500;
      stateEl.textContent = 'connected';
      stateEl.className = 'state ok';
      handlers.open?.(ws);
    };
    ws.onmessage = (ev) => handlers.message(ev.data, ws);
    ws.onclose = () => {
      stateEl.textContent = `disconnected, retrying in ${Math.round(delay / 1000)} s`;
      stateEl.className = 'state down';
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 10000);
    };
  };
  connect();
  return { send: (data) => ws && ws.readyState === WebSocket.OPEN && ws.send(data), reconnect: () => ws && ws.close() };
}

// dumb-increment-protocol: the server sends a decimal counter; "reset\n" zeroes it.
const counter = document.getElementById('counter');
const dumb = keepOpen('dumb-increment-protocol', document.getElementById('dumb-state'), {
  message: (data) => { counter.textContent = data; },
});
document.getElementById('reset').addEventListener('click', () => dumb.send('reset\n'));

// lws-mirror-protocol: whatever one member sends, all members receive.
const text = document.getElementById('mirror-text');
const group = document.getElementById('mirror-group');
const mirror = keepOpen('lws-mirror-protocol', document.getElementById('mirror-state'), {
  message: (data) => {
    if (text.value !== data) text.value = data;
  },
}, () => `mirror=${encodeURIComponent(group.value)}`);
text.addEventListener('input', () => mirror.send(text.value));
group.addEventListener('change', () => mirror.reconnect());

// lws-status: a JSON list of the status clients, sent on every change.
const rows = document.getElementById('status-rows');
keepOpen('lws-status', document.getElementById('status-state'), {
  message: (data) => {
    const status = JSON.parse(data);
    rows.replaceChildren(...status.conns.map((c) => {
      const tr = document.createElement('tr');
      const since = new Date(Number(c.time) * 1000).toLocaleTimeString();
      for (const v of [c.peer, since, c.ua]) {
        const td = document.createElement('td');
        td.textContent = v;
        tr.append(td);
      }
      return tr;
    }));
  },
});

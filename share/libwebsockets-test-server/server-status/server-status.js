// One lws-server-status websocket (the server-status plugin): a snapshot of the whole server on
// connect and every update-ms. Every value is set as text: nothing the server sends becomes markup.
'use strict';

const $ = (id) => document.getElementById(id);

function row(cells) {
  const tr = document.createElement('tr');
  for (const c of cells) {
    const td = tr.insertCell();
    td.textContent = String(c);
    if (typeof c === 'number') td.className = 'n';
  }
  return tr;
}

function show(s) {
  $('server').textContent = `${s.version} on ${s.hostname}, pid ${s.pid}, up ${s.uptimeSecs} s${s.draining ? ', draining' : ''}; updated every ${s.updateMs} ms`;
  $('protocols').replaceChildren(...s.vhosts.flatMap((v) => v.protocols.map((p) =>
    row([v.name, p.name, p.connections, p.messagesIn, p.messagesOut, p.inPerSec, p.outPerSec]))));
  $('listeners').replaceChildren(...s.listeners.map((l) => row([l.address, l.tls ? 'yes' : 'no', l.vhosts.join(', ')])));
}

function open() {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`, 'lws-server-status');
  const state = $('state');
  ws.onopen = () => { state.textContent = 'live'; state.className = 'open'; };
  ws.onmessage = (m) => show(JSON.parse(m.data));
  ws.onclose = () => {
    state.textContent = 'disconnected, retrying';
    state.className = 'closed';
    setTimeout(open, 2000);
  };
}
open();

// The lws test page's panels, each one websocket to one protocol of this vhost.
'use strict';

const wsUrl = (query = '') => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/${query}`;
const $ = (id) => document.getElementById(id);

/** Opens `protocol` and shows its state in the element `stateId`; `onText` gets each message. */
function connect(protocol, stateId, onText, query) {
  const ws = new WebSocket(wsUrl(query), protocol);
  const state = $(stateId);
  ws.onopen = () => { state.textContent = 'websocket connection opened'; state.className = 'state open'; };
  ws.onclose = (e) => { state.textContent = `websocket connection CLOSED, code: ${e.code}, reason: ${e.reason}`; state.className = 'state closed'; };
  ws.onmessage = (m) => onText(m.data);
  return ws;
}

// dumb-increment-protocol
const di = connect('dumb-increment-protocol', 'wsdi_status', (t) => { $('number').textContent = t; });
$('offset').onclick = () => di.send('reset\n');
$('junk').onclick = () => di.send('a'.repeat(9000));

// example-standalone-protocol (the seed's plugin)
const sa = connect('example-standalone-protocol', 'sa_status', (t) => { $('sa_number').textContent = t; });
$('sa_reset').onclick = () => sa.send('reset\n');
$('sa_hello').onclick = () => sa.send('hello world');
$('sa_closeme').onclick = () => sa.send('closeme\n');

// lws-mirror-protocol: "d <colour> x1 y1 x2 y2;" lines, as lws's own page draws them
const mirrorGroup = new URLSearchParams(location.search).get('mirror') ?? '';
const canvas = $('drawing');
const ctx = canvas.getContext('2d');
const lm = connect('lws-mirror-protocol', 'wslm_status', (t) => {
  for (const cmd of t.split(';')) {
    const [op, colour, ...n] = cmd.trim().split(' ');
    if (op !== 'd' || n.length !== 4) continue;
    ctx.strokeStyle = colour;
    ctx.beginPath();
    ctx.moveTo(+n[0], +n[1]);
    ctx.lineTo(+n[2], +n[3]);
    ctx.stroke();
  }
}, `?mirror=${encodeURIComponent(mirrorGroup)}`);
let last;
canvas.onpointerdown = (e) => { last = [e.offsetX, e.offsetY]; };
canvas.onpointerup = () => { last = undefined; };
canvas.onpointermove = (e) => {
  if (!last || lm.readyState !== WebSocket.OPEN) return;
  lm.send(`d ${$('color').value} ${last[0]} ${last[1]} ${e.offsetX} ${e.offsetY};`);
  last = [e.offsetX, e.offsetY];
};

// Open and close: a dumb-increment connection of its own
let ot;
const otButtons = (open) => { $('ot_open_btn').disabled = open; $('ot_close_btn').disabled = !open; $('ot_req_close_btn').disabled = !open; };
$('ot_open_btn').onclick = () => {
  ot = connect('dumb-increment-protocol', 'ot_status', () => {});
  ot.addEventListener('open', () => otButtons(true));
  ot.addEventListener('close', () => otButtons(false));
};
$('ot_close_btn').onclick = () => ot.close(3000, 'Bye!');
$('ot_req_close_btn').onclick = () => ot.send('closeme\n');

// lws-status: who is connected
const status = connect('lws-status', 's_status', (t) => {
  const s = JSON.parse(t);
  $('servinfo').textContent = `${s.version} on ${s.hostname}`;
  $('conninfo').replaceChildren(...s.conns.map((c, i) => {
    const tr = document.createElement('tr');
    for (const v of [`client ${i + 1}`, c.peer, new Date(Number(c.time) * 1000).toLocaleString(), c.ua]) tr.insertCell().textContent = v;
    return tr;
  }));
});
// What lws's "Test pmd" sends: two JSON messages carrying long base64 blobs.
$('pmd').onclick = () => {
  status.send(JSON.stringify({ RequestType: 'DDoS', blob: `data:image/png;base64,${'iVBORw0KGgo'.repeat(300)}` }));
  status.send(JSON.stringify({ RequestType: 'SendImage', toType: 'toUser', toID: '1036', fileType: 'image/jpeg', blob: `data:image/jpeg;base64,${'/9j/4AAQSkZJRg'.repeat(2000)}` }));
};

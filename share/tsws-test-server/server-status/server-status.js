// Server status page: one lws-server-status websocket, reconnecting with backoff. Every value from
// the server is set as text (textContent) or drawn as a number: nothing it sends becomes markup.
'use strict';

const $ = (id) => document.getElementById(id);
const STATUS_WS = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/`;

function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

function duration(secs) {
  const d = Math.floor(secs / 86400), h = Math.floor(secs / 3600) % 24, m = Math.floor(secs / 60) % 60, s = secs % 60;
  return [d && `${d}d`, (d || h) && `${h}h`, (d || h || m) && `${m}m`, `${s}s`].filter(Boolean).join(' ');
}

const count = (n) => Number(n).toLocaleString('en');

/** A table row of text cells. */
function row(cells) {
  const tr = document.createElement('tr');
  for (const c of cells) {
    const td = document.createElement('td');
    td.textContent = String(c);
    tr.append(td);
  }
  return tr;
}

/** The rolling chart: messages per second in (blue) and out (orange), newest on the right. */
function drawChart(canvas, history, capacity) {
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || canvas.width, h = canvas.clientHeight || canvas.height;
  if (canvas.width !== Math.round(w * ratio)) { canvas.width = Math.round(w * ratio); canvas.height = Math.round(h * ratio); }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const pad = { left: 44, right: 8, top: 10, bottom: 18 };
  const plotW = w - pad.left - pad.right, plotH = h - pad.top - pad.bottom;
  const top = Math.max(1, ...history.map((p) => Math.max(p.in, p.out)));
  const max = niceCeiling(top);
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = '#6b7280';
  ctx.strokeStyle = '#e3e6eb';
  ctx.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const y = pad.top + plotH - (plotH * i) / 4;
    ctx.beginPath(); ctx.moveTo(pad.left, y); ctx.lineTo(w - pad.right, y); ctx.stroke();
    ctx.fillText(String(Math.round((max * i) / 4)), 4, y + 4);
  }
  ctx.fillText(`last ${capacity} samples`, pad.left, h - 4);
  const x = (i) => pad.left + plotW - ((history.length - 1 - i) * plotW) / Math.max(1, capacity - 1);
  const y = (v) => pad.top + plotH - (v / max) * plotH;
  // "out" first and wider, "in" on top: an echo's two equal lines both stay visible.
  for (const [key, colour, width] of [['out', '#ea580c', 3.5], ['in', '#2563eb', 1.5]]) {
    ctx.strokeStyle = colour;
    ctx.lineWidth = width;
    ctx.beginPath();
    history.forEach((p, i) => (i === 0 ? ctx.moveTo(x(i), y(p[key])) : ctx.lineTo(x(i), y(p[key]))));
    if (history.length === 1) ctx.arc(x(0), y(history[0][key]), 2, 0, 2 * Math.PI);
    ctx.stroke();
  }
}

/** 1, 2, 5 × 10^n at or above `v`: readable axis labels. */
function niceCeiling(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((c) => c >= v);
}

function show(s) {
  $('version').textContent = s.version;
  $('host').textContent = `${s.hostname} (pid ${s.pid})${s.instance ? `, instance ${s.instance}` : ''}`;
  $('uptime').textContent = duration(s.uptimeSecs);
  $('serving').textContent = s.draining ? 'draining: stopping, new clients go elsewhere' : 'serving';
  $('serving').className = s.draining ? 'draining' : '';
  $('reloads').textContent = count(s.reloads);
  $('memory').textContent = `RSS ${bytes(s.memory.rss)}, heap ${bytes(s.memory.heapUsed)} of ${bytes(s.memory.heapTotal)}`;
  $('connections').textContent = `${count(s.totals.connections)} open, ${count(s.totals.connectionsTotal)} since start`;
  $('http').textContent = count(s.totals.httpRequests);
  $('rate-in').textContent = String(s.totals.inPerSec);
  $('rate-out').textContent = String(s.totals.outPerSec);
  $('update-ms').textContent = String(s.updateMs);
  $('points').textContent = String(s.history.length);
  $('listener-rows').replaceChildren(...s.listeners.map((l) => row([l.address, l.tls ? 'https' : 'http', l.vhosts.length ? l.vhosts.join(', ') : '(metrics)'])));
  $('protocol-rows').replaceChildren(...s.vhosts.flatMap((v) => (v.protocols.length ? v.protocols : [null]).map((p) =>
    row(p ? [v.name, p.name, count(p.connections), count(p.connectionsTotal), p.inPerSec, p.outPerSec, count(p.messagesIn), count(p.messagesOut), bytes(p.bytesIn), bytes(p.bytesOut)]
      : [v.name, '(no protocols)', '', '', '', '', '', '', '', '']))));
  drawChart($('chart'), s.history, 60);
}

function connect(delay = 500) {
  const state = $('link-state');
  const ws = new WebSocket(STATUS_WS, 'lws-server-status');
  ws.onopen = () => {
    delay = 500;
    state.textContent = 'connected';
    state.className = 'state ok';
  };
  ws.onmessage = (ev) => show(JSON.parse(ev.data));
  ws.onclose = () => {
    state.textContent = `disconnected, retrying in ${Math.round(delay / 1000)} s`;
    state.className = 'state down';
    setTimeout(() => connect(Math.min(delay * 2, 10000)), delay);
  };
}

connect();

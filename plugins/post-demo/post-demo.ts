/** @module protocol-post-demo: a form at a callback:// mount; posted fields (urlencoded or multipart) echoed back HTML-escaped. */
import { definePlugin, type HttpTxn } from '../../server/plugin/api.ts';
import { parseFormBody } from '../../server/plugin/runtime.ts';

/** lws's post demo refuses larger uploads too. */
const MAX_UPLOAD = 100_000;

interface Session {
  readonly chunks: Buffer[];
  /** The page to send, built once the request is complete. */
  page: { status: number; html: string } | undefined;
  headSent: boolean;
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function layout(title: string, body: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:40rem}table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:.3rem .6rem;text-align:left}fieldset{margin-bottom:1rem}</style>
</head><body><h1>${escape(title)}</h1>${body}</body></html>\n`;
}

function formPage(action: string): string {
  return layout('protocol-post-demo', `
<form method="post" action="${escape(action)}"><fieldset><legend>urlencoded</legend>
  <label>Text <input name="text" value="hello"></label> <button>Send</button></fieldset></form>
<form method="post" action="${escape(action)}" enctype="multipart/form-data"><fieldset><legend>multipart, up to ${MAX_UPLOAD} bytes</legend>
  <label>Text <input name="text" value="hello"></label> <input type="file" name="file"> <button>Upload</button></fieldset></form>`);
}

function resultPage(txn: HttpTxn<undefined, Session>): { status: number; html: string } {
  const body = Buffer.concat(txn.session.chunks);
  const fields = parseFormBody(body, txn.request.headers['content-type'] ?? '');
  if (!fields) return { status: 415, html: layout('Unsupported form', '<p>Send application/x-www-form-urlencoded or multipart/form-data.</p>') };
  const rows = fields
    .map((f) => f.filename !== undefined
      ? `<tr><td>${escape(f.name)}</td><td>file ${escape(f.filename)} (${f.data.length} bytes${f.type ? `, ${escape(f.type)}` : ''})</td></tr>`
      : `<tr><td>${escape(f.name)}</td><td>${escape(f.value)}</td></tr>`)
    .join('');
  return { status: 200, html: layout('Form received', `<table><tr><th>field</th><th>value</th></tr>${rows}</table><p><a href="${escape(txn.request.mountpoint)}">again</a></p>`) };
}

export default definePlugin({
  apiVersion: 2,
  name: 'post-demo',
  protocols: (protocol) => [
    protocol({
      name: 'protocol-post-demo',
      httpBodyLimit: MAX_UPLOAD,
      http: {
        session: (): Session => ({ chunks: [], page: undefined, headSent: false }),
        http(txn) {
          const m = txn.request.method;
          if (m === 'POST') return; // answered once the body is complete
          txn.session.page = m === 'GET' || m === 'HEAD'
            ? { status: 200, html: formPage(txn.request.mountpoint) }
            : { status: 405, html: layout('Method not allowed', '<p>GET the form, POST it back.</p>') };
          txn.requestWritable();
        },
        httpBody(txn, chunk) {
          txn.session.chunks.push(chunk);
        },
        httpBodyCompletion(txn) {
          txn.session.page = resultPage(txn);
          txn.requestWritable();
        },
        httpWritable(txn) {
          const s = txn.session;
          if (!s.page) return;
          if (!s.headSent) {
            s.headSent = true;
            txn.writeHead(s.page.status, { 'content-type': 'text/html; charset=utf-8', 'content-length': String(Buffer.byteLength(s.page.html)) });
            txn.requestWritable();
            return;
          }
          txn.end(s.page.html);
        },
      },
    }),
  ],
});

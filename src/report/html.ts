/**
 * The HTML reports' shared pieces: escaping, the page around the sections, number formatting, key-value lists and
 * tables. A report is ONE self-contained file: the CSS and the script are inline, nothing is fetched (no fonts, no
 * CDN), so it opens the same offline, from an archive, or attached to a mail. Everything that comes from data
 * (file names, node names, claims) goes through esc(): a network whose node is called `<script>` cannot inject
 * markup into the report of it.
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text or an attribute value, safe inside an element or a double- or single-quoted attribute. */
export function esc(x: unknown): string {
  return String(x).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** data-NAME="value" attributes (escaped) from an object: what the tests and a reader's tools read back. */
export function dataAttrs(d: Record<string, string | number>): string {
  return Object.entries(d)
    .map(([k, v]) => ` data-${k.replace(/[^a-z0-9-]/gi, '-').toLowerCase()}="${esc(v)}"`)
    .join('');
}

/** A number for a person: at most `digits` significant digits, exponent form for the very large and small. */
export function num(x: number, digits = 4): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return x.toLocaleString('en-US');
  const a = Math.abs(x);
  return a >= 1e6 || a < 1e-3 ? x.toExponential(digits - 1) : String(Number(x.toPrecision(digits)));
}

/** "1 box", "3 boxes": a count and its noun (plural given, or +s). */
export function count(n: number, one: string, many = `${one}s`): string {
  return `${num(n)} ${n === 1 ? one : many}`;
}

/** Milliseconds as seconds, or ms below a second. */
export function dur(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** The change from a to b as a percentage of a ("-12.5%"). */
export function change(a: number, b: number): string {
  if (a === 0) return b === 0 ? '0%' : 'new';
  const p = (100 * (b - a)) / a;
  return `${p > 0 ? '+' : ''}${p.toFixed(1)}%`;
}

export type FactRow = [string, string | number | { html: string }];

/** A row of facts() when `when` holds (its value made only then), else none. */
export function optRow(when: boolean, label: string, value: () => string | number | { html: string }): FactRow[] {
  return when ? [[label, value()]] : [];
}

/** A definition list of label / value rows; values are escaped unless given as { html }. */
export function facts(rows: FactRow[], cls = 'facts'): string {
  const cell = (v: string | number | { html: string }): string => (typeof v === 'object' ? v.html : esc(typeof v === 'number' ? num(v) : v));
  return `<dl class="${cls}">${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${cell(v)}</dd>`).join('')}</dl>`;
}

export interface TableSpec {
  head: string[];
  rows: Array<Array<string | number | { html: string }>>;
  /** per row: data attributes of its <tr> */
  rowData?: Array<Record<string, string | number>>;
  /** columns holding numbers (right-aligned) */
  numeric?: number[];
  id?: string;
}

/** A table; a click on a header sorts by that column (the inline script). */
export function table(t: TableSpec): string {
  const numeric = new Set(t.numeric ?? []);
  const td = (v: string | number | { html: string }, j: number): string => {
    const cls = numeric.has(j) ? ' class="n"' : '';
    const sortKey = typeof v === 'number' ? ` data-sort="${v}"` : '';
    return `<td${cls}${sortKey}>${typeof v === 'object' ? v.html : esc(typeof v === 'number' ? num(v) : v)}</td>`;
  };
  const head = `<thead><tr>${t.head.map((h, j) => `<th${numeric.has(j) ? ' class="n"' : ''}>${esc(h)}</th>`).join('')}</tr></thead>`;
  const body = t.rows.map((r, i) => `<tr${t.rowData ? dataAttrs(t.rowData[i]) : ''}>${r.map(td).join('')}</tr>`).join('');
  return `<div class="scroll"><table class="sortable"${t.id ? ` id="${esc(t.id)}"` : ''}>${head}<tbody>${body}</tbody></table></div>`;
}

/** Text as code; with `which`, a hash that the tests read back (class "hash", data-which). */
export function code(s: string, which?: string): { html: string } {
  return { html: `<code${which ? ` class="hash" data-which="${esc(which)}"` : ''}>${esc(s)}</code>` };
}

export function section(title: string, body: string, id?: string): string {
  return `<section${id ? ` id="${esc(id)}"` : ''}><h2>${esc(title)}</h2>${body}</section>`;
}

/** A verdict as a coloured badge. */
export function badge(status: string): string {
  const cls = status === 'proved' || status === 'unsat' ? 'ok' : status === 'refuted' || status === 'sat' ? 'bad' : 'open';
  return `<span class="badge ${cls}" data-status="${esc(status)}">${esc(status.toUpperCase())}</span>`;
}

/** JSON inside a <script type="application/json">: '<' written as \u003c, so no text in it can close the element. */
export function jsonScript(id: string, data: unknown): string {
  const text = JSON.stringify(data).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  return `<script type="application/json" id="${esc(id)}">${text}</script>`;
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;background:#f6f7f9}
main{max-width:1200px;margin:0 auto;padding:20px 24px 40px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:0 0 10px}
.sub{color:#586074;margin:0 0 16px;overflow-wrap:anywhere}
section{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:16px 18px;margin:0 0 16px;overflow:hidden}
dl.facts{display:grid;grid-template-columns:minmax(140px,max-content) 1fr;gap:4px 16px;margin:0}
dt{color:#586074}dd{margin:0;overflow-wrap:anywhere}
code,.mono{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,monospace;font-size:13px;overflow-wrap:anywhere}
.scroll{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{text-align:left;padding:4px 10px;border-bottom:1px solid #e6e9ef;overflow-wrap:anywhere}
th{background:#f0f2f6;cursor:pointer;user-select:none}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;font-size:13px}
.badge.ok{background:#d9f2e1;color:#13612e}.badge.bad{background:#fbdcdc;color:#8a1919}.badge.open{background:#fdf0cf;color:#7a5500}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;margin:6px 0 10px;font-size:13px}
.legend span::before{content:"";display:inline-block;width:12px;height:12px;margin-right:5px;vertical-align:-1px;background:var(--c);border-radius:2px}
svg{display:block;max-width:100%;height:auto}svg text{font:12px system-ui,sans-serif;fill:#394052}
.note{color:#586074;font-size:13px;margin:8px 0 0}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:16px}
#tip{position:fixed;pointer-events:none;background:#1d2330;color:#fff;padding:4px 8px;border-radius:4px;font-size:12px;display:none;max-width:360px;z-index:9}
.census-layer{margin:0 0 16px}.census-layer h3{font-size:15px;margin:0 0 2px;overflow-wrap:anywhere}
footer{color:#8a90a0;font-size:12px;text-align:center}
`;

/** Hover text from data-tip, and sorting tables by a column; no network, no globals beyond these handlers. */
const SCRIPT = `
(function(){
var tip=document.getElementById('tip');
document.addEventListener('mousemove',function(e){
  var t=e.target&&e.target.closest?e.target.closest('[data-tip]'):null;
  if(!t){tip.style.display='none';return;}
  tip.textContent=t.getAttribute('data-tip');tip.style.display='block';
  tip.style.left=Math.min(e.clientX+12,window.innerWidth-370)+'px';tip.style.top=(e.clientY+12)+'px';
});
document.querySelectorAll('table.sortable th').forEach(function(th,col){
  th.addEventListener('click',function(){
    var tb=th.closest('table').tBodies[0],rows=Array.prototype.slice.call(tb.rows),up=th.getAttribute('data-dir')!=='up';
    th.setAttribute('data-dir',up?'up':'down');
    var key=function(r){var c=r.cells[col];var s=c&&c.getAttribute('data-sort');return s!==null&&s!==undefined?Number(s):(c?c.textContent:'');};
    rows.sort(function(a,b){var x=key(a),y=key(b);var d=typeof x==='number'&&typeof y==='number'?x-y:String(x).localeCompare(String(y));return up?d:-d;});
    rows.forEach(function(r){tb.appendChild(r);});
  });
});
})();
`;

/** The whole document: title, a line under it, the sections, and the data the report was drawn from. */
export function page(o: { kind: string; title: string; subtitle: string; sections: string[]; data: unknown; version: string }): string {
  return (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width,initial-scale=1">' +
    // nothing may be fetched: the page says so itself, for any browser that opens it
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">` +
    `<title>${esc(o.title)}</title><style>${CSS}</style></head>` +
    `<body data-report="${esc(o.kind)}"><main><h1>${esc(o.title)}</h1><p class="sub">${esc(o.subtitle)}</p>` +
    o.sections.join('\n') +
    `<footer>nnshrink ${esc(o.version)} report</footer></main><div id="tip"></div>` +
    jsonScript('report-data', o.data) +
    `<script>${SCRIPT}</script></body></html>\n`
  );
}

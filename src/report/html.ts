import { inlineSvg } from "./charts/inline-svg.js";
import type { Block } from "./document.js";
import type { Table, TableCell } from "./table-model.js";
import { WARNING_KINDS, warningCodes } from "./warnings.js";

/**
 * report.html: one self-contained file. Charts are inline SVG (tooltips are SVG <title>s, shown by
 * the browser without any script), the CSS is inline, and a Content-Security-Policy forbids every
 * fetch, so the page cannot reach the network even by mistake. Tables scroll sideways on a phone.
 */

const CSS = `
:root { color-scheme: light; --fg: #1d1d1f; --muted: #5b5b66; --line: #d9d9e0; --warn: #9a5b00; --bg-warn: #fff6e5; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); background: #fff; }
main { max-width: 1100px; margin: 0 auto; padding: 16px; }
h1 { font-size: 1.6rem; margin: 0.4em 0; }
h2 { font-size: 1.3rem; margin: 1.8em 0 0.5em; padding-top: 0.4em; border-top: 2px solid var(--line); }
h3 { font-size: 1.05rem; margin: 1.4em 0 0.4em; }
p, li { max-width: 75ch; }
.summary li { margin: 0.2em 0; }
figure { margin: 1em 0; }
.chart-scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
.chart-scroll.phone { display: none; }
figure svg.chart { display: block; width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 0.85rem; }
.table-wrap { overflow-x: auto; -webkit-overflow-scrolling: touch; margin: 0.5em 0; border: 1px solid var(--line); border-radius: 4px; }
table { border-collapse: collapse; font-size: 0.85rem; min-width: 100%; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { background: #f4f4f7; text-align: left; white-space: normal; vertical-align: bottom; min-width: 4.5em; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.missing { color: var(--muted); text-align: center; }
td.warned { background: var(--bg-warn); }
abbr.w { color: var(--warn); font-size: 0.75em; text-decoration: none; margin-left: 2px; cursor: help; }
.note { color: var(--muted); font-size: 0.9rem; }
.note.warn { color: var(--warn); }
.legend { color: var(--muted); font-size: 0.8rem; margin: 0.2em 0 1em; }
.legend div { margin: 0.1em 0; }
.qgroup { border-left: 4px solid #e8a33d; padding: 0.2em 0.8em; margin: 0.8em 0; background: #fffbf3; }
.qgroup h3 { margin: 0.3em 0; }
details summary { cursor: pointer; color: var(--muted); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
code { font-size: 0.9em; }
@media (max-width: 600px) {
  main { padding: 10px; }
  body { font-size: 14px; }
  h1 { font-size: 1.3rem; }
  dl.facts { grid-template-columns: 1fr; }
  dl.facts dd { margin-bottom: 6px; }
  /* Each chart is drawn twice; a phone gets the one laid out in one narrow column. */
  .chart-scroll.wide { display: none; }
  .chart-scroll.phone { display: block; }
}
`;

export interface HtmlChart {
  name: string;
  title: string;
  svg: string;
  phoneSvg: string;
}

export function renderHtml(blocks: readonly Block[], charts: readonly HtmlChart[], title: string): string {
  const svgByName = new Map(
    charts.map((c, i) => [
      c.name,
      `<div class="chart-scroll wide">${inlineSvg(c.svg, `c${i}`, c.title)}</div>` +
        `<div class="chart-scroll phone">${inlineSvg(c.phoneSvg, `p${i}`, c.title)}</div>`,
    ]),
  );
  const body = blocks.map((b) => renderBlock(b, svgByName)).join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

function renderBlock(block: Block, svgs: Map<string, string>): string {
  switch (block.kind) {
    case "heading":
      return `<h${block.level} id="${esc(block.id)}">${esc(block.text)}</h${block.level}>`;
    case "paragraph":
      return `<p>${esc(block.text)}</p>`;
    case "list":
      return `<ul class="summary">${block.items.map((i) => `<li>${esc(i)}</li>`).join("")}</ul>`;
    case "chart": {
      const svg = svgs.get(block.name);
      if (!svg) return "";
      return `<figure id="chart-${esc(block.name)}" class="chart">${svg}<figcaption>${esc(block.title)} (charts/${esc(block.name)}.svg)</figcaption></figure>`;
    }
    case "table":
      return block.collapsed
        ? `<details><summary>${esc(block.table.title)}</summary>${renderTable(block.table)}</details>`
        : renderTable(block.table);
    case "quality":
      return block.groups
        .map(
          (g) => `<div class="qgroup" id="warning-${esc(g.kind)}"><h3>⚠${esc(g.code)} ${esc(g.title)}</h3>
<p>${esc(capitalize(g.meaning))}</p>
<ul>${g.where.map((w) => `<li>${esc(w)}</li>`).join("")}</ul>
<details><summary>${g.messages.length} message${g.messages.length === 1 ? "" : "s"}</summary><ul>${g.messages
            .map((m) => `<li>${esc(m)}</li>`)
            .join("")}</ul></details></div>`,
        )
        .join("\n");
    case "setup":
      return `<p class="note">${esc(block.setup.source)}</p>
<dl class="facts">${block.setup.facts.map((f) => `<dt>${esc(f.label)}</dt><dd>${esc(f.value)}</dd>`).join("")}</dl>
<div class="table-wrap"><table><thead><tr><th>Image</th><th>Runtime</th><th>Base</th><th>Env</th></tr></thead><tbody>${block.setup.images
        .map(
          (i) =>
            `<tr><td>${esc(i.name)}</td><td>${esc(i.runtime)}</td><td>${esc(i.base)}</td><td><code>${esc(i.env)}</code></td></tr>`,
        )
        .join("")}</tbody></table></div>`;
    case "files":
      return `<ul>${block.items.map((f) => `<li><code>${esc(f.path)}</code>: ${esc(f.what)}</li>`).join("")}</ul>`;
  }
}

function renderTable(table: Table): string {
  const notes = table.notes
    .map((n) => `<p class="note${n.startsWith("⚠") ? " warn" : ""}">${esc(n)}</p>`)
    .join("");
  const head = table.columns
    .map((c) => `<th${c.numeric ? ' class="num"' : ""}>${esc(c.label)}</th>`)
    .join("");
  const rows = table.rows
    .map((row) => `<tr>${row.map((c, i) => renderCell(c, table.columns[i]?.numeric ?? false)).join("")}</tr>`)
    .join("\n");
  const legend = table.footnotes.length
    ? `<div class="legend">${table.footnotes.map((f) => `<div>${esc(f)}</div>`).join("")}</div>`
    : "";
  return `<section class="table" id="table-${esc(table.id)}"><h3>${esc(table.title)}</h3>${notes}
<div class="table-wrap"><table><thead><tr>${head}</tr></thead><tbody>
${rows}
</tbody></table></div>${legend}</section>`;
}

function renderCell(c: TableCell, numeric: boolean): string {
  const classes = [
    numeric ? "num" : "",
    c.missing ? "missing" : "",
    c.warnings?.length ? "warned" : "",
  ].filter(Boolean);
  const cls = classes.length ? ` class="${classes.join(" ")}"` : "";
  if (c.missing) return `<td${cls} title="not measured">${esc(c.text)}</td>`;
  if (!c.warnings?.length) return `<td${cls}>${esc(c.text)}</td>`;
  const detail = c.warnings.map((w) => `${WARNING_KINDS[w.kind].title}: ${w.message}`).join("\n");
  return `<td${cls}>${esc(c.text)}<abbr class="w" title="${esc(detail)}">⚠${esc(warningCodes(c.warnings))}</abbr></td>`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function esc(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/**
 * Makes a Vega SVG fit to sit inline in an HTML page beside others: element ids get a per-chart
 * prefix (every Vega SVG calls its clip path "clip1", and inline SVGs share one id space), each
 * data point gets an SVG <title> (the browser's own tooltip, no script), and the root scales with
 * the page width.
 */
export function inlineSvg(svg: string, idPrefix: string, label: string): string {
  const ids = new Set([...svg.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1] as string));
  let out = svg;
  for (const id of ids) {
    const escaped = id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    out = out
      .replace(new RegExp(`\\bid="${escaped}"`, "g"), `id="${idPrefix}-${id}"`)
      .replace(new RegExp(`url\\(#${escaped}\\)`, "g"), `url(#${idPrefix}-${id})`)
      .replace(new RegExp(`href="#${escaped}"`, "g"), `href="#${idPrefix}-${id}"`);
  }
  out = addPointTitles(out);
  // Never wider than drawn (text would outgrow the page's), narrower on a phone.
  const width = /^<svg\b[^>]*?\bwidth="([\d.]+)"/.exec(out)?.[1];
  const style = width ? ` style="max-width:${width}px"` : "";
  return out.replace(
    /^<svg\b/,
    `<svg role="img" aria-label="${escapeAttribute(label)}" class="chart"${style}`,
  );
}

/** `<path aria-label="x: 4; y: 10" … aria-roledescription="point" …/>` gains `<title>x: 4; y: 10</title>`. */
export function addPointTitles(svg: string): string {
  return svg.replace(/<(path|circle|rect)\b([^>]*?)\/>/g, (whole, tag: string, attrs: string) => {
    if (!/aria-roledescription="(point|circle|square|bar)"/.test(attrs)) return whole;
    const label = /aria-label="([^"]*)"/.exec(attrs)?.[1];
    if (!label) return whole;
    return `<${tag}${attrs}><title>${label}</title></${tag}>`;
  });
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}

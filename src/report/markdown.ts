import type { Block } from "./document.js";
import type { Table, TableCell } from "./table-model.js";
import { warningCodes } from "./warnings.js";

/**
 * report.md, for a PR or an issue: GitHub-flavoured Markdown with the PNG charts embedded by
 * relative path (charts/NAME.png), so the folder can be committed or attached as it is.
 */
export function renderMarkdown(blocks: readonly Block[]): string {
  return `${blocks.map(renderBlock).join("\n\n")}\n`;
}

function renderBlock(block: Block): string {
  switch (block.kind) {
    case "heading":
      return `${"#".repeat(block.level)} ${inline(block.text)}`;
    case "paragraph":
      return inline(block.text);
    case "list":
      return block.items.map((item) => `- ${inline(item)}`).join("\n");
    case "chart":
      return `![${inline(block.title)}](charts/${block.name}.png)`;
    case "table":
      return block.collapsed
        ? `<details><summary>${escapeHtml(block.table.title)}</summary>\n\n${renderTable(block.table, 4)}\n\n</details>`
        : renderTable(block.table, 3);
    case "quality":
      return block.groups
        .map((g) =>
          [
            `**⚠${g.code} ${inline(g.title)}**: ${inline(g.meaning.charAt(0).toUpperCase() + g.meaning.slice(1))}`,
            ...g.where.map((w) => `- ${inline(w)}`),
            "",
            `<details><summary>${g.messages.length} message${g.messages.length === 1 ? "" : "s"}</summary>\n`,
            ...g.messages.map((m) => `- ${inline(m)}`),
            "\n</details>",
          ].join("\n"),
        )
        .join("\n\n");
    case "setup": {
      const facts = [
        "| | |",
        "|---|---|",
        ...block.setup.facts.map((f) => `| ${cell(f.label)} | ${cell(f.value)} |`),
      ];
      const images = [
        "| Image | Runtime | Base | Env |",
        "|---|---|---|---|",
        ...block.setup.images.map(
          (i) => `| ${cell(i.name)} | ${cell(i.runtime)} | ${cell(i.base)} | ${cell(i.env)} |`,
        ),
      ];
      return [inline(block.setup.source), facts.join("\n"), images.join("\n")].join("\n\n");
    }
    case "files":
      return block.items.map((f) => `- \`${f.path}\`: ${inline(f.what)}`).join("\n");
  }
}

function renderTable(table: Table, headingLevel: number): string {
  const parts = [`${"#".repeat(headingLevel)} ${inline(table.title)}`];
  for (const note of table.notes) parts.push(inline(note));
  const header = `| ${table.columns.map((c) => cell(c.label)).join(" | ")} |`;
  const rule = `|${table.columns.map((c) => (c.numeric ? "---:" : ":---")).join("|")}|`;
  const rows = table.rows.map((row) => `| ${row.map(cellText).join(" | ")} |`);
  parts.push([header, rule, ...rows].join("\n"));
  if (table.footnotes.length > 0)
    parts.push(table.footnotes.map((f) => `<sub>${inline(f)}</sub>`).join("<br>\n"));
  return parts.join("\n\n");
}

function cellText(c: TableCell): string {
  const codes = c.warnings ? warningCodes(c.warnings) : "";
  return cell(codes ? `${c.text} ⚠${codes}` : c.text);
}

/** A table cell: no pipes or line breaks. */
function cell(text: string): string {
  return inline(text).replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/** Text that must not turn into Markdown by accident (underscores in names, asterisks, angle brackets). */
function inline(text: string): string {
  return text.replace(/([\\`*_[\]<>])/g, "\\$1");
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

import { existsSync } from "node:fs";

/**
 * resvg draws no text without a font, and loads none by default. We hand it font files we know:
 * DejaVu Sans (Debian and Ubuntu always have it, through fontconfig) and Liberation Sans, with the
 * usual places on other systems after them. The charts name the same families, in the same order.
 */

const CANDIDATES: Array<{ family: string; files: string[] }> = [
  {
    family: "DejaVu Sans",
    files: [
      "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
      "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
      "/usr/share/fonts/TTF/DejaVuSans.ttf",
      "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
      "/usr/share/fonts/dejavu/DejaVuSans.ttf",
      "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    ],
  },
  {
    family: "Liberation Sans",
    files: [
      "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
      "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
      "/usr/share/fonts/liberation/LiberationSans-Regular.ttf",
    ],
  },
  { family: "Helvetica", files: ["/System/Library/Fonts/Helvetica.ttc"] },
  { family: "Arial", files: ["C:\\Windows\\Fonts\\arial.ttf"] },
];

export interface ChartFonts {
  files: string[];
  /** The family text falls back to when a chart names none we have; undefined = no known font found. */
  defaultFamily?: string;
}

export function findChartFonts(exists: (path: string) => boolean = existsSync): ChartFonts {
  const fonts: ChartFonts = { files: [] };
  for (const candidate of CANDIDATES) {
    const found = candidate.files.filter(exists);
    if (found.length === 0) continue;
    fonts.files.push(...found);
    fonts.defaultFamily ??= candidate.family;
  }
  return fonts;
}

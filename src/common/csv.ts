import { stringify } from 'csv-stringify/sync';

/** Where a spreadsheet starts a formula (the ASCII characters, and the full-width forms some normalise). */
const FORMULA_START = new Set(['=', '+', '-', '@', '\t', '\r', '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20']);
const DECIMAL = /^-?\d+(\.\d+)?$/;

/** A text cell no spreadsheet will run: one starting a formula gets a leading single quote. */
export const escapeFormula = (text: string): string => (text.length > 0 && FORMULA_START.has(text[0]) ? `'${text}` : text);

type Cell = string | number | null | undefined;

/**
 * CSV with a header row, safe to open in a spreadsheet. A cell of a numeric column that is a
 * decimal number ("-0.000375", 12) is written as it is, so it stays a number; every other cell is
 * text and goes through `escapeFormula`.
 */
export function safeCsv(columns: string[], rows: Cell[][], numericColumns: ReadonlySet<string>): string {
  const numeric = columns.map((c) => numericColumns.has(c));
  const cells = rows.map((row) =>
    row.map((cell, i) => {
      const text = cell === null || cell === undefined ? '' : String(cell);
      return numeric[i] && DECIMAL.test(text) ? text : escapeFormula(text);
    }),
  );
  return stringify(cells, { header: true, columns });
}

/**
 * One CSV row as text, written the way csv-stringify writes it with the options CsvWriter gives it (delimiter
 * ",", quote and escape '"', record delimiter "\n"), so rows formatted here can sit next to rows csv-stringify
 * wrote: a field is quoted only when it holds a quote, a comma or "\n"; quotes inside are doubled; an empty field
 * stays empty. A lone "\r" is not quoted: with a record delimiter given, csv-stringify quotes only that one
 * (quote_record_delimiter defaults to false then). Used where rows are formatted in bulk (the worker threads).
 */

const NEEDS_QUOTES = /[",\n]/;

export function formatCsvField(value: string): string {
  if (!NEEDS_QUOTES.test(value)) return value;
  return `"${value.includes('"') ? value.replaceAll('"', '""') : value}"`;
}

/** The row's fields joined by commas, ending with "\n". */
export function formatCsvRow(fields: readonly string[]): string {
  let line = formatCsvField(fields[0] ?? '');
  for (let i = 1; i < fields.length; i++) line += `,${formatCsvField(fields[i])}`;
  return `${line}\n`;
}

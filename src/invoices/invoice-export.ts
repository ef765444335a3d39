import type PDFKit from 'pdfkit';
import { safeCsv } from '../common/csv';
import type { InvoiceView } from './invoices.service';

let pdfkit: typeof PDFKit | undefined;

/** pdfkit and its fonts (some 2 MB of code) load on the first PDF: a gateway that never renders one never holds them. */
function pdfDocumentClass(): typeof PDFKit {
  return (pdfkit ??= require('pdfkit') as typeof PDFKit);
}

export type ExportFormat = 'json' | 'csv' | 'pdf';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['json', 'csv', 'pdf'];

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  pdf: 'application/pdf',
};

export interface InvoiceDocument extends InvoiceView {
  tenant_name: string;
}

/** The JSON export: the invoice (exact amounts, display rounding) with the tenant's name. */
export const invoiceJson = (doc: InvoiceDocument): string => JSON.stringify(doc, null, 2) + '\n';

const CSV_COLUMNS = ['model', 'kind', 'price_id', 'price_effective_from', 'quantity', 'unit_price', 'amount', 'amount_rounded'];
const CSV_NUMERIC_COLUMNS: ReadonlySet<string> = new Set(['quantity', 'unit_price', 'amount', 'amount_rounded']);

/**
 * CSV: a header row, one row per line, then a `rounding` row (amount 0, amount_rounded = the
 * rounding adjustment) and a `total` row. The `amount` column of the lines and the rounding row
 * adds up to the total row's exact amount; the `amount_rounded` column to total_rounded.
 */
export function invoiceCsv(doc: InvoiceDocument): string {
  const rows: string[][] = doc.lines.map((l) => [
    l.model,
    l.kind,
    l.price_id ?? '',
    l.price_effective_from ?? '',
    String(l.quantity),
    l.unit_price ?? '',
    l.amount,
    l.amount_rounded,
  ]);
  rows.push(['', 'rounding', '', '', '', '', '0', doc.rounding_adjustment ?? '0.00']);
  rows.push(['', 'total', '', '', '', '', doc.total ?? '0', doc.total_rounded ?? '0.00']);
  return safeCsv(CSV_COLUMNS, rows, CSV_NUMERIC_COLUMNS);
}

const KIND_LABEL: Record<string, string> = { input: 'Input', cached_input: 'Cached input', output: 'Output', reasoning: 'Reasoning' };

/** A one-or-more-page PDF: tenant, period, lines (exact and rounded), rounding line, total. */
export function invoicePdf(doc: InvoiceDocument): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const pdf = new (pdfDocumentClass())({ size: 'A4', margin: 48, info: { Title: `Invoice ${doc.id}`, Author: 'Tollgate' } });
    const chunks: Buffer[] = [];
    pdf.on('data', (c: Buffer) => chunks.push(c));
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);

    pdf.font('Helvetica-Bold').fontSize(20).text('Invoice');
    pdf.moveDown(0.5).font('Helvetica').fontSize(10);
    pdf.text(`Tenant: ${doc.tenant_name}`);
    pdf.text(`Tenant id: ${doc.tenant_id}`);
    pdf.text(`Invoice id: ${doc.id}`);
    pdf.text(`Period: ${doc.period_start} to ${doc.period_end} (end excluded, UTC)`);
    pdf.text(`Charges: ${doc.charges ?? 0}   Built at: ${doc.as_of ?? ''}`);
    pdf.moveDown();

    const cols = [
      { title: 'Model', x: 48, w: 120, align: 'left' as const },
      { title: 'Kind', x: 170, w: 70, align: 'left' as const },
      { title: 'Tokens', x: 242, w: 70, align: 'right' as const },
      { title: 'USD / 1M', x: 314, w: 60, align: 'right' as const },
      { title: 'Amount (exact)', x: 376, w: 110, align: 'right' as const },
      { title: 'Amount', x: 488, w: 59, align: 'right' as const },
    ];
    const row = (cells: string[], bold = false) => {
      if (pdf.y > pdf.page.height - 90) pdf.addPage();
      const y = pdf.y;
      pdf.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(8);
      let bottom = y;
      cells.forEach((c, i) => {
        pdf.text(c, cols[i].x, y, { width: cols[i].w, align: cols[i].align });
        bottom = Math.max(bottom, pdf.y);
      });
      pdf.x = 48;
      pdf.y = bottom + 3;
    };
    row(cols.map((c) => c.title), true);
    for (const l of doc.lines) {
      // The unit price is the one charged: the price version (a tenant's own, or the model's) is named under the model.
      const model = l.price_id ? `${l.model}\nprice ${l.price_id}` : l.model;
      row([model, KIND_LABEL[l.kind] ?? l.kind, String(l.quantity), l.unit_price ?? '-', l.amount, l.amount_rounded]);
    }
    row(['', 'Rounding', '', '', '', doc.rounding_adjustment ?? '0.00']);
    row(['Total (USD)', '', '', '', doc.total ?? '0', doc.total_rounded ?? '0.00'], true);
    pdf.moveDown();
    pdf
      .font('Helvetica')
      .fontSize(8)
      .text(
        'Amounts (exact) are the sums of the ledger charges, to the last digit. Each line is also shown rounded to cents (half up); ' +
          'the total due is the exact total rounded to cents, and the rounding line is the difference from the sum of the rounded lines.',
        48,
        pdf.y,
        { width: 499 },
      );
    pdf.end();
  });
}

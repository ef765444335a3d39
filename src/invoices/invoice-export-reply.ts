import type { FastifyReply } from 'fastify';
import { invalidValue } from '../common/errors';
import { CONTENT_TYPES, EXPORT_FORMATS, ExportFormat, invoiceCsv, invoiceJson, invoicePdf } from './invoice-export';
import { invoiceNotReady, InvoiceWithLines, presentInvoice } from './invoices.service';

export function parseExportFormat(format: unknown): ExportFormat {
  const fmt = (format ?? 'json') as ExportFormat;
  if (typeof fmt !== 'string' || !EXPORT_FORMATS.includes(fmt)) {
    throw invalidValue('format', `'format' must be one of: ${EXPORT_FORMATS.join(', ')}.`);
  }
  return fmt;
}

/** The invoice file (json, csv or pdf) as a download; 409 until the invoice is ready. */
export function exportInvoice(invoice: InvoiceWithLines, fmt: ExportFormat, reply: FastifyReply) {
  if (invoice.status !== 'ready') throw invoiceNotReady(invoice.id, invoice.status);
  const doc = { ...presentInvoice(invoice), tenant_name: invoice.tenant.name };
  const period = `${doc.period_start.slice(0, 10)}_${doc.period_end.slice(0, 10)}`;
  reply
    .header('content-type', CONTENT_TYPES[fmt])
    .header('content-disposition', `attachment; filename="invoice-${invoice.id}-${period}.${fmt}"`);
  if (fmt === 'pdf') return invoicePdf(doc);
  if (fmt === 'csv') return invoiceCsv(doc);
  return invoiceJson(doc);
}

import { notFound } from '../../errors.js';
import { createOrganizationReads } from '../../store/repositories/organization-repository.js';
import type { Store } from '../../store/store.js';
import type { CustomerImportService } from '../customers/customer-import.js';
import { customerFileChunks, type FileFormat } from '../customers/customer-files.js';

/** Exports over HTTP: the CLI's export, as a stream of text the response pulls (so at the client's pace). */
export function createExportService(store: Store, customerImport: CustomerImportService) {
  const organizations = createOrganizationReads(store);
  return {
    /** The file's text, a page of customers at a time; 404 (before any text) for an unknown organization. */
    async exportFile(organizationId: string, format: FileFormat): Promise<AsyncGenerator<string, void, undefined>> {
      if (!(await organizations.findById(organizationId))) throw notFound('Organization');
      return (async function* () {
        for await (const chunk of customerFileChunks(customerImport, organizationId, format)) yield chunk.text;
      })();
    },
  };
}
export type ExportService = ReturnType<typeof createExportService>;

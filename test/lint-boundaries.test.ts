import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * The layer rule of eslint.config.js, run through ESLint itself on source text placed at real paths of each layer
 * (the text replaces the file's content for this lint only; nothing on disk changes).
 */
const eslint = new ESLint({ cwd: process.cwd() });

async function restrictedImports(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layer boundaries (eslint no-restricted-imports per layer)', () => {
  it('the contract imports neither HTTP, domain, store nor a server package', async () => {
    const messages = await restrictedImports(
      'src/contract/common.ts',
      [
        "import type { Kysely } from 'kysely';",
        "import type { Store } from '../store/store.js';",
        "import type { FastifyInstance } from 'fastify';",
        "import { appError } from '../errors.js';",
        'export type Z = Kysely<unknown> | Store | FastifyInstance | typeof appError;',
        '',
      ].join('\n'),
    );
    expect(messages).toHaveLength(3);
    expect(messages.join('\n')).toMatch(/src\/contract\/ must not import src\/store\//);
    expect(messages.join('\n')).toMatch(/must not depend on server packages/);
  });

  it('routes reach storage only through the Store interface, never a repository or a dialect', async () => {
    const messages = await restrictedImports(
      'src/http/routes/health.ts',
      [
        "import type { Store } from '../../store/store.js';",
        "import { findCustomerById } from '../../store/repositories/customer-repository.js';",
        "import type { PostgresStore } from '../../store/postgres/store.js';",
        'export type Z = Store | PostgresStore | typeof findCustomerById;',
        '',
      ].join('\n'),
    );
    expect(messages).toEqual([
      expect.stringMatching(/must not import src\/store\/repositories\//),
      expect.stringMatching(/must not import src\/store\/postgres\//),
    ]);
  });

  it('storage does not reach up into the domain, and the domain not into HTTP', async () => {
    expect(
      await restrictedImports(
        'src/store/store.ts',
        "import type { CustomerService } from '../domain/customers/customer-service.js';\nexport type Z = CustomerService;\n",
      ),
    ).toEqual([expect.stringMatching(/src\/store\/ must not import src\/domain\//)]);
    expect(
      await restrictedImports(
        'src/domain/customers/customer-service.ts',
        "import type { FastifyRequest } from 'fastify';\nimport type { Store } from '../../store/store.js';\nexport type Z = FastifyRequest | Store;\n",
      ),
    ).toEqual([expect.stringMatching(/must not depend on server packages/)]);
  });

  it('the SDK depends on the contract only', async () => {
    const messages = await restrictedImports(
      'src/client/index.ts',
      [
        "import type { Organization } from '../contract/organizations.js';",
        "import type { AppError } from '../errors.js';",
        "import { request } from './transport.js';",
        'export type Z = Organization | AppError | typeof request;',
        '',
      ].join('\n'),
    );
    expect(messages).toEqual([expect.stringMatching(/src\/client\/ must not import src\/errors\//)]);
  });

  it('the tree as committed has no boundary violation', async () => {
    const results = await eslint.lintFiles(['src/contract', 'src/client', 'src/store', 'src/http']);
    const violations = results.flatMap((r) =>
      r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => `${r.filePath}: ${m.message}`),
    );
    expect(violations).toEqual([]);
  });
  it('an AppError is made only by the factories of src/errors.ts', async () => {
    const code = [
      "import { AppError } from '../../errors.js';",
      "export const oops = () => new AppError('conflict', 'made by hand');",
      '',
    ].join('\n');
    const [outside] = await eslint.lintText(code, { filePath: 'src/domain/ledgers/ledger-service.ts' });
    expect(outside!.messages.filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => m.message)).toEqual([
      'Make errors with a factory of src/errors.ts (add one next to its catalog code if none fits)',
    ]);
    const [inside] = await eslint.lintText(code.replace('../../errors.js', './errors.js'), {
      filePath: 'src/errors.ts',
    });
    expect(inside!.messages.filter((m) => m.ruleId === 'no-restricted-syntax')).toEqual([]);
  });
});
